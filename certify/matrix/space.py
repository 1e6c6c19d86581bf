"""A constrained combinatorial space: dimensions, their values and the rules every cell obeys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from math import prod

from certify.matrix.constraints import UNSET, Assignment, Predicate


def cell_id(names: Sequence[str], values: Sequence[str]) -> str:
    """The stable id of a cell: `dim=value` pairs in dimension order, joined by commas."""
    return ",".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def parse_cell_id(text: str) -> dict[str, str]:
    """Inverse of `cell_id`; raises ValueError for anything `cell_id` cannot produce."""
    out: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key or not value or "=" in value:
            raise ValueError(f"not a cell id: {text!r} (expected dim=value,dim=value,...)")
        if key in out:
            raise ValueError(f"not a cell id: {text!r} (dimension {key!r} given twice)")
        out[key] = value
    return out


@dataclass(frozen=True)
class Space:
    """Dimensions (in declared order), their values, and the predicates a valid cell satisfies."""

    names: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    rules: tuple[Predicate, ...] = ()
    _memo: dict[tuple[int, ...], bool] = field(default_factory=dict, compare=False, repr=False)
    _rule_dims: tuple[frozenset[int], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        # computed once: Predicate.dims builds a new frozenset on every access
        object.__setattr__(self, "_rule_dims", tuple(r.dims for r in self.rules))

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of values of each dimension."""
        return tuple(len(v) for v in self.values)

    @property
    def total(self) -> int:
        """Size of the unconstrained cartesian product."""
        return prod(self.sizes)

    def blank(self) -> list[int]:
        """An assignment with nothing chosen."""
        return [UNSET] * len(self.names)

    def consistent(self, assignment: Assignment) -> bool:
        """No rule is already violated by `assignment` (it may still be impossible to complete)."""
        return all(rule.evaluate(assignment) is not False for rule in self.rules)

    def valid(self, assignment: Assignment) -> bool:
        """A complete assignment satisfies every rule."""
        return all(rule.evaluate(assignment) is True for rule in self.rules)

    def extendable(self, assignment: Assignment) -> bool:
        """Some completion of `assignment` satisfies every rule (exact, by backtracking)."""
        key = tuple(assignment)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._complete(list(assignment)) is not None
            self._memo[key] = hit
        return hit

    def complete(self, assignment: Assignment) -> list[int] | None:
        """One valid completion of `assignment` (first in value order), or None if there is none."""
        return self._complete(list(assignment))

    def _complete(self, current: list[int]) -> list[int] | None:
        pending = []
        for index, rule in enumerate(self.rules):
            result = rule.evaluate(current)
            if result is False:
                return None
            if result is None:
                pending.append(index)
        if not pending:
            return [0 if v == UNSET else v for v in current]
        dims = sorted({d for i in pending for d in self._rule_dims[i] if current[d] == UNSET})
        if not dims:
            return None  # every rule dimension is set yet a rule stays undecided: cannot happen
        dim = dims[0]
        for value in range(len(self.values[dim])):
            current[dim] = value
            found = self._complete(current)
            if found is not None:
                return found
        current[dim] = UNSET
        return None

    def iter_valid(self) -> Iterator[tuple[int, ...]]:
        """Every valid complete assignment, in lexicographic order, pruning violated prefixes."""
        current = self.blank()

        def walk(dim: int) -> Iterator[tuple[int, ...]]:
            if dim == len(self.names):
                if self.valid(current):
                    yield tuple(current)
                return
            for value in range(len(self.values[dim])):
                current[dim] = value
                if self.consistent(current):
                    yield from walk(dim + 1)
            current[dim] = UNSET

        yield from walk(0)

    def count_valid(self, limit: int, budget: int) -> int | None:
        """Valid cells, counted up to `limit` + 1; None when `budget` rule checks ran out.

        Walks like `iter_valid` without keeping cells, so a space too large to expand is told
        apart from a large product that its rules cut down, in bounded time.
        """
        current = self.blank()
        count = steps = 0

        def walk(dim: int) -> bool:  # False: stop (limit passed or budget spent)
            nonlocal count, steps
            if dim == len(self.names):
                count += self.valid(current)
                return count <= limit
            for value in range(len(self.values[dim])):
                steps += max(1, len(self.rules))  # one prefix: every rule evaluated once
                if steps > budget:
                    return False
                current[dim] = value
                if self.consistent(current) and not walk(dim + 1):
                    return False
            current[dim] = UNSET
            return True

        if walk(0) or count > limit:
            return count
        return None

    def decode(self, row: Sequence[int]) -> dict[str, str]:
        """Value names of a complete assignment, keyed by dimension."""
        return {n: self.values[d][v] for d, (n, v) in enumerate(zip(self.names, row, strict=True))}

    def encode(self, values: Mapping[str, str]) -> list[int]:
        """Indices of a (possibly partial) mapping of dimension to value name."""
        row = self.blank()
        for dim, name in enumerate(self.names):
            if name in values:
                row[dim] = self.values[dim].index(values[name])
        return row

    def id_of(self, row: Sequence[int]) -> str:
        """Stable cell id of a complete assignment."""
        return cell_id(self.names, [self.values[d][v] for d, v in enumerate(row)])

    def restricted(self, extra: Sequence[Predicate]) -> Space:
        """The same space with more rules (a tier or profile filter)."""
        return Space(self.names, self.values, (*self.rules, *extra))
