"""spark-connect-sql: concurrent users running short SQL queries through Spark Connect.

Each user holds its own Spark Connect session (the cell runtime's pyspark client) and reports
every query through locust's request event. Run alone with
`CERTIFY_LOAD_CELL=cell.json locust -f load/spark-connect-sql.py --headless`.
"""

from __future__ import annotations

# gRPC's gevent integration must be in place before any channel exists (locust uses gevent)
import grpc.experimental.gevent  # isort: skip

grpc.experimental.gevent.init_gevent()

import atexit  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import _shared  # noqa: E402
from locust import User, between, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

PROFILE = "spark-connect-sql"
TARGET = "spark.remote"
REQUIRES = {"deploy": ["connect"]}
SHAPE = "ramp"
USERS = 4
SECONDS = 60
SLO = {
    "*": {"p50_ms": 1500, "p95_ms": 4000, "p99_ms": 8000, "error_rate": 0.01, "rps": 1.0},
}
ROWS = 200

CELL = _shared.declare(globals())
TABLE = _shared.names(CELL).table("certify_load_kv")
# sessions a user replaced after a lost server: kept referenced until the process exits (it
# leaves with os._exit, below), because pyspark's SparkSession.__del__, run by the garbage
# collector inside a later gRPC call, joins the release threads of every session and can
# deadlock the client for good (the same guard as certify/chaos/workload_spark.py)
_RETIRED: list[Any] = []


def _session() -> Any:

    remote = CELL["options"].get("spark", {}).get("remote")
    if not remote:
        raise _shared.ProfileNotApplicable("the cell has no Spark Connect endpoint")
    from certify.platforms.clients import connect_session
    from certify.platforms.sparkconf import bound_connect_retries

    session = connect_session(remote, CELL["options"].get("spark", {}).get("session"), new=True)
    bound_connect_retries(session)  # a lost server fails requests in seconds, not minutes
    return session


@events.init.add_listener
def _table(environment: Environment, **_: Any) -> None:
    """Create the cell's small table once, before the run starts."""
    try:
        spark = _session()
    except _shared.ProfileNotApplicable as exc:
        _shared.not_applicable(str(exc))
    try:
        database = TABLE.split(".")[0]
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}").collect()
        spark.sql(f"CREATE TABLE IF NOT EXISTS {TABLE} (k INT, v STRING) USING parquet").collect()
        spark.sql(
            f"INSERT OVERWRITE {TABLE} SELECT CAST(id AS INT), CAST(id * 7 AS STRING) "
            f"FROM range({ROWS})"
        ).collect()
    except Exception as exc:  # the run cannot measure anything without its table
        _release_pool()
        _shared.setup_failed(f"creating {TABLE}", exc)
    finally:
        spark.stop()


@events.quitting.add_listener
def _release_pool(**_: Any) -> None:
    """Stop the Connect client's release thread pool: under gevent it would block exit."""
    from pyspark.sql.connect.client.reattach import ExecutePlanResponseReattachableIterator

    ExecutePlanResponseReattachableIterator.shutdown()


@events.quit.add_listener
def _exit_without_finalizers(exit_code: int, **_: Any) -> None:
    """Leave as soon as locust has written its stats (it exits right after this event).

    Under gevent, pyspark's `SparkSession.__del__` can block for good closing its gRPC channel
    while the interpreter finalizes, which would hang the run after its results exist.
    """

    def leave() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)

    atexit.register(leave)


class SqlUser(User):
    """A Spark Connect client running a mix of short queries."""

    wait_time = between(0.05, 0.3)

    spark: Any = None

    def on_start(self) -> None:
        self.spark = _session()

    def on_stop(self) -> None:
        if self.spark is not None:
            self.spark.stop()

    def _query(self, name: str, sql: str) -> None:
        with _shared.request(self.environment, "sql", name) as info:
            if self.spark is None:  # reconnecting is part of what the user waits for
                self.spark = _session()
            try:
                info["length"] = len(self.spark.sql(sql).collect())
            except Exception:
                # a restarted server has lost the session: start a fresh one next time
                _RETIRED.append(self.spark)
                with contextlib.suppress(Exception):
                    self.spark.stop()
                self.spark = None
                raise

    @task(4)
    def point(self) -> None:
        self._query("point", f"SELECT v FROM {TABLE} WHERE k = {random.randrange(ROWS)}")

    @task(2)
    def count(self) -> None:
        self._query("count", f"SELECT count(*) FROM {TABLE}")

    @task(2)
    def group(self) -> None:
        self._query("group", f"SELECT k % 10 AS g, count(*) FROM {TABLE} GROUP BY 1")

    @task(1)
    def literal(self) -> None:
        self._query("literal", "SELECT 1")


Shape = _shared.shape(SHAPE, USERS, SECONDS)
