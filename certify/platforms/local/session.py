"""A local platform session: the services a set of cells needs, started once and shared.

Services are keyed by what makes them shareable: one Hive Metastore, one SeaweedFS and one SQL
catalog per session; a standalone cluster per Spark line; a Spark Connect server per Spark line
and catalog (its catalog settings are static). S3 credentials are generated per session and
reach services and cells only through their environment.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from certify.cell import PlatformOptions, S3Options, SparkOptions, SqlCatalogOptions, database_name
from certify.errors import InfrastructureError
from certify.plan import PlannedCell
from certify.platforms.base import Assessment, Need
from certify.platforms.faults import FaultTarget
from certify.platforms.glue import aws_env
from certify.platforms.jars import Jar, without_shipped
from certify.platforms.local.services.base import Service
from certify.platforms.local.services.glue import Glue, moto_server_binary
from certify.platforms.local.services.hive_metastore import HiveMetastore
from certify.platforms.local.services.seaweedfs import SeaweedFS, weed_binary
from certify.platforms.local.services.spark_connect import SparkConnect
from certify.platforms.local.services.spark_standalone import SparkMaster, SparkWorker
from certify.platforms.local.services.sql_catalog import SqlCatalog
from certify.platforms.local.services.supervisor import Running, Supervisor
from certify.platforms.local.state import SessionState
from certify.platforms.sparkconf import (
    CellSpark,
    Endpoints,
    connect_session_conf,
    driver_conf,
    shared_server_conf,
)

S3_KEY_VAR = "CERTIFY_S3_ACCESS_KEY_ID"
S3_SECRET_VAR = "CERTIFY_S3_SECRET_ACCESS_KEY"
# a second S3 identity that may only read and list: the security suite proves it cannot write
S3_READONLY_KEY_VAR = "CERTIFY_S3_READONLY_ACCESS_KEY_ID"
S3_READONLY_SECRET_VAR = "CERTIFY_S3_READONLY_SECRET_ACCESS_KEY"
WORKERS_VAR = "CERTIFY_SPARK_WORKERS"


def _credentials() -> tuple[str, str]:
    """S3 credentials for the session: generated, unless certify was given some to use."""
    import os

    given = os.environ.get(S3_KEY_VAR), os.environ.get(S3_SECRET_VAR)
    if given[0] and given[1]:
        return given[0], given[1]
    return secrets.token_hex(10), secrets.token_urlsafe(30)


def _workers() -> int:
    import os

    try:
        return max(1, int(os.environ.get(WORKERS_VAR, "1")))
    except ValueError:
        return 1


class LocalSession:
    """Starts, describes and stops the services of a run or of `certify platform up`."""

    def __init__(
        self,
        cells: Sequence[PlannedCell],
        assessments: Mapping[str, Assessment],
        homes: Mapping[str, Path | None],
        logs: Path,
        mode: str,
        slots: int = 1,
    ) -> None:
        self.cells = list(cells)
        self.slots = max(1, slots)
        self.assessments = assessments
        self.homes = homes
        self.mode = mode
        self.workers = _workers()
        needs = {n for p in self.cells for n in assessments[p.cell.id].needs}
        self.needs = needs
        s3 = Need("seaweedfs") in needs
        self.key, self.secret = _credentials() if s3 else ("", "")
        self.reader_key, self.reader_secret = (
            (secrets.token_hex(10), secrets.token_urlsafe(30)) if s3 else ("", "")
        )
        self.state = SessionState.create(mode)
        self.supervisor = Supervisor(self.state, logs, self.secrets, die_with_parent=mode == "run")
        self.running: dict[str, Running] = {}
        self.failures: dict[Need, str] = {}  # services that did not start: why
        self.by_need: dict[Need, list[Running]] = {}
        # restarted services are started from this one long-lived thread: PR_SET_PDEATHSIG
        # fires when the starting *thread* ends, so a short-lived thread would kill them
        self._keeper: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Start every needed service; the Connect servers after the metastore they point at.

        A Connect server serves only the cells of its line and classpath: when it does not
        start, those cells fail with its reason (`failed`) and every other cell runs.
        """
        try:
            spawned = [self._spawn(n, s) for n, s in self._first_wave()]
            connect = [(n, self._spawn(n, s)) for n, s in self._connect_wave()]
            self.supervisor.wait_healthy(spawned)
            for need, server in connect:
                try:
                    self.supervisor.wait_healthy([server])
                except InfrastructureError as exc:
                    self.failures[need] = str(exc)
                    self.supervisor.stop_one(server.name, grace_s=5.0)
            self.state.mark_complete()
        except BaseException:
            self.stop()
            raise

    def failed(self, planned: PlannedCell) -> str | None:
        """Why a service of the cell's own did not start (a Connect server), or None."""
        for need in self.assessments[planned.cell.id].needs:
            if need in self.failures:
                return self.failures[need]
        return None

    def _spawn(self, need: Need, service: Service) -> Running:
        running = self.supervisor.spawn(service, need.kind)
        self.by_need.setdefault(need, []).append(running)
        self.running[running.name] = running
        return running

    def _suffix(self, kind: str, suffix: str) -> str:
        """`@suffix` when a session runs several services of `kind` (else names stay plain)."""
        return f"@{suffix}" if sum(1 for n in self.needs if n.kind == kind) > 1 else ""

    def _first_wave(self) -> list[tuple[Need, Service]]:
        out: list[tuple[Need, Service]] = []
        for need in sorted(self.needs, key=lambda n: (n.kind, n.line, n.catalog)):
            if need.kind == "hive-metastore":
                out.append((need, HiveMetastore(self._metastore_home())))
            elif need.kind == "seaweedfs":
                weed = weed_binary(self._bins())
                if weed is None:
                    raise InfrastructureError("SeaweedFS `weed` binary not found")
                out.append(
                    (
                        need,
                        SeaweedFS(weed, self.key, self.secret, self.reader_key, self.reader_secret),
                    )
                )
            elif need.kind == "sql-catalog":
                out.append((need, SqlCatalog()))
            elif need.kind == "glue":
                moto = moto_server_binary(self._bins())
                if moto is None:
                    raise InfrastructureError(
                        "catalog=glue needs moto's server: `moto_server` not found (pip install "
                        "'moto[server]', part of certify's `platform` extra)"
                    )
                out.append((need, Glue(moto)))
            elif need.kind == "spark-standalone":
                home, suffix = self._home_for(need.line), self._suffix(need.kind, need.line)
                master = SparkMaster(home, name="spark-master" + suffix)
                out.append((need, master))
                cores = self._executor_cores(need.line)
                for i in range(1, self.workers + 1):
                    worker = SparkWorker(home, master, index=i, cores=cores, memory=f"{cores}g")
                    worker.suffix = suffix
                    worker.opts = self._worker_gpu_opts(need.line)
                    out.append((need, worker))
        return out

    def _worker_gpu_opts(self, line: str) -> str:
        """SPARK_WORKER_OPTS offering this machine's GPUs, when a gpu=nvidia cell needs them."""
        gpu = any(
            p.cell.values.get("gpu") == "nvidia" and p.cell.values.get("spark") == line
            for p in self.cells
        )
        if not gpu:
            return ""
        from certify.platforms.capabilities import gpus
        from certify.platforms.gpu import standalone_worker_opts

        return standalone_worker_opts(self._gpu_script(), gpus=max(1, len(gpus()[0])))

    def _executor_cores(self, line: str) -> int:
        """A worker's cores: one per standalone cell of `line` that can run at once.

        Each cell's driver asks for `workers` one-core executors (spark.cores.max), so with a
        core per slot on every worker no cell ever waits for another cell's executors.
        """
        standalone = sum(
            1
            for p in self.cells
            if p.cell.values.get("deploy") == "standalone" and p.cell.values.get("spark") == line
        )
        return max(1, min(self.slots, standalone))

    def _connect_wave(self) -> list[tuple[Need, Service]]:
        """One Spark Connect server per line and classpath, for its Connect cells (a session
        each: the cells' catalogs are their sessions' settings)."""
        out: list[tuple[Need, Service]] = []
        for need in sorted(n for n in self.needs if n.kind == "spark-connect"):
            cells = [p for p in self.cells if need in self.assessments[p.cell.id].needs]
            warehouse = self.state.path / "connect-warehouse"
            conf = shared_server_conf([self._cell_spark(p, warehouse) for p in cells])
            suffix = self._suffix(need.kind, "-".join(p for p in (need.line, need.classpath) if p))
            # a Glue catalog's client runs in the server's JVM: it signs with the session's key
            glue = any(p.cell.values.get("catalog") == "glue" for p in cells)
            env = aws_env(self.key, self.secret) if glue and self.key else {}
            server = SparkConnect(
                self._home_for(need.line), conf, name="spark-connect" + suffix, env=env
            )
            out.append((need, server))
        return out

    def _home_for(self, line: str) -> Path:
        for planned in self.cells:
            home = self.homes.get(planned.cell.id)
            if planned.cell.values.get("spark") == line and home is not None:
                return home
        raise InfrastructureError(f"no pyspark installation found for Spark {line}")

    def _metastore_home(self) -> Path:
        # Hive 2.3.9 from the 3.5 wheel is the verified metastore; other lines' Hive jars also work
        ordered = sorted(
            (p for p in self.cells if self.homes.get(p.cell.id) is not None),
            key=lambda p: p.cell.values.get("spark") != "3.5",
        )
        if not ordered:
            raise InfrastructureError("no pyspark installation found to run the Hive Metastore")
        home = self.homes[ordered[0].cell.id]
        assert home is not None
        return home

    def _bins(self) -> list[Path]:
        return [h.parents[3] / "bin" for h in self.homes.values() if h is not None]

    def _first(self, kind: str, line: str = "", catalog: str = "") -> Running | None:
        for need, running in self.by_need.items():
            if need.kind == kind and need.line == line and need.catalog == catalog:
                return running[0]
        return None

    def _cell_spark(self, planned: PlannedCell, warehouse: Path) -> CellSpark:
        values = planned.cell.values
        hive = self._first("hive-metastore")
        master = self._first("spark-standalone", values.get("spark", ""))
        s3 = self._first("seaweedfs")
        sql = self._first("sql-catalog")
        glue = self._first("glue")
        jars = self.jars_of(planned)
        return CellSpark(
            values,
            warehouse,
            Endpoints(
                master=master.launch.endpoint if master else None,
                hive=hive.launch.endpoint if hive else None,
                s3=s3.launch.endpoint if s3 else None,
                iceberg_rest=s3.launch.details.get("iceberg_rest") if s3 else None,
                sql_catalog=sql.launch.endpoint if sql else None,
                glue=glue.launch.endpoint if glue else None,
                workers=self.workers,
            ),
            jar_paths=[str(j.path) for j in jars if j.path is not None],
            gpu_discovery=str(self._gpu_script()) if values.get("gpu") == "nvidia" else "",
        )

    def _gpu_script(self) -> Path:
        """The GPU discovery script executors and workers run (written once per session)."""
        from certify.platforms.gpu import DISCOVERY_SCRIPT, write_discovery_script

        script = self.state.path / DISCOVERY_SCRIPT
        return script if script.is_file() else write_discovery_script(self.state.path)

    def jars_of(self, planned: PlannedCell) -> list[Jar]:
        """The cell's jar files, less those its pyspark installation already ships."""
        found = [j for j in self.assessments[planned.cell.id].jars if isinstance(j, Jar)]
        return without_shipped(found, self.homes.get(planned.cell.id))

    def options(self, planned: PlannedCell, workdir: Path, scope: str = "") -> PlatformOptions:
        """Everything the cell's fixtures need, except credentials.

        Names the cell makes in shared services derive from (`scope` or the session's id, cell
        id): pass the run id, so that a resumed run (a new session) keeps its cells' names.
        """
        weed, sql = self._first("seaweedfs"), self._first("sql-catalog")
        return PlatformOptions(
            platform="local",
            database=database_name(scope or self.session_id, planned.cell.id),
            spark=self._spark_options(planned, workdir),
            jars=tuple(j.to_json() for j in self.jars_of(planned)),
            emulated=self.assessments[planned.cell.id].emulated,
            services=self.endpoints_for(planned),
            s3=S3Options.from_json(weed.launch.details) if weed is not None else None,
            sql_catalog=(
                SqlCatalogOptions.from_json({"uri": sql.launch.endpoint, **sql.launch.details})
                if sql is not None
                else None
            ),
        )

    def _spark_options(self, planned: PlannedCell, workdir: Path) -> SparkOptions:
        """The cell's Connect endpoint or driver settings, or why Spark cannot serve it here."""
        values = planned.cell.values
        unavailable = self.assessments[planned.cell.id].spark
        if unavailable is not None:
            return SparkOptions(unavailable)
        if values.get("deploy") == "connect":
            needs = self.assessments[planned.cell.id].needs
            group = [r for n in needs if n.kind == "spark-connect" for r in self.by_need.get(n, [])]
            server = group[0] if group and not self.failed(planned) else None
            cell = self._cell_spark(planned, self.state.path / "connect-warehouse")
            return SparkOptions(
                remote=server.launch.endpoint if server else None,
                session=connect_session_conf(cell),
            )
        cell = self._cell_spark(planned, workdir / "warehouse")
        return SparkOptions(conf=driver_conf(cell, workdir))

    def endpoints_for(self, planned: PlannedCell) -> dict[str, str]:
        """Service name -> endpoint, for the services this cell uses."""
        return {
            r.name: r.launch.endpoint
            for need in self.assessments[planned.cell.id].needs
            for r in self.by_need.get(need, [])
        }

    def env(self, planned: PlannedCell) -> dict[str, str]:
        """Credentials for the cell's pytest process (only where it uses SeaweedFS)."""
        if Need("seaweedfs") in self.assessments[planned.cell.id].needs and self.key:
            return {
                S3_KEY_VAR: self.key,
                S3_SECRET_VAR: self.secret,
                S3_READONLY_KEY_VAR: self.reader_key,
                S3_READONLY_SECRET_VAR: self.reader_secret,
            }
        return {}

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in any output."""
        values = (self.key, self.secret, self.reader_key, self.reader_secret)
        return [s for s in values if s]

    @property
    def session_id(self) -> str:
        """The id every process of this session carries in its environment."""
        return self.state.id

    def fault_target(self, planned: PlannedCell, token: str) -> FaultTarget:
        """The chaos fault target of `planned`: only processes of this session, loopback proxies."""
        from certify.platforms.local.faults import LocalFaultTarget

        return LocalFaultTarget(self, planned, token)

    def status(self) -> list[dict[str, Any]]:
        """Each service: name, pid, endpoint, healthy."""
        return [
            {
                "name": r.name,
                "pid": r.proc.pid if r.proc else None,
                "endpoint": r.launch.endpoint,
                "healthy": r.service.healthy(r.launch),
                "start_s": round(r.start_s, 2),
                "log": str(r.log),
            }
            for r in self.running.values()
        ]

    def stop_service(self, name: str, grace_s: float = 10.0) -> None:
        """Stop one service (a fault); `restart_service` brings it back on the same endpoint."""
        self.supervisor.stop_one(name, grace_s)

    def restart_service(self, name: str) -> Running:
        """Start a stopped or killed service again (same argv, ports, data) and wait healthy."""
        if self._keeper is None:
            self._keeper = ThreadPoolExecutor(1, thread_name_prefix="certify-services")
        running = self._keeper.submit(self.supervisor.restart, name).result()
        self.running[name] = running
        for group in self.by_need.values():
            group[:] = [running if r.name == name else r for r in group]
        return running

    def service_alive(self, name: str) -> bool:
        """Whether the service's process runs."""
        return self.supervisor.alive(name)

    def kind_of(self, name: str) -> str:
        """The kind of need a service serves (`spark-standalone`, `hive-metastore`, ...)."""
        for need, group in self.by_need.items():
            if any(r.name == name for r in group):
                return need.kind
        return ""

    def stop(self) -> None:
        """Stop every service and remove the session's state (idempotent)."""
        self.supervisor.stop()
        self.state.stop(grace_s=5.0)
