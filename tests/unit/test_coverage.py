"""The independent coverage checker: required tuples, planted gaps and invalid rows."""

from __future__ import annotations

from itertools import combinations, product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.matrix.constraints import (
    Match,
    Predicate,
    compile_selector,
    exclude_rule,
    require_rule,
)
from certify.matrix.coverage import (
    _required_by_enumeration,
    _required_by_search,
    check_coverage,
    describe_tuple,
    required_tuples,
)
from certify.matrix.covering import covering_array
from certify.matrix.space import Space

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def plain_space(*sizes: int, rules: tuple[Predicate, ...] = ()) -> Space:
    names = tuple(f"d{i}" for i in range(len(sizes)))
    values = tuple(tuple(f"v{j}" for j in range(n)) for n in sizes)
    return Space(names, values, rules)


@st.composite
def spaces(draw: st.DrawFn) -> Space:
    """Small random spaces with 0-3 random exclude/require rules over 1-2 dimensions each."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=5))
    base = plain_space(*sizes)
    names, values = base.names, base.values

    def selector() -> Match:
        dims = draw(
            st.lists(st.sampled_from(range(len(sizes))), min_size=1, max_size=2, unique=True)
        )
        spec: dict[str, list[str]] = {}
        for d in dims:
            value = st.sampled_from([f"v{j}" for j in range(sizes[d])])
            spec[names[d]] = draw(
                st.lists(st.one_of(value, value.map("!".__add__)), min_size=1, max_size=2)
            )
        return compile_selector(spec, names, values)

    rules: list[Predicate] = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            rules.append(exclude_rule(selector()))
        else:
            rules.append(require_rule(selector(), when=selector()))
    return Space(names, values, tuple(rules))


def brute_required(space: Space, t: int) -> set[tuple[tuple[int, int], ...]]:
    """Third, naive way: every cell of the product the rules accept, projected."""
    t = min(t, len(space.names))
    found = set()
    for cell in product(*(range(n) for n in space.sizes)):
        if space.valid(cell):
            for dims in combinations(range(len(cell)), t):
                found.add(tuple((d, cell[d]) for d in dims))
    return found


@SETTINGS
@given(space=spaces(), t=st.integers(1, 4))
def test_both_ways_of_finding_required_tuples_agree_with_brute_force(space: Space, t: int) -> None:
    dim_sets = list(combinations(range(len(space.names)), min(t, len(space.names))))
    expected = brute_required(space, t)
    assert _required_by_enumeration(space, dim_sets) == expected
    assert _required_by_search(space, dim_sets) == expected
    assert required_tuples(space, t) == expected


@SETTINGS
@given(space=spaces(), t=st.integers(1, 3))
def test_checker_catches_a_planted_gap_and_a_planted_invalid_row(space: Space, t: int) -> None:
    t = min(t, len(space.names))
    rows = covering_array(space, t)
    assert check_coverage(space, rows, t).complete
    for i in range(len(rows)):
        fewer = rows[:i] + rows[i + 1 :]
        lost = brute_required(space, t) - brute_required_covered(fewer, t)
        coverage = check_coverage(space, fewer, t)
        assert coverage.covered == coverage.required - len(lost)
        assert coverage.complete == (not lost)
        assert set(coverage.missing) <= lost
    bad = next((c for c in product(*(range(n) for n in space.sizes)) if not space.valid(c)), None)
    if bad is not None:
        coverage = check_coverage(space, [*rows, bad], t)
        assert coverage.invalid_rows == (len(rows),)
        assert not coverage.complete


def brute_required_covered(rows: list[tuple[int, ...]], t: int) -> set[tuple[tuple[int, int], ...]]:
    return {
        tuple((d, row[d]) for d in dims)
        for row in rows
        for dims in combinations(range(len(row)), t)
    }


def test_half_covered_pairs() -> None:
    space = plain_space(2, 2)
    coverage = check_coverage(space, [(0, 0), (1, 1)], 2)
    assert (coverage.required, coverage.covered, coverage.rows) == (4, 2, 2)
    assert coverage.ratio == 0.5
    assert not coverage.complete
    assert coverage.missing == (((0, 0), (1, 1)), ((0, 1), (1, 0)))


def test_dropping_a_row_of_a_minimal_array_is_reported() -> None:
    space = plain_space(2, 2, 2)
    rows = covering_array(space, 2)
    assert len(rows) == 4
    coverage = check_coverage(space, rows[1:], 2)
    assert not coverage.complete
    assert coverage.covered < coverage.required
    assert all(
        tup in {tuple((d, rows[0][d]) for d in ds) for ds in combinations(range(3), 2)}
        for tup in coverage.missing
    )


def test_invalid_rows_are_flagged_and_cover_nothing() -> None:
    names = ("spark", "java")
    values = (("3.5", "4.0"), ("11", "17"))
    rule = exclude_rule(compile_selector({"spark": ["4.*"], "java": ["11"]}, names, values))
    space = Space(names, values, (rule,))
    coverage = check_coverage(space, [(0, 0), (0, 1), (1, 1), (1, 0)], 2)
    assert coverage.invalid_rows == (3,)
    assert coverage.required == coverage.covered == 3
    assert not coverage.complete
    assert check_coverage(space, [(1, 0)], 1).covered == 0


def test_malformed_rows_are_invalid() -> None:
    space = plain_space(2, 2)
    coverage = check_coverage(space, [(0,), (0, 2), (0, -1), (0, 0, 0), (1, 1)], 1)
    assert coverage.invalid_rows == (0, 1, 2, 3)
    assert coverage.covered == 2


def test_unsatisfiable_space_requires_nothing() -> None:
    space = plain_space(2, 3)
    never = require_rule(compile_selector({"d0": ["nope"]}, space.names, space.values), None)
    space = Space(space.names, space.values, (never,))
    coverage = check_coverage(space, [], 2)
    assert (coverage.required, coverage.covered, coverage.ratio) == (0, 0, 1.0)
    assert coverage.complete
    assert check_coverage(space, [(0, 0)], 2).invalid_rows == (0,)


def test_strength_is_clamped_to_the_number_of_dimensions() -> None:
    space = plain_space(2, 3, 2)
    coverage = check_coverage(space, [], 7)
    assert coverage.t == 3
    assert coverage.required == 12


def test_strength_must_be_positive() -> None:
    with pytest.raises(ValueError, match="strength"):
        check_coverage(plain_space(2), [], 0)


def test_missing_is_capped_at_twenty() -> None:
    coverage = check_coverage(plain_space(6, 6), [], 2)
    assert coverage.required == 36
    assert len(coverage.missing) == 20


def test_large_spaces_use_the_search_path() -> None:
    space = plain_space(*([5] * 10))  # 9.7M cells: too many to enumerate
    rows = covering_array(space, 1)
    coverage = check_coverage(space, rows, 1)
    assert coverage.required == 50
    assert coverage.complete


def test_describe_tuple() -> None:
    names = ("spark", "scala")
    space = Space(names, (("3.5", "4.0"), ("2.12", "2.13")))
    assert describe_tuple(space, ((0, 1), (1, 0))) == "spark=4.0, scala=2.12"
    assert describe_tuple(space, ()) == ""
