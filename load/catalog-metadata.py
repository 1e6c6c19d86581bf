"""catalog-metadata: list, load and commit metadata operations against the cell's catalogs.

The Iceberg REST catalog (SeaweedFS) through pyiceberg's REST client, and the Hive metastore
(Thrift) through pyiceberg's HiveCatalog, each where the cell has one. A half that cannot run
is noted not_run with its reason in the record; the other half still runs.
"""

from __future__ import annotations

import itertools
from typing import Any

import _shared
from locust import User, between, events, task
from locust.env import Environment

PROFILE = "catalog-metadata"
TARGET = ""
REQUIRES = {"catalog": ["iceberg-rest", "hive", "iceberg-hive"]}
SHAPE = "ramp"
USERS = 4
SECONDS = 60
SLO = {
    "*": {"p50_ms": 250, "p95_ms": 1000, "p99_ms": 2000, "error_rate": 0.01, "rps": 2.0},
}

CELL = _shared.declare(globals())
OPTIONS: dict[str, Any] = CELL.get("options", {})
NAMESPACE = _shared.names(CELL).database
TABLE = "load_metadata"
AVAILABLE: list[str] = []  # the halves whose setup worked
_counter = itertools.count()


def _rest() -> Any:
    s3 = OPTIONS.get("s3") or {}
    if not s3.get("iceberg_rest"):
        raise _shared.ProfileNotApplicable("the cell has no Iceberg REST catalog")
    from certify.platforms.clients import rest_catalog

    return rest_catalog(s3, *_shared.credentials())


def _hive() -> Any:
    uri = next(
        (v for k, v in (OPTIONS.get("services") or {}).items() if k.startswith("hive-metastore")),
        None,
    )
    if not uri:
        raise _shared.ProfileNotApplicable("the cell uses no Hive metastore service")
    try:
        import thrift  # noqa: F401  (pyiceberg's HiveCatalog speaks Thrift through it)
    except ImportError:
        raise _shared.ProfileNotApplicable(
            "pyiceberg's HiveCatalog needs the `thrift` package (pyiceberg[hive]), which this "
            "runtime does not have"
        ) from None
    from pyiceberg.catalog.hive import HiveCatalog

    warehouse = f"file://{CELL.get('workdir', '/tmp')}/hive-load-warehouse"
    # Hive 2.3.9: the hive2-compatible Thrift calls
    return HiveCatalog("hive", uri=uri, warehouse=warehouse, **{"hive.hive2-compatible": "true"})


def _table(catalog: Any) -> None:
    """The namespace and a small Iceberg table the users list, load and commit to."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField, StringType

    if (NAMESPACE,) not in catalog.list_namespaces():
        catalog.create_namespace(NAMESPACE)
    schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "name", StringType(), required=False),
    )
    catalog.create_table_if_not_exists(f"{NAMESPACE}.{TABLE}", schema)


def _hive_commit(catalog: Any) -> None:
    """A metadata commit through Thrift alter_table, without pyiceberg's table lock.

    Our Hive 2.3.9 metastore cannot take locks: its lock() needs the transaction store's
    connection pool (BoneCP), which the pyspark wheel's jars lack, and pyiceberg 0.12's
    HiveCatalog always locks before it commits. alter_table is the call it commits with.
    """
    with catalog._client as client:
        table = client.get_table(NAMESPACE, TABLE)
        table.parameters["certify.load.commit"] = str(next(_counter))
        client.alter_table(NAMESPACE, TABLE, table)


CONNECT = {"rest": _rest, "hive": _hive}


@events.init.add_listener
def _setup(environment: Environment, **_: Any) -> None:
    """Connect each catalog the cell has and create its table; note a half that cannot run."""
    for name, connect in CONNECT.items():
        try:
            catalog = connect()
        except _shared.ProfileNotApplicable as exc:
            _shared.part(name, "not_run", str(exc))
            continue
        try:
            _table(catalog)
        except Exception as exc:  # the half cannot measure anything without its table
            _shared.part(name, "error", f"{type(exc).__name__}: {exc}")
            continue
        AVAILABLE.append(name)
        note = (
            "commits through alter_table without a lock (see _hive_commit)"
            if name == "hive"
            else ""
        )
        _shared.part(name, "ran", note)
    if not AVAILABLE:
        _shared.not_applicable("neither an Iceberg REST catalog nor a Hive metastore can be used")


class CatalogUser(User):
    """Metadata operations, on every catalog the cell has, in turn."""

    wait_time = between(0.02, 0.1)

    def on_start(self) -> None:
        # a client per user: a Thrift connection cannot be shared between greenlets
        self.catalogs = {name: CONNECT[name]() for name in AVAILABLE}

    def _each(self, op: str, call: Any) -> None:
        for name, catalog in self.catalogs.items():
            _shared.timed(self.environment, name, op, lambda c=catalog: call(c))

    def _commit(self, catalog: Any) -> None:
        if hasattr(catalog, "_client"):
            return _hive_commit(catalog)
        table = catalog.load_table(f"{NAMESPACE}.{TABLE}")
        with table.transaction() as tx:
            tx.set_properties({"certify.load.commit": str(next(_counter))})

    @task(2)
    def list_namespaces(self) -> None:
        self._each("list namespaces", lambda c: c.list_namespaces())

    @task(2)
    def list_tables(self) -> None:
        self._each("list tables", lambda c: c.list_tables(NAMESPACE))

    @task(4)
    def load_table(self) -> None:
        self._each("load table", lambda c: c.load_table(f"{NAMESPACE}.{TABLE}"))

    @task(1)
    def commit(self) -> None:
        self._each("commit", self._commit)


Shape = _shared.shape(SHAPE, USERS, SECONDS)
