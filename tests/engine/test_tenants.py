"""Users of a run: where their tokens come from, which VU acts as whom, and that a token
never shows in an error, a repr or the history (only the user's label does)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from lgbench.client import ApiError, MockTransport, Request, Response, get_client
from lgbench.engine._tenants import Tenants, load_tokens, user_label
from lgbench.errors import UsageError
from lgbench.server import fixture_token
from lgbench.workload import AuthConfig

SECRET_TOKEN = "tok-3f9c2a7e51d84b06"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "[target.auth] tokens_env: the environment variable T is not set"),
        ({"T": "  "}, "the environment variable T is empty"),
        ({"T": f"[{SECRET_TOKEN}"}, "T does not hold JSON"),
        ({"T": json.dumps({"a": SECRET_TOKEN})}, "T holds JSON that is not a list of tokens"),
        ({"T": "[]"}, "T holds no token"),
        ({"T": json.dumps([SECRET_TOKEN, 3])}, "token 2 of T is not a non-empty string"),
        ({"T": json.dumps([SECRET_TOKEN + "\n"])}, "token 1 of T is not one line"),
    ],
)
def test_a_bad_environment_source_is_a_usage_error_without_the_token(
    environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(UsageError) as caught:
        load_tokens(AuthConfig(tokens_env="T"), environ=environ)
    assert expected in str(caught.value)
    assert SECRET_TOKEN not in str(caught.value)


def test_tokens_from_the_environment_and_from_a_file(tmp_path: Path) -> None:
    tokens = load_tokens(AuthConfig(tokens_env="T"), environ={"T": json.dumps(["a1", "b2"])})
    assert tokens == ["a1", "b2"]
    path = tmp_path / "tokens.txt"
    path.write_text("# one a line\nfirst-token\n\n  second-token  \n")
    assert load_tokens(AuthConfig(tokens_file=str(path))) == ["first-token", "second-token"]


def test_a_bad_file_source_names_the_field(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(UsageError, match=r"\[target.auth\] tokens_file: cannot read .*nope.txt"):
        load_tokens(AuthConfig(tokens_file=str(missing)))
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(UsageError, match="holds no token"):
        load_tokens(AuthConfig(tokens_file=str(empty)))


def test_fixture_tokens_need_the_embedded_servers_secret() -> None:
    assert load_tokens(AuthConfig(users=2), fixture_secret="s3cret") == [
        fixture_token("user-1", "s3cret"),
        fixture_token("user-2", "s3cret"),
    ]
    with pytest.raises(UsageError, match="fixture tokens need the embedded server with auth"):
        load_tokens(AuthConfig(users=2))


def _tenants(auth: AuthConfig, count: int) -> Tenants:
    transport = MockTransport(lambda _request: Response(204))
    client = get_client(url="http://127.0.0.1:9", api_key=None, transport=transport)
    return Tenants(auth, client, [f"{SECRET_TOKEN}-{n}" for n in range(count)])


def test_vus_map_to_users_round_robin_or_in_groups() -> None:
    round_robin = _tenants(AuthConfig(tokens_env="T"), 3)
    assert [round_robin.user_for(vu).label for vu in range(1, 8)] == [
        "user-1",
        "user-2",
        "user-3",
        "user-1",
        "user-2",
        "user-3",
        "user-1",
    ]
    grouped = _tenants(AuthConfig(tokens_env="T", vus_per_user=2), 2)
    assert [grouped.user_for(vu).label for vu in range(1, 6)] == [
        "user-1",
        "user-1",
        "user-2",
        "user-2",
        "user-1",
    ]
    assert user_label(12) == "user-12"


def test_another_user_is_never_the_same_and_every_other_one_comes_up() -> None:
    tenants = _tenants(AuthConfig(tokens_env="T"), 4)
    rng = random.Random(1)
    me = tenants.users[2]
    seen = {tenants.other_than(me, rng).label for _ in range(200)}
    assert seen == {"user-1", "user-2", "user-4"}
    alone = _tenants(AuthConfig(tokens_env="T"), 1)
    assert alone.other_than(alone.users[0], rng) is alone.users[0]


@pytest.mark.anyio
async def test_a_users_token_goes_in_its_header_and_nowhere_else() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        # What goes on the wire: a credential's real text (str() of a Secret is redacted).
        seen.append({name: "".join((value,)) for name, value in request.headers})
        body = json.dumps({"detail": f"bad token {SECRET_TOKEN}-0"}).encode()
        return Response(403, [("content-type", "application/json")], content=body)

    for auth, header, value in (
        (AuthConfig(tokens_env="T"), "authorization", f"Bearer {SECRET_TOKEN}-0"),
        (AuthConfig(tokens_env="T", header="x-api-key"), "x-api-key", f"{SECRET_TOKEN}-0"),
        (AuthConfig(tokens_env="T", header="x-tenant"), "x-tenant", f"{SECRET_TOKEN}-0"),
    ):
        client = get_client(
            url="http://127.0.0.1:9", api_key=None, transport=MockTransport(handler)
        )
        user = Tenants(auth, client, [f"{SECRET_TOKEN}-0"]).users[0]
        assert SECRET_TOKEN not in repr(user) + repr(user.client) + repr(user.client.http)
        with pytest.raises(ApiError) as caught:
            await user.client.threads.get("t-1")
        assert seen[-1][header] == value
        # Even a server that echoes the token back: the error text has it scrubbed.
        assert SECRET_TOKEN not in str(caught.value) + repr(caught.value)


def test_run_with_an_unset_token_variable_exits_2_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_cli_run import lgbench

    monkeypatch.delenv("LGBENCH_UNSET_TOKENS", raising=False)
    workload = tmp_path / "w.toml"
    workload.write_text(
        '[target]\nurl = "http://127.0.0.1:9"\n[target.auth]\ntokens_env = "LGBENCH_UNSET_TOKENS"\n'
        '[[scenario]]\nname = "s"\nexecutor = "constant-vus"\nvus = 1\nduration = "1s"\n'
        'steps = [{ op = "threads.create" }]\n'
    )
    out = tmp_path / "run"
    done = lgbench("run", workload, "--out", out, "--no-live")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "[target.auth] tokens_env: the environment variable LGBENCH_UNSET_TOKENS is not set" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
    assert not out.exists()
