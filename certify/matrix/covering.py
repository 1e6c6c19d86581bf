"""t-wise covering arrays over a constrained Space.

A greedy AETG-style construction gives a complete array; a TCA-style local search then shrinks
it: drop the row that uniquely covers the fewest tuples, and re-cover what it lost by placing
uncovered tuples into existing rows (best score, short tabu), keeping every row valid. Effort is
counted in steps, never in wall time, so the result depends only on (space, t, seed).

Why our own (figures from `benchmarks/matrix.py` on the reference model of the foundation issue,
4x2x3x4x3x2x2x3 with Spark 4 => Scala 2.13 and Java != 11): ours gives 16 rows for t=2 (the
lower bound) and 52 for t=3 in 0.01 s and 0.16 s; covertable 3.2 gives 20 and 63 by default,
16 and 62 only after 2 s of its wall-clock-bounded (so not reproducible) optimiser; PICT's
published figures are 18 and 65 and `pypict` 0.3.0 does not build; allpairspy misses pairs under
constraints.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from math import prod

from certify.matrix.constraints import UNSET, Predicate
from certify.matrix.space import Space

# Local-search effort: row-evaluations of tuple placements (one step scores every row).
_EFFORT = 600_000
_MAX_STEPS = 20_000
# Give up after this many steps without a smaller complete array (small, over-constrained
# spaces whose lower bound is unreachable would otherwise spend the whole budget).
_PATIENCE = 1_000
# A cell changed by a move may not change again for this many steps (avoids cycling).
_TENURE = 3


class _Oracle:
    """`space.extendable`, split into independent rule groups and memoized per group.

    Rules sharing no dimension constrain disjoint parts of a cell, so a partial assignment
    extends iff each group's part does; keys on a group's own dims make the memo hit often.
    """

    def __init__(self, space: Space) -> None:
        groups: list[tuple[set[int], list[Predicate]]] = []
        for rule in space.rules:
            dims, rules = set(rule.dims), [rule]
            for group in [g for g in groups if g[0] & dims]:
                groups.remove(group)
                dims |= group[0]
                rules = group[1] + rules
            groups.append((dims, rules))
        self.blank = space.blank()
        self.groups: list[tuple[tuple[int, ...], Space, dict[tuple[int, ...], bool]]] = [
            (tuple(sorted(dims)), Space(space.names, space.values, tuple(rules)), {})
            for dims, rules in groups
        ]
        self.cdims = tuple(sorted({d for dims, _ in groups for d in dims}))

    def ext(self, assignment: Sequence[int]) -> bool:
        """Some valid cell agrees with every set dimension of `assignment`."""
        for dims, sub, memo in self.groups:
            key = tuple([assignment[d] for d in dims])
            hit = memo.get(key)
            if hit is None:
                probe = self.blank[:]
                for d, v in zip(dims, key, strict=True):
                    probe[d] = v
                hit = memo[key] = sub.extendable(probe)
            if not hit:
                return False
        return True


@dataclass
class _Model:
    """Every t-tuple numbered: combo c (a sorted t-set of dims) owns ids offsets[c]..+product."""

    sizes: tuple[int, ...]
    combos: list[tuple[int, ...]]
    mults: list[tuple[int, ...]]
    offsets: list[int]
    by_dim: list[list[tuple[int, int]]]  # combos holding each dim, with that dim's multiplier
    required: bytearray  # 1 where the tuple extends to a valid cell
    lower_bound: int  # most required tuples in one combo: each row covers one per combo

    def gid(self, c: int, row: Sequence[int]) -> int:
        """Id of the tuple row shows in combo c (row must set all its dims)."""
        return self.offsets[c] + sum(
            row[d] * m for d, m in zip(self.combos[c], self.mults[c], strict=True)
        )

    def decode(self, g: int) -> list[tuple[int, int]]:
        """The (dim, value) pairs of tuple g."""
        c = bisect_right(self.offsets, g) - 1
        idx = g - self.offsets[c]
        return [
            (d, (idx // m) % self.sizes[d])
            for d, m in zip(self.combos[c], self.mults[c], strict=True)
        ]


def _build_model(space: Space, t: int, oracle: _Oracle) -> _Model:
    sizes = space.sizes
    combos = list(combinations(range(len(sizes)), t))
    mults: list[tuple[int, ...]] = []
    offsets: list[int] = []
    by_dim: list[list[tuple[int, int]]] = [[] for _ in sizes]
    required = bytearray()
    lower_bound = 0
    for c, dims in enumerate(combos):
        ms = [prod(sizes[e] for e in dims[i + 1 :]) for i in range(t)]
        mults.append(tuple(ms))
        offsets.append(len(required))
        for d, m in zip(dims, ms, strict=True):
            by_dim[d].append((c, m))
        before = len(required)
        probe = space.blank()
        for idx in range(prod(sizes[d] for d in dims)):
            for d, m in zip(dims, ms, strict=True):
                probe[d] = (idx // m) % sizes[d]
            required.append(1 if oracle.ext(probe) else 0)
        lower_bound = max(lower_bound, sum(required[before:]))
    return _Model(sizes, combos, mults, offsets, by_dim, required, lower_bound)


class _State:
    """Rows with, per tuple, how many rows cover it and an indexable set of the uncovered."""

    def __init__(self, model: _Model) -> None:
        self.model = model
        self.rows: list[list[int]] = []
        self.ids: list[list[int]] = []
        self.count = [0] * len(model.required)
        self.uncovered = [g for g, need in enumerate(model.required) if need]
        self.pos = [-1] * len(model.required)
        for i, g in enumerate(self.uncovered):
            self.pos[g] = i

    def _cover(self, g: int) -> None:
        self.count[g] += 1
        if self.count[g] == 1:
            last = self.uncovered.pop()
            if last != g:
                i = self.pos[g]
                self.uncovered[i] = last
                self.pos[last] = i
            self.pos[g] = -1

    def _uncover(self, g: int) -> None:
        self.count[g] -= 1
        if self.count[g] == 0:
            self.pos[g] = len(self.uncovered)
            self.uncovered.append(g)

    def add(self, row: list[int]) -> None:
        """Append a valid full row."""
        ids = [self.model.gid(c, row) for c in range(len(self.model.combos))]
        for g in ids:
            self._cover(g)
        self.rows.append(row)
        self.ids.append(ids)

    def drop(self, r: int) -> None:
        """Remove row r; tuples only it covered become uncovered."""
        for g in self.ids[r]:
            self._uncover(g)
        del self.rows[r]
        del self.ids[r]

    def unique(self, r: int) -> int:
        """Tuples that only row r covers."""
        count = self.count
        return sum(1 for g in self.ids[r] if count[g] == 1)

    def _deltas(self, r: int, new: Sequence[int], changed: Sequence[int]) -> dict[int, int]:
        old = self.rows[r]
        acc: dict[int, int] = {}
        for d in changed:
            diff = new[d] - old[d]
            for c, m in self.model.by_dim[d]:
                acc[c] = acc.get(c, 0) + diff * m
        return acc

    def score(self, r: int, new: Sequence[int], changed: Sequence[int]) -> int:
        """Newly covered minus newly uncovered tuples if row r became `new`."""
        ids, count, gain = self.ids[r], self.count, 0
        for c, delta in self._deltas(r, new, changed).items():
            g = ids[c]
            if count[g] == 1:
                gain -= 1
            if count[g + delta] == 0:
                gain += 1
        return gain

    def replace(self, r: int, new: list[int], changed: Sequence[int]) -> None:
        """Make row r `new` (a valid full row differing in `changed`)."""
        ids = self.ids[r]
        for c, delta in self._deltas(r, new, changed).items():
            self._uncover(ids[c])
            ids[c] += delta
            self._cover(ids[c])
        self.rows[r] = new


def _fill_value(
    model: _Model, oracle: _Oracle, state: _State, row: list[int], d: int, rng: random.Random
) -> None:
    """Set row[d] to the extendable value completing the most uncovered tuples (random ties)."""
    best, best_gain, ties = UNSET, -1, 0
    for v in range(model.sizes[d]):
        row[d] = v
        if not oracle.ext(row):
            continue
        gain = 0
        for c, _ in model.by_dim[d]:
            dims = model.combos[c]
            if all(row[e] != UNSET for e in dims) and state.count[model.gid(c, row)] == 0:
                gain += 1
        if gain > best_gain:
            best, best_gain, ties = v, gain, 1
        elif gain == best_gain:
            ties += 1
            if rng.randrange(ties) == 0:
                best = v
    row[d] = best


def _candidate(model: _Model, oracle: _Oracle, state: _State, rng: random.Random) -> list[int]:
    """One greedy row around a random uncovered tuple; extendability holds at every step."""
    row = [UNSET] * len(model.sizes)
    seed_tuple = model.decode(state.uncovered[rng.randrange(len(state.uncovered))])
    for d, v in seed_tuple:
        row[d] = v
    rest = [d for d in range(len(row)) if row[d] == UNSET]
    rng.shuffle(rest)
    for d in rest:
        _fill_value(model, oracle, state, row, d, rng)
    return row


def _greedy(model: _Model, oracle: _Oracle, rng: random.Random) -> _State:
    """Add greedy rows until every required tuple is covered.

    One candidate per row: measured, best-of-3 or best-of-10 (AETG uses 50) cost more time
    than they save once the local search has run.
    """
    state = _State(model)
    while state.uncovered:
        state.add(_candidate(model, oracle, state, rng))
    return state


def _repair(
    oracle: _Oracle, row: list[int], fixed: Sequence[int], rng: random.Random, sizes: Sequence[int]
) -> list[int] | None:
    """A valid row keeping `fixed` dims, re-choosing as few constrained dims as it finds needed."""
    free = [d for d in oracle.cdims if d not in fixed]
    rng.shuffle(free)
    cut = 0
    while not oracle.ext(row):
        if cut == len(free):
            return None
        row[free[cut]] = UNSET
        cut += 1
    for d in free[:cut]:
        values = list(range(sizes[d]))
        rng.shuffle(values)
        for v in values:
            row[d] = v
            if oracle.ext(row):
                break
    return row


def _step(
    state: _State, oracle: _Oracle, rng: random.Random, last: list[list[int]], n: int
) -> None:
    """Cover one random uncovered tuple in the row where that costs least (tabu-aware)."""
    model = state.model
    pairs = model.decode(state.uncovered[rng.randrange(len(state.uncovered))])
    fixed = [d for d, _ in pairs]
    best: tuple[int, list[int], list[int]] | None = None
    best_score, ties = -(1 << 30), 0
    for r, row in enumerate(state.rows):
        new = row[:]
        for d, v in pairs:
            new[d] = v
        if not oracle.ext(new):
            repaired = _repair(oracle, new, fixed, rng, model.sizes)
            if repaired is None:
                continue
            new = repaired
        changed = [d for d in range(len(row)) if new[d] != row[d]]
        score = state.score(r, new, changed)
        if any(n - last[r][d] < _TENURE for d in changed):
            score -= 1 << 20  # tabu: only taken when every placement is tabu
        if score > best_score:
            best, best_score, ties = (r, new, changed), score, 1
        elif score == best_score:
            ties += 1
            if rng.randrange(ties) == 0:
                best = (r, new, changed)
    if best is not None:
        r, new, changed = best
        state.replace(r, new, changed)
        for d in changed:
            last[r][d] = n


def _shrink(state: _State, oracle: _Oracle, rng: random.Random) -> list[list[int]]:
    """Drop rows while local search can restore full coverage within the step budget."""
    model = state.model
    best = [row[:] for row in state.rows]
    per_step = max(1, len(state.rows)) * max(1, len(model.by_dim[0]))
    budget = min(_MAX_STEPS, _EFFORT // per_step)
    last = [[-_TENURE] * len(model.sizes) for _ in state.rows]
    n = improved = 0
    while len(best) > model.lower_bound and n < budget and n - improved < _PATIENCE:
        if not state.uncovered:
            best, improved = [row[:] for row in state.rows], n
            r = min(range(len(state.rows)), key=state.unique)
            state.drop(r)
            del last[r]
            continue
        _step(state, oracle, rng, last, n)
        n += 1
    return best


def covering_array(space: Space, t: int, seed: int = 0) -> list[tuple[int, ...]]:
    """Valid rows covering every valid t-tuple of `space`, deterministic for (space, t, seed)."""
    if t < 1:
        raise ValueError(f"strength t must be >= 1, got {t}")
    if any(size == 0 for size in space.sizes):
        return []
    if t >= len(space.names):
        return list(space.iter_valid())
    oracle = _Oracle(space)
    if not oracle.ext(space.blank()):
        return []
    model = _build_model(space, t, oracle)
    rng = random.Random(seed)
    state = _greedy(model, oracle, rng)
    return [tuple(row) for row in _shrink(state, oracle, rng)]
