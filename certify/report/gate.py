"""The release gate: which cells must be certified, decided fail-closed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from certify.plan import Plan
from certify.report.model import CellResult, Gate

_PASSING = ("certified", "waived")


@dataclass(frozen=True)
class Policy:
    """What the gate demands. Cells of a blocking tier must end `certified` (or `waived`)."""

    blocking_tiers: tuple[str, ...] = ("certified",)
    require_complete_coverage: bool = True
    max_reasons_per_cell: int = 5
    notes: tuple[str, ...] = field(default_factory=tuple)


def evaluate_gate(
    plan: Plan,
    cells: Sequence[CellResult],
    policy: Policy | None = None,
    interrupted: str | None = None,
) -> Gate:
    """Pass only if every blocking-tier cell is certified and the plan's coverage is complete."""
    policy = policy or Policy()
    reasons: list[str] = []
    if interrupted:
        reasons.append(f"the run was {interrupted}: its evidence is partial")
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
    for cell in blocking:
        if cell.verdict in _PASSING:
            continue
        head = f"{cell.id} ({cell.planned.cell.tier}): {cell.verdict}"
        details = list(cell.reasons[: policy.max_reasons_per_cell])
        more = len(cell.reasons) - len(details)
        if more > 0:
            details.append(f"... and {more} more")
        reasons.append(head + (": " + "; ".join(details) if details else ""))
    return Gate("fail" if reasons else "pass", tuple(reasons), asdict(policy))
