"""SSEDecoder: the spec's cases as a table, and properties over random streams and chunkings.

The properties compare the decoder with ``reference_events``, a direct,
line-by-line reading of the WHATWG "event stream interpretation" written for
these tests, so the decoder's fast paths are held to the spec's meaning.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lgbench.client import EventTuple, Response, ServerSentEvent, SSEDecoder, iter_sse

Event = tuple[str, str, str | None, int | None]


def reference_events(stream: bytes) -> tuple[list[Event], str]:
    """The events of a whole stream and its last event id, read exactly as the spec says."""
    text = stream.decode("utf-8", "replace")
    text = text.removeprefix("\ufeff")
    lines = re.split("\r\n|\r|\n", text)[:-1]  # the last piece has no line end: never parsed
    events: list[Event] = []
    event_type, data, last_id, retry = "", "", "", None
    last_id_dispatched = ""  # the spec's "last event ID string", set at each blank line
    for line in lines:
        if line == "":
            last_id_dispatched = last_id
            if data:
                events.append((event_type or "message", data[:-1], last_id or None, retry))
            event_type, data, retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            name, value = line.split(":", 1)
            value = value.removeprefix(" ")
        else:
            name, value = line, ""
        if name == "event":
            event_type = value
        elif name == "data":
            data += value + "\n"
        elif name == "id":
            if "\0" not in value:
                last_id = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events, last_id_dispatched


def as_tuples(events: Iterable[ServerSentEvent]) -> list[Event]:
    return [(e.event, e.data, e.id, e.retry) for e in events]


def decode(chunks: Iterable[bytes], decoder: SSEDecoder | None = None) -> list[Event]:
    decoder = decoder or SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return as_tuples(events)


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# --- the spec, case by case ----------------------------------------------------------------

SPEC_CASES = [
    # (id, stream, expected events)
    ("data only", b"data: hello\n\n", [("message", "hello", None, None)]),
    ("named event", b"event: values\ndata: {}\n\n", [("values", "{}", None, None)]),
    ("multi-line data joined by LF", b"data: a\ndata: b\n\n", [("message", "a\nb", None, None)]),
    ("no space after colon", b"data:x\n\n", [("message", "x", None, None)]),
    ("only one leading space stripped", b"data:  x\n\n", [("message", " x", None, None)]),
    ("field without colon is empty", b"data\n\n", [("message", "", None, None)]),
    ("empty data line still dispatches", b"data:\n\n", [("message", "", None, None)]),
    ("two empty data lines", b"data\ndata\n\n", [("message", "\n", None, None)]),
    ("no data: nothing dispatched", b"event: x\n\n", []),
    ("comment only (heartbeat)", b": heartbeat\n\n", []),
    ("comment inside an event", b"data: a\n: hb\ndata: b\n\n", [("message", "a\nb", None, None)]),
    ("unknown field ignored", b"foo: bar\ndata: x\n\n", [("message", "x", None, None)]),
    ("field names are case-sensitive", b"Data: x\ndata: y\n\n", [("message", "y", None, None)]),
    ("colon in value kept", b"data: a: b\n\n", [("message", "a: b", None, None)]),
    ("empty event name means message", b"event:\ndata: x\n\n", [("message", "x", None, None)]),
    ("event name of a space", b"event:  \ndata: x\n\n", [(" ", "x", None, None)]),
    ("last event name wins", b"event: a\nevent: b\ndata: x\n\n", [("b", "x", None, None)]),
    ("id applies to its event", b"id: 7\ndata: x\n\n", [("message", "x", "7", None)]),
    ("id after data", b"data: x\nid: 7\n\n", [("message", "x", "7", None)]),
    (
        "id persists to later events",
        b"id: 7\ndata: x\n\ndata: y\n\n",
        [("message", "x", "7", None), ("message", "y", "7", None)],
    ),
    (
        "empty id resets it",
        b"id: 7\ndata: x\n\nid\ndata: y\n\n",
        [("message", "x", "7", None), ("message", "y", None, None)],
    ),
    (
        "id with NUL ignored",
        b"id: 1\ndata: x\n\nid: a\x00b\ndata: y\n\n",
        [("message", "x", "1", None), ("message", "y", "1", None)],
    ),
    (
        "id in a block without data still counts",
        b"id: 9\n\ndata: x\n\n",
        [("message", "x", "9", None)],
    ),
    ("retry digits", b"retry: 1500\ndata: x\n\n", [("message", "x", None, 1500)]),
    ("retry not digits ignored", b"retry: 15s\ndata: x\n\n", [("message", "x", None, None)]),
    ("retry negative ignored", b"retry: -1\ndata: x\n\n", [("message", "x", None, None)]),
    (
        "retry non-ASCII digits ignored",
        "retry: ٣\ndata: x\n\n".encode(),
        [("message", "x", None, None)],
    ),
    ("retry empty ignored", b"retry:\ndata: x\n\n", [("message", "x", None, None)]),
    ("CRLF", b"event: e\r\ndata: x\r\n\r\n", [("e", "x", None, None)]),
    ("lone CR", b"event: e\rdata: x\r\r", [("e", "x", None, None)]),
    ("mixed line ends", b"event: e\rdata: a\r\ndata: b\n\r\n", [("e", "a\nb", None, None)]),
    ("final CR ends the blank line", b"data: x\n\r", [("message", "x", None, None)]),
    ("BOM skipped", b"\xef\xbb\xbfdata: x\n\n", [("message", "x", None, None)]),
    ("only the first BOM", b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n", []),
    ("BOM elsewhere is data", b"data: \xef\xbb\xbfx\n\n", [("message", "\ufeffx", None, None)]),
    ("UTF-8 data", "data: héllo ✓ 🎉\n\n".encode(), [("message", "héllo ✓ 🎉", None, None)]),
    ("invalid UTF-8 replaced", b"data: a\xffb\n\n", [("message", "a\ufffdb", None, None)]),
    ("blank lines before the first event", b"\n\n\r\ndata: x\n\n", [("message", "x", None, None)]),
    ("unterminated last event discarded", b"data: x\n\ndata: y\n", [("message", "x", None, None)]),
    ("unterminated last line discarded", b"data: x\n\ndata: y", [("message", "x", None, None)]),
    ("empty stream", b"", []),
    (
        "LangGraph shape with ids (CRLF)",
        b'event: metadata\r\ndata: {"run_id":"r"}\r\nid: 1-0\r\n\r\n'
        b"event: values\r\ndata: {}\r\nid: 2-0\r\n\r\n: heartbeat\r\n\r\n",
        [("metadata", '{"run_id":"r"}', "1-0", None), ("values", "{}", "2-0", None)],
    ),
]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [pytest.param(stream, expected, id=name) for name, stream, expected in SPEC_CASES],
)
def test_spec_case(stream: bytes, expected: list[Event]) -> None:
    assert reference_events(stream)[0] == expected  # the reference agrees with the table
    assert decode([stream]) == expected
    assert decode(stream[i : i + 1] for i in range(len(stream))) == expected


@pytest.mark.parametrize(
    "stream", [pytest.param(stream, id=name) for name, stream, _ in SPEC_CASES]
)
def test_spec_case_split_at_every_boundary(stream: bytes) -> None:
    expected = reference_events(stream)[0]
    for cut in range(1, len(stream)):
        assert decode([stream[:cut], stream[cut:]]) == expected, cut


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"\n\r") == []
    assert as_tuples(decoder.feed(b"\ndata: y\r\n\r\n")) == [
        ("message", "x", None, None),
        ("message", "y", None, None),
    ]


def test_a_cr_ending_a_chunk_then_a_blank_line() -> None:
    # CR | LF LF: the first LF belongs to the CR, the second is the blank line.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert as_tuples(decoder.feed(b"\n\n")) == [("message", "x", None, None)]


def test_lone_cr_line_ends_after_crlf_ones() -> None:
    # The decoder first keeps CRLF text as it is, then meets a lone CR.
    chunks = [b"data: a\r\n\r\n", b"data: b\r\r", b"data: c\r\n\r\n"]
    assert decode(chunks) == [
        ("message", "a", None, None),
        ("message", "b", None, None),
        ("message", "c", None, None),
    ]


def test_utf8_character_split_across_chunks() -> None:
    stream = "event: é\ndata: 🎉\n\n".encode()
    for cut in range(1, len(stream)):
        assert decode([stream[:cut], stream[cut:]]) == [("é", "🎉", None, None)]


def test_bom_split_across_chunks() -> None:
    assert decode([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]) == [("message", "x", None, None)]
    # A partial BOM is not a BOM: its bytes stay (and are invalid UTF-8).
    assert decode([b"\xef\xbb", b"data: x\n\n"]) == reference_events(b"\xef\xbbdata: x\n\n")[0]


def test_last_event_id_attribute() -> None:
    decoder = SSEDecoder()
    assert decoder.last_event_id == ""
    decoder.feed(b"id: 5\ndata: x\n\n")
    assert decoder.last_event_id == "5"
    decoder.feed(b"id: 6\n")  # not dispatched yet
    assert decoder.last_event_id == "5"
    decoder.feed(b"\n")
    assert decoder.last_event_id == "6"
    decoder.feed(b"id\n\n")
    assert decoder.last_event_id == ""


def test_last_event_id_given_to_a_resumed_stream() -> None:
    decoder = SSEDecoder(last_event_id="41")
    assert as_tuples(decoder.feed(b"data: x\n\n")) == [("message", "x", "41", None)]


def test_retry_ms_attribute_is_the_latest_valid_retry() -> None:
    decoder = SSEDecoder()
    assert decoder.retry_ms is None
    decoder.feed(b"retry: 300\n\nretry: x\n\n")
    assert decoder.retry_ms == 300


def test_close_discards_an_unterminated_event_and_resets() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 3\ndata: x\n\ndata: partial") != []
    assert decoder.close() == []
    # A new stream on the same decoder: state reset, last event id kept.
    assert as_tuples(decoder.feed(b"\xef\xbb\xbfdata: y\n\n")) == [("message", "y", "3", None)]


def test_event_is_an_immutable_value() -> None:
    event = ServerSentEvent("values", "{}")
    assert event == ServerSentEvent(event="values", data="{}", id=None, retry=None)
    assert ServerSentEvent().event == "message"
    with pytest.raises(AttributeError):
        event.data = "x"  # type: ignore[misc]
    assert not hasattr(event, "__dict__")


def test_a_long_regular_stream_in_large_chunks() -> None:
    # Many events per chunk: the bulk path, against the reference.
    blocks = [
        f'event: {("values", "updates")[i % 2]}\r\ndata: {{"n": {i}}}\r\nid: {i}\r\n\r\n'
        for i in range(2000)
    ]
    stream = "".join(blocks).encode()
    expected = reference_events(stream)[0]
    assert len(expected) == 2000
    for size in (1000, 4096, 65536):
        assert decode(split_at(stream, range(size, len(stream), size))) == expected


def test_a_heartbeat_among_regular_events() -> None:
    stream = b"event: a\ndata: 1\n\n: heartbeat\n\nevent: b\ndata: 2\n\n"
    assert decode([stream]) == [("a", "1", None, None), ("b", "2", None, None)]


# --- properties ------------------------------------------------------------------------------

_value_chars = st.characters(codec="utf-8", exclude_characters="\r\n")
_values = st.text(_value_chars, max_size=12)
_names = st.sampled_from(["data", "event", "id", "retry", "foo", "Data", ""])
_line = st.one_of(
    st.builds(lambda n, v: f"{n}: {v}", _names, _values),
    st.builds(lambda n, v: f"{n}:{v}", _names, _values),
    _names,  # a field without colon
    st.builds(lambda v: f":{v}", _values),  # a comment
    st.builds(lambda v: f"retry: {v}", st.integers(0, 10**6)),
    st.builds(lambda v: f"id: {v}\0", _values),
    st.just(""),  # a blank line: dispatch
)
_line_ends = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """Any stream: random lines, each with its own line end, maybe a BOM, maybe bad UTF-8."""
    lines = draw(st.lists(_line, max_size=25))
    style = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    text = "".join(line + (draw(_line_ends) if style == "mixed" else style) for line in lines)
    tail = draw(st.sampled_from(["", "data: unterminated", "\r", "\n"]))
    data = (text + tail).encode()
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        data += b"data: \xff\xfe\xe2\x82\n\n"
    return data


@st.composite
def regular_streams(draw: st.DrawFn) -> bytes:
    """LangGraph-like streams: the shapes the fast paths take, sometimes with an odd block."""
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    with_ids = draw(st.booleans())
    blocks = []
    for i in range(draw(st.integers(0, 30))):
        name = draw(st.sampled_from(["values", "updates", "messages/partial", "", " x"]))
        data = draw(st.one_of(st.just('{"a": [1, 2]}'), _values))
        block = f"event: {name}{eol}data: {data}{eol}"
        if with_ids:
            block += f"id: {draw(st.sampled_from([str(i), '', 'a b']))}{eol}"
        blocks.append(block + eol)
        if draw(st.integers(0, 20)) == 0:
            blocks.append(
                draw(
                    st.sampled_from(
                        [
                            f": heartbeat{eol}{eol}",
                            f"data: a{eol}data: b{eol}{eol}",
                            f"retry: 5{eol}{eol}",
                            "\r",
                        ]
                    )
                )
            )
    return "".join(blocks).encode()


@settings(max_examples=300)
@given(stream=streams(), cuts=st.lists(st.integers(0, 400), max_size=8))
@example(stream=b"data: x\r", cuts=[8]).via("a CR at the very end ends its line")
@example(stream=b"data: a\r\n\r\ndata: b\r\r", cuts=[9]).via("a lone CR after CRLF blocks")
def test_any_stream_any_chunking_decodes_as_the_spec(stream: bytes, cuts: list[int]) -> None:
    expected, last_id = reference_events(stream)
    decoder = SSEDecoder()
    assert decode(split_at(stream, cuts), decoder) == expected
    assert decoder.last_event_id == last_id


@settings(max_examples=200)
@given(stream=regular_streams(), cuts=st.lists(st.integers(0, 3000), max_size=6))
def test_regular_streams_any_chunking_decode_as_the_spec(stream: bytes, cuts: list[int]) -> None:
    expected, last_id = reference_events(stream)
    decoder = SSEDecoder()
    assert decode(split_at(stream, cuts), decoder) == expected
    assert decoder.last_event_id == last_id


def decode_tuples(chunks: Iterable[bytes], decoder: SSEDecoder) -> list[tuple[object, ...]]:
    events: list[EventTuple] = []
    for chunk in chunks:
        events.extend(decoder.feed_tuples(chunk))
    events.extend(decoder.close_tuples())
    return [tuple(event) for event in events]


@settings(max_examples=200)
@given(
    stream=st.one_of(streams(), regular_streams()),
    cuts=st.lists(st.integers(0, 3000), max_size=6),
)
@example(stream=b"event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n", cuts=[])
@example(stream=b"event: a\ndata: 1\nid: 7\n\nevent: b\ndata: 2\nid: 8\n\n", cuts=[])
@example(stream=b"data: 1\n\ndata: 2\n\n", cuts=[]).via("data-only blocks")
def test_tuples_mode_gives_the_same_items_and_ids(stream: bytes, cuts: list[int]) -> None:
    expected, last_id = reference_events(stream)
    decoder = SSEDecoder(tuples=True)
    got = decode_tuples(split_at(stream, cuts), decoder)
    assert got == expected
    assert decoder.last_event_id == last_id


def test_tuples_mode_builds_plain_tuples_and_feed_still_builds_events() -> None:
    stream = b"event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n"
    for chunks in ([stream], [stream[:20], stream[20:]]):
        plain = SSEDecoder(tuples=True)
        assert {type(e) for c in chunks for e in plain.feed_tuples(c)} == {tuple}
        named = SSEDecoder()
        assert {type(e) for c in chunks for e in named.feed(c)} == {ServerSentEvent}


@settings(max_examples=40)
@given(stream=streams())
def test_any_stream_split_at_every_boundary(stream: bytes) -> None:
    expected = reference_events(stream)[0]
    for cut in range(len(stream) + 1):
        assert decode([stream[:cut], stream[cut:]]) == expected


@settings(max_examples=60)
@given(stream=st.one_of(streams(), regular_streams()))
def test_one_byte_at_a_time(stream: bytes) -> None:
    assert decode(stream[i : i + 1] for i in range(len(stream))) == reference_events(stream)[0]


@settings(max_examples=100)
@given(
    events=st.lists(
        st.tuples(
            st.sampled_from(["message", "values", "updates", "error"]),
            st.lists(_values, min_size=1, max_size=3),
        ),
        max_size=10,
    ),
    eol=_line_ends,
    cuts=st.lists(st.integers(0, 500), max_size=10),
)
def test_encoded_events_round_trip(
    events: list[tuple[str, list[str]]], eol: str, cuts: list[int]
) -> None:
    """Encode events with any line end, cut the bytes anywhere: the same events come back."""
    stream = "".join(
        f"event: {name}{eol}" + "".join(f"data: {line}{eol}" for line in lines) + eol
        for name, lines in events
    ).encode()
    expected = [(name, "\n".join(lines), None, None) for name, lines in events]
    assert decode(split_at(stream, cuts)) == expected


# --- long regions: the fast shapes cut several blocks per regex match ----------------------

# Odd blocks that no fast shape takes, so that a region holding one goes to the general
# parser; ``{eol}`` is the stream's line end. A value with a lone LF (in CRLF text) or a
# lone CR is a line end hidden inside what looks like a regular block.
_ODD_BLOCKS = [
    ": heartbeat{eol}{eol}",
    "data: a{eol}data: b{eol}{eol}",
    "retry: 5{eol}{eol}",
    "event: {eol}data: 1{eol}{eol}",
    "event: values{eol}data: a\nb{eol}{eol}",
    "event: values\ndata: {{}}{eol}{eol}",
    "event: values{eol}data: a\rb{eol}{eol}",
    "event: values{eol}data: 1{eol}id: a\0b{eol}{eol}",
    "event: values{eol}data: 1{eol}id: {eol}{eol}",
    "{eol}",
    "event:values{eol}data: 1{eol}{eol}",
]


def _regular_block(index: int, eol: str, shape: str, data: str) -> str:
    if shape == "data":
        return f"data: {data}{eol}{eol}"
    name = ("values", "updates", "messages/partial")[index % 3]
    block = f"event: {name}{eol}data: {data}{eol}"
    if shape == "ids":
        block += f"id: {index}-0{eol}"
    return block + eol


@st.composite
def long_regular_streams(draw: st.DrawFn) -> bytes:
    """Long LangGraph-like streams (tens to hundreds of blocks of one shape, well past the
    length at which several blocks are matched at a time), with a few odd blocks anywhere."""
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    shape = draw(st.sampled_from(["event", "ids", "data"]))
    count = draw(st.integers(1, 200))
    datas = draw(st.lists(st.one_of(st.just('{"messages": [1, 2]}'), _values), min_size=1))
    blocks = [_regular_block(i, eol, shape, datas[i % len(datas)]) for i in range(count)]
    for position, odd in draw(
        st.lists(st.tuples(st.integers(0, count), st.sampled_from(_ODD_BLOCKS)), max_size=3)
    ):
        blocks.insert(position, odd.format(eol=eol))
    return "".join(blocks).encode()


def decode_columns(chunks: Iterable[bytes], decoder: SSEDecoder) -> list[tuple[object, ...]]:
    events: list[tuple[object, ...]] = []
    for chunk in chunks:
        types, datas, ids = decoder.feed_columns(chunk)
        events.extend(zip(types, datas, ids, strict=True))
    types, datas, ids = decoder.close_columns()
    events.extend(zip(types, datas, ids, strict=True))
    return events


def assert_decodes_as_the_spec(stream: bytes, chunks: list[bytes]) -> None:
    """feed, feed_tuples and feed_columns all give the reference's events and last id."""
    expected, last_id = reference_events(stream)
    named, plain, columns = SSEDecoder(), SSEDecoder(tuples=True), SSEDecoder()
    assert decode(chunks, named) == expected
    assert decode_tuples(chunks, plain) == expected
    assert decode_columns(chunks, columns) == [event[:3] for event in expected]
    assert named.last_event_id == plain.last_event_id == columns.last_event_id == last_id


@settings(max_examples=150, deadline=None)
@given(stream=long_regular_streams(), cuts=st.lists(st.integers(0, 30_000), max_size=6))
def test_long_regular_streams_any_chunking_decode_as_the_spec(
    stream: bytes, cuts: list[int]
) -> None:
    assert_decodes_as_the_spec(stream, split_at(stream, cuts))


@settings(max_examples=20, deadline=None)
@given(stream=long_regular_streams(), seed=st.integers(0, 2**32 - 1))
def test_long_regular_streams_many_random_cuts(stream: bytes, seed: int) -> None:
    # Chunks of 1 to 300 bytes: every event boundary lands somewhere in a chunk.
    rng = random.Random(seed)
    cuts = list(itertools.accumulate(rng.randint(1, 300) for _ in range(len(stream) // 150 + 1)))
    assert_decodes_as_the_spec(stream, split_at(stream, cuts))


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("shape", ["event", "ids", "data"])
@pytest.mark.parametrize("count", [7, 8, 9, 16, 17, 23, 64])
def test_an_odd_block_at_every_position_of_a_long_region(eol: str, shape: str, count: int) -> None:
    # A region long enough to be matched several blocks at a time, in one chunk, with
    # each odd block at each position (first, last, at and around the match boundaries).
    data = '{"messages": [{"type": "ai", "content": "' + "x" * 300 + '"}]}'
    blocks = [_regular_block(i, eol, shape, data) for i in range(count)]
    whole = "".join(blocks).encode()
    assert_decodes_as_the_spec(whole, [whole])
    for odd in _ODD_BLOCKS:
        for position in range(count + 1):
            stream = "".join([*blocks[:position], odd.format(eol=eol), *blocks[position:]]).encode()
            assert_decodes_as_the_spec(stream, [stream])


# --- iter_sse over a response body ----------------------------------------------------------


class _Chunks:
    """A response body that arrives in the given chunks."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = list(chunks)
        self.closed = False

    async def receive_some(self) -> bytes:
        return self._chunks.pop(0) if self._chunks else b""

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_iter_sse_reads_a_response_to_its_end() -> None:
    body = _Chunks([b"event: a\r\ndata: 1\r", b"\n\r\n: hb\r\n\r\ndata", b": 2\n\n"])
    response = Response(200, {"content-type": "text/event-stream"}, stream=body)
    events = [event async for event in iter_sse(response)]
    assert as_tuples(events) == [("a", "1", None, None), ("message", "2", None, None)]
    assert response.closed and body.closed


@pytest.mark.anyio
async def test_iter_sse_yields_an_event_completed_by_a_final_cr() -> None:
    response = Response(200, stream=_Chunks([b"data: 1\r\n", b"\r"]))
    assert as_tuples([event async for event in iter_sse(response)]) == [
        ("message", "1", None, None)
    ]
