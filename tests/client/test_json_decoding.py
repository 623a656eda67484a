"""JSON decoding gives ``json.loads``'s values and errors, though msgspec does most of it.

The client decodes answers and stream events with msgspec first and falls back to
``json.loads`` whenever msgspec refuses the text. These tests hold the pair to
``json.loads`` itself: on a table of the texts where the two decoders differ (NaN, big
numbers, lone surrogates, BOMs, UTF-16), on random JSON values written in every style, on
random near-JSON text, and through ``SSEStream``, whose hot path decodes inline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgbench.client import (
    HttpClient,
    MockTransport,
    Response,
    ResponseLimitError,
    SSEStream,
    StreamPart,
)
from lgbench.client._json_depth import json_too_deep, loads_within_depth
from tests.client.test_sse import reference_events, regular_streams, split_at, streams

MAX_DEPTH = 128


def outcome(decode: Any, text: str | bytes) -> tuple[str, str]:
    """What decoding ``text`` gives, comparable even for NaN: the repr tells -0.0 from 0,
    1 from 1.0 and True, and keeps dict order; or the kind of error."""
    try:
        value = decode(text)
    except ValueError:
        return ("error", "ValueError")
    except RecursionError:
        return ("error", "RecursionError")
    return ("value", repr(value))


def ours(text: str | bytes) -> Any:
    return loads_within_depth(text, MAX_DEPTH)


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "-Infinity",
        '[Infinity, 1, {"a": NaN}]',
        "1e400",
        "-1e400",
        "1.7976931348623157e309",
        "123456789012345678901234567890",
        "-18446744073709551617",
        "1" + "0" * 5000,  # past int()'s digit limit: json.loads refuses it
        "9007199254740993.0",
        "-0",
        "-0.0",
        "5e-324",
        "1e-400",
        '{"a": 1, "a": 2}',
        '"\\ud800"',
        '"\\ud83d\\ude00"',
        '"\\udc00\\ud800"',
        '"\ud800"',  # a lone surrogate in the str itself
        '"a\x01b"',
        '"\x7f\u2028"',
        "\ufeff[1]",
        " \t\r\n[1] \n",
        "\x0c1",
        "[1,]",
        "01",
        "1.",
        ".5",
        "+1",
        "[]x",
        "",
        "nul",
        '{"k": [true, false, null, "x", 1.5, -2]}',
        b'"\xed\xa0\x80"',  # a UTF-8 encoded surrogate: json.loads takes it
        b'"\xff"',
        b"\xef\xbb\xbf[1]",
        "[1]".encode("utf-16"),
        "[1]".encode("utf-32"),
        '{"é": "ü"}'.encode(),
    ],
)
def test_where_the_decoders_differ_json_loads_decides(text: str | bytes) -> None:
    assert outcome(ours, text) == outcome(json.loads, text)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(
    value=json_values,
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    as_bytes=st.booleans(),
)
def test_any_json_value_decodes_as_json_loads_does(
    value: Any, ensure_ascii: bool, indent: int | str | None, as_bytes: bool
) -> None:
    text: str | bytes = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent)
    if as_bytes:
        assert isinstance(text, str)
        text = text.encode("utf-8", "surrogatepass")
    assert outcome(ours, text) == outcome(json.loads, text)


_PIECES = ("[", "]", "{", "}", ",", ":", '"', "\\", "u", "d800", "0", "1", "-", "+", ".")
_WORDS = ("e", "E", "9" * 25, "NaN", "Infinity", "true", "null", " ", "\n", "\x00", "é", "\ud800")
_near_json = st.lists(
    st.sampled_from((*_PIECES, *_WORDS)),
    max_size=20,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(text=_near_json | st.text(max_size=30))
def test_any_text_decodes_or_fails_as_json_loads_does(text: str) -> None:
    assert outcome(ours, text) == outcome(json.loads, text)


# --- through SSEStream ----------------------------------------------------------------------


class _Body:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = list(chunks)

    async def receive_some(self) -> bytes:
        return self._chunks.pop(0) if self._chunks else b""

    async def aclose(self) -> None:
        self._chunks = []


def _stream_client(chunks: Iterable[bytes]) -> HttpClient:
    body = list(chunks)
    return HttpClient(
        MockTransport(
            lambda _: Response(200, {"content-type": "text/event-stream"}, stream=_Body(body))
        )
    )


def _sse(*datas: str) -> bytes:
    return b"".join(b"event: values\r\ndata: %s\r\n\r\n" % d.encode() for d in datas)


EVENT_DATAS = [
    '{"messages": []}',
    "NaN",
    "[Infinity, -Infinity]",
    "123456789012345678901234567890",
    "1e400",
    '"\\ud800"',
    "not json",
    "[1,",
    "-0",
    '{"a": 1, "a": 2}',
    "[" * 100 + "]" * 100,  # short and deep, but within the limit
    json.dumps({"x": "y" * 1000}),  # long: the depth check first
]


@pytest.mark.anyio
@pytest.mark.parametrize("per_event", [False, True], ids=["one-read", "a-read-per-event"])
async def test_stream_parts_hold_json_loads_values(per_event: bool) -> None:
    chunks = [_sse(d) for d in EVENT_DATAS] if per_event else [_sse(*EVENT_DATAS)]
    parts = [part async for part in _stream_client(chunks).stream("/s", "GET")]

    def expected(data: str) -> Any:
        try:
            return json.loads(data)
        except ValueError:
            return data

    assert [p.event for p in parts] == ["values"] * len(EVENT_DATAS)
    assert [repr(p.data) for p in parts] == [repr(expected(d)) for d in EVENT_DATAS]
    assert all(isinstance(p, StreamPart) for p in parts)
    assert math.isnan(parts[1].data)


@pytest.mark.anyio
async def test_a_too_deep_event_is_refused_after_the_events_before_it() -> None:
    deep = "[" * 200 + "]" * 200
    chunks = [_sse('{"n": 1}', "2", deep, "4")]
    stream = _stream_client(chunks).stream("/s", "GET")
    got = [await stream.__anext__(), await stream.__anext__()]
    assert got == [StreamPart("values", {"n": 1}), StreamPart("values", 2)]
    with pytest.raises(ResponseLimitError):
        await stream.__anext__()
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()  # the stream was closed as a whole


# --- SSEStream against the spec's reading and json.loads, cut anywhere -------------------------


def _expected_parts(stream: bytes) -> tuple[list[StreamPart], str]:
    """What SSEStream must yield for ``stream``: the spec's events (the reference reading
    of ``test_sse``), each event's data as ``json.loads`` reads it (the text itself when it
    is not JSON, ``None`` when empty)."""
    events, last_id = reference_events(stream)
    parts = []
    for name, data, event_id, _ in events:
        value: Any
        if not data:
            value = None
        else:
            try:
                value = json.loads(data)
            except ValueError:
                value = data
        parts.append(StreamPart(name, value, event_id))
    return parts, last_id


@pytest.mark.anyio
@settings(max_examples=150, deadline=None)
@given(
    stream=st.one_of(streams(), regular_streams()),
    cuts=st.lists(st.integers(0, 3000), max_size=10),
)
async def test_stream_parts_any_stream_any_chunking(stream: bytes, cuts: list[int]) -> None:
    expected, last_id = _expected_parts(stream)
    sse = _stream_client(split_at(stream, cuts)).stream("/s", "GET")
    parts = [part async for part in sse]
    assert [(p.event, repr(p.data), p.id) for p in parts] == [
        (p.event, repr(p.data), p.id) for p in expected
    ]
    assert sse.last_event_id == last_id


# --- Long streams: a batch's parts come from one chain, whatever msgspec refuses ---------------

# Event data the chain must take as per-event decoding does: JSON (the common case), text
# msgspec refuses that json.loads reads or refuses, empty data, data past the length below
# which the depth check is skipped, and JSON nested too deep (which ends the stream).
_BATCH_DATAS = [
    '{"messages": [{"type": "ai", "content": "hi"}]}',
    "not json",
    "",
    "NaN",
    "123456789012345678901234567890",
    "[1,",
    '"\\ud800"',
    json.dumps({"x": "y" * 300}),
    "z" * 300,
    "[" * 200,  # short: no depth check, not JSON: the text
    "[" * 300,  # long, unbalanced: refused as too deep, as loads_within_depth does
    "[" * 130 + "]" * 130,  # long and too deep
]
_DEEP = {"[" * 300, "[" * 130 + "]" * 130}


def _per_event_outcome(stream: bytes) -> tuple[list[tuple[str, str, str | None]], bool]:
    """The parts per-event decoding gives (the spec's events; each event's data through the
    depth check when longer than twice the limit, then json.loads, the text when it is not
    JSON, None when empty), and whether a too-deep event then ends the stream."""
    events, _ = reference_events(stream)
    parts = []
    for name, data, event_id, _ in events:
        if len(data) > 2 * MAX_DEPTH and json_too_deep(data, MAX_DEPTH):
            return parts, True
        value: Any = None
        if data:
            try:
                value = json.loads(data)
            except ValueError:
                value = data
        parts.append((name, repr(value), event_id))
    return parts, False


@st.composite
def json_streams(draw: st.DrawFn) -> bytes:
    """Long streams whose events are mostly JSON, some anything in _BATCH_DATAS."""
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    with_ids = draw(st.booleans())
    count = draw(st.integers(1, 150))
    kinds = draw(st.lists(st.integers(0, 6 * len(_BATCH_DATAS)), min_size=count, max_size=count))
    blocks = []
    for index, kind in enumerate(kinds):
        data = _BATCH_DATAS[kind if kind < len(_BATCH_DATAS) else 0]
        block = f"event: {('values', 'updates')[index % 2]}{eol}data: {data}{eol}"
        if with_ids:
            block += f"id: {index}{eol}"
        blocks.append(block + eol)
    return "".join(blocks).encode()


async def _read_all(sse: SSEStream) -> tuple[list[tuple[str, str, str | None]], bool]:
    parts = []
    try:
        async for part in sse:
            assert type(part) is StreamPart
            parts.append((part.event, repr(part.data), part.id))
    except ResponseLimitError:
        with pytest.raises(StopAsyncIteration):
            await sse.__anext__()  # refused as a whole: closed
        return parts, True
    return parts, False


@pytest.mark.anyio
@settings(max_examples=120, deadline=None)
@given(stream=json_streams(), cuts=st.lists(st.integers(0, 40_000), max_size=8))
async def test_long_streams_give_the_parts_and_errors_of_per_event_decoding(
    stream: bytes, cuts: list[int]
) -> None:
    sse = _stream_client(split_at(stream, cuts)).stream("/s", "GET")
    assert await _read_all(sse) == _per_event_outcome(stream)
    if not _per_event_outcome(stream)[1]:
        assert sse.last_event_id == reference_events(stream)[1]


@pytest.mark.anyio
@pytest.mark.parametrize("odd", _BATCH_DATAS[1:], ids=lambda data: repr(data[:12]))
@pytest.mark.parametrize("position", [0, 1, 7, 8, 15, 39])
@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["LF", "CRLF"])
async def test_an_odd_event_anywhere_in_one_batch(odd: str, position: int, eol: str) -> None:
    # 40 events in one chunk, one of them odd (refused by msgspec, empty, long or too
    # deep), then the same odd data again later: the chain switches once and goes on.
    datas = [f'{{"n": {i}, "text": "{"t" * 60}"}}' for i in range(40)]
    datas[position] = odd
    datas[-1] = odd
    stream = "".join(f"event: values{eol}data: {d}{eol}{eol}" for d in datas).encode()
    expected = _per_event_outcome(stream)
    assert await _read_all(_stream_client([stream]).stream("/s", "GET")) == expected
    # And read with __anext__ directly, as ResumableStream does.
    sse = _stream_client([stream]).stream("/s", "GET")
    got: list[tuple[str, str, str | None]] = []
    try:
        while True:
            part = await sse.__anext__()
            got.append((part.event, repr(part.data), part.id))
    except StopAsyncIteration:
        refused = False
    except ResponseLimitError:
        refused = True
    assert (got, refused) == expected


@pytest.mark.anyio
async def test_closing_a_stream_in_the_middle_of_a_batch_ends_it() -> None:
    stream = "".join(f"event: values\r\ndata: {i}\r\n\r\n" for i in range(50)).encode()
    sse = _stream_client([stream]).stream("/s", "GET")
    got = [await sse.__anext__(), await sse.__anext__()]
    assert got == [StreamPart("values", 0), StreamPart("values", 1)]
    await sse.aclose()
    assert [part async for part in sse] == []
