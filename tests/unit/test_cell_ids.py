"""Cell ids: `dim=value` pairs in declared dimension order, stable across every way of planning."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.cell import CellContext
from certify.config.models import NAME_RE, VALUE_RE
from certify.matrix.model import load_matrix
from certify.matrix.space import Space, cell_id, parse_cell_id
from certify.results import RecordStore

pytest_plugins = ["pytester"]

PLATFORM = Path(__file__).resolve().parents[2] / "matrices" / "platform.yaml"


def test_cell_id_format() -> None:
    assert (
        cell_id(["spark", "catalog"], ["3.5", "iceberg-rest"]) == "spark=3.5,catalog=iceberg-rest"
    )
    assert cell_id(["gpu"], ["none"]) == "gpu=none"


def test_cell_id_needs_a_value_per_dimension() -> None:
    with pytest.raises(ValueError):
        cell_id(["spark", "catalog"], ["3.5"])


def test_parse_cell_id_keeps_dimension_order() -> None:
    parsed = parse_cell_id("storage=s3,spark=4.1,catalog=hive")
    assert list(parsed.items()) == [("storage", "s3"), ("spark", "4.1"), ("catalog", "hive")]


@pytest.mark.parametrize("text", ["spark", "spark=3.5,catalog", "spark=3.5,,catalog"])
def test_parse_cell_id_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="not a cell id"):
        parse_cell_id(text)


def test_ids_follow_the_declared_dimension_order_not_the_alphabet(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "schema: certify.matrix/1\n"
        "name: order\n"
        "dimensions:\n"
        "  zeta: {values: {z1: , z0: }}\n"
        "  alpha: {values: {'1.10': , '1.9': }}\n"
        "  mid: {values: {m: }}\n",
        encoding="utf-8",
    )
    matrix = load_matrix(path)
    ids = [matrix.space.id_of(row) for row in matrix.space.iter_valid()]
    assert ids == [
        "zeta=z1,alpha=1.10,mid=m",
        "zeta=z1,alpha=1.9,mid=m",
        "zeta=z0,alpha=1.10,mid=m",
        "zeta=z0,alpha=1.9,mid=m",
    ]


def test_real_matrix_ids_round_trip_through_encode_and_decode() -> None:
    space = load_matrix(PLATFORM).space
    rows = list(space.iter_valid())
    assert rows
    ids = [space.id_of(row) for row in rows]
    assert len(set(ids)) == len(ids)
    for row, text in zip(rows, ids, strict=True):
        assert list(parse_cell_id(text)) == list(space.names)
        assert parse_cell_id(text) == space.decode(row)
        assert tuple(space.encode(parse_cell_id(text))) == row
    assert "spark=3.5,catalog=hive,storage=local,gpu=none,deploy=local" in ids


# A value name the config accepts never contains the id separators.
dimension_names = st.from_regex(NAME_RE, fullmatch=True)
value_names = st.from_regex(VALUE_RE, fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(dimension_names, min_size=1, max_size=6, unique=True), st.data())
def test_round_trip_over_any_names_the_config_allows(names: list[str], data: st.DataObject) -> None:
    values = data.draw(st.lists(value_names, min_size=len(names), max_size=len(names)))
    text = cell_id(names, values)
    parsed = parse_cell_id(text)
    assert list(parsed) == names
    assert list(parsed.values()) == values
    assert cell_id(list(parsed), list(parsed.values())) == text


@settings(max_examples=100, deadline=None)
@given(value_names)
def test_allowed_value_names_cannot_break_an_id(value: str) -> None:
    assert "," not in value
    assert "=" not in value


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.lists(value_names, min_size=1, max_size=3, unique=True), min_size=1, max_size=4),
    st.data(),
)
def test_space_id_depends_only_on_the_values(
    value_lists: list[list[str]], data: st.DataObject
) -> None:
    names = tuple(f"d{i}" for i in range(len(value_lists)))
    values = tuple(tuple(v) for v in value_lists)
    space = Space(names, values)
    row = [data.draw(st.integers(0, len(v) - 1)) for v in values]
    picked = [values[d][i] for d, i in enumerate(row)]
    assert space.id_of(row) == cell_id(names, picked)
    assert space.id_of(space.encode(parse_cell_id(space.id_of(row)))) == space.id_of(row)


# -- stable across profiles, strategies and seeds -----------------------------------------------


def test_ids_are_the_same_whatever_the_profile_strategy_or_seed() -> None:
    from certify.plan import build_plan

    matrix = load_matrix(PLATFORM)
    names = list(matrix.space.names)
    plans = [
        build_plan(matrix, "smoke"),
        build_plan(matrix, "pr"),
        build_plan(matrix, "pr", seed=1),
        build_plan(matrix, "pr", seed=12345),
        build_plan(matrix, "pr", strategy="t=1", seed=3),
        build_plan(matrix, "pr", strategy="full"),
        build_plan(matrix, "release", strategy="t=2", seed=9),
    ]
    id_of_values: dict[tuple[str, ...], str] = {}
    for plan in plans:
        for cell in plan.to_json()["cells"]:
            key = tuple(cell["values"][n] for n in names)
            assert list(cell["values"]) == names
            assert cell["id"] == cell_id(names, list(key))
            assert id_of_values.setdefault(key, cell["id"]) == cell["id"]
    smoke = plans[0].to_json()["cells"]
    assert [c["id"] for c in smoke] == [
        "spark=3.5,catalog=hive,storage=local,gpu=none,deploy=local"
    ]
    # the full plan names every certified cell; every reduced plan picks among those same ids
    full_ids = {c["id"] for c in plans[5].to_json()["cells"]}
    for plan in plans[1:5]:
        assert {c["id"] for c in plan.to_json()["cells"]} <= full_ids


@pytest.mark.parametrize("text", ["", "a", "a=", "=1", "a=1,,b=2", "a=1,a=2", "a=b=c", "a=1,"])
def test_parse_cell_id_rejects_what_cell_id_cannot_produce(text: str) -> None:
    with pytest.raises(ValueError, match="not a cell id"):
        parse_cell_id(text)


_TESTS = """
import pytest

def test_plain(cell):
    assert cell.id

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    pass

class TestGroup:
    def test_method(self):
        pass
"""
_CELLS = ("spark=3.5,catalog=iceberg-rest", "spark=3.5,catalog=hive")
_RECORD_IDS = {
    "test_cells.py::test_plain",
    "test_cells.py::test_param[1]",
    "test_cells.py::test_param[2]",
    "test_cells.py::TestGroup::test_method",
}


def _several_cells(pytester: pytest.Pytester, *extra: str) -> RecordStore:
    pytester.makepyfile(test_cells=_TESTS)
    contexts = [
        CellContext(c, parse_cell_id(c), "certified", pytester.path / f"work{i}").to_json()
        for i, c in enumerate(_CELLS)
    ]
    (pytester.path / "cells.json").write_text(json.dumps(contexts))
    store = RecordStore(pytester.path / "results.sqlite")
    argv = ["-p", "certify.pytest.plugin", "--certify-cells", str(pytester.path / "cells.json"),
            "--certify-store", str(store.path), "--certify-run-id", "r1",
            "--junitxml", str(pytester.path / "junit.xml"), *extra]  # fmt: skip
    run = pytester.runpytest_subprocess if extra else pytester.runpytest
    run(*argv).assert_outcomes(passed=2 * len(_RECORD_IDS))
    return store


@pytest.mark.parametrize("workers", [(), ("-n", "2", "--dist", "loadgroup")], ids=["one", "xdist"])
def test_records_name_a_test_without_its_cell_and_junit_keeps_the_cell(
    pytester: pytest.Pytester, workers: tuple[str, ...]
) -> None:
    store = _several_cells(pytester, *workers)
    records = store.records("r1")
    for cell in _CELLS:
        assert {r.test_id for r in records if r.cell_id == cell} == _RECORD_IDS
        assert {t for _, t in store.expected("r1")[cell]} == _RECORD_IDS
    assert {r.suite for r in records} == {pytester.path.name}
    junit = ET.parse(pytester.path / "junit.xml").getroot()
    names = [case.get("name", "") for case in junit.iter("testcase")]
    assert len(names) == 2 * len(_RECORD_IDS)
    assert all(sum(cell in name for cell in _CELLS) == 1 for name in names)


def test_a_manifest_runs_with_strict_markers_where_pytest_xdist_is_absent(
    pytester: pytest.Pytester,
) -> None:
    """`pip install certify[spark]` has no pytest-xdist: the cell grouping marker must still be
    known (a lane of one cell failed with "'xdist_group' not found in `markers`")."""
    store = _several_cells(pytester, "-p", "no:xdist", "--strict-markers")
    assert {r.status for r in store.records("r1")} == {"passed"}
