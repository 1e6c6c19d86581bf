"""Retries: only declared failures are retried, every attempt is kept, a late pass is flaky."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certify.results import RecordStore

pytest_plugins = ["pytester"]

CELL = "spark=3.5,catalog=hive"

SCENARIOS = """
import pathlib
import pytest

COUNTS = pathlib.Path(__file__).with_name("counts")

def bump(name):
    path = COUNTS / name
    path.parent.mkdir(exist_ok=True)
    n = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(n))
    return n

@pytest.mark.retry(on=r"ConnectionResetError", times=2)
def test_recovers():
    if bump("recovers") == 1:
        raise ConnectionResetError("peer reset the connection")

@pytest.mark.retry(on=r"ConnectionResetError", times=2)
def test_real_bug():
    bump("real_bug")
    assert 1 + 1 == 3

@pytest.mark.retry(on=[r"Timeout", r"ConnectionResetError"], times=2)
def test_always_resets():
    bump("always")
    raise ConnectionResetError("again")

def test_profile_retry():
    if bump("profile") < 3:
        raise TimeoutError("metastore Timeout")
"""


def _run(pytester: pytest.Pytester, *extra: str) -> tuple[pytest.RunResult, RecordStore]:
    pytester.makepyfile(test_scenarios=SCENARIOS)
    store = RecordStore(pytester.path / "results.sqlite")
    result = pytester.runpytest(
        "-p",
        "certify.pytest.plugin",
        "--certify-cell",
        CELL,
        "--certify-store",
        str(store.path),
        "--certify-run-id",
        "r1",
        "--certify-workdir",
        str(pytester.path / "work"),
        *extra,
    )
    return result, store


def _counts(pytester: pytest.Pytester) -> dict[str, int]:
    folder = pytester.path / "counts"
    return {p.name: int(p.read_text()) for p in folder.iterdir()}


def test_only_declared_failures_are_retried(pytester: pytest.Pytester) -> None:
    result, store = _run(pytester)
    records = {r.test_id.split("::")[-1]: r for r in store.records("r1")}
    assert records["test_recovers"].status == "flaky"
    assert records["test_recovers"].attempts == 2
    assert "ConnectionResetError" in records["test_recovers"].message
    assert records["test_real_bug"].status == "failed"
    assert records["test_real_bug"].attempts == 1
    assert records["test_always_resets"].status == "failed"
    assert records["test_always_resets"].attempts == 3
    # without a profile policy, an undeclared test is not retried
    assert records["test_profile_retry"].status == "failed"
    assert _counts(pytester) == {"recovers": 2, "real_bug": 1, "always": 3, "profile": 1}
    # pytest itself sees one outcome per test
    result.assert_outcomes(passed=1, failed=3)


def test_every_attempt_is_kept_as_evidence(pytester: pytest.Pytester) -> None:
    _, store = _run(pytester)
    test_id = "test_scenarios.py::test_always_resets"
    attempts = store.attempts("r1", CELL, test_id)
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert all(a["status"] == "failed" and "again" in a["message"] for a in attempts)
    flaky = store.attempts("r1", CELL, "test_scenarios.py::test_recovers")
    assert [a["status"] for a in flaky] == ["failed", "passed"]


def test_the_profile_policy_applies_to_undeclared_tests(pytester: pytest.Pytester) -> None:
    policy = json.dumps({"on": ["Timeout"], "times": 3})
    _, store = _run(pytester, "--certify-retry", policy)
    record = next(r for r in store.records("r1") if r.test_id.endswith("test_profile_retry"))
    assert (record.status, record.attempts) == ("flaky", 3)


def test_retries_do_not_apply_without_the_marker_or_policy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_fails():\n    raise ConnectionResetError('x')\n")
    store_path = Path(pytester.path / "r.sqlite")
    pytester.runpytest(
        "-p",
        "certify.pytest.plugin",
        "--certify-cell",
        CELL,
        "--certify-store",
        str(store_path),
        "--certify-run-id",
        "r1",
    )
    [record] = RecordStore(store_path).records("r1")
    assert (record.status, record.attempts) == ("failed", 1)
    assert RecordStore(store_path).attempts("r1", CELL, record.test_id) == []
