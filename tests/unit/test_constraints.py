"""The constraint language: globs, three-valued predicates, and the space they carve out."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.matrix.constraints import (
    FALSE,
    TRUE,
    UNSET,
    AllOf,
    AnyOf,
    Match,
    Not,
    Predicate,
    compile_selector,
    exclude_rule,
    glob_matches,
    require_rule,
)
from certify.matrix.space import Space

# -- globs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "globs", "expected"),
    [
        ("4.0", ["4.*"], True),
        ("4.10", ["4.*"], True),
        ("3.5", ["4.*"], False),
        ("3.5", ["3.5"], True),
        ("3x5", ["3.5"], False),  # `.` is literal, not "any character"
        ("3.50", ["3.5"], False),  # whole-value match, not a prefix
        ("4.1", ["4.?"], True),
        ("4.10", ["4.?"], False),
        ("hive", ["hive", "iceberg-*"], True),  # a list is "any of"
        ("iceberg-rest", ["hive", "iceberg-*"], True),
        ("unity", ["hive", "iceberg-*"], False),
        ("unity", ["!unity"], False),  # negation alone: everything but
        ("hive", ["!unity"], True),
        ("iceberg-rest", ["iceberg-*", "!iceberg-rest"], False),  # a negation wins
        ("iceberg-sql", ["iceberg-*", "!iceberg-rest"], True),
        ("hive", ["iceberg-*", "!iceberg-rest"], False),  # still needs a positive match
        ("hive", ["!iceberg-*", "!unity"], True),
        ("unity", ["!iceberg-*", "!unity"], False),
        ("Hive", ["hive"], False),  # case matters: values are ids
        ("hive", ["*"], True),
        ("hive", ["!*"], False),
        ("hive", [], True),  # no glob: no restriction
    ],
)
def test_glob_matches(value: str, globs: list[str], expected: bool) -> None:
    assert glob_matches(value, globs) is expected


NAMES = ("spark", "catalog", "deploy")
VALUES = (("3.5", "4.0", "4.1"), ("hive", "iceberg-rest", "unity"), ("local", "connect"))


def test_compile_selector_uses_indices_of_matching_values() -> None:
    match = compile_selector({"catalog": ["!unity"], "spark": ["4.*"]}, NAMES, VALUES)
    assert match == Match(((0, frozenset({1, 2})), (1, frozenset({0, 1}))))
    assert match.dims == frozenset({0, 1})


def test_compile_selector_rejects_unknown_dimension() -> None:
    with pytest.raises(KeyError):
        compile_selector({"gpu": ["nvidia"]}, NAMES, VALUES)


# -- three-valued predicates --------------------------------------------------------------------

SPARK_4 = compile_selector({"spark": ["4.*"]}, NAMES, VALUES)
CONNECT = compile_selector({"deploy": ["connect"]}, NAMES, VALUES)


def _a(spark: int = UNSET, catalog: int = UNSET, deploy: int = UNSET) -> list[int]:
    return [spark, catalog, deploy]


def test_match_is_undecided_until_its_dimensions_are_chosen() -> None:
    assert SPARK_4.evaluate(_a()) is None
    assert SPARK_4.evaluate(_a(catalog=0)) is None  # another dimension does not decide it
    assert SPARK_4.evaluate(_a(spark=1)) is True
    assert SPARK_4.evaluate(_a(spark=0)) is False


def test_match_is_false_as_soon_as_one_chosen_dimension_fails() -> None:
    both = compile_selector({"spark": ["3.5"], "deploy": ["connect"]}, NAMES, VALUES)
    assert both.evaluate(_a(deploy=0)) is False  # spark still open, but deploy already fails
    assert both.evaluate(_a(spark=0)) is None
    assert both.evaluate(_a(spark=0, deploy=1)) is True


def test_kleene_connectives() -> None:
    undecided = SPARK_4
    yes, no = SPARK_4, CONNECT
    row = _a(spark=1, deploy=0)  # spark 4.0 (yes), deploy local (no)
    assert Not(undecided).evaluate(_a()) is None
    assert Not(yes).evaluate(row) is False
    assert AnyOf((no, yes)).evaluate(row) is True
    assert AnyOf((no, no)).evaluate(row) is False
    assert AnyOf((CONNECT, SPARK_4)).evaluate(_a(spark=1)) is True  # one True decides
    assert AnyOf((CONNECT, SPARK_4)).evaluate(_a(spark=0)) is None
    assert AllOf((CONNECT, SPARK_4)).evaluate(_a(spark=0)) is False  # one False decides
    assert AllOf((CONNECT, SPARK_4)).evaluate(_a(spark=1)) is None
    assert AllOf((yes, Not(no))).evaluate(row) is True
    assert TRUE.evaluate(_a()) is True
    assert FALSE.evaluate(_a()) is False


def test_require_when_holds_for_cells_outside_when() -> None:
    # connect needs spark 4
    rule = require_rule(SPARK_4, CONNECT)
    assert rule.evaluate(_a(spark=0, deploy=0)) is True  # 3.5 on local: not concerned
    assert rule.evaluate(_a(spark=0, deploy=1)) is False  # 3.5 on connect: forbidden
    assert rule.evaluate(_a(spark=2, deploy=1)) is True
    assert rule.evaluate(_a(spark=1)) is True  # decided before deploy is chosen
    assert rule.evaluate(_a(deploy=0)) is True
    assert rule.evaluate(_a(spark=0)) is None
    assert require_rule(SPARK_4, None).evaluate(_a(spark=0, deploy=0)) is False


def test_exclude_rule_forbids_matching_cells() -> None:
    rule = exclude_rule(compile_selector({"spark": ["3.5"], "catalog": ["unity"]}, NAMES, VALUES))
    assert rule.evaluate(_a(spark=0, catalog=2, deploy=0)) is False
    assert rule.evaluate(_a(spark=0, catalog=0, deploy=0)) is True
    assert rule.evaluate(_a(catalog=1)) is True
    assert rule.evaluate(_a(catalog=2)) is None


def test_space_over_a_known_matrix() -> None:
    rules = (
        require_rule(SPARK_4, CONNECT),
        exclude_rule(compile_selector({"catalog": ["unity"], "spark": ["!4.1"]}, NAMES, VALUES)),
    )
    space = Space(NAMES, VALUES, rules)
    ids = [space.id_of(row) for row in space.iter_valid()]
    assert len(ids) == 3 * 3 * 2 - 1 * 3 - 2 * 2 + 1  # minus 3.5-connect, unity-not-4.1, overlap
    assert "spark=3.5,catalog=hive,deploy=local" in ids
    assert "spark=3.5,catalog=hive,deploy=connect" not in ids
    assert "spark=4.0,catalog=unity,deploy=local" not in ids
    assert "spark=4.1,catalog=unity,deploy=connect" in ids
    assert space.extendable(_a(spark=0, deploy=1)) is False
    assert space.extendable(_a(catalog=2, deploy=1)) is True
    assert space.complete(_a(catalog=2)) == [2, 2, 0]


# -- properties over random small spaces --------------------------------------------------------


@st.composite
def spaces(draw: st.DrawFn) -> Space:
    """A space of 1-4 dimensions with 1-3 values each and 0-4 random exclude/require rules."""
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    names = tuple(f"d{i}" for i in range(len(sizes)))
    values = tuple(tuple(f"v{j}" for j in range(n)) for n in sizes)

    def selector() -> st.SearchStrategy[dict[str, list[str]]]:
        def globs(dim: int) -> st.SearchStrategy[list[str]]:
            choices = [*values[dim], "*", "v*"] + [f"!{v}" for v in values[dim]]
            return st.lists(st.sampled_from(choices), min_size=1, max_size=2)

        return st.sets(st.integers(0, len(sizes) - 1), min_size=1, max_size=3).flatmap(
            lambda dims: st.fixed_dictionaries({names[d]: globs(d) for d in sorted(dims)})
        )

    rules: list[Predicate] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["exclude", "require", "require-when"]))
        main = compile_selector(draw(selector()), names, values)
        if kind == "exclude":
            rules.append(exclude_rule(main))
        else:
            when = compile_selector(draw(selector()), names, values) if kind != "require" else None
            rules.append(require_rule(main, when))
    return Space(names, values, tuple(rules))


def full_rows(space: Space) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(n) for n in space.sizes))


def partial_rows(space: Space) -> Iterator[tuple[int, ...]]:
    return itertools.product(*([UNSET, *range(n)] for n in space.sizes))


def completions(space: Space, partial: Sequence[int]) -> Iterator[tuple[int, ...]]:
    choices = [range(n) if v == UNSET else [v] for v, n in zip(partial, space.sizes, strict=True)]
    return itertools.product(*choices)


def brute_valid(space: Space, row: Sequence[int]) -> bool:
    return all(rule.evaluate(row) is True for rule in space.rules)


PROPERTY = settings(max_examples=60, deadline=None)


@PROPERTY
@given(spaces())
def test_full_assignments_are_always_decided(space: Space) -> None:
    for row in full_rows(space):
        for rule in space.rules:
            assert rule.evaluate(row) in (True, False)


@PROPERTY
@given(spaces())
def test_three_valued_evaluation_is_sound(space: Space) -> None:
    """A decided answer on a partial assignment is the answer for every completion."""
    for partial in partial_rows(space):
        for rule in space.rules:
            answer = rule.evaluate(partial)
            if answer is not None:
                assert all(rule.evaluate(c) is answer for c in completions(space, partial))


@PROPERTY
@given(spaces())
def test_extendable_and_complete_agree_with_brute_force(space: Space) -> None:
    for partial in partial_rows(space):
        expected = any(brute_valid(space, c) for c in completions(space, partial))
        assert space.extendable(partial) is expected
        found = space.complete(partial)
        if not expected:
            assert found is None
        else:
            assert found is not None
            assert space.valid(found)
            assert all(p in (UNSET, f) for p, f in zip(partial, found, strict=True))


@PROPERTY
@given(spaces())
def test_iter_valid_is_the_filtered_cartesian_product(space: Space) -> None:
    expected = [row for row in full_rows(space) if brute_valid(space, row)]
    assert list(space.iter_valid()) == expected  # same cells, same (lexicographic) order


@PROPERTY
@given(spaces())
def test_consistent_never_prunes_an_extendable_prefix(space: Space) -> None:
    for partial in partial_rows(space):
        if space.extendable(partial):
            assert space.consistent(partial)
