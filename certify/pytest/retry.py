"""Retries of scenarios whose failure matches a declared pattern, keeping every attempt.

A test is retried only when its failure text matches a pattern declared by the
``@pytest.mark.retry(on=[regex...], times=N)`` marker or by the profile (``--certify-retry``).
Every attempt is attached to the final teardown report as ``certify_attempts`` so the recorder
keeps it as evidence; a pass after a failure is recorded as ``flaky``, never as a plain pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from _pytest.runner import runtestprotocol

from certify.results.findings import JsonObject

# the teardown report's attribute that carries every attempt to the recorder (reports have no
# stash, and pytest-xdist sends a report's extra attributes along with it)
ATTEMPTS_ATTR = "certify_attempts"


@dataclass(frozen=True)
class RetryPolicy:
    """Which failures may be retried, and how many times."""

    patterns: tuple[re.Pattern[str], ...]
    times: int

    def matches(self, text: str) -> bool:
        """True if the failure text matches a declared pattern."""
        return any(p.search(text) for p in self.patterns)


def policy_for(item: pytest.Item, default: RetryPolicy | None) -> RetryPolicy | None:
    """The marker's policy if the test has one, else the profile's."""
    mark = item.get_closest_marker("retry")
    if mark is None:
        return default
    on = mark.kwargs.get("on", mark.args[0] if mark.args else ())
    patterns = [on] if isinstance(on, str) else list(on)
    return RetryPolicy(tuple(re.compile(p) for p in patterns), int(mark.kwargs.get("times", 1)))


def parse_option(text: str | None) -> RetryPolicy | None:
    """The profile's policy from `--certify-retry '{"on": [...], "times": N}'`."""
    if not text:
        return None
    data = json.loads(text)
    patterns = tuple(re.compile(p) for p in data.get("on", []))
    return RetryPolicy(patterns, int(data.get("times", 1))) if patterns else None


def _failure_text(reports: list[pytest.TestReport]) -> str | None:
    """The error part of each failed phase (`E` lines and the crash line), not the source."""
    failed = [r for r in reports if r.failed]
    if not failed:
        return None
    parts = []
    for report in failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        parts.append(str(getattr(crash, "message", "")))
        parts.extend(ln for ln in report.longreprtext.splitlines() if ln.startswith("E "))
    return "\n".join(p for p in parts if p) or "\n".join(r.longreprtext for r in failed)


def _attempt(number: int, reports: list[pytest.TestReport]) -> JsonObject:
    text = _failure_text(reports)
    return {
        "attempt": number,
        "status": "failed" if text is not None else "passed",
        "duration_s": round(sum(r.duration for r in reports), 6),
        "message": "\n".join(r.longreprtext for r in reports if r.failed)[:4000],
    }


class RetryPlugin:
    """Runs a test again while it fails with a retryable failure and attempts remain."""

    def __init__(self, default: RetryPolicy | None) -> None:
        self.default = default

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> bool | None:
        """Our own run protocol for tests with a retry policy; pytest's for the others."""
        policy = policy_for(item, self.default)
        if policy is None or policy.times < 1:
            return None
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        attempts: list[JsonObject] = []
        for number in range(1, policy.times + 2):
            reports = runtestprotocol(item, nextitem=nextitem, log=False)
            attempts.append(_attempt(number, reports))
            text = _failure_text(reports)
            if text is None or number > policy.times or not policy.matches(text):
                break
            item._initrequest()  # type: ignore[attr-defined]  # fresh fixtures next attempt
        for report in reports:
            if report.when == "teardown":
                setattr(report, ATTEMPTS_ATTR, attempts)
            item.ihook.pytest_runtest_logreport(report=report)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True
