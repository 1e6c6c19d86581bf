"""Covering arrays: validity, completeness, determinism and size on known models."""

from __future__ import annotations

from itertools import product

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
from certify.matrix.coverage import check_coverage
from certify.matrix.covering import covering_array
from certify.matrix.space import Space

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference_space() -> Space:
    """The issue's 4x2x3x4x3x2x2x3 model: spark 4.* needs scala 2.13 and java other than 11."""
    names = ("spark", "scala", "java", "catalog", "storage", "gpu", "deploy", "k8s")
    values = (
        ("3.3", "3.4", "4.0", "4.1"),
        ("2.12", "2.13"),
        ("11", "17", "21"),
        ("hive", "glue", "unity", "nessie"),
        ("s3", "hdfs", "gcs"),
        ("on", "off"),
        ("client", "cluster"),
        ("1.29", "1.30", "1.31"),
    )
    spark4 = compile_selector({"spark": ["4.*"]}, names, values)
    rules = (
        require_rule(compile_selector({"scala": ["2.13"]}, names, values), when=spark4),
        require_rule(compile_selector({"java": ["!11"]}, names, values), when=spark4),
    )
    return Space(names, values, rules)


def plain_space(*sizes: int, rules: tuple[Predicate, ...] = ()) -> Space:
    names = tuple(f"d{i}" for i in range(len(sizes)))
    values = tuple(tuple(f"v{j}" for j in range(n)) for n in sizes)
    return Space(names, values, rules)


@st.composite
def selectors(draw: st.DrawFn, names: tuple[str, ...], sizes: list[int]) -> dict[str, list[str]]:
    dims = draw(st.lists(st.sampled_from(range(len(names))), min_size=1, max_size=2, unique=True))
    out: dict[str, list[str]] = {}
    for d in sorted(dims):
        value = st.sampled_from([f"v{j}" for j in range(sizes[d])])
        globs = st.one_of(value, value.map(lambda v: "!" + v))
        out[names[d]] = draw(st.lists(globs, min_size=1, max_size=2))
    return out


@st.composite
def spaces(draw: st.DrawFn) -> Space:
    """Small random spaces with 0-3 random exclude/require rules (some unsatisfiable)."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=5))
    base = plain_space(*sizes)
    names, values = base.names, base.values
    rules: list[Predicate] = []
    for _ in range(draw(st.integers(0, 3))):
        sel = compile_selector(draw(selectors(names, sizes)), names, values)
        kind = draw(st.sampled_from(["exclude", "require", "require-when"]))
        if kind == "exclude":
            rules.append(exclude_rule(sel))
        else:
            when = draw(selectors(names, sizes)) if kind == "require-when" else None
            cond = None if when is None else compile_selector(when, names, values)
            rules.append(require_rule(sel, when=cond))
    return Space(names, values, tuple(rules))


@SETTINGS
@given(space=spaces(), t=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_random_spaces_are_covered_by_valid_distinct_rows(space: Space, t: int, seed: int) -> None:
    rows = covering_array(space, t, seed)
    assert all(space.valid(row) for row in rows)
    assert len(set(rows)) == len(rows)
    coverage = check_coverage(space, rows, t)
    assert coverage.complete, coverage
    assert (coverage.required == 0) == (rows == [])
    assert covering_array(space, t, seed) == rows


@SETTINGS
@given(space=spaces(), t=st.integers(1, 3))
def test_never_more_rows_than_valid_cells(space: Space, t: int) -> None:
    valid = sum(1 for _ in space.iter_valid())
    assert len(covering_array(space, t)) <= valid


def test_three_binary_dims_pairwise_needs_four_rows() -> None:
    space = plain_space(2, 2, 2)
    rows = covering_array(space, 2)
    assert len(rows) == 4
    assert check_coverage(space, rows, 2).complete


def test_unconstrained_lower_bounds_are_reached() -> None:
    assert len(covering_array(plain_space(3, 2, 4), 1)) == 4
    assert len(covering_array(plain_space(3, 3, 3, 3), 2)) == 9  # an orthogonal array exists


def test_unsatisfiable_space_gives_no_rows() -> None:
    space = plain_space(2, 2)
    names, values = space.names, space.values
    space = Space(
        names, values, (require_rule(compile_selector({"d0": ["v9"]}, names, values), None),)
    )
    assert covering_array(space, 2) == []
    coverage = check_coverage(space, [], 2)
    assert coverage.required == 0
    assert coverage.complete


def test_dimension_without_values_gives_no_rows() -> None:
    assert covering_array(plain_space(2, 0, 3), 2) == []


def test_strength_must_be_positive() -> None:
    with pytest.raises(ValueError, match="strength"):
        covering_array(plain_space(2, 2), 0)


def test_full_strength_is_the_full_valid_expansion() -> None:
    space = reference_space()
    rows = covering_array(space, 8)
    assert len(rows) == 2304
    assert rows == list(space.iter_valid())
    assert covering_array(space, 12) == rows


def test_reference_model_pairwise_within_target() -> None:
    space = reference_space()
    rows = covering_array(space, 2)
    assert len(rows) <= 17  # PICT: 18; 16 is the lower bound (spark x catalog)
    assert check_coverage(space, rows, 2).complete


def test_reference_model_triples_within_target() -> None:
    space = reference_space()
    rows = covering_array(space, 3)
    assert len(rows) <= 65  # PICT: 65
    assert check_coverage(space, rows, 3).complete


def test_reference_constraints_hold_in_every_row() -> None:
    space = reference_space()
    for row in covering_array(space, 2, seed=7):
        cell = space.decode(row)
        if cell["spark"].startswith("4."):
            assert cell["scala"] == "2.13"
            assert cell["java"] != "11"


def test_twenty_dimensions_pairwise_is_complete() -> None:
    base = plain_space(4, 3, 5, 2, 3, 4, 2, 5, 3, 2, 4, 3, 2, 5, 3, 4, 2, 3, 2, 4)
    names, values = base.names, base.values

    def sel(spec: dict[str, list[str]]) -> Match:
        return compile_selector(spec, names, values)

    rules = (
        exclude_rule(sel({"d0": ["v0"], "d1": ["v1"]})),
        exclude_rule(sel({"d13": ["v4"], "d15": ["v3"]})),
        require_rule(sel({"d3": ["v1"]}), when=sel({"d0": ["v3"]})),
        require_rule(sel({"d8": ["v0", "v1"]}), when=sel({"d10": ["v2", "v3"]})),
        require_rule(sel({"d19": ["!v0"]}), when=None),
    )
    space = Space(names, values, rules)
    rows = covering_array(space, 2)
    assert check_coverage(space, rows, 2).complete
    assert len(rows) <= 30  # 25 is the lower bound (two 5-value dimensions)


def test_seeds_give_different_but_complete_arrays() -> None:
    space = reference_space()
    arrays = {tuple(covering_array(space, 2, seed)) for seed in range(3)}
    assert len(arrays) > 1
    for rows in arrays:
        assert check_coverage(space, list(rows), 2).complete


def test_rows_are_full_cells_in_range() -> None:
    space = plain_space(3, 1, 2)
    for row in covering_array(space, 2):
        assert len(row) == 3
        assert all(0 <= v < n for v, n in zip(row, space.sizes, strict=True))
    assert set(covering_array(space, 2)) <= set(product(range(3), range(1), range(2)))
