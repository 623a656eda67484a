"""Incremental decoding of Server-Sent Events, per the WHATWG HTML "event stream interpretation".

:class:`SSEDecoder` takes the body of a ``text/event-stream`` response as the
bytes arrive, in chunks cut anywhere, and returns the events each chunk
completes::

    decoder = SSEDecoder()
    for chunk in chunks:
        for event in decoder.feed(chunk):
            ...
    events = decoder.close()  # end of stream: an unterminated last event is dropped

What the spec asks, and what this decoder does:

- lines end with LF, CRLF or a lone CR, also when a CR ends one chunk and its
  LF starts the next; one leading UTF-8 BOM is skipped; the text is UTF-8, bad
  sequences become U+FFFD;
- ``field: value`` lines (one space after the colon is dropped; a line with no
  colon is a field with an empty value); lines starting with ``:`` are
  comments (heartbeats); unknown fields are ignored;
- ``data`` lines accumulate, joined by ``\\n``; ``event`` names the event
  (``"message"`` when absent or empty); ``id`` sets the last event id, which
  persists into the following events, unless it contains NUL; ``retry`` is
  kept only when it is all ASCII digits;
- a blank line dispatches the event; a block without any ``data`` line
  (only comments, ``id``, ``event`` or ``retry``) dispatches nothing, while
  ``data:`` with an empty value dispatches an event whose data is ``""``;
- at the end of the stream an event not terminated by a blank line is
  discarded (the spec's rule: it may be a truncated event). The LangGraph
  server always terminates its events, so nothing real is lost.

The spec sets no size limit; lgbench does: the bytes of an event not yet
complete (an endless line, or an event with no end) may not exceed
``max_event_bytes`` (64 MiB by default), else :meth:`SSEDecoder.feed` raises
:class:`~lgbench.client.ResponseLimitError`. Checked once per chunk.

Speed: this sits on the hot path of a load generator, so it works on whole
runs of complete events rather than line by line. It finds the last blank
line of a chunk with ``bytes.rfind``, keeps LF and CRLF text as it came (no
rewriting pass), decodes each run of complete blocks (a *region*) from UTF-8
once, and when every block of the region has one of the common shapes
(``event``+``data``, ``event``+``data``+``id`` as langgraph-api sends, or
``data`` alone) cuts out all its events with one regular-expression split
whose leftovers prove the shape (in a long region, eight blocks per match).
:meth:`SSEDecoder.feed_columns` hands those events over as columns (their
types, data and ids), with no object built per event. Anything else (comments, multi-line data,
``retry``, empty names or ids, lone CRs) goes through the general line
parser, which reads like the spec; the tests hold the fast paths to a
reference reading of the spec on random streams cut at random places.
``benchmarks/sse.py`` measures it against httpx-sse on the same bytes.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Final, NamedTuple, TypeAlias, final

from lgbench.client._errors import ResponseLimitError

if TYPE_CHECKING:
    from lgbench.client._models import Response

__all__ = ["EventColumns", "EventTuple", "SSEDecoder", "ServerSentEvent", "iter_sse"]


class ServerSentEvent(NamedTuple):
    """One dispatched event.

    ``event`` is its type (``"message"`` by default), ``data`` its data lines
    joined by ``\\n``, ``id`` the last event id in force when it was dispatched
    (``None`` when there is none), and ``retry`` the reconnection time in
    milliseconds that its block carried, if any.

    A NamedTuple rather than a frozen dataclass: it is just as immutable and
    has no per-instance dict, but it can be built straight from a tuple in
    about 90 ns where a frozen dataclass's ``__init__`` takes about 340 ns
    (CPython 3.11, measured for this module), more than the decoder's whole
    per-event budget.
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


#: An event's items as a plain tuple: ``(event, data, id, retry)``, as in
#: :class:`ServerSentEvent` (which is one too). See ``SSEDecoder(tuples=True)``.
EventTuple: TypeAlias = tuple[str, str, str | None, int | None]

#: The events of one chunk as three columns of the same length: their types, their
#: data, their ids (as in :class:`ServerSentEvent`; ``retry`` is left out). See
#: :meth:`SSEDecoder.feed_columns`.
EventColumns: TypeAlias = tuple[Sequence[str], Sequence[str], Sequence[str | None]]

# What the decoding steps return: the events of the common shapes as columns (cheapest to
# build, and what a stream of parts reads), the others as EventTuples (ServerSentEvents,
# which carry ``retry``); ``[]`` for none.
_Decoded: TypeAlias = "list[EventTuple] | EventColumns"
_NO_COLUMNS: Final[EventColumns] = ((), (), ())

_BOM: Final = b"\xef\xbb\xbf"
# Builds a ServerSentEvent from a 4-tuple without going through the
# NamedTuple's Python-level __new__ (a measurable share of the per-event cost).
_new_event: Final = tuple.__new__

# The fast shapes, each a whole block up to its blank line, in the two line-end
# styles servers use (LangGraph's is CRLF). A value cannot hold the character its
# line ends with (``.`` never crosses an LF; ``[^\r]`` never crosses a CR), so when
# the split leaves nothing between the matches (all the leftovers are empty), the
# matches tile the region from its start, each one starting where a block starts:
# every block of the region had exactly that shape. In CRLF text a value could
# still hold a lone LF (a line end), so that is checked too. The repeats are
# possessive: with nothing to backtrack, the regex engine neither saves state nor
# allocates its backtracking stack for each match (≈ 350 instructions an event).
# (``[^\r]`` rather than ``[^\r\n]``: the regex engine's two-character class test
# costs about 150 ns more per event.) Event names and ids must not be empty
# here: an empty ``event`` means "message" and an empty ``id`` resets the last
# id, rare cases left to the general parser rather than tested on every event.


@final
class _Shape:
    """One fast shape: a block's pattern, the same for ``_BLOCKS`` blocks in a row, how
    many values (capture groups) a block has, and the blank line that ends a block."""

    __slots__ = ("blank", "groups", "multi", "single", "single_columns")

    def __init__(self, block: str, groups: int, blank: str) -> None:
        self.single = re.compile(block)
        self.multi = re.compile(block * _BLOCKS)
        self.groups = groups
        self.blank = blank
        # Each group's values out of a ``single`` split: every (groups + 1)-th part.
        self.single_columns = tuple(slice(1 + group, None, groups + 1) for group in range(groups))


# Blocks per match of a shape's ``multi`` pattern. Each match costs the regex engine a
# fixed ≈ 700 instructions (the search, a fresh backtracking stack it allocates and frees,
# the split's bookkeeping) on top of the block's own characters: eight blocks a match
# share it. Only for text long enough to hold that many blocks with room to spare.
_BLOCKS: Final = 8
_MULTI_MIN_CHARS: Final = 2048


_Shapes = tuple[_Shape, _Shape, _Shape]
_LF_SHAPES: Final[_Shapes] = (
    _Shape(r"event: (.++)\ndata: (.*+)\n\n", 2, "\n\n"),
    _Shape(r"event: (.++)\ndata: (.*+)\nid: (.++)\n\n", 3, "\n\n"),
    _Shape(r"data: (.*+)\n\n", 1, "\n\n"),
)
_CRLF_SHAPES: Final[_Shapes] = (
    _Shape(r"event: ([^\r]++)\r\ndata: ([^\r]*+)\r\n\r\n", 2, "\r\n\r\n"),
    _Shape(r"event: ([^\r]++)\r\ndata: ([^\r]*+)\r\nid: ([^\r]++)\r\n\r\n", 3, "\r\n\r\n"),
    _Shape(r"data: ([^\r]*+)\r\n\r\n", 1, "\r\n\r\n"),
)
_LF: Final = 0x0A
_CR: Final = 0x0D


@final
class SSEDecoder:
    """Turns chunks of an event stream into :class:`ServerSentEvent` values.

    ``last_event_id`` is the stream's last event id (``""`` when none has been
    set), the value to send as ``Last-Event-ID`` when reconnecting; pass it to
    the constructor to continue a stream. ``retry_ms`` is the latest valid
    ``retry`` the server sent (``None`` if none). ``max_event_bytes`` bounds the
    bytes held for an event still incomplete (see the module docstring).

    ``tuples=True`` is for a reader that only indexes the events: those of the
    common shapes are then plain :data:`EventTuple` values (the same items, far
    cheaper to build than a :class:`ServerSentEvent`); read such a decoder with
    :meth:`feed_tuples` and :meth:`close_tuples`.

    One decoder per stream; not safe to share between tasks.
    """

    __slots__ = (
        "_head",
        "_normalize",
        "_pending",
        "_pending_bytes",
        "_skip_lf",
        "_tuples",
        "_with_ids",
        "last_event_id",
        "max_event_bytes",
        "retry_ms",
    )

    def __init__(
        self, *, last_event_id: str = "", max_event_bytes: int = 64 << 20, tuples: bool = False
    ) -> None:
        self.last_event_id = last_event_id
        self.retry_ms: int | None = None
        self.max_event_bytes = max_event_bytes
        # The bytes after the last blank line consumed: the start of the next block.
        self._pending: list[bytes | memoryview] = []
        # Their length, held under max_event_bytes.
        self._pending_bytes = 0
        # Two modes. At first the bytes are kept as they came (LF or CRLF line
        # ends: no per-chunk rewriting) and regions end only at a blank line
        # closed by an LF. The first lone CR (a CR not followed by LF) switches
        # the decoder for good to rewriting every chunk's line ends to LF.
        self._normalize = False
        # Rewriting mode only: the previous chunk ended with CR, so an LF
        # starting this one is the second half of that CRLF.
        self._skip_lf = False
        # Whether the last events had id lines: the fast shape to try first.
        self._with_ids = False
        # Up to 2 bytes held back at the start while they could still be a BOM;
        # None once the start of the stream has been dealt with.
        self._head: bytes | None = b""
        self._tuples = tuples

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode the next chunk; return the events it completes, in order."""
        # Without ``tuples`` every event is built as a ServerSentEvent.
        return self._rows(self._feed(data))  # type: ignore[return-value]

    def close(self) -> list[ServerSentEvent]:
        """End of the stream: return the events it completes, then reset the decoder.

        Only a final CR can complete anything here (it ends its line even though
        no LF follows). Per the spec, an event whose blank line never arrived
        is discarded, not dispatched. ``last_event_id`` and ``retry_ms`` are
        kept, so the decoder can go on with a reconnected stream.
        """
        return self._rows(self._close())  # type: ignore[return-value]

    def feed_tuples(self, data: bytes) -> list[EventTuple]:
        """:meth:`feed`, typed for a decoder made with ``tuples=True``."""
        return self._rows(self._feed(data))

    def close_tuples(self) -> list[EventTuple]:
        """:meth:`close`, typed for a decoder made with ``tuples=True``."""
        return self._rows(self._close())

    def feed_columns(self, data: bytes) -> EventColumns:
        """:meth:`feed`, the events as columns: ``(types, data, ids)``, three sequences of
        the same length (empty when the chunk completes no event).

        The cheapest form for a reader that turns every event into something else: the
        common shapes are cut out as columns, with no object built per event.
        """
        decoded = self._feed(data)
        return _columns(decoded) if isinstance(decoded, list) else decoded

    def close_columns(self) -> EventColumns:
        """:meth:`close`, the events as columns (see :meth:`feed_columns`)."""
        return _columns(self._close())

    def _rows(self, decoded: _Decoded) -> list[EventTuple]:
        if isinstance(decoded, list):
            return decoded
        types, datas, ids = decoded
        if len(datas) == 1:
            # One event: building the iterators below would cost more than the event.
            event: EventTuple = (types[0], datas[0], ids[0], None)
            return [event if self._tuples else _new_event(ServerSentEvent, event)]
        rows = zip(types, datas, ids, repeat(None))
        return list(rows) if self._tuples else list(map(_new_event, repeat(ServerSentEvent), rows))

    def _feed(self, data: bytes) -> _Decoded:
        if self._head is not None:
            data = self._skip_bom(data)
        if not data:
            return []
        if self._normalize:
            return self._feed_normalized(data)
        pending = self._pending
        if not pending and (data[-2:] == b"\n\n" or data[-3:] == b"\n\r\n"):
            # Whole blocks and nothing after them, as when the server flushes
            # each event: decode the chunk as it is, with no copy.
            first = data[0]
            if first != _LF and first != _CR:
                return self._decode_text(data.decode("utf-8", "replace"))
        elif pending and pending[-1][-1] == _CR and data[0] != _LF:
            return self._start_normalizing(data)  # the CR that ended the last chunk was lone
        has_cr = b"\r" in data
        # The end of the last blank line that closes with an LF: "\n\n" (also
        # the tail of "\r\n\n") or "\n\r\n" (also the tail of "\r\n\r\n").
        # In CRLF text, look for the latter first and for "\n\n" only after it:
        # an rfind that finds nothing scans the whole chunk.
        end = data.rfind(b"\n\r\n") if has_cr else -1
        if end >= 0:
            lf_end = data.rfind(b"\n\n", end)
            end = lf_end + 2 if lf_end >= 0 else end + 3
        else:
            end = data.rfind(b"\n\n")
            if end >= 0:
                end += 2
        if end < 0 and pending:
            end = self._straddling_end(data)
        if has_cr and _has_lone_cr(data if end < 0 else data[end:]):
            # A blank line may end in a lone CR after ``end``: rewrite instead.
            return self._start_normalizing(data)
        return self._consume(data, end)

    def _close(self) -> _Decoded:
        events: _Decoded = []
        pending = self._pending
        if pending and not self._normalize and pending[-1][-1] == _CR:
            events = self._start_normalizing(b"")
        pending.clear()
        self._pending_bytes = 0
        self._normalize = False
        self._skip_lf = False
        self._with_ids = False
        self._head = b""
        return events

    def _skip_bom(self, data: bytes) -> bytes:
        head = self._head + data if self._head else data
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._head = head
            return b""
        self._head = None
        return head[len(_BOM) :] if head.startswith(_BOM) else head

    def _straddling_end(self, data: bytes) -> int:
        """Where in ``data`` a blank line that began in the previous chunk ends, or -1."""
        before = b"".join(self._pending[-2:])[-2:]
        window = before + data[:2]
        end = window.rfind(b"\n\n")
        end = end + 2 if end >= 0 else -1
        crlf_end = window.rfind(b"\n\r\n")
        if crlf_end >= 0 and crlf_end + 3 > end:
            end = crlf_end + 3
        return end - len(before) if end > len(before) else -1

    def _start_normalizing(self, data: bytes) -> _Decoded:
        self._normalize = True
        if self._pending:
            # Still raw: rewrite it together with this chunk.
            data = b"".join([*self._pending, data])
            self._pending.clear()
            self._pending_bytes = 0
        return self._feed_normalized(data)

    def _feed_normalized(self, data: bytes) -> _Decoded:
        if self._skip_lf:
            self._skip_lf = False
            if data[0] == _LF:
                data = data[1:]
                if not data:
                    return []
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
            # A CR at the very end may be the first half of a CRLF cut in two.
            self._skip_lf = data[-1] == _CR
            data = data.replace(b"\r", b"\n")
        end = data.rfind(b"\n\n")
        if end >= 0:
            end += 2
        elif self._pending and data[0] == _LF and self._pending[-1][-1] == _LF:
            end = 1  # the blank line straddles the previous chunk and this one
        return self._consume(data, end)

    def _consume(self, data: bytes, end: int) -> _Decoded:
        """Decode the pending bytes and ``data[:end]``; keep the rest for later (end < 0: all)."""
        pending = self._pending
        if end < 0:
            pending.append(data)
            self._pending_bytes += len(data)
            if self._pending_bytes > self.max_event_bytes:
                raise ResponseLimitError(
                    f"a server-sent event (or line) longer than {self.max_event_bytes} bytes"
                )
            return []
        region: bytes | memoryview
        if pending:
            # memoryview: the join is then the only copy of this chunk's bytes.
            pending.append(memoryview(data)[:end])
            region = b"".join(pending)
            pending.clear()
        elif end == len(data):
            region = data
        else:
            region = memoryview(data)[:end]
        self._pending_bytes = len(data) - end
        if end < len(data):
            pending.append(data[end:])
        return self._decode_region(region)

    def _decode_region(self, region: bytes | memoryview) -> _Decoded:
        """Decode complete blocks: ``region`` starts a block and ends with a blank line."""
        if region[0] == _LF or region[0] == _CR:
            # Blank lines at the start of a block dispatch nothing.
            region = bytes(region).lstrip(b"\r\n")
            if not region:
                return []
        return self._decode_text(str(region, "utf-8", "replace"))

    def _decode_text(self, text: str) -> _Decoded:
        """The events of ``text``: whole blocks, from the start of one to a blank line."""
        crlf = "\r" in text
        shapes = _CRLF_SHAPES if crlf else _LF_SHAPES
        events: EventColumns | None = None
        if text.startswith("event: "):
            # Try the shape that worked last (a stream keeps to one), then the
            # other: cheaper than looking for id lines first.
            if self._with_ids:
                if "\0" not in text:
                    events = self._fast_event_data_id(text, shapes[1], crlf)
                if events is None:
                    events = self._fast_event_data(text, shapes[0], crlf)
                    self._with_ids = events is None
            else:
                events = self._fast_event_data(text, shapes[0], crlf)
                if events is None and "\0" not in text:
                    events = self._fast_event_data_id(text, shapes[1], crlf)
                    self._with_ids = events is not None
        elif text.startswith("data: "):
            events = self._fast_data(text, shapes[2], crlf)
        if events is not None:
            return events
        if crlf:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return self._parse_lines(text)

    # The fast shapes: a short text (one event per read, say) is split one block per match,
    # with as little as possible around it; a long one goes to _cut.

    def _fast_event_data(self, text: str, shape: _Shape, crlf: bool) -> EventColumns | None:
        if len(text) >= _MULTI_MIN_CHARS:
            columns = _cut(text, shape, crlf)
            if columns is None:
                return None
            types, datas = columns
        else:
            parts = shape.single.split(text)
            if len(parts) == 4:
                if parts[0] or parts[3] or (crlf and ("\n" in parts[1] or "\n" in parts[2])):
                    return None
                return [parts[1]], [parts[2]], [self.last_event_id or None]
            if any(parts[::3]) or (crlf and "\n" in "".join(parts)):
                return None
            types, datas = parts[1::3], parts[2::3]
        return types, datas, [self.last_event_id or None] * len(datas)

    def _fast_event_data_id(self, text: str, shape: _Shape, crlf: bool) -> EventColumns | None:
        if len(text) >= _MULTI_MIN_CHARS:
            columns = _cut(text, shape, crlf)
            if columns is None:
                return None
            types, datas, ids = columns
        else:
            parts = shape.single.split(text)
            if len(parts) == 5:
                if parts[0] or parts[4] or (crlf and "\n" in "".join(parts)):
                    return None
                self.last_event_id = parts[3]
                return [parts[1]], [parts[2]], [parts[3]]
            if any(parts[::4]) or (crlf and "\n" in "".join(parts)):
                return None
            types, datas, ids = parts[1::4], parts[2::4], parts[3::4]
        self.last_event_id = ids[-1]
        return types, datas, ids

    def _fast_data(self, text: str, shape: _Shape, crlf: bool) -> EventColumns | None:
        if len(text) >= _MULTI_MIN_CHARS:
            columns = _cut(text, shape, crlf)
            if columns is None:
                return None
            datas = columns[0]
        else:
            parts = shape.single.split(text)
            if len(parts) == 3:
                if parts[0] or parts[2] or (crlf and "\n" in parts[1]):
                    return None
                return ["message"], [parts[1]], [self.last_event_id or None]
            if any(parts[::2]) or (crlf and "\n" in "".join(parts)):
                return None
            datas = parts[1::2]
        count = len(datas)
        return ["message"] * count, datas, [self.last_event_id or None] * count

    def _parse_lines(self, text: str) -> list[EventTuple]:
        """The general parser, line by line, exactly as the spec reads."""
        events: list[EventTuple] = []
        event_type = ""
        data: list[str] | None = None
        retry_ms: int | None = None
        last_id = self.last_event_id
        for line in text.split("\n"):
            if not line:
                if data is not None:
                    events.append(
                        _new_event(
                            ServerSentEvent,
                            (event_type or "message", "\n".join(data), last_id or None, retry_ms),
                        )
                    )
                    data = None
                event_type = ""
                retry_ms = None
                continue
            name, _, value = line.partition(":")
            if not name:
                continue  # a comment
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                if data is None:
                    data = [value]
                else:
                    data.append(value)
            elif name == "event":
                event_type = value
            elif name == "id":
                if "\0" not in value:
                    last_id = value
            elif name == "retry" and value.isdigit() and value.isascii():
                # Past int()'s digit limit it is no real delay: ignore it then.
                with contextlib.suppress(ValueError):
                    retry_ms = self.retry_ms = int(value)
        # ``text`` ends with a blank line, so no event is left half-built here.
        self.last_event_id = last_id
        return events


def _cut(text: str, shape: _Shape, crlf: bool) -> Sequence[Sequence[str]] | None:
    """The values of a long ``text``'s blocks, one list per capture group of ``shape``, when
    every block has that shape; None otherwise. Several blocks per match (see _BLOCKS)."""
    groups = shape.groups
    tail = text
    columns: list[list[str]] | None = None
    # About as many multi matches as the blocks allow, judged by the first block's length
    # (counting the blank lines would cost ≈ 300 instructions an event): a search for one
    # more match than the blocks allow would try again at every block start left, each try
    # matching up to _BLOCKS - 1 blocks before it fails. (The number only bounds the
    # search: what the split leaves decides whether every block has the shape.)
    blank = shape.blank
    first_block = text.find(blank) + len(blank)
    matches = len(text) // (first_block * _BLOCKS) if first_block > len(blank) else 0
    if matches:
        parts = shape.multi.split(text, matches)
        # What the last match left: the blocks after it, fewer than _BLOCKS if regular.
        tail = parts.pop()
        stride = groups * _BLOCKS + 1
        if any(parts[::stride]) or (crlf and "\n" in "".join(parts)):
            return None
        count = len(parts) // stride * _BLOCKS
        columns = []
        for group in range(groups):
            # The group's value in the 1st block of every match, then the 2nd, ...:
            # interleaved back into block order by slice assignments, in C.
            column = [""] * count
            for block in range(_BLOCKS):
                column[block::_BLOCKS] = parts[1 + block * groups + group :: stride]
            columns.append(column)
        if not tail:
            return columns
    parts = shape.single.split(tail)
    if len(parts) == 1 or any(parts[:: groups + 1]) or (crlf and "\n" in "".join(parts)):
        return None
    if columns is None:
        return list(map(parts.__getitem__, shape.single_columns))
    for column, values in zip(columns, map(parts.__getitem__, shape.single_columns), strict=True):
        column += values
    return columns


def _columns(decoded: _Decoded) -> EventColumns:
    if not isinstance(decoded, list):
        return decoded
    if not decoded:
        return _NO_COLUMNS
    types, datas, ids, _ = zip(*decoded, strict=True)
    return types, datas, ids


def _has_lone_cr(data: bytes) -> bool:
    """Whether ``data`` has a CR not followed by LF, not counting a CR at its very end
    (that one's LF may start the next chunk)."""
    if data[-1:] == b"\r":
        data = data[:-1]
    return b"\r" in data and b"\r" in data.replace(b"\r\n", b"")


def iter_sse(response: Response) -> AsyncIterator[ServerSentEvent]:
    """The events of a ``text/event-stream`` response body, as they arrive.

    Reads ``response`` to its end (which closes it); to stop early, close the
    response. No JSON decoding here: that is :class:`~lgbench.client.SSEStream`'s job.
    """
    return _ResponseEvents(response)


@final
class _ResponseEvents:
    # A class rather than an async generator: a generator suspended in a read
    # cannot be finalised deterministically on every backend.
    __slots__ = ("_decoder", "_ended", "_events", "_index", "_response")

    def __init__(self, response: Response) -> None:
        self._response = response
        self._decoder = SSEDecoder()
        self._events: list[ServerSentEvent] = []
        self._index = 0
        self._ended = False

    def __aiter__(self) -> _ResponseEvents:
        return self

    async def __anext__(self) -> ServerSentEvent:
        while self._index >= len(self._events):
            if self._ended:
                raise StopAsyncIteration
            chunk = await self._response.receive_some()
            if chunk:
                self._events = self._decoder.feed(chunk)
            else:
                self._ended = True
                self._events = self._decoder.close()
            self._index = 0
        event = self._events[self._index]
        self._index += 1
        return event
