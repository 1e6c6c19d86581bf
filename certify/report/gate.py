"""The release gate: which cells must pass under the policy, decided fail-closed."""

from __future__ import annotations

from collections.abc import Sequence

from certify.config.policy import Policy
from certify.plan import Plan
from certify.report.model import CellResult, Gate
from certify.report.verdict import rank


def _cell_reason(cell: CellResult, policy: Policy) -> str:
    """`cell (tier): verdict: criterion: why; ...`, the worst criteria first."""
    failing = sorted(
        (s for s in cell.suites if s.verdict not in policy.pass_verdicts),
        key=lambda s: rank(s.verdict),
    )
    details = [f"{s.criterion}: {r}" for s in failing for r in (s.reasons or (s.verdict,))]
    if not failing:
        details = list(cell.reasons)  # e.g. nothing planned: the cell's own reason
    shown = details[: policy.max_reasons_per_cell]
    if len(details) > len(shown):
        shown.append(f"... and {len(details) - len(shown)} more")
    head = f"{cell.id} ({cell.planned.cell.tier}): {cell.verdict}"
    return head + (": " + "; ".join(shown) if shown else "")


def evaluate_gate(
    plan: Plan,
    cells: Sequence[CellResult],
    policy: Policy | None = None,
    interrupted: str | None = None,
    problems: Sequence[str] = (),
) -> Gate:
    """Pass only if every blocking-tier cell passes the policy and coverage is complete."""
    policy = policy or Policy()
    reasons: list[str] = []
    if interrupted:
        reasons.append(f"the run was {interrupted}: its evidence is partial")
    reasons.extend(problems)
    if not cells:
        reasons.append("no cells were planned: there is no evidence to certify anything")
    if policy.require_complete_coverage:
        for group in plan.groups:
            if not group.complete:
                reasons.append(
                    f"coverage of tier {group.tier} is incomplete: {group.covered}/"
                    f"{group.required} {group.t}-tuples, {group.invalid} invalid cells"
                )
    blocking = [c for c in cells if c.planned.cell.tier in policy.blocking_tiers]
    if cells and not blocking:
        reasons.append(
            f"no cell of a blocking tier ({', '.join(policy.blocking_tiers)}) "
            "was planned: nothing to certify"
        )
    reasons.extend(
        _cell_reason(cell, policy) for cell in blocking if cell.verdict not in policy.pass_verdicts
    )
    return Gate("fail" if reasons else "pass", tuple(reasons), policy.to_json())
