"""HTTP/1.1 framing for the fast transport: request heads out, responses in.

No I/O here. :func:`encode_request` builds the bytes of one request;
:class:`ResponseReader` parses the responses arriving on one connection with
httptools (llhttp), one exchange at a time, and says when the response head is
complete, which body chunks arrived, when the message ended and whether the
connection may carry another request.

Failure modes: :func:`encode_request` raises :class:`ProtocolError` for a
request it refuses to put on the wire (CR/LF or spaces where they would split
the message); :meth:`ResponseReader.feed` lets httptools' exceptions through
(the transport translates them, in one place, into ``ProtocolError``).
"""

from __future__ import annotations

from typing import Final, final

import httptools

from lgbench.client._errors import ProtocolError

__all__ = [
    "MAX_HEAD_BYTES",
    "SAFE_METHODS",
    "RequestEncoder",
    "ResponseReader",
    "encode_request",
]

#: A response head larger than this is refused: llhttp itself sets no limit, and
#: a broken server must not make the client buffer headers without bound.
MAX_HEAD_BYTES: Final = 1 << 20

#: Methods a client may repeat without changing server state (RFC 9110 §9.2.1).
#: Only these are re-sent when a reused connection turns out to be dead before
#: any response byte arrived; DELETE is idempotent but not safe (a repeated
#: DELETE of a LangGraph thread answers 404), so it is never re-sent.
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Headers the transport writes itself: the body framing comes from ``content``.
_FRAMING_HEADERS: Final = frozenset({"content-length", "transfer-encoding"})
# Methods whose requests carry a body by definition; they get ``Content-Length: 0``
# when empty so that servers never wait for a body that is not coming.
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


def encode_request(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    content: bytes | None,
    *,
    host_line: str,
    user_agent_line: str,
) -> bytes:
    """The bytes of one HTTP/1.1 request: head and body together, for one write.

    ``host_line`` and ``user_agent_line`` are complete header lines (with their
    CRLF) sent unless ``headers`` has its own ``host`` / ``user-agent``.
    One write keeps a small request in one TCP segment.
    """
    _check_target(target)
    block = _header_block(headers, host_line=host_line, user_agent_line=user_agent_line)
    return _assemble(method, target, block, content)


@final
class RequestEncoder:
    """:func:`encode_request` for one origin, keeping the header lines of each header list.

    A client sends the same few header lists (its own, per user, per kind of call) with
    every request: their lines are checked and joined once per distinct list, and a
    request costs its request line and framing. Bounded: emptied when full, so lists that
    change with every request (a request id) cost a refill now and then, never memory.
    """

    __slots__ = ("_blocks", "_host_line", "_user_agent_line")

    def __init__(self, *, host_line: str, user_agent_line: str) -> None:
        self._host_line = host_line
        self._user_agent_line = user_agent_line
        self._blocks: dict[tuple[tuple[str, str], ...], str] = {}

    def encode(
        self, method: str, target: str, headers: list[tuple[str, str]], content: bytes | None
    ) -> bytes:
        """The bytes :func:`encode_request` makes of the same request."""
        _check_target(target)
        try:
            key = tuple(headers)
            block = self._blocks.get(key)
        except TypeError:  # pairs that are not tuples: not kept
            key, block = None, None
        if block is None:
            block = _header_block(
                headers, host_line=self._host_line, user_agent_line=self._user_agent_line
            )  # raises before anything is kept
            if key is not None:
                if len(self._blocks) >= _MAX_HEADER_BLOCKS:
                    self._blocks.clear()
                self._blocks[key] = block
        return _assemble(method, target, block, content)


_MAX_HEADER_BLOCKS: Final = 256


def _check_target(target: str) -> None:
    if " " in target or "\r" in target or "\n" in target or not target:
        raise ProtocolError(f"refusing to send a request target with spaces or CR/LF: {target!r}")


def _header_block(headers: list[tuple[str, str]], *, host_line: str, user_agent_line: str) -> str:
    """The header lines of a request, each with its CRLF, framing headers left out."""
    lines: list[str] = []
    add_host = True
    add_user_agent = True
    for name, value in headers:
        lower = name.lower()
        if lower in _FRAMING_HEADERS:
            continue
        if lower == "host":
            add_host = False
        elif lower == "user-agent":
            add_user_agent = False
        # Concatenation, not an f-string: a credential is a Secret, whose format() hides it.
        lines.append(name + ": " + value + "\r\n")
    block = "".join(lines)
    # A CR or LF inside a name or value would let it start a header (or a request) of its
    # own: count the line ends instead of scanning each field.
    if lines and (block.count("\n") != len(lines) or block.count("\r") != len(lines)):
        raise ProtocolError("refusing to send a header name or value containing CR or LF")
    if add_host:
        block += host_line
    if add_user_agent:
        block += user_agent_line
    return block


def _assemble(method: str, target: str, block: str, content: bytes | None) -> bytes:
    """The request line, the header lines, the framing and the body, as one bytes."""
    head = method + " " + target + " HTTP/1.1\r\n" + block
    if content is not None:
        data = (head + "content-length: " + str(len(content)) + "\r\n\r\n").encode("latin-1")
        return data + content if content else data
    if method in _BODY_METHODS:
        head += "content-length: 0\r\n"
    return (head + "\r\n").encode("latin-1")


# What a reader that released its header list holds instead: shared, never appended to
# (on_header appends only before the head is done; begin() starts a list of its own).
_RELEASED_HEADERS: Final[list[bytes]] = []


class ResponseReader:
    """Parses the responses of one connection; the transport calls :meth:`begin` per request.

    After each :meth:`feed`: ``head_done`` says whether ``status_code`` and
    ``raw_headers`` are set (the fields as they came, name and value bytes
    alternating: :class:`~lgbench.client.Response` decodes them if asked);
    ``chunks`` holds body bytes not yet handed out; ``complete`` says the message
    ended, and then ``keep_alive`` says whether the connection may carry another
    request. ``dirty`` is set when bytes arrive that belong to no request of ours
    (after a complete response): the response stands, the connection does not.
    """

    __slots__ = (
        "_framed",
        "_head_only",
        "_informational",
        "_parser",
        "_replace_parser",
        "chunks",
        "complete",
        "dirty",
        "head_done",
        "keep_alive",
        "raw_headers",
        "status_code",
    )

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._replace_parser = False
        self._head_only = False
        self._framed = False
        self._informational = False
        self.status_code = 0
        self.raw_headers: list[bytes] = []
        self.chunks: list[bytes] = []
        self.head_done = False
        self.complete = False
        self.keep_alive = False
        self.dirty = False

    def begin(self, *, head_only: bool) -> None:
        """Prepare for the response to the next request (``head_only`` for HEAD)."""
        if self._replace_parser:
            # After a HEAD response llhttp still expects the body its headers
            # announced; a fresh parser is the only way to tell it otherwise.
            self._parser = httptools.HttpResponseParser(self)
            self._replace_parser = False
        self._head_only = head_only
        self._framed = False
        self._informational = False
        self.status_code = 0
        self.raw_headers = []
        self.chunks = []
        self.head_done = False
        self.complete = False
        self.keep_alive = False

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse ``data``; httptools' exceptions pass through unless the response was complete."""
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            if not self.complete:
                raise
            # Garbage after a complete response: keep the response, drop the connection.
            self.dirty = True

    def feed_eof(self) -> None:
        """The peer closed its side: end a body delimited by the connection's close.

        A body framed by Content-Length or chunked encoding that has not ended
        stays incomplete (the caller reports a network error); so does a head.
        """
        self.keep_alive = False
        if self.complete or not self.head_done or self._framed or self._has_framing():
            return
        self.complete = True

    def release_headers(self) -> None:
        """Forget the header list (the caller keeps its own copy), all but what
        :meth:`feed_eof` needs to know: a long body's reader then holds ≈ 0.7 KiB less."""
        self._framed = self._has_framing()
        self.raw_headers = _RELEASED_HEADERS

    def _has_framing(self) -> bool:
        """Whether the headers frame the body (Content-Length or chunked encoding)."""
        raw = self.raw_headers
        for position in range(0, len(raw), 2):
            lower = raw[position].lower()
            if lower == b"content-length" or (
                lower == b"transfer-encoding"
                # As text, as the Response reads it (whitespace beyond ASCII included).
                and raw[position + 1].decode("latin-1").lower().rstrip().endswith("chunked")
            ):
                return True
        return False

    def take_chunks(self) -> bytes:
        """The body bytes received so far, as one chunk (``b""`` when none)."""
        chunks = self.chunks
        if not chunks:
            return b""
        self.chunks = []
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # httptools callbacks. They must not raise: httptools would report our bug
    # as a parser error of the peer.

    def on_message_begin(self) -> None:
        if self.complete:
            self.dirty = True

    def on_header(self, name: bytes, value: bytes) -> None:
        # Not after the head: a chunked body's trailers are of no use to anyone (the
        # Response was built from the head), and a released reader's list is shared.
        # Kept as bytes: most answers (JSON read by HttpClient) never look at their
        # headers, and decoding each field here cost more than the rest of the parse.
        if not self.head_done:
            raw = self.raw_headers
            raw.append(name)
            raw.append(value)

    def on_headers_complete(self) -> None:
        if self.complete:
            return
        parser = self._parser
        status_code = parser.get_status_code()
        if status_code < 200:
            # 1xx is an interim answer (100 Continue, 103 Early Hints): skip it
            # and wait for the final response. (101 makes feed() raise
            # HttpParserUpgrade right after this callback.)
            self._informational = True
            self.raw_headers = []
            return
        self.status_code = status_code
        self.head_done = True
        if self._head_only:
            # A HEAD response has no body whatever its headers say.
            self.complete = True
            self.keep_alive = parser.should_keep_alive() and parser.get_http_version() == "1.1"
            self._replace_parser = True

    def on_body(self, body: bytes) -> None:
        if self.complete:
            self.dirty = True
        else:
            self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        if self.complete:
            # The end of a message we did not ask for, or of a HEAD response's
            # announced body: either way nothing to trust on this connection.
            if not self._head_only:
                self.dirty = True
            return
        parser = self._parser
        self.complete = True
        self.keep_alive = parser.should_keep_alive() and parser.get_http_version() == "1.1"
