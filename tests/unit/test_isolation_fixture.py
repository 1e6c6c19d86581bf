"""fixtures/isolation.py: a cell's database and S3 prefix go when its session ends, unless kept.

pytest runs generated scenarios whose `spark` and `s3_client` are stand-ins that log every call
(no JVM here; tests/acceptance/test_cell_isolation.py does it on the real platform): the drop
goes through the live client, before that client stops, once per cell, never with `--keep`, and
a drop that fails is a warning while the scenarios pass.
"""

from __future__ import annotations

import json

import pytest

from certify.cell import KEEP_VAR

pytest_plugins = ["pytester"]

HIVE = "spark=3.5,catalog=hive"
ICEBERG = "spark=3.5,catalog=iceberg-hive"

CONFTEST = """
import os
import pathlib

import pytest

pytest_plugins = ["certify.pytest.plugin", "fixtures.spark", "fixtures.isolation"]  # spark: below
LOG = pathlib.Path(__file__).with_name("events.log")


def log(line):
    with LOG.open("a") as f:
        f.write(line + "\\n")


class Result:
    def __init__(self, rows):
        self.rows = rows

    def collect(self):
        return self.rows


class Spark:
    def __init__(self, cell):
        self.cell = cell

    def sql(self, text):
        if os.environ.get("FAKE_FAIL") and text.startswith(("DROP", "SHOW")):
            raise RuntimeError("metastore went away")
        log(f"{self.cell} sql {text}")
        if text.startswith("SHOW NAMESPACES"):
            return Result([{"namespace": text.split("'")[1]}])
        if text.startswith("SHOW TABLES"):
            return Result([{"tableName": "orders", "isTemporary": False}])
        return Result([])


@pytest.fixture(scope="session")
def spark(cell):
    log(f"{cell.id} start")
    yield Spark(cell.id)
    log(f"{cell.id} stop")


class Pages:
    def __init__(self, keys):
        self.keys = keys

    def paginate(self, Bucket, Prefix):
        log(f"list {Bucket} {Prefix}")
        return [{"Contents": [{"Key": k} for k in self.keys if k.startswith(Prefix)]}]


class S3:
    keys = ["certify_aaa/smoke/a.bin", "certify_aaa/sql/t/m.json", "certify_aaab/x", "other/y"]

    def get_paginator(self, name):
        return Pages(self.keys)

    def delete_object(self, Bucket, Key):
        log(f"delete {Bucket} {Key}")


@pytest.fixture(scope="session")
def s3_client():
    return S3()


@pytest.fixture(scope="session")
def s3_bucket():
    return "warehouse"
"""

SCENARIOS = """
def test_writes_a_table(spark, database):
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")


def test_reads_it_back(spark, database):
    spark.sql(f"SELECT * FROM {database}.orders")


def test_uses_no_shared_service(cell):
    assert cell.id
"""


def _events(pytester: pytest.Pytester) -> list[str]:
    log = pytester.path / "events.log"
    return log.read_text().splitlines() if log.exists() else []


def _run(pytester: pytest.Pytester, cell: str, *extra: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_scenarios=SCENARIOS)
    options = json.dumps({"database": "certify_aaa"})
    return pytester.runpytest("--certify-cell", cell, "--certify-options", options, *extra)


def test_a_hive_cells_database_is_dropped_through_its_live_session_before_it_stops(
    pytester: pytest.Pytester,
) -> None:
    _run(pytester, HIVE).assert_outcomes(passed=3)
    assert _events(pytester) == [
        f"{HIVE} start",
        f"{HIVE} sql CREATE DATABASE IF NOT EXISTS certify_aaa",
        f"{HIVE} sql SELECT * FROM certify_aaa.orders",
        f"{HIVE} sql DROP DATABASE IF EXISTS certify_aaa CASCADE",
        f"{HIVE} stop",
    ]


def test_an_iceberg_namespace_loses_its_tables_then_itself(pytester: pytest.Pytester) -> None:
    _run(pytester, ICEBERG).assert_outcomes(passed=3)
    assert _events(pytester)[3:] == [
        f"{ICEBERG} sql SHOW NAMESPACES IN ice LIKE 'certify_aaa'",
        f"{ICEBERG} sql SHOW TABLES IN ice.certify_aaa",
        f"{ICEBERG} sql DROP TABLE IF EXISTS ice.certify_aaa.orders PURGE",
        f"{ICEBERG} sql DROP NAMESPACE IF EXISTS ice.certify_aaa",
        f"{ICEBERG} stop",
    ]


def test_keep_leaves_everything(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEEP_VAR, "1")
    _run(pytester, HIVE).assert_outcomes(passed=3)
    assert not [e for e in _events(pytester) if "DROP" in e]
    assert _events(pytester)[-1] == f"{HIVE} stop"


def test_a_cell_that_starts_no_client_cleans_nothing(pytester: pytest.Pytester) -> None:
    _run(pytester, HIVE, "-k", "no_shared").assert_outcomes(passed=1)
    assert _events(pytester) == []  # no Spark was started just to clean


def test_a_failed_drop_is_a_warning_and_the_scenarios_still_pass(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FAIL", "1")
    result = _run(pytester, HIVE, "-k", "reads")  # SELECT passes; only the DROP fails
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*CellCleanupWarning: certify: could not remove database certify_aaa of cell "
         f"{HIVE}: RuntimeError: metastore went away*"]
    )  # fmt: skip


def test_each_cell_of_a_manifest_is_cleaned_when_its_own_session_ends(
    pytester: pytest.Pytester,
) -> None:
    tmp_path = pytester.path
    cells = [
        {"id": cell, "values": {"catalog": "hive"}, "tier": "certified",
         "workdir": str(tmp_path / str(i)), "options": {"database": f"certify_{i}"}}
        for i, cell in enumerate([HIVE, HIVE + ",storage=local"])
    ]  # fmt: skip
    manifest = tmp_path / "cells.json"
    manifest.write_text(json.dumps(cells))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_scenarios=SCENARIOS)
    pytester.runpytest("--certify-cells", str(manifest)).assert_outcomes(passed=6)
    events = [e for e in _events(pytester) if " sql SELECT" not in e and " sql CREATE" not in e]
    first, second = HIVE, HIVE + ",storage=local"
    assert events == [
        f"{first} start",
        f"{first} sql DROP DATABASE IF EXISTS certify_0 CASCADE",
        f"{first} stop",
        f"{second} start",
        f"{second} sql DROP DATABASE IF EXISTS certify_1 CASCADE",
        f"{second} stop",
    ]


S3_SCENARIO = """
def test_puts_an_object(s3_client, s3_bucket, cell):
    assert cell.names.s3_prefix == "certify_aaa/"
"""


def test_the_cells_s3_prefix_and_only_it_is_emptied(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_s3=S3_SCENARIO)
    options = json.dumps({"database": "certify_aaa"})
    result = pytester.runpytest("--certify-cell", HIVE, "--certify-options", options)
    result.assert_outcomes(passed=1)
    assert _events(pytester) == [
        "list warehouse certify_aaa/",  # with its slash: certify_aaab/ is another cell's
        "delete warehouse certify_aaa/smoke/a.bin",
        "delete warehouse certify_aaa/sql/t/m.json",
    ]
