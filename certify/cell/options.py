"""A platform's options for one cell: typed here, JSON at every process boundary.

A platform session gives each cell its options (`PlatformSession.options`): where its Spark is
(a Spark Connect endpoint, the driver's settings, or why there is none here), the cell's private
database, its jars, the endpoints of its services, of its object store and of its SQL catalog.
They reach child processes as JSON (pytest's `--certify-options` and `cells.json`, the chaos and
load `cell.json`), in the shape `to_json` writes and `from_json` reads. Secrets are never part of
them: credentials travel in the child's environment only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from certify.results.findings import JsonObject, JsonValue

REGION = "us-east-1"
# how many Spark drivers of the run share this machine at once (set in every pytest child)
DRIVERS_VAR = "CERTIFY_CONCURRENT_DRIVERS"
# the scheduler's batch (one pytest process) a cell's scenarios ran in, kept in their records
BATCH_VAR = "CERTIFY_BATCH"


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _object(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in _object(value).items()}


@dataclass(frozen=True)
class SparkOptions:
    """Where the cell's Spark is: unavailable here (why), a Connect endpoint, or driver settings.

    `remote` is only meaningful for a Spark Connect cell: its server's endpoint, or None when
    the platform started none; `session` are the settings its session sets for itself (its
    catalog: cells of a line share one server). `conf` is the driver's configuration of every
    other cell.
    """

    unavailable: str | None = None
    remote: str | None = None
    conf: Mapping[str, str] | None = None
    session: Mapping[str, str] | None = None

    def to_json(self) -> JsonObject:
        """`unavailable` always; then `conf` for a driver, else `remote` (Connect)."""
        out: JsonObject = {"unavailable": self.unavailable}
        if self.unavailable is not None:
            return out
        if self.conf is not None:
            out["conf"] = dict(self.conf)
        else:
            out["remote"] = self.remote
            if self.session:
                out["session"] = dict(self.session)
        return out

    @classmethod
    def from_json(cls, data: object) -> SparkOptions:
        """Inverse of `to_json`; missing keys are absent settings."""
        spark = _object(data)
        conf = spark.get("conf")
        return cls(
            _text(spark.get("unavailable")),
            _text(spark.get("remote")),
            _strings(conf) if conf is not None else None,
            _strings(spark.get("session")) or None,
        )


@dataclass(frozen=True)
class S3Options:
    """The cell's object store: its S3 endpoint, Iceberg REST endpoint, buckets and region."""

    s3: str
    iceberg_rest: str | None = None
    bucket: str = "warehouse"
    table_bucket: str = "lake"
    region: str = REGION

    def to_json(self) -> JsonObject:
        """The keys the object store's service describes itself with."""
        return {
            "s3": self.s3,
            "iceberg_rest": self.iceberg_rest,
            "bucket": self.bucket,
            "table_bucket": self.table_bucket,
            "region": self.region,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> S3Options:
        """From `to_json`'s form (or a service's details); absent keys take the defaults."""
        return cls(
            str(data.get("s3", "")),
            _text(data.get("iceberg_rest")),
            str(data.get("bucket", "warehouse")),
            str(data.get("table_bucket", "lake")),
            str(data.get("region", REGION)),
        )


@dataclass(frozen=True)
class SqlCatalogOptions:
    """The cell's SQL catalog: its database URI and warehouse location."""

    uri: str
    warehouse: str

    def to_json(self) -> JsonObject:
        """`uri` and `warehouse`."""
        return {"uri": self.uri, "warehouse": self.warehouse}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SqlCatalogOptions:
        """Inverse of `to_json`."""
        return cls(str(data.get("uri", "")), str(data.get("warehouse", "")))


@dataclass(frozen=True)
class PlatformOptions:
    """Endpoints and settings a platform gives one cell (never its credentials).

    The defaults are a cell run by hand, without a platform: no endpoints, no settings.
    """

    platform: str = ""
    database: str = ""  # the cell's private database / namespace ("" : none was given)
    spark: SparkOptions = field(default_factory=SparkOptions)
    jars: tuple[Mapping[str, str | None], ...] = ()  # each jar's provenance form
    services: Mapping[str, str] = field(default_factory=dict)  # service name -> endpoint
    s3: S3Options | None = None
    sql_catalog: SqlCatalogOptions | None = None
    # what stands in for a real service here ("catalog=glue: moto's server ..."): in the report
    emulated: tuple[str, ...] = ()

    def to_json(self) -> JsonObject:
        """The JSON form child processes read (`s3`, `sql_catalog` only where present)."""
        jars: list[JsonValue] = [dict(j) for j in self.jars]
        out: JsonObject = {
            "platform": self.platform,
            "database": self.database,
            "spark": self.spark.to_json(),
            "jars": jars,
            "services": dict(self.services),
        }
        if self.s3 is not None:
            out["s3"] = self.s3.to_json()
        if self.sql_catalog is not None:
            out["sql_catalog"] = self.sql_catalog.to_json()
        if self.emulated:
            out["emulated"] = list(self.emulated)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> PlatformOptions:
        """Inverse of `to_json`; a partial form (a hand-written `--certify-options`) is fine."""
        s3, sql = data.get("s3"), data.get("sql_catalog")
        raw_jars = data.get("jars")
        jars = raw_jars if isinstance(raw_jars, Sequence) and not isinstance(raw_jars, str) else ()
        return cls(
            platform=str(data.get("platform") or ""),
            database=str(data.get("database") or ""),
            spark=SparkOptions.from_json(data.get("spark")),
            jars=tuple({str(k): _text(v) for k, v in _object(j).items()} for j in jars),
            services=_strings(data.get("services")),
            s3=S3Options.from_json(_object(s3)) if s3 else None,
            sql_catalog=SqlCatalogOptions.from_json(_object(sql)) if sql else None,
            emulated=tuple(str(e) for e in _list(data.get("emulated"))),
        )


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []
