"""Runs of one kind of evidence: `certify chaos run` (experiments) and `certify load run` (load).

Both are `certify run` on a plan reduced to that kind, judged by a policy that asks each tier
only for that kind: a chaos-only run carries no suite or load evidence, so requiring it would
fail every cell for evidence the run never set out to collect.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from certify.config.policy import Policy
from certify.errors import UsageError
from certify.plan import Plan

Kind = Literal["chaos", "load"]
_WHAT = {"chaos": ("experiment", "chaos"), "load": ("load profile", "load")}


def only(plan: Plan, kind: Kind, name: str | None = None) -> Plan:
    """`plan` with every cell reduced to its `kind` entries (only `name` if given).

    Cells left with nothing to run are dropped; a plan left with no cell is a usage error that
    names what the profile does plan.
    """
    cells = []
    for planned in plan.cells:
        names = tuple(n for n in getattr(planned, kind) if name is None or n == name)
        if names:
            cells.append(
                replace(
                    planned,
                    suites=(),
                    chaos=names if kind == "chaos" else (),
                    load=names if kind == "load" else (),
                )
            )
    if not cells:
        label, key = _WHAT[kind]
        known = sorted({n for p in plan.cells for n in getattr(p, kind)})
        what = f"{label} {name!r}" if name else f"`{key}:` entries"
        raise UsageError(
            f"profile {plan.profile!r} plans no {what} on any cell (its {key}: "
            f"{', '.join(known) or 'none'}); add `{key}:` entries to the profile or pick another"
        )
    return replace(plan, cells=tuple(cells))


def policy_for(policy: Policy, kind: Kind) -> Policy:
    """`policy` whose tiers require only evidence of `kind` (their other requirements cleared)."""
    keep = {"chaos": "chaos", "load": "load"}[kind]
    cleared: dict[str, list[str]] = {k: [] for k in ("suites", "chaos", "load") if k != keep}
    tiers = {name: need.model_copy(update=cleared) for name, need in policy.tiers.items()}
    return policy.model_copy(update={"tiers": tiers})
