"""Cell verdicts and how they combine: the worst one wins.

A suite's records say three different things when they are not passes, and every output keeps
them apart: a test *not applicable* to the cell (`not_run` with `applicable=False`: the cell's
values put it out of scope, so it stays out of the verdict), a test *not run* (`not_run` that
applies: in scope but not exercised, e.g. the platform could not serve it, so the suite is
`not_run`), and a plain *skip* (in scope, not declared not applicable, so the suite is
`incomplete`).
"""

from __future__ import annotations

from collections.abc import Iterable

# Worst first. Combining verdicts takes the worst, so adding evidence never improves a verdict.
VERDICTS: tuple[str, ...] = ("failed", "incomplete", "not_run", "degraded", "waived", "certified")
_RANK = {v: i for i, v in enumerate(VERDICTS)}

# What one record that applies to the cell says of its suite; an unknown status is never
# evidence of success (failed).
_STATUS_VERDICT = {
    "passed": "certified",
    "flaky": "certified",  # a pass; the policy's `flaky_tolerated` rule judges how many
    "not_run": "not_run",
    "skipped": "incomplete",
    "failed": "failed",
    "error": "failed",
}
# How outputs name a criterion or record that does not apply to the cell's values.
NOT_APPLICABLE = "not applicable"


def worst(verdicts: Iterable[str]) -> str:
    """The worst of `verdicts` (`incomplete` when there are none; unknown ones count as failed)."""
    ranked = [_RANK.get(v, 0) for v in verdicts]
    return VERDICTS[min(ranked)] if ranked else "incomplete"


def applies(status: str, applicable: bool) -> bool:
    """False only for a declared not-applicable record: `not_run` out of the cell's scope."""
    return applicable or status != "not_run"


def suite_verdict(statuses: Iterable[str]) -> str:
    """Verdict of one suite on one cell from the statuses of its records that apply (fail closed).

    Certified only when every one passed (or was flaky); a `not_run` makes it `not_run`, a skip
    `incomplete`, a failure or an unknown status `failed`, and no record at all `incomplete`.
    Declared not-applicable records must be left out by the caller (see `applies`).
    """
    return worst(_STATUS_VERDICT.get(s, "failed") for s in statuses)


def status_words(status: str, applicable: bool = True) -> str:
    """A record's status as every output words it, keeping out-of-scope apart from not run."""
    if status == "not_run":
        if not applicable:
            return f"{NOT_APPLICABLE} (out of scope for the cell's values)"
        return "not run (in scope, not exercised)"
    if status == "skipped":
        return "skipped (in scope, not declared not applicable)"
    return status


def shown(verdict: str, applicable: bool = True) -> str:
    """A criterion's verdict as outputs show it: `not applicable` when out of the cell's scope."""
    return verdict if applicable else NOT_APPLICABLE


def cell_shown(verdict: str, applicable: Iterable[bool]) -> str:
    """A cell's verdict as outputs show it: `not applicable` when none of its criteria apply."""
    flags = list(applicable)
    return shown(verdict, any(flags) or not flags)


# Worst first, for choosing between two results of the same test (shards, retries); a status
# this table does not know ranks with the failures (fail closed). It follows _STATUS_VERDICT:
# `skipped` (incomplete) is worse than `not_run`, so replacing a result by a worse one keeps cell
# verdicts monotone (tests/unit/test_verdict_properties.py).
_STATUS_ORDER: tuple[str, ...] = ("failed", "error", "skipped", "not_run", "flaky", "passed")
_STATUS_RANK = {s: i for i, s in enumerate(_STATUS_ORDER)}


def status_rank(status: str) -> int:
    """Lower is worse; unknown statuses are as bad as `failed`."""
    return _STATUS_RANK.get(status, 0)


def rank(verdict: str) -> int:
    """Position of `verdict` in VERDICTS (0 is the worst; unknown verdicts count as failed)."""
    return _RANK.get(verdict, 0)
