"""Properties: unknown outcomes and damaged lines never turn a correct history invalid.

``info`` means the operation may or may not have taken effect, so replacing ``ok`` or
``fail`` completions by ``info`` (their result lost, as the recorder writes it) or dropping
completions altogether (a crash) must never produce a violation: at worst ``unknown``.
Likewise a line garbled or cut short.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgbench.check import Profile, check_history
from tests.check._cases import DIRECTORY
from tests.check._fake_server import default_plans, simulate

#: Hand-written histories that are valid under both profiles.
CLEAN_CASES = (
    "enqueue_clean",
    "reject_clean",
    "rollback_clean",
    "stream_clean",
    "failing_clean",
    "interrupt_end_within_slack",
    "unexpected_run_after_info",
)

KEEP, INFO, DROP = "keep", "info", "drop"
_INFO_ERROR = {"class": "ReadTimeout", "status": None, "message": "timed out"}


@cache
def fake_lines() -> tuple[str, ...]:
    """A correct history from the fake server (one thread per plan kind)."""
    return tuple(simulate(plans=default_plans(1), seed=7).lines())


@cache
def case_lines(name: str) -> tuple[str, ...]:
    return tuple((DIRECTORY / f"{name}.jsonl").read_text(encoding="utf-8").splitlines())


def completions(lines: tuple[str, ...]) -> list[int]:
    return [i for i, line in enumerate(lines) if json.loads(line).get("type") in ("ok", "fail")]


def mutate(lines: tuple[str, ...], actions: dict[int, str]) -> list[str]:
    """Apply ``actions`` to completion lines, then renumber indexes as the recorder would."""
    events: list[dict[str, Any]] = []
    header = lines[0]
    for i, line in enumerate(lines[1:], start=1):
        event = json.loads(line)
        action = actions.get(i, KEEP)
        if action == DROP:
            continue
        if action == INFO:
            observer = bool((event.get("value") or {}).get("observer"))
            event["type"] = "info"
            event["value"] = {"observer": True} if observer else None
            event["error"] = _INFO_ERROR
        events.append(event)
    renumber = {event["index"]: n for n, event in enumerate(events)}
    out = [header]
    for event in events:
        event["index"] = renumber[event["index"]]
        if "invoke_index" in event:
            event["invoke_index"] = renumber[event["invoke_index"]]
        out.append(json.dumps(event, separators=(",", ":")))
    return out


def check_lines(tmp_path: Path, lines: list[str], profile: Profile) -> Any:
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return check_history(path, profile=profile)


def actions_for(count: int) -> st.SearchStrategy[list[str]]:
    action = st.sampled_from([KEEP, KEEP, KEEP, INFO, DROP])
    return st.lists(action, min_size=count, max_size=count)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


def test_the_unmutated_histories_are_valid(scratch: Path) -> None:
    assert check_lines(scratch, list(fake_lines()), "observed").valid is True
    for name in CLEAN_CASES:
        for profile in ("observed", "documented"):
            assert check_lines(scratch, list(case_lines(name)), profile).valid is True, name


@settings(max_examples=60)
@given(data=st.data())
def test_info_never_makes_the_fake_history_invalid(scratch: Path, data: st.DataObject) -> None:
    lines = fake_lines()
    targets = completions(lines)
    chosen = data.draw(actions_for(len(targets)), label="actions")
    result = check_lines(
        scratch, mutate(lines, dict(zip(targets, chosen, strict=True))), "observed"
    )
    assert result.valid is not False, [a.explanation for a in result.anomalies]


@settings(max_examples=60)
@given(
    data=st.data(),
    name=st.sampled_from(CLEAN_CASES),
    profile=st.sampled_from(["observed", "documented"]),
)
def test_info_never_makes_a_clean_case_invalid(
    scratch: Path, data: st.DataObject, name: str, profile: Profile
) -> None:
    lines = case_lines(name)
    targets = completions(lines)
    chosen = data.draw(actions_for(len(targets)), label="actions")
    result = check_lines(scratch, mutate(lines, dict(zip(targets, chosen, strict=True))), profile)
    assert result.valid is not False, [a.explanation for a in result.anomalies]


@settings(max_examples=40)
@given(
    data=st.data(),
    junk=st.sampled_from(["", "{", "not json", '{"index": "x"}', "\x00\x01garbage", "[1, 2]"]),
)
def test_garbled_lines_never_make_the_fake_history_invalid(
    scratch: Path, data: st.DataObject, junk: str
) -> None:
    lines = list(fake_lines())
    count = data.draw(st.integers(min_value=1, max_value=5), label="count")
    for _ in range(count):
        at = data.draw(st.integers(min_value=1, max_value=len(lines) - 1), label="line")
        lines[at] = junk or lines[at][: len(lines[at]) // 2]
    result = check_lines(scratch, lines, "observed")
    assert result.valid is not False, [a.explanation for a in result.anomalies]
