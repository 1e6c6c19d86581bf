"""The etl and pit suites pass on a healthy cell and catch planted faults (one JVM per module)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certify.results import RecordStore
from fixtures.data import column_checksums, orders_frame
from fixtures.pit import first_differences, generate, oracle, spark_asof
from fixtures.spark import stop_jvm

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CELL = "spark=3.5,catalog=hive,storage=local,gpu=none,deploy=local"


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local session for the planted-fault tests."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    warehouse = tmp_path_factory.mktemp("warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.warehouse.dir", warehouse.as_uri())
        .getOrCreate()
    )
    yield session
    session.stop()
    stop_jvm()  # the next module starts its own JVM with its own jars


def test_etl_checksums_catch_a_corrupted_file(spark: Any, tmp_path: Path) -> None:
    target = tmp_path / "orders"
    frame = orders_frame(spark, 5_000, seed=1)
    frame.write.parquet(target.as_uri())
    assert column_checksums(spark.read.parquet(target.as_uri())) == column_checksums(frame)
    # plant the fault: rewrite one data file with one amount changed
    victim = sorted(target.glob("part-*.parquet"))[0]
    rows = spark.read.parquet(victim.as_uri()).collect()
    changed = [r.asDict() for r in rows]
    changed[0]["amount_cents"] += 1
    staging = tmp_path / "staging"
    spark.createDataFrame(changed, frame.schema).coalesce(1).write.parquet(staging.as_uri())
    victim.unlink()
    next(staging.glob("part-*.parquet")).rename(victim)
    # object stores keep no .crc side files: drop it so only our checksums can notice
    victim.with_name(f".{victim.name}.crc").unlink()
    got = column_checksums(spark.read.parquet(target.as_uri()))
    want = column_checksums(frame)
    assert got["amount_cents"] != want["amount_cents"]
    assert {k for k in want if got[k] != want[k]} == {"amount_cents"}


def test_etl_checksums_catch_a_lost_file(spark: Any, tmp_path: Path) -> None:
    target = tmp_path / "orders"
    frame = orders_frame(spark, 5_000, seed=2)
    frame.write.parquet(target.as_uri())
    sorted(target.glob("part-*.parquet"))[-1].unlink()
    got = column_checksums(spark.read.parquet(target.as_uri()))
    assert all(got[k] != v for k, v in column_checksums(frame).items())


def test_pit_catches_a_wrong_join(spark: Any) -> None:
    events, features = generate(seed=11)
    expected = oracle(events, features)
    assert first_differences(expected, spark_asof(spark, events, features)) == []
    wrong = first_differences(expected, spark_asof(spark, events, features, at_or_before="<"))
    assert wrong, "a strictly-before join must differ from the as-of oracle"
    assert wrong[0].startswith("event ") and "expected" in wrong[0]


def test_the_etl_and_pit_suites_pass_on_the_local_cell(tmp_path: Path) -> None:
    store = tmp_path / "results.sqlite"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "scenarios/etl",
            "scenarios/pit",
            "-q",
            "-p",
            "no:cacheprovider",
            "--certify-cell",
            CELL,
            "--certify-store",
            str(store),
            "--certify-run-id",
            "it",
            "--certify-workdir",
            str(tmp_path / "work"),
            "--certify-values",
            json.dumps(dict(p.split("=") for p in CELL.split(","))),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable, "CERTIFY_ETL_SIZES": "1000,50000"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = RecordStore(store).records("it")
    by_suite: dict[str, list[str]] = {}
    for record in records:
        by_suite.setdefault(record.suite, []).append(record.status)
    assert set(by_suite) == {"etl", "pit"}
    assert all(s == "passed" for statuses in by_suite.values() for s in statuses)
    assert len(by_suite["etl"]) == 7 and len(by_suite["pit"]) == 4
