"""One redaction mechanism (lgbench._secrets): a Secret shows ``[redacted]`` wherever it is
rendered yet goes on the wire whole; headers are judged secret by name or because the
workload says so; URLs quoted in messages lose what may be a credential."""

from __future__ import annotations

import json

import pytest

from lgbench._secrets import (
    REDACTED,
    Secret,
    is_secret_header,
    protect_headers,
    redact_url,
    redacted_headers,
    scrub,
    secret_texts,
)
from lgbench.client import AuthenticationError, HttpClient, MockTransport, Request, Response
from lgbench.client._http11 import encode_request

VALUE = "sig-0123456789-never-shown"

pytestmark = pytest.mark.anyio


def test_a_secret_renders_redacted_and_reveals_only_on_request() -> None:
    secret = Secret(VALUE)
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!s:>30}", "%s" % secret):  # noqa: UP031 - the old style too
        assert VALUE not in shown
        assert "redacted" in shown
    assert repr([secret]) == repr([REDACTED])
    assert secret == VALUE  # the text is still there, for the wire
    assert secret.reveal() == VALUE
    assert type(secret.reveal()) is str


def test_a_secret_made_of_a_secret_keeps_the_credential() -> None:
    # str() of a Secret is its placeholder: wrapping one again must not keep only that.
    twice = Secret(Secret("tok-1234"))
    assert twice.reveal() == "tok-1234" and str(twice) == "[redacted]"
    assert "Bearer " + twice == "Bearer tok-1234"


def test_a_secret_header_goes_on_the_wire_whole() -> None:
    wire = encode_request(
        "GET",
        "/x",
        [("authorization", Secret("Bearer " + VALUE))],
        None,
        host_line="host: h\r\n",
        user_agent_line="user-agent: t\r\n",
    )
    assert f"authorization: Bearer {VALUE}\r\n".encode() in wire


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("proxy-authorization", True),
        ("x-api-key", True),
        ("Cookie", True),
        ("set-cookie", True),
        ("x-session-id", True),
        ("x-auth-token", True),
        ("content-type", False),
        ("x-request-source", False),
    ],
)
def test_headers_are_secret_by_name(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret


def test_a_workload_can_mark_any_header_secret() -> None:
    headers = {"X-Tenant-Signature": VALUE, "x-request-source": "lgbench"}
    protected = protect_headers(headers, ["x-tenant-signature"])
    assert isinstance(protected["x-tenant-signature"], Secret)
    assert not isinstance(protected["x-request-source"], Secret)
    assert redacted_headers(protected) == {
        "x-tenant-signature": REDACTED,
        "x-request-source": "lgbench",
    }
    assert secret_texts(protected.items()) == (VALUE,)
    assert scrub(f"you sent {VALUE}!", (VALUE,)) == "you sent [redacted]!"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw-1234@host:1/p", "http://[redacted]@host:1/p"),
        ("http://host/p?key=abcd#frag", "http://host/p?[redacted]"),
        ("http://host/p#token", "http://host/p#[redacted]"),
        ("ftp://u:p@h", "ftp://[redacted]@h"),
        ("http://host:8123", "http://host:8123"),
    ],
)
def test_urls_lose_their_credentials_when_quoted(url: str, shown: str) -> None:
    assert redact_url(url) == shown


async def test_the_client_hides_headers_the_workload_marks_secret() -> None:
    def echo(request: Request) -> Response:
        sent = dict(request.headers)
        detail = "bad signature " + sent["x-tenant-signature"]
        return Response(
            401,
            {"content-type": "application/json"},
            content=json.dumps({"detail": detail}).encode(),
        )

    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return echo(request)

    http = HttpClient(
        MockTransport(handler),
        headers={"x-tenant-signature": VALUE},
        secret_headers=["x-tenant-signature"],
    )
    with pytest.raises(AuthenticationError) as caught:
        await http.get("/threads")
    assert VALUE not in str(caught.value)
    assert VALUE not in repr(caught.value.body)
    assert VALUE not in repr(seen[0])
    # Per-call headers of that name are hidden too.
    with pytest.raises(AuthenticationError) as again:
        await http.get("/threads", headers={"X-Tenant-Signature": VALUE + "-2"})
    assert VALUE not in str(again.value)
