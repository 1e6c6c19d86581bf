"""Records -> per-criterion and per-cell verdicts under a policy, failing closed.

A cell's criteria are its suites, chaos experiments and load profiles (the ones the profile plans
and the ones the policy requires for its tier), the policy's SLOs, flaky results and the age of
its evidence. A criterion the policy marks optional can only degrade a cell; a waiver turns a
missed criterion into `waived` until it expires.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone

from certify.config.policy import Policy, SloCriterion, Waiver
from certify.plan import Plan, PlannedCell
from certify.report.chaos_criteria import chaos_criteria_results
from certify.report.chaosload import (
    recovery_s,
    throughput_recovery_s,
    under_chaos,
    window_metrics,
)
from certify.report.model import CellResult, SuiteResult, WaiverUse
from certify.report.verdict import applies, status_words, suite_verdict, worst
from certify.results import Record

_REASON_LIMIT = 300
_KINDS = ("scenario", "experiment", "load")
_LABEL = {"scenario": "suite", "experiment": "experiment", "load": "load profile"}
# SLO metrics a runner may record under another name (the load runner's `rps`)
_ALIASES = {"throughput_rps": "rps", "rps": "throughput_rps"}


def record_metrics(record: Record) -> Mapping[str, float]:
    """Measured values of a load or chaos record (p95_ms, recovery_s, ...)."""
    metrics = record.metrics or {}
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}


@dataclass
class _Ledger:
    """What each waiver did across the cells (for the report's waiver table)."""

    applied: dict[int, list[str]] = field(default_factory=dict)
    expired: dict[int, list[str]] = field(default_factory=dict)

    def uses(self, waivers: Sequence[Waiver], today: date) -> tuple[WaiverUse, ...]:
        out = []
        for i, waiver in enumerate(waivers):
            if not waiver.active(today):
                out.append(WaiverUse(waiver, "expired", tuple(self.expired.get(i, ()))))
            else:
                cells = tuple(self.applied.get(i, ()))
                out.append(WaiverUse(waiver, "active" if cells else "unused", cells))
        return tuple(out)


def _first_line(text: str) -> str:
    line = next(
        (ln.strip() for ln in text.splitlines() if ln.strip().startswith("E ")),
        text.strip().splitlines()[-1] if text.strip() else "",
    )
    return line[:_REASON_LIMIT]


def _record_reason(record: Record) -> str:
    """`TEST: what happened: why`, in words that keep not applicable apart from not run."""
    message = _first_line(record.message)
    if record.status == "skipped" and not message:
        message = "no reason given"
    return f"{record.test_id}: {status_words(record.status, record.applicable)}: {message}"


def _reason_order(record: Record) -> int:
    """Failures first (what a reader must see), then not run, skips, and what does not apply."""
    if not applies(record.status, record.applicable):
        return 3
    return {"not_run": 1, "skipped": 2}.get(record.status, 0)


def _not_applicable(name: str, kind: str, records: Sequence[Record]) -> SuiteResult:
    """A finished suite whose every record is declared out of the cell's scope."""
    why = _first_line(records[0].message)
    return SuiteResult(
        name,
        "not_run",
        dict(Counter(r.status for r in records)),
        (f"{_LABEL[kind]} {name} does not apply to this cell: {why}",),
        kind,
        applicable=False,
    )


def _suite_result(
    name: str, kind: str, records: Sequence[Record], expected: Sequence[str]
) -> SuiteResult:
    """One suite's verdict: certified only when every test that applies ran and passed."""
    label = _LABEL[kind]
    done = {r.test_id for r in records}
    unfinished = [t for t in expected if t not in done]
    counted = [r for r in records if applies(r.status, r.applicable)]
    # only a finished suite can be found not to apply: unfinished tests keep it incomplete
    if records and not counted and not unfinished:
        return _not_applicable(name, kind, records)
    verdict = suite_verdict(r.status for r in counted)
    reasons: list[str] = []
    if not records:
        reasons.append(f"{label} {name}: no results recorded (the run did not finish it)")
    reasons.extend(
        _record_reason(r)
        for r in sorted(records, key=_reason_order)
        if r.status not in ("passed", "flaky")
    )
    if any(r.status == "skipped" for r in counted):
        reasons.append(
            f"{label} {name}: a plain skip is no evidence, so the {label} is incomplete: declare "
            "a test that does not apply with @pytest.mark.requires or not_applicable(reason), "
            "and one the platform cannot serve with not_run(reason)"
        )
    if unfinished:
        verdict = worst([verdict, "incomplete"])
        reasons.append(
            f"{label} {name}: {len(unfinished)} of {len(expected)} collected tests have no "
            f"result (first: {unfinished[0]})"
        )
    return SuiteResult(
        name, verdict, dict(Counter(r.status for r in records)), tuple(reasons), kind
    )


def _optional(result: SuiteResult) -> SuiteResult:
    """A criterion the policy marks optional: a miss degrades the cell, never fails it."""
    if result.verdict == "certified":
        return replace(result, required=False)
    why = tuple(
        f"optional in the policy, so {result.verdict} only degrades: {r}" for r in result.reasons
    )
    return replace(result, verdict="degraded", reasons=why, required=False)


def _slo_applies(slo: SloCriterion, record: Record) -> bool:
    """The SLO reads this record: its kind and name match and it ran in the SLO's window."""
    if record.kind not in ("load", "experiment") or not fnmatch.fnmatchcase(record.suite, slo.load):
        return False
    if record.status in ("not_run", "skipped"):
        return False  # nothing ran, nothing measured: the load criterion says it is missing
    if slo.window is not None and record.kind != "load":
        return False  # windows are a load's: an experiment is judged by its chaos criteria
    if slo.window == "run":
        return not under_chaos(record)
    if slo.window is not None or slo.metric == "throughput_recovery_s":
        return under_chaos(record)  # windows and throughput recovery exist only under chaos
    return True


def _slo_value(slo: SloCriterion, record: Record) -> float | None:
    """The figure the SLO bounds, from the record's metrics or its window under chaos."""
    if slo.window in ("before", "during", "after"):
        figures = window_metrics(record, slo.window)
    else:
        figures = record_metrics(record)
    value = figures.get(slo.metric)
    if value is None and slo.metric in _ALIASES:
        value = figures.get(_ALIASES[slo.metric])
    if value is None and slo.metric == "recovery_s":
        value = recovery_s(record)
    if value is None and slo.metric == "throughput_recovery_s":
        value = throughput_recovery_s(record)
    return value


def _rounding(slo: SloCriterion, record: Record, value: float) -> float:
    """How far locust's rounding may have moved a load's latency (0 for anything else)."""
    if record.kind != "load" or not slo.metric.endswith("_ms"):
        return 0.0
    from certify.load.slo import rounding_bound  # pure: the load runner's own rule

    return rounding_bound(value)


def _missed(slo: SloCriterion, record: Record, value: float) -> bool:
    """A miss only when no true value within locust's rounding of `value` meets the bounds."""
    slack = _rounding(slo, record, value)
    return slo.missed(value - slack) and slo.missed(value + slack)


def _rounding_note(slo: SloCriterion, record: Record, value: float) -> str:
    slack = _rounding(slo, record, value)
    return f" (even allowing locust's rounding of +/-{slack:g} ms)" if slack else ""


def _slo_result(slo: SloCriterion, records: Sequence[Record]) -> SuiteResult | None:
    matching = [r for r in records if _slo_applies(slo, r)]
    if not matching:
        return None  # no load run matched: the load criterion itself says what is missing
    miss = "failed" if slo.blocking else "degraded"
    where = f" ({slo.window} window)" if slo.window in ("before", "during", "after") else ""
    reasons: list[str] = []
    verdicts: list[str] = []
    for record in matching:
        value = _slo_value(slo, record)
        if value is None:
            verdicts.append("incomplete" if slo.blocking else "degraded")
            reasons.append(f"{record.test_id}: no {slo.metric}{where} measured (fail closed)")
        elif _missed(slo, record, value):
            verdicts.append(miss)
            reasons.append(
                f"{record.test_id}: {slo.metric}{where} = {value:g}, needs {slo.bounds()}"
                + _rounding_note(slo, record, value)
            )
        else:
            verdicts.append("certified")
    return SuiteResult(
        slo.name,
        worst(verdicts),
        {"measured": len(matching), "missed": len(reasons)},
        tuple(reasons),
        "slo",
        slo.blocking,
    )


def _age_result(records: Sequence[Record], max_days: float, now: datetime) -> SuiteResult:
    stale: list[str] = []
    for record in records:
        try:
            finished = datetime.fromisoformat(record.finished.replace("Z", "+00:00"))
            if finished.tzinfo is None:
                finished = finished.replace(tzinfo=timezone.utc)
        except ValueError:
            stale.append(f"{record.test_id}: no readable finish time ({record.finished!r})")
            continue
        days = (now - finished).total_seconds() / 86400.0
        if days > max_days:
            stale.append(
                f"{record.test_id}: evidence is {days:.1f} days old (policy allows {max_days:g})"
            )
    if not stale:
        return SuiteResult("evidence-age", "certified", {"records": len(records)}, (), "policy")
    more = [f"... and {len(stale) - 5} more"] if len(stale) > 5 else []
    return SuiteResult(
        "evidence-age", "incomplete", {"stale": len(stale)}, (*stale[:5], *more), "policy"
    )


def _flaky_result(records: Sequence[Record], tolerated: int) -> SuiteResult:
    flaky = [r.test_id for r in records if r.status == "flaky"]
    if len(flaky) <= tolerated:
        return SuiteResult("flaky", "certified", {"flaky": len(flaky)}, (), "policy", False)
    reason = f"{len(flaky)} flaky result(s), the policy tolerates {tolerated} (first: {flaky[0]})"
    return SuiteResult("flaky", "degraded", {"flaky": len(flaky)}, (reason,), "policy", False)


def _waive(
    cell_id: str,
    result: SuiteResult,
    waivers: Sequence[Waiver],
    today: date,
    ledger: _Ledger,
) -> SuiteResult:
    if result.verdict in ("certified", "waived"):
        return result
    notes: list[str] = []
    for i, waiver in enumerate(waivers):
        if not waiver.covers(cell_id, result.criterion):
            continue
        if waiver.active(today):
            ledger.applied.setdefault(i, []).append(cell_id)
            why = (
                f"{result.verdict} but waived by {waiver.label()} until "
                f"{waiver.expires.isoformat()}: {waiver.reason}"
            )
            return replace(
                result, verdict="waived", reasons=(why, *result.reasons), waived_by=waiver.label()
            )
        ledger.expired.setdefault(i, []).append(cell_id)
        notes.append(
            f"{waiver.label()} expired on {waiver.expires.isoformat()} and no longer waives "
            f"{result.criterion}"
        )
    return replace(result, reasons=(*notes, *result.reasons)) if notes else result


def _criteria(
    planned: PlannedCell,
    records: Sequence[Record],
    expected: Sequence[tuple[str, str]],
    policy: Policy,
    now: datetime,
) -> list[SuiteResult]:
    need = policy.requirement(planned.cell.tier)
    grouped: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        kind = record.kind if record.kind in _KINDS else "scenario"
        grouped.setdefault((kind, record.suite), []).append(record)
    results: list[SuiteResult] = []
    for kind, plans, wanted in (
        ("scenario", planned.suites, need.suites),
        ("experiment", planned.chaos, need.chaos),
        ("load", planned.load, need.load),
    ):
        for name in dict.fromkeys([*plans, *wanted]):
            tests = [t for s, t in expected if s == name] if kind == "scenario" else []
            result = _suite_result(name, kind, grouped.get((kind, name), []), tests)
            results.append(_optional(result) if need.is_optional(result.criterion) else result)
    # SLOs and chaos criteria are optional where the tier says so (e.g. `slo:*`)
    measured = [r for slo in policy.slo if (r := _slo_result(slo, records)) is not None]
    measured.extend(chaos_criteria_results(policy, records))
    results.extend(_optional(r) if need.is_optional(r.criterion) else r for r in measured)
    # the policy's own rules show up only when a cell breaks them
    rules = []
    if policy.flaky_tolerated is not None:
        rules.append(_flaky_result(records, policy.flaky_tolerated))
    if policy.max_evidence_age_days is not None:
        rules.append(_age_result(records, policy.max_evidence_age_days, now))
    results.extend(r for r in rules if r.verdict != "certified")
    return results


def cell_result(
    planned: PlannedCell,
    records: Sequence[Record],
    expected: Sequence[tuple[str, str]] = (),
    policy: Policy | None = None,
    now: datetime | None = None,
    ledger: _Ledger | None = None,
) -> CellResult:
    """Verdict of one cell: the worst verdict of its criteria (waivers applied).

    `expected` lists the (suite, test id) pairs collected for the cell; any without a record
    makes its suite incomplete.
    """
    policy = policy or Policy()
    now = now or datetime.now(timezone.utc)
    ledger = ledger or _Ledger()
    results = [
        _waive(planned.cell.id, r, policy.waivers, now.date(), ledger)
        for r in _criteria(planned, records, expected, policy, now)
    ]
    # suites that do not apply to the cell's values neither certify it nor hold it back
    counted = [r for r in results if r.applicable]
    verdict = worst(r.verdict for r in counted) if counted or not results else "not_run"
    reasons = [reason for r in (counted or results) if r.verdict == verdict for reason in r.reasons]
    if not results:
        reasons.append("nothing was planned or required for this cell: there is no evidence")
    done = {r.test_id for r in records}
    unfinished = tuple((s, t) for s, t in expected if t not in done)
    order = {name: i for i, name in enumerate([*planned.suites, *planned.chaos, *planned.load])}
    ordered = tuple(sorted(records, key=lambda r: order.get(r.suite, len(order))))
    return CellResult(planned, verdict, tuple(reasons), tuple(results), ordered, unfinished)


def aggregate(
    plan: Plan,
    records: Iterable[Record],
    expected: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    policy: Policy | None = None,
    now: datetime | None = None,
) -> tuple[tuple[CellResult, ...], tuple[WaiverUse, ...]]:
    """Every planned cell's result and what each waiver did; records of other cells are ignored."""
    policy = policy or Policy()
    now = now or datetime.now(timezone.utc)
    grouped: dict[str, list[Record]] = {}
    for record in records:
        grouped.setdefault(record.cell_id, []).append(record)
    expected = expected or {}
    ledger = _Ledger()
    cells = tuple(
        cell_result(p, grouped.get(p.cell.id, []), expected.get(p.cell.id, ()), policy, now, ledger)
        for p in plan.cells
    )
    return cells, ledger.uses(policy.waivers, now.date())


def build_cells(
    plan: Plan,
    records: Sequence[Record],
    expected: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    policy: Policy | None = None,
) -> tuple[CellResult, ...]:
    """Every planned cell's result (see `aggregate`)."""
    return aggregate(plan, records, expected, policy)[0]
