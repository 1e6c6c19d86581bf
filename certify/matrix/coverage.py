"""An independent t-wise coverage checker: which valid tuples a set of rows covers.

Deliberately shares no code with `covering.py`, so a bug there cannot hide itself here: the
required tuples come from projecting every valid cell (small spaces) or from asking
`Space.extendable` about each candidate tuple (large ones).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations, product

from certify.matrix.constraints import UNSET
from certify.matrix.space import Space

ValueTuple = tuple[tuple[int, int], ...]  # ((dim, value), ...) in increasing dim order

# Enumerate valid cells up to this product size; beyond it, test candidate tuples one by one.
ENUMERATE_LIMIT = 500_000
# ...and only while projecting every cell onto every dimension set stays cheap.
PROJECTION_LIMIT = 5_000_000
MISSING_SHOWN = 20


@dataclass(frozen=True)
class Coverage:
    """How well `rows` cover the valid t-tuples of a space."""

    t: int
    required: int
    covered: int
    rows: int
    invalid_rows: tuple[int, ...]
    missing: tuple[ValueTuple, ...]

    @property
    def complete(self) -> bool:
        """Every valid tuple is covered and every row is a valid cell."""
        return self.covered == self.required and not self.invalid_rows

    @property
    def ratio(self) -> float:
        """Covered share of the valid tuples (1.0 when there are none)."""
        return self.covered / self.required if self.required else 1.0


def _project(cell: Sequence[int], dim_sets: Sequence[tuple[int, ...]]) -> Iterator[ValueTuple]:
    for dims in dim_sets:
        yield tuple((d, cell[d]) for d in dims)


def _required_by_enumeration(space: Space, dim_sets: Sequence[tuple[int, ...]]) -> set[ValueTuple]:
    found: set[ValueTuple] = set()
    for cell in space.iter_valid():
        found.update(_project(cell, dim_sets))
    return found


def _required_by_search(space: Space, dim_sets: Sequence[tuple[int, ...]]) -> set[ValueTuple]:
    found: set[ValueTuple] = set()
    for dims in dim_sets:
        for chosen in product(*(range(space.sizes[d]) for d in dims)):
            probe = [UNSET] * len(space.names)
            for d, v in zip(dims, chosen, strict=True):
                probe[d] = v
            if space.extendable(probe):
                found.add(tuple(zip(dims, chosen, strict=True)))
    return found


def required_tuples(space: Space, t: int) -> set[ValueTuple]:
    """Every t-tuple (t clamped to the number of dims) some valid cell contains."""
    dim_sets = list(combinations(range(len(space.names)), min(t, len(space.names))))
    if len(dim_sets) == 1 and t >= len(space.names):
        # the tuples are the valid cells: walking them prunes what the rules exclude, where a
        # search would test every combination of a product its rules may cut to a few cells
        return _required_by_enumeration(space, dim_sets)
    if space.total <= ENUMERATE_LIMIT and space.total * len(dim_sets) <= PROJECTION_LIMIT:
        return _required_by_enumeration(space, dim_sets)
    return _required_by_search(space, dim_sets)


def _well_formed(space: Space, row: Sequence[int]) -> bool:
    sizes = space.sizes
    return len(row) == len(sizes) and all(0 <= v < n for v, n in zip(row, sizes, strict=True))


def check_coverage(space: Space, rows: Sequence[Sequence[int]], t: int) -> Coverage:
    """Count the valid t-tuples the valid rows cover; invalid rows cover nothing."""
    if t < 1:
        raise ValueError(f"strength t must be >= 1, got {t}")
    t = min(t, len(space.names))
    required = required_tuples(space, t)
    dim_sets = list(combinations(range(len(space.names)), t))
    seen: set[ValueTuple] = set()
    invalid: list[int] = []
    for index, row in enumerate(rows):
        if not (_well_formed(space, row) and space.valid(row)):
            invalid.append(index)
            continue
        seen.update(_project(row, dim_sets))
    covered = required & seen
    missing = sorted(required - covered)[:MISSING_SHOWN]
    return Coverage(
        t=t,
        required=len(required),
        covered=len(covered),
        rows=len(rows),
        invalid_rows=tuple(invalid),
        missing=tuple(missing),
    )


def describe_tuple(space: Space, tup: ValueTuple) -> str:
    """Render a tuple as `dim=value, dim=value` for messages."""
    return ", ".join(f"{space.names[d]}={space.values[d][v]}" for d, v in tup)
