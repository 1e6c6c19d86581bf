"""Security suite: credentials never leak, read-only S3 identities cannot write, namespaces hold.

Credentials reach a cell only through its environment (`CERTIFY_S3_ACCESS_KEY_ID`,
`CERTIFY_S3_SECRET_ACCESS_KEY`). The leak scenarios plant a random, secret-looking canary pair
into that path, push it through Spark the way the `spark` fixture does (the S3A key settings),
and then search, besides the cell's real credentials when it has some, every file of the run's
evidence, the cell's workdir, the record store and the test ids this pytest can see. Findings
name the variable and the file, never the value. The scan scenario runs last in its module so
that it sees what the earlier scenarios of the cell wrote.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest

from certify.scenario import CellContext, RecordStore, not_applicable, not_run
from fixtures.lakehouse import KEY_VAR, SECRET_VAR
from fixtures.parity import run_folder
from fixtures.s3_access import (
    READONLY_KEY_VAR,
    READONLY_SECRET_VAR,
    read_only_credentials,
    read_only_violations,
)
from fixtures.secrets_scan import Leak, scan_text, scan_tree

pytestmark = pytest.mark.security

# one canary pair per pytest process: random, so no file can contain it by chance
CANARY = {
    f"planted {KEY_VAR}": "AKIA" + secrets.token_hex(8).upper(),
    f"planted {SECRET_VAR}": "certify-canary-" + secrets.token_urlsafe(24),
}
_S3A = {KEY_VAR: "spark.hadoop.fs.s3a.access.key", SECRET_VAR: "spark.hadoop.fs.s3a.secret.key"}

# why each catalog this platform runs cannot show a denied cross-namespace read
NO_NAMESPACE_ENFORCEMENT = {
    "hive": "the Hive Metastore (embedded Derby, or the Hive 2.3.9 Thrift service) runs without "
    "an authorization provider, so every session may read every database",
    "iceberg-hive": "its Hive Metastore (Hive 2.3.9 Thrift service) runs without an "
    "authorization provider, so every session may read every database",
    "iceberg-hadoop": "a Hadoop catalog is a folder tree with no principals; access is whatever "
    "the filesystem grants the one OS user that runs every cell",
    "iceberg-sql": "pyiceberg's SQL catalog is a SQLite file with no principals or grants",
    "iceberg-rest": "SeaweedFS's Iceberg REST catalog authorizes S3 identities, and the platform "
    "gives every cell the same admin identity, so there is no second principal to deny",
}


def _watched() -> dict[str, str]:
    """Label -> value of every credential that must not leak: the canary and the real ones."""
    real = {name: os.environ.get(name, "") for name in (KEY_VAR, SECRET_VAR)}
    real.update(
        {name: os.environ.get(name, "") for name in (READONLY_KEY_VAR, READONLY_SECRET_VAR)}
    )
    return {**CANARY, **{f"the cell's {k}": v for k, v in real.items() if v}}


def test_planted_credentials_pass_through_spark_redacted(
    spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The canary in the credential variables reaches Spark's S3A settings; `SET` redacts it."""
    monkeypatch.setenv(KEY_VAR, CANARY[f"planted {KEY_VAR}"])
    monkeypatch.setenv(SECRET_VAR, CANARY[f"planted {SECRET_VAR}"])
    before = {conf: spark.conf.get(conf, None) for conf in _S3A.values()}
    try:
        for var, conf in _S3A.items():
            spark.conf.set(conf, os.environ[var])  # the path the `spark` fixture takes
        assert spark.range(0, 1000, numPartitions=2).groupBy().sum("id").collect()[0][0] == 499500
        shown = [str(spark.sql(f"SET {conf}").collect()) for conf in _S3A.values()]
        leaks = [leak for text in shown for leak in scan_text("SET output", text, CANARY)]
    finally:
        for conf, value in before.items():
            if value is None:
                spark.conf.unset(conf)
            else:
                spark.conf.set(conf, value)
    if leaks:
        pytest.fail("; ".join(leak.describe() for leak in leaks), pytrace=False)


@pytest.mark.requires(storage="s3")
def test_a_read_only_identity_cannot_write(
    s3_client: Any, s3_bucket: str, cell: CellContext
) -> None:
    """The read-only S3 identity reads and lists; every put, overwrite and delete is denied."""
    creds = read_only_credentials()
    if creds is None:
        not_run(
            f"the platform gives cells no read-only S3 identity ({READONLY_KEY_VAR}, "
            f"{READONLY_SECRET_VAR} unset): SeaweedFS `weed mini` is started without "
            "-s3.config, so its only identity is the admin one"
        )
    import boto3

    reader = boto3.client(
        "s3",
        endpoint_url=s3_client.meta.endpoint_url,
        aws_access_key_id=creds[0],
        aws_secret_access_key=creds[1],
        region_name=s3_client.meta.region_name,
    )
    prefix = cell.names.s3_key("security")
    problems = read_only_violations(s3_client, reader, s3_bucket, prefix)
    if problems:
        pytest.fail("the read-only identity could write:\n" + "\n".join(problems), pytrace=False)


def test_a_namespace_cannot_read_another_namespaces_tables(cell: CellContext) -> None:
    """Where the catalog enforces namespace rights, a second principal is denied a read."""
    catalog = cell.values.get("catalog", "")
    why = NO_NAMESPACE_ENFORCEMENT.get(catalog)
    if why:
        # the property is "denied where the catalog enforces it": here it does not apply
        not_applicable(f"catalog={catalog} does not enforce namespace access: {why}")
    not_run(
        f"catalog={catalog}: no catalog service with grants runs on this platform, so there is "
        "no second principal to deny a read"
    )


def _records_text(request: pytest.FixtureRequest) -> list[tuple[str, str]]:
    store = request.config.getoption("certify_store")
    if not store or not Path(store).exists():
        return []
    return [
        (f"record {r.cell_id} {r.test_id}", r.dumps()) for r in RecordStore(Path(store)).records()
    ]


def test_no_credential_in_logs_test_ids_or_records(
    cell: CellContext, request: pytest.FixtureRequest
) -> None:
    """No credential (planted or real) is in the run's evidence, the workdir or the records."""
    watched = _watched()
    run = run_folder(cell.workdir)
    roots = [cell.workdir] + ([run / "evidence"] if run is not None else [])
    store = request.config.getoption("certify_store")
    if store:
        roots += sorted(Path(store).parent.glob(Path(store).name + "*"))  # with -wal, -journal
    leaks, scanned = scan_tree(roots, watched, relative_to=run)
    for where, text in _records_text(request):
        leaks += scan_text(where, text, watched)
    for item in request.session.items:
        leaks += scan_text(f"test id {item.nodeid}", item.nodeid, watched)
    assert scanned > 0, f"nothing to scan under {[str(r) for r in roots]}"
    if leaks:
        pytest.fail(_describe(leaks), pytrace=False)


def _describe(leaks: list[Leak]) -> str:
    return "credentials leaked:\n" + "\n".join(leak.describe() for leak in leaks)
