"""A Spark driver on Iceberg's GlueCatalog (no tests here): test_glue_service.py runs it in the
Spark 4.1 runtime. It reads the table pyiceberg wrote, writes one of its own in two commits and
prints what it saw as one JSON line. Credentials come from the environment only, as for a cell
(fixtures/spark.py): S3FileIO's keys in the session settings, Glue's as JVM system properties.

    python glue_spark_job.py JOB.json  # {"conf", "namespace", "read", "write"}
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from certify.platforms.glue import jvm_identity
from certify.scenario import ICEBERG_CATALOG, S3_KEY_VAR, S3_SECRET_VAR


def main(job_path: str) -> None:
    """Run the job in JOB.json and print its result."""
    job = json.loads(Path(job_path).read_text())
    key, secret = os.environ[S3_KEY_VAR], os.environ[S3_SECRET_VAR]
    prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
    conf = {
        **job["conf"],
        f"{prefix}.s3.access-key-id": key,
        f"{prefix}.s3.secret-access-key": secret,
    }
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    launch = SparkConf(loadDefaults=False)
    for name in ("spark.jars", "spark.driver.extraJavaOptions"):
        launch.set(name, conf[name])
    SparkContext._ensure_initialized(conf=launch)
    jvm_identity(SparkContext._jvm, key, secret)
    builder = SparkSession.builder.appName("certify glue job")
    for name, value in conf.items():
        builder = builder.config(name, value)
    spark = builder.getOrCreate()
    try:
        namespace = f"{ICEBERG_CATALOG}.{job['namespace']}"
        read = spark.sql(f"SELECT id, name FROM {namespace}.{job['read']} ORDER BY id").collect()
        table = f"{namespace}.{job['write']}"
        spark.sql(f"CREATE TABLE {table} (id BIGINT, name STRING) USING iceberg").collect()
        spark.sql(f"INSERT INTO {table} VALUES (10, 'x'), (11, 'y')").collect()
        spark.sql(f"INSERT INTO {table} VALUES (12, 'z')").collect()  # a commit: UpdateTable
        snapshots = spark.sql(f"SELECT snapshot_id FROM {table}.snapshots").count()
        tables = sorted(r["tableName"] for r in spark.sql(f"SHOW TABLES IN {namespace}").collect())
        print(
            json.dumps(
                {
                    "read": [[r["id"], r["name"]] for r in read],
                    "snapshots": snapshots,
                    "tables": tables,
                }
            )
        )
    finally:
        spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
