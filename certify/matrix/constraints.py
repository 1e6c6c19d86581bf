"""The constraint language: globs over dimension values, combined into three-valued predicates.

A predicate is evaluated on a *partial* assignment (a list of value indices, ``-1`` where a
dimension is not chosen yet) and answers True (holds for every completion), False (fails for
every completion) or None (not decided yet). Full assignments always get True or False.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from certify.config.selector import glob_matches

UNSET = -1
Assignment = Sequence[int]


class Predicate:
    """A three-valued test over a partial assignment."""

    dims: frozenset[int] = frozenset()

    def evaluate(self, assignment: Assignment) -> bool | None:
        """True / False when decided for every completion of `assignment`, else None."""
        raise NotImplementedError


@dataclass(frozen=True)
class Match(Predicate):
    """Every listed dimension has one of its allowed values."""

    allowed: tuple[tuple[int, frozenset[int]], ...]

    @property
    def dims(self) -> frozenset[int]:  # type: ignore[override]
        return frozenset(d for d, _ in self.allowed)

    def evaluate(self, assignment: Assignment) -> bool | None:
        decided = True
        for dim, values in self.allowed:
            chosen = assignment[dim]
            if chosen == UNSET:
                decided = False
            elif chosen not in values:
                return False
        return True if decided else None


@dataclass(frozen=True)
class Not(Predicate):
    """Logical negation."""

    inner: Predicate

    @property
    def dims(self) -> frozenset[int]:  # type: ignore[override]
        return self.inner.dims

    def evaluate(self, assignment: Assignment) -> bool | None:
        result = self.inner.evaluate(assignment)
        return None if result is None else not result


@dataclass(frozen=True)
class AnyOf(Predicate):
    """Logical or (Kleene): True if one part is True, False if all are False."""

    parts: tuple[Predicate, ...]

    @property
    def dims(self) -> frozenset[int]:  # type: ignore[override]
        return frozenset().union(*(p.dims for p in self.parts))

    def evaluate(self, assignment: Assignment) -> bool | None:
        unknown = False
        for part in self.parts:
            result = part.evaluate(assignment)
            if result:
                return True
            if result is None:
                unknown = True
        return None if unknown else False


@dataclass(frozen=True)
class AllOf(Predicate):
    """Logical and (Kleene): False if one part is False, True if all are True."""

    parts: tuple[Predicate, ...]

    @property
    def dims(self) -> frozenset[int]:  # type: ignore[override]
        return frozenset().union(*(p.dims for p in self.parts))

    def evaluate(self, assignment: Assignment) -> bool | None:
        unknown = False
        for part in self.parts:
            result = part.evaluate(assignment)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True


TRUE: Predicate = AllOf(())
FALSE: Predicate = AnyOf(())


def compile_selector(
    selector: Mapping[str, Sequence[str]],
    names: Sequence[str],
    values: Sequence[Sequence[str]],
) -> Match:
    """Turn `{dimension: [globs]}` into a Match over value indices.

    Raises KeyError for an unknown dimension; the config validator reports those first.
    """
    allowed = []
    for name, globs in selector.items():
        dim = names.index(name) if name in names else None
        if dim is None:
            raise KeyError(name)
        hits = frozenset(i for i, v in enumerate(values[dim]) if glob_matches(v, globs))
        allowed.append((dim, hits))
    return Match(tuple(sorted(allowed)))


def exclude_rule(selector: Match) -> Predicate:
    """`exclude: SEL`: no cell may match SEL."""
    return Not(selector)


def require_rule(require: Match, when: Match | None) -> Predicate:
    """`require: SEL when: COND`: a cell matching COND (all cells without COND) must match SEL."""
    return require if when is None else AnyOf((Not(when), require))
