"""The interop suite's checks catch planted faults, and Hive tables really cross Spark lines.

The cross-line run shares one embedded Derby metastore between pytest runs of Spark 3.5 and 4.1
in turn (one JVM at a time; Derby allows one), the same sharing a `certify run` gives hive
cells of both lines through its Hive Metastore service.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certify.cell import KEEP_VAR
from certify.platforms.sparkconf import CellSpark, driver_conf
from certify.results import RecordStore
from fixtures.iceberg_checks import local_iceberg_session, plant_byte_swap, stop_local_session
from fixtures.interop import (
    CHECKSUMS_PROP,
    WRITER_PROP,
    current_metadata,
    digest_problems,
    line_table_problems,
    other_line_tables,
    pyiceberg_rows,
    pyiceberg_write,
    spark_read_metadata,
    write_line_table,
)
from tests.integration.test_iceberg_suites import iceberg_jar

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
STORE = "results.sqlite"
HIVE_TEST = "test_hive_tables_read_by_the_spark_line_that_did_not_write_them"


def spark41_python() -> Path:
    """The interpreter of the Spark 4.1 runtime (`certify env sync --spark 4.1` builds it)."""
    from certify.matrix.model import load_matrix
    from certify.runtimes import EnvCache, runtime_specs
    from certify.runtimes.envs import env_dir

    [spec] = runtime_specs(load_matrix(ROOT / "matrices" / "platform.yaml"), ["4.1"])
    cache = EnvCache(env_dir())
    if not cache.ready(spec):
        pytest.skip("no Spark 4.1 runtime here: build it with `certify env sync --spark 4.1`")
    return cache.python(spec)


def _run_hive_cell(python: Path, line: str, metastore: Path, base: Path, label: str) -> None:
    """One hive cell of run `interop` in its own pytest, its records in `<label>.sqlite`."""
    values = {"spark": line, "catalog": "hive", "storage": "local", "gpu": "none"}
    values["deploy"] = "local"
    cell = ",".join(f"{k}={v}" for k, v in values.items())
    work = base / line
    conf = driver_conf(CellSpark(values, work / "warehouse"), work)
    conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
        f"jdbc:derby:;databaseName={metastore};create=true"
    )
    argv = [str(python), "-m", "pytest", "scenarios/interop", "-q", "-p", "no:cacheprovider"]
    argv += ["-k", HIVE_TEST, "--certify-cell", cell, "--certify-store", str(base / label)]
    argv += ["--certify-run-id", "interop", "--certify-workdir", str(work)]
    argv += ["--certify-options", json.dumps({"spark": {"conf": conf}})]
    proc = subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        # not kept: the line tables live in the run's shared database, which no cell drops
        env={
            **{k: v for k, v in os.environ.items() if k != KEEP_VAR},
            "PYSPARK_PYTHON": str(python),
        },
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


# Defined before the module's session is first used, so each pytest (and JVM) runs alone.
def test_hive_tables_cross_spark_lines_through_one_metastore(tmp_path: Path) -> None:
    python41 = spark41_python()
    metastore, this = tmp_path / "metastore_db", Path(sys.executable)
    runs = [("first", this, "3.5"), ("reader-4.1", python41, "4.1"), ("reader-3.5", this, "3.5")]
    for label, python, line in runs:
        _run_hive_cell(python, line, metastore, tmp_path, label)
    status = {label: RecordStore(tmp_path / label).records()[0] for label, _, _ in runs}
    # the first line finds no other line's table yet; each later one checks the other's
    assert status["first"].status == "not_run"
    assert "Spark line other than 3.5" in status["first"].message
    assert status["reader-4.1"].status == "passed"
    assert status["reader-3.5"].status == "passed"


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local session: Iceberg catalog `ice` and Hive on embedded Derby."""
    base = tmp_path_factory.mktemp("interop")
    session = local_iceberg_session(base, iceberg_jar(), hive=base / "hive")
    session.sql("CREATE NAMESPACE IF NOT EXISTS ice.planted")
    yield session
    stop_local_session(session)


def test_pyiceberg_read_check_catches_a_stale_snapshot_and_a_corrupted_file(
    spark: Any,
) -> None:
    table = "ice.planted.shared"
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    from fixtures.data import orders_frame

    writer = orders_frame(spark, 500, seed=41).writeTo(table).using("iceberg")
    writer.tableProperty("write.parquet.compression-codec", "uncompressed").create()
    stale = current_metadata(spark, table)
    orders_frame(spark, 1_000, seed=41).where("id >= 500").writeTo(table).append()
    assert digest_problems(pyiceberg_rows(current_metadata(spark, table)), 1_000, 41, "p") == []
    # a reader left on an old snapshot must be caught
    assert digest_problems(pyiceberg_rows(stale), 1_000, 41, "p") == [
        "p read 500 rows, expected 1000"
    ]
    files = spark.sql(f"SELECT file_path FROM {table}.files ORDER BY file_path").collect()
    assert plant_byte_swap(Path(files[0][0].removeprefix("file:")), b"apac", b"apax") > 0
    [problem] = digest_problems(pyiceberg_rows(current_metadata(spark, table)), 1_000, 41, "p")
    assert problem.startswith("p read ") and "rows not in the dataset" in problem
    assert "'apax'" in problem


def test_spark_read_check_catches_a_different_pyiceberg_table(spark: Any, tmp_path: Path) -> None:
    metadata = pyiceberg_write(tmp_path / "pyiceberg", "orders", 600, seed=42)
    rows = [tuple(r) for r in spark_read_metadata(spark, metadata).collect()]
    assert digest_problems(rows, 600, 42, "Spark") == []
    assert digest_problems(rows, 600, 43, "Spark")  # the wrong dataset must not pass


def test_cross_line_check_catches_a_table_that_differs_from_what_its_writer_recorded(
    spark: Any,
) -> None:
    own = write_line_table(spark, "certify_planted", 300, seed=44)
    assert other_line_tables(spark, "certify_planted") == {}  # its own line's: not "another"
    # pose as a table a Spark 4.1 cell wrote into the shared metastore
    table = "certify_planted.interop_hive_4_1"
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    spark.sql(f"ALTER TABLE {own} RENAME TO {table}")
    spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ('{WRITER_PROP}' = '4.1.1')")
    assert other_line_tables(spark, "certify_planted") == {table: "4.1.1"}
    assert other_line_tables(spark, "certify_elsewhere") == {}  # only the run's database counts
    assert line_table_problems(spark, table, 300, 44) == []
    from fixtures.data import orders_frame

    # plant: the data changes after the writer recorded its checksums
    orders_frame(spark, 300, seed=45).write.insertInto(table, overwrite=True)
    props = {r[0] for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    assert CHECKSUMS_PROP in props
    problems = line_table_problems(spark, table, 300, 44)
    assert problems and all("writer recorded" in p for p in problems)
