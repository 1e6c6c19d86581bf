"""Names a cell makes in shared services: unique per (run, cell), stable, valid everywhere."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from certify.cell import (
    ADHOC_SCOPE,
    KEEP_VAR,
    CellContext,
    CellNames,
    PlatformOptions,
    database_name,
    keep_requested,
)
from certify.run.resume import RunSpec
from certify.run.runner import new_run_id

# a Hive database, an Iceberg REST / SQL namespace and an S3 key segment all accept this
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

ids = st.text(min_size=0, max_size=40)  # any text: run ids and cell ids are not trusted here
cell_ids = st.lists(
    st.tuples(st.sampled_from(["spark", "catalog", "storage"]), st.text(min_size=1, max_size=8)),
    min_size=1,
    max_size=3,
).map(lambda pairs: ",".join(f"{k}={v}" for k, v in pairs))


@settings(max_examples=200)
@given(st.lists(st.tuples(ids, cell_ids), min_size=2, max_size=30, unique=True))
def test_names_are_unique_per_run_and_cell(pairs: list[tuple[str, str]]) -> None:
    names = [CellNames.of(run, cell) for run, cell in pairs]
    assert len({n.database for n in names}) == len(pairs)
    # no cell's S3 prefix holds another's objects
    prefixes = [n.s3_prefix for n in names]
    assert not [(a, b) for a in prefixes for b in prefixes if a != b and b.startswith(a)]


@given(ids, cell_ids)
def test_names_are_stable_and_valid_identifiers(run: str, cell: str) -> None:
    names = CellNames.of(run, cell)
    assert names == CellNames.of(run, cell)
    assert IDENTIFIER.match(names.database), names.database
    assert names.database.startswith("certify_")  # how the interop suite finds cell databases
    assert names.s3_prefix == names.database + "/"
    assert names.sql_warehouse_prefix.startswith(names.s3_prefix)
    assert names.s3_key("smoke", "object.bin") == f"{names.database}/smoke/object.bin"
    assert names.table("orders") == f"{names.database}.orders"


def test_the_separator_between_run_and_cell_cannot_be_forged() -> None:
    assert database_name("a,b", "c") != database_name("a", "b,c")
    assert database_name("", "ab") != database_name("a", "b")


def test_a_resumed_run_keeps_its_cells_names(tmp_path: Path) -> None:
    """`--resume` reads the run id back from run.json: the same id gives the same names."""
    run_id = new_run_id()
    cell = "spark=3.5,catalog=hive,storage=local,gpu=none,deploy=local"
    RunSpec(run_id, "pr", "m.yaml", None, 1, "local").write(tmp_path)
    resumed = RunSpec.read(tmp_path)
    assert CellNames.of(resumed.id, cell) == CellNames.of(run_id, cell)
    assert CellNames.of(new_run_id(), cell) != CellNames.of(run_id, cell)


def test_the_child_reads_the_platforms_name_and_a_cell_run_by_hand_gets_its_own() -> None:
    cell = "spark=3.5,catalog=hive"
    given_name = database_name("run-1", cell)
    context = CellContext(cell, {}, "certified", Path("/w"), PlatformOptions(database=given_name))
    back = CellContext.from_json(context.to_json())
    assert back.names == context.names == CellNames(given_name)
    by_hand = CellContext(cell, {}, "certified", Path("/w"))
    assert by_hand.database == database_name(ADHOC_SCOPE, cell) != given_name


def test_keep_is_requested_only_by_the_variable_set_to_1() -> None:
    assert keep_requested({KEEP_VAR: "1"})
    assert not keep_requested({})
    assert not keep_requested({KEEP_VAR: "0"})
    assert not keep_requested({KEEP_VAR: ""})
