"""Run one experiment on one cell: render, control channel, Chaos Toolkit subprocess, verdict.

The fault target stays in this process (restarted services stay supervised by the session);
the experiment runs in its own subprocess and reaches the target over a Unix socket. Whatever
happens (passed, failed, timed out, interrupted), the target restores the platform afterwards
and certify checks it is back as before; anything it had to restore fails the experiment.
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from certify.cell import cell_slug
from certify.chaos import experiments as exps
from certify.chaos.control import CONTROL_VAR, ControlServer
from certify.chaos.journal import Verdict, verdict
from certify.chaos.workload_proc import Workloads
from certify.errors import CertifyError, ExperimentError, Interrupted
from certify.host.pool import session_marker
from certify.host.process import start_child, stop_group, wait_child
from certify.host.provenance import now
from certify.plan import PlannedCell
from certify.platforms.base import CellJob, PlatformSession, Runtime
from certify.platforms.faults import FaultTarget
from certify.platforms.local.faults import RUN_VAR
from certify.results import Record

_ROLLBACK_GRACE_S = 90.0


def run_experiment(
    name: str,
    job: CellJob,
    *,
    timeout_s: float = 900,
    target: FaultTarget | None = None,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Record:
    """Run experiment `name` on the job's cell; store the record and return it.

    `target` replaces the session's fault target (tests plant broken ones). Raises Interrupted
    (after restoring the platform and storing the record) when certify is signalled meanwhile.
    """
    planned, runtime, session = job.planned, job.runtime, job.session
    out, root, store, run_id = job.out, job.root, job.store, job.run_id
    started, t0 = now(), time.monotonic()
    folder = out / "evidence" / cell_slug(planned.cell.id) / "chaos" / name

    def record(status: str, message: str, **extra: Any) -> Record:
        rec = Record(
            run_id,
            planned.cell.id,
            name,
            f"chaos/{name}",
            status,
            kind="experiment",
            message=message,
            started=started,
            finished=now(),
            duration_s=round(time.monotonic() - t0, 3),
            **extra,
        )
        store.add(rec)
        return rec

    try:
        experiment = exps.load(exps.find(root, name))
    except ExperimentError as exc:
        return record("error", str(exc))
    why = experiment.not_applicable(planned.cell.values)
    if why is not None:
        return record("not_run", why, applicable=False)
    token = _secrets.token_hex(6)
    if target is None:
        target = session.fault_target(planned, token)
        if target is None:
            return record("not_run", "the platform supplies no fault target for chaos")
    run = _Run(experiment, planned, runtime, session, folder, root, target, token)
    try:
        result = run.execute(timeout_s, on_start)
    except Interrupted:
        record("error", "interrupted: " + run.finish_note(), provenance=run.provenance(None))
        raise
    except CertifyError as exc:
        notes = run.finish_note()
        return record(
            "error", f"{exc}{'; ' + notes if notes else ''}", provenance=run.provenance(None)
        )
    return record(result.status, result.message, provenance=run.provenance(result))


class _Run:
    """The state of one experiment run in the parent process."""

    def __init__(
        self,
        experiment: exps.Experiment,
        planned: PlannedCell,
        runtime: Runtime,
        session: PlatformSession,
        folder: Path,
        root: Path,
        target: Any,
        token: str,
    ) -> None:
        self.experiment, self.planned, self.runtime = experiment, planned, runtime
        self.session, self.folder, self.root, self.target = session, folder, root, target
        self.token = token
        self.journal = folder.parent / f"{experiment.name}.journal.json"
        self.restored: list[str] = []
        self.leftovers: list[str] = []
        self.finished = False

    def _cell_file(self) -> Path:
        workdir = (self.folder / "work").resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        info = {
            "id": self.planned.cell.id,
            "values": self.planned.cell.values,
            "options": self.session.options(self.planned, workdir).to_json(),
            "python": str(self.runtime.python),
            "workdir": str(workdir),
            "folder": str(self.folder.resolve()),
        }
        path = self.folder / "cell.json"
        path.write_text(json.dumps(info, indent=2) + "\n")
        return path

    def execute(
        self, timeout_s: float, on_start: Callable[[subprocess.Popen[bytes]], None] | None
    ) -> Verdict:
        """Render, validate, run the subprocess, restore and judge."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.journal.unlink(missing_ok=True)
        cell_file = self._cell_file()
        rendered = exps.render(self.experiment, self.planned.cell.id, cell_file, self.folder)
        exps.validate(json.loads(rendered.read_text()), rendered)
        before = _snapshot(self.target)
        info = json.loads(cell_file.read_text())
        workloads = Workloads(info, self.target, self._workload_env(), self.root, self.folder)
        ops = _ops(self.target, workloads)
        log = self.folder / "chaos.log"
        try:
            with ControlServer(self.folder / "control.sock", ops) as server, log.open("ab") as out:
                env = {**self._env(), CONTROL_VAR: str(server.path), exps.CELL_VAR: str(cell_file)}
                argv = [
                    sys.executable,
                    "-m",
                    "certify.chaos.subproc",
                    str(rendered),
                    str(self.journal),
                ]
                proc = start_child(argv, out, self.root, env)
                if on_start is not None:
                    on_start(proc)
                try:
                    rc = wait_child(proc, out, timeout_s)
                finally:
                    stop_group(proc, _ROLLBACK_GRACE_S)
        finally:
            workloads.stop()
            self._restore(before)
        return self._judge(rc if "rc" in locals() else -1)

    def _judge(self, rc: int) -> Verdict:
        try:
            journal = json.loads(self.journal.read_text())
        except (OSError, ValueError):
            why = "timed out" if rc == -9 else f"exited with code {rc}"
            note = self.finish_note()
            return Verdict(
                "error",
                f"the Chaos Toolkit run {why} without a journal "
                f"(see {self.folder / 'chaos.log'}){'; ' + note if note else ''}",
            )
        result = verdict(journal, self.experiment.fault, self.experiment.criteria)
        if rc == -9:
            result.status, result.message = "error", f"timed out; {result.message}"
        if (self.restored or self.leftovers) and result.status in ("passed", "failed"):
            if result.status == "passed":
                result.message = "the experiment's rollbacks left the platform broken"
            result.status = "failed"
            result.message += "; " + self.finish_note()
        return result

    def finish_note(self) -> str:
        """What certify had to restore, and what is still wrong."""
        parts = []
        if self.restored:
            parts.append("certify restored: " + ", ".join(self.restored))
        if self.leftovers:
            parts.append("NOT back as before: " + ", ".join(self.leftovers))
        return "; ".join(parts)

    def _restore(self, before: dict[str, Any]) -> None:
        try:
            self.restored = list(self.target.restore())
        except Exception as exc:  # the check below says what is left
            self.restored = [f"restore failed: {exc}"]
        self.leftovers = _differences(before, _snapshot(self.target), self.target)
        self.finished = True

    def _env(self) -> dict[str, str]:
        env = {
            **os.environ,
            **self.session.env(self.planned),
            **session_marker(self.session.session_id),
        }
        env["PYTHONPATH"] = os.pathsep.join(_paths(self.root))
        env.pop("VIRTUAL_ENV", None)
        return env

    def _workload_env(self) -> dict[str, str]:
        env = self._env()
        env.update(
            {
                RUN_VAR: self.token,
                "PYSPARK_PYTHON": str(self.runtime.python),
                "PYSPARK_DRIVER_PYTHON": str(self.runtime.python),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        return env

    def provenance(self, result: Verdict | None) -> dict[str, Any]:
        """The record's provenance: metrics and the chaos section of the contract."""
        rel = os.path.relpath(self.journal, self.folder.parents[3])
        chaos: dict[str, Any] = {
            "journal": rel,
            "status": "",
            "deviated": False,
            "recovery_time_s": None,
            "data_integrity": {"verdict": "unchecked", "rows_verified": 0, "tables": []},
        }
        metrics: dict[str, Any] = {}
        if result is not None:
            chaos.update(result.chaos)
            metrics = result.metrics
        chaos["restored"] = list(self.restored)
        chaos["leftovers"] = list(self.leftovers)
        return {"metrics": metrics, "chaos": chaos, "runtime": self.runtime.name}


def _paths(root: Path) -> list[str]:
    own = str(Path(__file__).resolve().parents[2])
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return list(dict.fromkeys([str(root), own, *extra]))


def _ops(target: Any, workloads: Workloads) -> dict[str, Callable[..., Any]]:
    """The operations the experiment's actions and probes may ask for."""
    return {
        "services": lambda: [s.to_json() for s in target.services()],
        "stop_service": target.stop_service,
        "start_service": target.start_service,
        "kill": target.kill,
        "latency": target.latency,
        "loss": target.loss,
        "partition": target.partition,
        "heal": lambda service=None: _confirm(target.heal(service)),
        "start_workload": workloads.start,
        "workload_alive": workloads.alive,
        "workload_folder": workloads.folder_of,
    }


def _confirm(healed: dict[str, Any]) -> dict[str, Any]:
    """Network-fault confirmation from what the proxies measured."""
    stats = healed.get("stats") or {}
    hits = {
        k: s
        for k, s in stats.items()
        if s.get("delayed_chunks") or s.get("lost_chunks") or s.get("partitioned_s")
    }
    evidence = "; ".join(
        f"{k}: added up to {s.get('added_ms_max')} ms over {s.get('delayed_chunks')} chunks, "
        f"{s.get('lost_chunks')} lost, partitioned {s.get('partitioned_s')} s"
        for k, s in hits.items()
    )
    return {**healed, "confirmed": bool(hits), "evidence": evidence or "no fault measured"}


def _tc_qdisc() -> str:
    try:
        proc = subprocess.run(
            ["tc", "qdisc", "show", "dev", "lo"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "(tc not available)"
    return proc.stdout.strip()


def _snapshot(target: Any) -> dict[str, Any]:
    services = {s.name: (s.endpoint, s.healthy) for s in target.services()}
    return {"services": services, "qdisc": _tc_qdisc()}


def _differences(before: dict[str, Any], after: dict[str, Any], target: Any) -> list[str]:
    """How the platform differs from before the experiment (waiting a while for health)."""
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline and any(
        ok and not after["services"].get(name, ("", False))[1]
        for name, (_, ok) in before["services"].items()
    ):
        time.sleep(0.5)
        after = _snapshot(target)
    diffs = []
    for name, (endpoint, healthy) in before["services"].items():
        now_endpoint, now_healthy = after["services"].get(name, ("", False))
        if healthy and not now_healthy:
            diffs.append(f"service {name} is not healthy")
        if now_endpoint != endpoint:
            diffs.append(f"service {name} moved from {endpoint} to {now_endpoint}")
    if after["qdisc"] != before["qdisc"]:
        diffs.append(f"tc qdisc on lo changed: {after['qdisc']!r}")
    if getattr(target, "proxies", None):
        diffs.append(f"proxies left open: {', '.join(target.proxies)}")
    strays: list[int] = list(getattr(target, "strays", list)())
    if strays:
        diffs.append(f"stray processes left: {strays}")
    return diffs
