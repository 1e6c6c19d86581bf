"""The parent's side of the workload: start it in the cell's runtime, track it, stop it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, cast

from certify.cell import PlatformOptions
from certify.chaos.workload_io import WorkloadSpec
from certify.host.process import start_child, stop_group
from certify.platforms.faults import FaultTarget
from certify.results.findings import JsonObject

DROP_GRACE_S = 60.0  # how long a verified workload may take to drop its table and end


def _wait_group_gone(pgid: int, timeout_s: float) -> None:
    """Wait until no process of the group is left (its JVM dies a moment after SIGKILL)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)


class Workloads:
    """The workload of one experiment run (one at a time), started on the action's request."""

    def __init__(
        self, cell: JsonObject, target: FaultTarget, env: dict[str, str], root: Path, folder: Path
    ) -> None:
        self.cell, self.target, self.env, self.root = cell, target, env, root
        options = cell.get("options")
        self.options = PlatformOptions.from_json(options if isinstance(options, dict) else {})
        values = cell.get("values")
        self.values = (
            {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}
        )
        self.base = folder / "workload"
        self.proc: subprocess.Popen[bytes] | None = None
        self.folder: Path | None = None
        self._log: IO[bytes] | None = None

    def spec(self, table: str, via: Mapping[str, str], params: JsonObject) -> WorkloadSpec:
        """The workload's spec: the cell, the table, the client's endpoints (proxied per `via`)."""
        spark = self.options.spark
        kind = str(params.pop("kind", "") or "")
        if not kind:
            pyiceberg = spark.unavailable or (not spark.conf and not spark.remote)
            kind = "pyiceberg" if pyiceberg else "spark"
        raw = params.pop("conf", None)
        conf = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        endpoints: dict[str, str] = {}
        for client, service in via.items():
            proxied = str(self.target.proxy(service))
            if client == "hive":
                conf["spark.hadoop.hive.metastore.uris"] = proxied
            else:
                endpoints[client] = proxied if "://" in proxied else f"http://{proxied}"
        folder = self.base.resolve()
        return WorkloadSpec(kind, table, folder, self.values, self.options, conf, endpoints, params)

    def start(
        self, table: str, via: Mapping[str, str], params: JsonObject, env: Mapping[str, str]
    ) -> JsonObject:
        """Start the workload (the previous one, if any, is stopped first)."""
        self.stop()
        folder = self.base
        folder.mkdir(parents=True, exist_ok=True)
        spec = self.spec(table, via, dict(params))
        for stale in folder.glob("*.json"):
            stale.unlink()
        (folder / "verify.go").unlink(missing_ok=True)
        path = folder / "spec.json"
        path.write_text(json.dumps(spec.to_json(), indent=1) + "\n")
        argv = [str(self.cell["python"]), "-m", "certify.chaos.workload", str(path.resolve())]
        self._log = (folder / "workload.log").open("ab")
        self.proc = start_child(argv, cast(Any, self._log), self.root, {**self.env, **env})
        self.folder = folder
        return {
            "pid": self.proc.pid,
            "folder": str(folder.resolve()),
            "kind": spec.kind,
            "endpoints": dict(spec.endpoints),
        }

    def alive(self) -> bool:
        """Whether the workload process still runs."""
        return self.proc is not None and self.proc.poll() is None

    def folder_of(self) -> str | None:
        """The workload's folder (None before any workload started)."""
        return str(self.folder.resolve()) if self.folder is not None else None

    def stop(self) -> None:
        """Stop the workload's process group (idempotent).

        A workload that has verified its table is let finish first (it drops the table then),
        for at most `DROP_GRACE_S`.
        """
        if self.proc is not None:
            if self.folder is not None and (self.folder / "verify.json").exists():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(DROP_GRACE_S)
            stop_group(self.proc, 5.0)
            _wait_group_gone(self.proc.pid, 10.0)
        if self._log is not None:
            self._log.close()
            self._log = None
