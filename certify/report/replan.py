"""plan.json and the run against the repository's matrix: its digest, its tiers, its plan.

Tiers are the matrix's, never the report's: the gate plans the run's profile again from the
matrix file (with the run's seed and reduction) and requires plan.json to be that plan. A
matrix changed since the run (its sha256 is not the one the run recorded) fails the gate.
"""

from __future__ import annotations

from pathlib import Path

from certify.errors import UsageError
from certify.matrix.model import Matrix
from certify.plan import Plan, PlannedCell, build_plan, find_profile
from certify.report.digests import file_sha256
from certify.results.findings import JsonObject


def matrix_problems(
    run: JsonObject, plan: Plan, root: Path, matrix_file: Path | None = None
) -> list[str]:
    """The repository's matrix (`matrix_file`, else the one under `root` defining the profile)
    is the run's by digest, and plans what plan.json says."""
    try:
        matrix = find_profile(root, plan.profile, matrix_file)
    except UsageError as exc:
        return [f"the matrix the run planned profile {plan.profile!r} from is missing: {exc}"]
    recorded, digest = run.get("matrix_sha256"), file_sha256(matrix.path)
    problems: list[str] = []
    if not isinstance(recorded, str):
        problems.append(
            "report.json records no digest of its matrix (run.matrix_sha256): the run cannot "
            f"be tied to {matrix.path}; re-run to certify"
        )
    elif digest != recorded:
        problems.append(
            f"the matrix {matrix.path} changed since the run (sha256 {str(digest)[:16]}, the run "
            f"recorded {recorded[:16]}): its tiers and plan may not be the run's; re-run to certify"
        )
    if matrix.name != plan.matrix:
        problems.append(f"plan.json names matrix {plan.matrix!r}, {matrix.path} is {matrix.name!r}")
    return problems + replan_problems(matrix, plan)


def _strategy(matrix: Matrix, plan: Plan) -> tuple[str | None, list[str]]:
    """The --strategy the run was planned with (None: the profile's own reductions)."""
    profile = matrix.spec.profiles[plan.profile]
    if all(g.strategy == profile.strategy_for(g.tier) for g in plan.groups):
        return None, []
    chosen = {g.strategy for g in plan.groups}
    if len(chosen) == 1:
        return chosen.pop(), []
    return None, [
        f"plan.json's coverage groups name reductions ({', '.join(sorted(chosen))}) that "
        f"neither profile {plan.profile!r} nor one --strategy gives"
    ]


def replan_problems(matrix: Matrix, plan: Plan) -> list[str]:
    """plan.json against the plan the matrix gives its profile and seed (tiers included)."""
    if plan.profile not in matrix.spec.profiles:
        return [f"{matrix.path} defines no profile {plan.profile!r}, which plan.json names"]
    strategy, problems = _strategy(matrix, plan)
    try:
        fresh = build_plan(matrix, plan.profile, strategy, plan.seed)
    except UsageError as exc:
        return [*problems, f"plan.json cannot be planned again from {matrix.path}: {exc}"]
    by_id = {p.cell.id: p for p in fresh.cells}
    # `certify chaos run` / `load run` plan one kind of evidence on the cells that have it
    partial = all(not p.suites for p in plan.cells) and any(p.suites for p in fresh.cells)
    for planned in plan.cells:
        problems.extend(_cell_problems(planned, by_id.get(planned.cell.id), plan, partial))
    if not partial:
        ids = {p.cell.id for p in plan.cells}
        problems += [
            f"the matrix plans cell {p.cell.id} for profile {plan.profile!r}; plan.json lacks it"
            for p in fresh.cells
            if p.cell.id not in ids
        ]
    if fresh.groups != plan.groups:
        problems.append(
            "plan.json's coverage is not what the matrix gives its profile: "
            f"{[g.__dict__ for g in plan.groups]} instead of {[g.__dict__ for g in fresh.groups]}"
        )
    return problems


def _cell_problems(
    planned: PlannedCell, fresh: PlannedCell | None, plan: Plan, partial: bool
) -> list[str]:
    cell = planned.cell
    if fresh is None:
        return [
            f"plan.json plans cell {cell.id}, which the matrix does not plan for profile "
            f"{plan.profile!r} (seed {plan.seed})"
        ]
    if cell.tier != fresh.cell.tier:
        return [
            f"plan.json gives cell {cell.id} tier {cell.tier}; the matrix gives {fresh.cell.tier}"
        ]
    entries = (planned.suites, planned.chaos, planned.load)
    wanted = (fresh.suites, fresh.chaos, fresh.load)
    if partial:
        fits = not planned.suites and all(
            set(e) <= set(w) for e, w in zip(entries, wanted, strict=True)
        )
    else:
        fits = entries == wanted
    if planned.runtime != fresh.runtime or not fits:
        return [
            f"plan.json plans cell {cell.id} with runtime {planned.runtime} and "
            f"suites/chaos/load {list(map(list, entries))}; the matrix's profile gives "
            f"{fresh.runtime} and {list(map(list, wanted))}"
        ]
    return []
