"""The policy's chaos criteria (`chaos:` in reports/policy.yaml) on a cell's experiment records.

Each experiment that one or more criteria match gets one result, `chaos-criteria:<experiment>`,
besides the experiment's own `chaos:<experiment>` result: waivers and the tiers' `optional` lists
name it like any other criterion. A check whose measurement is missing fails closed
(`incomplete`) when its criterion is blocking, and degrades the cell when it is not.
"""

from __future__ import annotations

from collections.abc import Sequence

from certify.config.policy import ChaosCriterion, Policy
from certify.report.chaosload import data_lost, fault_confirmed, recovery_s
from certify.report.model import Check, SuiteResult
from certify.report.verdict import worst
from certify.results import Record

# results with nothing measured: the experiment's own criterion says it did not run
_UNMEASURED = ("not_run", "skipped")


def _check(
    criterion: ChaosCriterion,
    name: str,
    threshold: float | bool,
    measured: float | str | bool | None,
    met: bool | None,
) -> Check:
    return Check(criterion.name, name, threshold, measured, met, criterion.blocking)


def _checks(criterion: ChaosCriterion, record: Record) -> list[tuple[Check, str]]:
    """(check, reason when not met) for every check the criterion asks of `record`."""
    out: list[tuple[Check, str]] = []
    who = f"{record.test_id}: policy chaos criterion {criterion.name}"
    if criterion.max_recovery_s is not None:
        took = recovery_s(record)
        limit = criterion.max_recovery_s
        met = None if took is None else took <= limit
        why = (
            f"{who}: no recovery time measured (fail closed)"
            if took is None
            else f"{who}: recovery took {took:g} s, the policy allows at most {limit:g} s"
        )
        out.append((_check(criterion, "max_recovery_s", limit, took, met), why))
    if criterion.zero_data_loss:
        lost, how = data_lost(record)
        met = None if lost is None else not lost
        why = (
            f"{who}: data loss was not checked ({how}; fail closed)"
            if lost is None
            else f"{who}: data lost ({how})"
        )
        out.append((_check(criterion, "zero_data_loss", True, how, met), why))
    if criterion.require_fault_confirmed:
        confirmed, evidence = fault_confirmed(record)
        why = (
            f"{who}: nothing confirms the fault happened (fail closed)"
            if confirmed is None
            else f"{who}: the fault was not confirmed, so the experiment proves nothing"
            + (f" ({evidence})" if evidence else "")
        )
        out.append((_check(criterion, "fault_confirmed", True, confirmed, confirmed), why))
    return out


def _result(experiment: str, matches: Sequence[tuple[ChaosCriterion, Record]]) -> SuiteResult:
    verdicts: list[str] = []
    reasons: list[str] = []
    checks: list[Check] = []
    for criterion, record in matches:
        for check, why in _checks(criterion, record):
            checks.append(check)
            if check.met:
                verdicts.append("certified")
                continue
            reasons.append(why)
            if not criterion.blocking:
                verdicts.append("degraded")
            else:
                verdicts.append("failed" if check.met is False else "incomplete")
    missed = sum(1 for c in checks if c.met is False)
    unmeasured = sum(1 for c in checks if c.met is None)
    blocking = any(criterion.blocking for criterion, _ in matches)
    return SuiteResult(
        experiment,
        worst(verdicts),
        {"checked": len(checks), "missed": missed, "unmeasured": unmeasured},
        tuple(reasons),
        "chaos-criteria",
        blocking,
        checks=tuple(checks),
    )


def chaos_criteria_results(policy: Policy, records: Sequence[Record]) -> list[SuiteResult]:
    """One result per experiment of the cell that a policy chaos criterion matches."""
    if not policy.chaos:
        return []
    by_experiment: dict[str, list[tuple[ChaosCriterion, Record]]] = {}
    for record in records:
        if record.kind != "experiment" or record.status in _UNMEASURED:
            continue
        for criterion in policy.chaos:
            if criterion.matches(record.suite):
                by_experiment.setdefault(record.suite, []).append((criterion, record))
    return [_result(name, matches) for name, matches in by_experiment.items()]
