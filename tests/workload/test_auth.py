"""[target.auth] and as_user: what parses, and each mistake's message and position."""

from __future__ import annotations

import pytest

from lgbench.workload import (
    AuthConfig,
    OperationStepConfig,
    WorkloadError,
    dump_workload,
    parse_workload,
)

SCENARIO = """
[[scenario]]
name = "probe"
executor = "constant-vus"
vus = 2
duration = "1s"
steps = [
  { op = "threads.create", save = "thread", metadata = { owner_label = "${user}" } },
  { op = "threads.get", thread = "$thread", as_user = "other" },
]
"""
EMBEDDED = '[target]\nurl = "embedded"\n[target.embedded]\nauth = true\n'


def issues(text: str) -> list[str]:
    with pytest.raises(WorkloadError) as caught:
        parse_workload(text, "w.toml")
    return [f"{i.line}:{i.column}: {i.message}" for i in caught.value.issues]


def test_fixture_users_on_the_embedded_server_with_auth() -> None:
    workload = parse_workload(
        EMBEDDED + '[target.auth]\nusers = 4\nvus_per_user = 2\npolicy = "shared"\n' + SCENARIO,
        "w.toml",
    )
    assert workload.target.embedded.auth is True
    assert workload.target.auth == AuthConfig(users=4, vus_per_user=2, policy="shared")
    step = workload.scenarios[0].steps[1]
    assert isinstance(step, OperationStepConfig) and step.as_user == "other"
    again = parse_workload(dump_workload(workload), "w.toml")
    assert again == workload


def test_a_real_deployment_brings_its_tokens_in_any_header() -> None:
    workload = parse_workload(
        '[target]\nurl = "https://example.com"\ntransport = "httpx"\n'
        '[target.auth]\ntokens_file = "tokens.txt"\nheader = "X-Tenant-Token"\n'
        'owner_key = "user_id"\n' + SCENARIO,
        "w.toml",
    )
    assert workload.target.auth == AuthConfig(
        tokens_file="tokens.txt", header="x-tenant-token", owner_key="user_id"
    )
    workload = parse_workload(
        '[target]\nurl = "http://127.0.0.1:9"\n[target.auth]\ntokens_env = "MY_TOKENS"\n'
        'scheme = "Token"\n' + SCENARIO,
        "w.toml",
    )
    assert workload.target.auth == AuthConfig(tokens_env="MY_TOKENS", scheme="Token")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            '[target.auth]\ntokens = ["lgbench.user-1.abcdef"]\n',
            "a literal tokens is not allowed in a workload file",
        ),
        ('[target.auth]\npolicy = "owner-only"\n', "[target.auth] needs exactly one token source"),
        (
            '[target.auth]\ntokens_env = "A"\ntokens_file = "b"\n',
            "needs exactly one token source, not tokens_env and tokens_file",
        ),
        (
            '[target.auth]\ntokens_env = "lsv2 key"\n',
            "tokens_env is not the name of an environment",
        ),
        ('[target.auth]\ntokens_env = "A"\npolicy = "open"\n', 'unknown policy "open"'),
        (
            '[target.auth]\ntokens_env = "A"\nheader = "x-key"\nscheme = "Bearer"\n',
            "scheme applies",
        ),
        ("[target.auth]\nusers = 2\n", "users (fixture tokens minted by lgbench) work only"),
        ('[target.auth]\ntokens_env = "A"\nvus_per_user = 0\n', "vus_per_user must be at least 1"),
    ],
)
def test_bad_auth_tables_name_the_field(target: str, expected: str) -> None:
    text = '[target]\nurl = "http://127.0.0.1:9"\n' + target + SCENARIO
    found = issues(text)
    assert any(expected in issue for issue in found), found
    assert all("abcdef" not in issue for issue in found)  # a token is never echoed


def test_the_embedded_server_and_auth_go_together() -> None:
    (issue,) = issues(EMBEDDED + SCENARIO)
    assert issue.startswith("4:8: the embedded server with auth needs users")
    (issue,) = issues('[target]\nurl = "embedded"\n[target.auth]\nusers = 2\n' + SCENARIO)
    assert "needs it to check tokens" in issue


def test_as_user_needs_another_user() -> None:
    (issue,) = issues(SCENARIO)
    assert 'as_user = "other" needs another user: add [target.auth]' in issue
    (issue,) = issues(EMBEDDED + "[target.auth]\nusers = 1\n" + SCENARIO)
    assert "[target.auth] has one" in issue
    bad = SCENARIO.replace('as_user = "other"', 'as_user = "others"')
    found = issues(EMBEDDED + "[target.auth]\nusers = 2\n" + bad)
    assert any('unknown as_user "others"' in issue for issue in found), found


def test_user_is_a_built_in_nobody_can_save_to() -> None:
    text = SCENARIO.replace('save = "thread"', 'save = "user"')
    found = issues(EMBEDDED + "[target.auth]\nusers = 2\n" + text)
    assert any("user is a built-in name" in issue for issue in found), found


def test_thresholds_may_select_a_user() -> None:
    thresholds = '[thresholds]\n"threads.create{user=user-2}.latency.p99" = "< 1s"\n'
    workload = parse_workload(
        EMBEDDED + "[target.auth]\nusers = 3\n" + SCENARIO + thresholds, "w.toml"
    )
    assert workload.thresholds[0].expression_key == "threads.create{user=user-2}.latency.p99"
    (issue,) = issues(
        EMBEDDED + "[target.auth]\nusers = 3\n" + SCENARIO + thresholds.replace("user-2", "user-9")
    )
    assert "no scenario is tagged user=user-9" in issue
    # Without users, no operation carries a user tag.
    plain = SCENARIO.replace(', as_user = "other"', "").replace("${user}", "x")
    (issue,) = issues(plain + thresholds)
    assert "no scenario is tagged user=user-2" in issue
