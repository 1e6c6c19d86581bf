"""Cell verdicts and how they combine: the worst one wins."""

from __future__ import annotations

from collections.abc import Iterable

# Worst first. Combining verdicts takes the worst, so adding evidence never improves a verdict.
VERDICTS: tuple[str, ...] = ("failed", "incomplete", "not_run", "degraded", "waived", "certified")
_RANK = {v: i for i, v in enumerate(VERDICTS)}


def worst(verdicts: Iterable[str]) -> str:
    """The worst of `verdicts` (`incomplete` when there are none; unknown ones count as failed)."""
    ranked = [_RANK.get(v, 0) for v in verdicts]
    return VERDICTS[min(ranked)] if ranked else "incomplete"


def suite_verdict(statuses: list[str]) -> str:
    """Verdict of one suite on one cell from its records' statuses (fail closed)."""
    if not statuses:
        return "incomplete"
    if any(s in ("failed", "error") for s in statuses):
        return "failed"
    if any(s not in ("passed", "flaky", "skipped", "not_run") for s in statuses):
        return "failed"  # an unknown status is never evidence of success
    if all(s == "not_run" for s in statuses):
        return "not_run"
    if not any(s in ("passed", "flaky") for s in statuses):
        return "incomplete"  # only skips: nothing was actually certified
    return "certified"


# Worst first, for choosing between two results of the same test (shards, retries); a status
# this table does not know ranks with the failures (fail closed). `skipped` is worse than
# `not_run`: a suite of skips is incomplete, one of not_runs is not_run (see suite_verdict), so
# this order keeps cell verdicts monotone (tests/unit/test_verdict_properties.py).
_STATUS_ORDER: tuple[str, ...] = ("failed", "error", "skipped", "not_run", "flaky", "passed")
_STATUS_RANK = {s: i for i, s in enumerate(_STATUS_ORDER)}


def status_rank(status: str) -> int:
    """Lower is worse; unknown statuses are as bad as `failed`."""
    return _STATUS_RANK.get(status, 0)


def rank(verdict: str) -> int:
    """Position of `verdict` in VERDICTS (0 is the worst; unknown verdicts count as failed)."""
    return _RANK.get(verdict, 0)
