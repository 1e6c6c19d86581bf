"""A Spark driver with the RAPIDS Accelerator in explain-only mode (no tests here):
test_gpu_explain_only.py runs it in the Spark 4.1 runtime on a machine without a GPU.

It runs the GPU suite's queries (the parity jobs) and one query with an expression RAPIDS
cannot run (`reflect`), and writes, per query, its rows, the plan that ran and RAPIDS' own
explanation of the plan it would run on a GPU (`ExplainPlan.explainPotentialGpuPlan`). The
plugin's explain-only log lines go to stderr, for the test to read.

    python gpu_explain_job.py RAPIDS.jar OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from certify.platforms.gpu import rapids_conf
from certify.scenario import BASE_CONF
from fixtures.parity import canonical_rows
from fixtures.parity_jobs import JOBS, register_views

UNSUPPORTED = "SELECT id, reflect('java.lang.String', 'valueOf', id) AS text FROM range(0, 100)"


def _query(spark: Any, sql: str) -> dict[str, Any]:
    frame = spark.sql(sql)
    rows = canonical_rows(tuple(r) for r in frame.collect())
    explain = spark._jvm.com.nvidia.spark.rapids.ExplainPlan.explainPotentialGpuPlan
    return {
        "rows": rows,
        "executed": str(frame._jdf.queryExecution().executedPlan().toString()),
        "potential": str(explain(frame._jdf, "ALL")),
    }


def main(jar: str, out: str) -> None:
    """Run the queries and write what they gave to OUT.json."""
    from pyspark.sql import SparkSession

    conf = {**BASE_CONF, "spark.master": "local[1]", "spark.jars": jar}
    conf.update(rapids_conf(Path(out).parent / "unused-discovery.sh", explain_only=True))
    builder = SparkSession.builder.appName("certify gpu explain-only")
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        register_views(spark)
        result = {
            "plugins": spark.conf.get("spark.plugins"),
            "mode": spark.conf.get("spark.rapids.sql.mode"),
            "jobs": {job.name: _query(spark, job.sql) for job in JOBS},
            "unsupported": _query(spark, UNSUPPORTED),
        }
    finally:
        spark.stop()
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
