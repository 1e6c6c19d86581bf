"""Split a plan's cells into N shards: deterministic, disjoint, complete and balanced.

Cells are dealt longest first to the least-loaded shard (LPT scheduling), so the longest shard is
at most 4/3 of the optimum. Durations come from a previous run's records when given; a cell with
no recorded duration costs the median of the known ones (or 1 when none is known). Ties break on
the cell id, never on dict or set order, so every CI machine computes the same split.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from statistics import median

from certify.errors import UsageError

_SHARD_RE = re.compile(r"^([1-9][0-9]*)/([1-9][0-9]*)$")


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` (1-based) as (I, N); a usage error names the fix."""
    match = _SHARD_RE.match(text.strip())
    if not match or int(match.group(1)) > int(match.group(2)):
        raise UsageError(f"--shard {text!r} is not valid (valid: I/N with 1 <= I <= N, e.g. 2/4)")
    return int(match.group(1)), int(match.group(2))


def cell_costs(cell_ids: Sequence[str], durations: Mapping[str, float]) -> dict[str, float]:
    """Cost of each cell: its recorded duration, else the median of the known ones, else 1."""
    known = [durations[c] for c in cell_ids if durations.get(c, 0) > 0]
    default = median(known) if known else 1.0
    return {c: durations[c] if durations.get(c, 0) > 0 else default for c in cell_ids}


def split(cell_ids: Sequence[str], shards: int, durations: Mapping[str, float]) -> list[list[str]]:
    """The cells of each shard (index 0 is shard 1), each list longest cell first."""
    costs = cell_costs(cell_ids, durations)
    order = sorted(dict.fromkeys(cell_ids), key=lambda c: (-costs[c], c))
    loads = [0.0] * shards
    out: list[list[str]] = [[] for _ in range(shards)]
    for cell in order:
        target = min(range(shards), key=lambda i: (loads[i], i))
        out[target].append(cell)
        loads[target] += costs[cell]
    return out
