"""Cells isolated by construction: two cells that collided in one metastore certify side by side.

A hive and an iceberg-hive cell ran the etl suite in one metastore and collided on its fixed
`certify_etl` database (`Not an iceberg table: ice.certify_etl.orders_oracle`,
`TABLE_OR_VIEW_ALREADY_EXISTS certify_etl.orders_1000`). Here both run at once (`-n 2`) in one
`certify run`, and two such runs run at once (two --out folders), one with `--keep`: every cell
certifies, each writes only its own database (named from its run id and cell id), and the cells
of the run without `--keep` leave no data in it while those of the kept run leave theirs. The
check reads the cells' warehouse folders: the metastore, a service of the run, ends with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from certify.cell import KEEP_VAR, cell_slug, database_name
from tests.integration.cells import ROOT, cell_id, write_matrix

pytestmark = pytest.mark.slow

HIVE = {"spark": "3.5", "catalog": "hive", "storage": "local", "deploy": "local"}
ICEBERG_HIVE = {**HIVE, "catalog": "iceberg-hive"}
CELLS = [cell_id(HIVE), cell_id(ICEBERG_HIVE)]
ETL_TABLES = ("orders_1000", "orders_oracle")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two `certify run -n 2` of the hive + iceberg-hive cells at once: `plain` and `kept`."""
    base = tmp_path_factory.mktemp("isolation")
    matrix = write_matrix(base / "m", {"isolation": [HIVE, ICEBERG_HIVE]})
    spec = yaml.safe_load(matrix.read_text())
    spec["profiles"]["isolation"]["suites"] = ["smoke", "etl"]
    matrix.write_text(yaml.safe_dump(spec, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if k != KEEP_VAR}
    env.update({"CERTIFY_STATE_DIR": str(base / "state"), "CERTIFY_ETL_SIZES": "1000"})
    outs = {"plain": base / "plain", "kept": base / "kept"}
    procs = {}
    try:
        for name, out in outs.items():
            argv = [sys.executable, "-m", "certify", "run", "--profile", "isolation"]
            argv += ["--matrix", str(matrix), "--out", str(out), "-n", "2"]
            argv += ["--keep"] if name == "kept" else []
            log = (base / f"{name}.log").open("w")
            procs[name] = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)
        for name, proc in procs.items():
            rc = proc.wait(timeout=1500)
            assert rc == 0, (base / f"{name}.log").read_text()[-6000:]
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=60)
    return outs


def _report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text())
    return data


def _database_folders(out: Path, cell: str) -> list[Path]:
    """The cell's database folders in its warehouse (Hive's, and the Iceberg catalog's)."""
    database = database_name(_report(out)["run"]["id"], cell)
    return sorted((out / "work" / cell_slug(cell)).glob(f"warehouse/**/{database}.db"))


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_two_cells_that_collided_certify_at_once_in_each_of_two_runs(
    two_runs: dict[str, Path],
) -> None:
    for out in two_runs.values():
        cells = {c["id"]: c for c in _report(out)["cells"]}
        for cell in CELLS:
            assert cells[cell]["verdict"] == "certified", (cell, cells[cell]["reasons"])
            passed = {t["test_id"].split("::")[-1] for t in cells[cell]["tests"]}
            assert "test_small_table_matches_the_python_oracle_row_for_row" in passed
    run_ids = {_report(out)["run"]["id"] for out in two_runs.values()}
    assert len(run_ids) == 2  # so every cell of the two runs had a database of its own
    names = {database_name(run, cell) for run in run_ids for cell in CELLS}
    assert len(names) == 4


def test_kept_cells_leave_their_tables_in_their_own_database(two_runs: dict[str, Path]) -> None:
    out = two_runs["kept"]
    for cell in CELLS:
        folders = _database_folders(out, cell)
        assert folders, f"{cell}: no database folder of its own in {out / 'work'}"
        data = [p for f in folders for p in _files(f) if p.suffix == ".parquet"]
        for table in ETL_TABLES:
            assert any(table in p.parts for p in data), (cell, table, folders)


def test_without_keep_each_cells_database_is_dropped_with_its_data(
    two_runs: dict[str, Path],
) -> None:
    out = two_runs["plain"]
    for cell in CELLS:
        # Hive drops the folder; Iceberg purges every data and metadata file of each table
        left = [p for f in _database_folders(out, cell) for p in _files(f)]
        assert left == [], (cell, left[:10])
    log = out / "evidence"
    warnings = [p for p in log.rglob("pytest.log") if "CellCleanupWarning" in p.read_text()]
    assert warnings == []
