"""online-lookup: latest feature values for random entity keys in a partitioned Iceberg table.

An online feature store's read path: a batch of up to 100 entity keys, up to 20 feature columns,
the latest value per key, from a table partitioned by entity_id % 16 (a shard column) so a
lookup reads only the partitions of its keys. Metadata is warm: each user loads the table once
and reuses it.
Published target for Iceberg online stores: p50 <= 75 ms, p95 <= 200 ms.
"""

from __future__ import annotations

import random
from typing import Any

import _shared
from locust import User, between, events, task
from locust.env import Environment

PROFILE = "online-lookup"
TARGET = "s3.iceberg_rest"
REQUIRES = {"catalog": ["iceberg-rest", "iceberg-sql"]}
SHAPE = "ramp"
USERS = 3
SECONDS = 60
SLO = {
    "*": {"p50_ms": 75, "p95_ms": 200, "p99_ms": 1000, "error_rate": 0.001, "rps": 1.0},
}
ENTITIES = 2000
VERSIONS = 2
FEATURES = 20
SHARDS = 16  # identity partitions on entity_id % SHARDS (bucket() needs pyiceberg-core)

CELL = _shared.declare(globals())
OPTIONS: dict[str, Any] = CELL.get("options", {})
IDENT = _shared.names(CELL).table("online_features")


def _catalog() -> Any:
    from pyiceberg.catalog import load_catalog

    values = CELL.get("values", {})
    s3 = OPTIONS.get("s3") or {}
    if values.get("catalog") == "iceberg-rest" and s3.get("iceberg_rest"):
        from certify.platforms.clients import rest_catalog

        return rest_catalog(s3, *_shared.credentials())
    sql = OPTIONS.get("sql_catalog") or {}
    if values.get("catalog") == "iceberg-sql" and sql.get("uri"):
        return load_catalog("sql", type="sql", uri=sql["uri"], warehouse=str(sql["warehouse"]))
    raise _shared.ProfileNotApplicable("the cell has no pyiceberg catalog (iceberg-rest/-sql)")


def _features() -> Any:
    """ENTITIES x VERSIONS rows: entity_id, ts and FEATURES double columns."""
    import pyarrow as pa

    rng = random.Random(7)
    ids = [e for _ in range(VERSIONS) for e in range(ENTITIES)]
    ts = [
        1_700_000_000_000_000 + v * 3_600_000_000 for v in range(VERSIONS) for _ in range(ENTITIES)
    ]
    columns = {
        "entity_id": pa.array(ids, pa.int64()),
        "shard": pa.array([e % SHARDS for e in ids], pa.int32()),
        "ts": pa.array(ts, pa.timestamp("us")),
    }
    for f in range(FEATURES):
        columns[f"f{f:02d}"] = pa.array([rng.random() for _ in ids], pa.float64())
    return pa.table(columns)


def _create(catalog: Any) -> None:
    from pyiceberg.transforms import IdentityTransform

    namespace = IDENT.split(".")[0]
    if (namespace,) not in catalog.list_namespaces():
        catalog.create_namespace(namespace)
    if catalog.table_exists(IDENT):
        catalog.drop_table(IDENT)
    data = _features()
    table = catalog.create_table(IDENT, data.schema)
    with table.update_spec() as update:
        update.add_field("shard", IdentityTransform(), "shard")
    table = catalog.load_table(IDENT)
    table.append(data)


@events.init.add_listener
def _setup(environment: Environment, **_: Any) -> None:
    """Create the feature table (dropped and written again: each run starts the same)."""
    try:
        catalog = _catalog()
    except _shared.ProfileNotApplicable as exc:
        _shared.not_applicable(str(exc))
        return
    try:
        _create(catalog)
    except Exception as exc:  # without the table there is nothing to look up
        _shared.setup_failed(f"writing {IDENT}", exc)


class LookupUser(User):
    """Point lookups of the latest features of a batch of random entity keys."""

    wait_time = between(0.01, 0.05)

    def on_start(self) -> None:
        self.table = _catalog().load_table(IDENT)  # warm metadata: loaded once per user

    def _lookup(self, keys: int, columns: int) -> None:
        from pyiceberg.expressions import And, In

        wanted = random.sample(range(ENTITIES), keys)
        fields = ("entity_id", "ts", *(f"f{i:02d}" for i in range(columns)))
        with _shared.request(
            self.environment, "lookup", f"{keys} keys x {columns} features"
        ) as info:
            shards = {k % SHARDS for k in wanted}  # prunes to the keys' partitions
            where = And(In("shard", shards), In("entity_id", wanted))
            rows = self.table.scan(row_filter=where, selected_fields=fields)
            found = rows.to_arrow().sort_by([("entity_id", "ascending"), ("ts", "descending")])
            latest: dict[int, int] = {}
            for i, entity in enumerate(found.column("entity_id").to_pylist()):
                latest.setdefault(entity, i)
            if len(latest) != keys:
                raise LookupError(f"{keys - len(latest)} of {keys} keys have no features")
            info["length"] = len(latest)

    @task(6)
    def one_key(self) -> None:
        self._lookup(1, 20)

    @task(3)
    def ten_keys(self) -> None:
        self._lookup(10, 20)

    @task(1)
    def hundred_keys(self) -> None:
        self._lookup(100, 20)


Shape = _shared.shape(SHAPE, USERS, SECONDS)
