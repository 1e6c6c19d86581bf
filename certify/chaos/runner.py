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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import certify.chaos.experiments as exps
from certify.cell import cell_slug
from certify.chaos.control import CONTROL_VAR, ControlServer
from certify.chaos.journal import Verdict, verdict
from certify.chaos.workload_proc import Workloads
from certify.errors import CertifyError, ExperimentError, Interrupted
from certify.host.pool import session_marker
from certify.host.process import start_child, stop_group, wait_child
from certify.platforms.base import CellJob
from certify.platforms.faults import FaultEvidence, FaultTarget
from certify.platforms.local.faults import RUN_VAR
from certify.results import Outcome, Record
from certify.results.findings import ChaosFinding

_ROLLBACK_GRACE_S = 90.0
OnStart = Callable[[subprocess.Popen[bytes]], None]


@dataclass(frozen=True)
class _Evidence:
    """What a record of an experiment that ran carries beside its status."""

    finding: ChaosFinding
    metrics: Mapping[str, float]
    runtime: str


def run_experiment(
    name: str,
    job: CellJob,
    *,
    timeout_s: float = 900,
    target: FaultTarget | None = None,
    on_start: OnStart | None = None,
) -> Record:
    """Run experiment `name` on the job's cell; store the record and return it.

    `target` replaces the session's fault target (tests plant broken ones). Raises Interrupted
    (after restoring the platform and storing the record) when certify is signalled meanwhile.
    """
    outcome, t0 = Outcome(job.run_id, job.planned.cell.id, "experiment", name), time.monotonic()

    def record(
        status: str, message: str, evidence: _Evidence | None = None, **extra: Any
    ) -> Record:
        if evidence is not None:
            extra.update(
                provenance={"runtime": evidence.runtime},
                metrics=evidence.metrics,
                finding=evidence.finding,
            )
        rec = outcome.record(status, message, duration_s=round(time.monotonic() - t0, 3), **extra)
        job.store.add(rec)
        return rec

    try:
        experiment = exps.load(exps.find(job.root, name))
    except ExperimentError as exc:
        return record("error", str(exc))
    why = experiment.not_applicable(job.planned.cell.values)
    if why is not None:
        return record("not_run", why, applicable=False)
    token = _secrets.token_hex(6)
    if target is None:
        target = job.session.fault_target(job.planned, token)
        if target is None:
            return record("not_run", "the platform supplies no fault target for chaos")
    run = _Run(experiment, job, target, token)
    try:
        result = run.execute(timeout_s, on_start)
    except Interrupted:
        record("error", "interrupted: " + run.finish_note(), run.evidence(None))
        raise
    except CertifyError as exc:
        notes = run.finish_note()
        return record("error", f"{exc}{'; ' + notes if notes else ''}", run.evidence(None))
    return record(result.status, result.message, run.evidence(result))


class _Run:
    """The state of one experiment run in the parent process."""

    def __init__(
        self, experiment: exps.Experiment, job: CellJob, target: FaultTarget, token: str
    ) -> None:
        self.experiment, self.target, self.token = experiment, target, token
        self.planned, self.runtime, self.session = job.planned, job.runtime, job.session
        self.root, self.out, self.run_id = job.root, job.out, job.run_id
        slug = cell_slug(job.planned.cell.id)
        self.folder = job.out / "evidence" / slug / "chaos" / experiment.name
        self.journal = self.folder.parent / f"{experiment.name}.journal.json"
        self.restored: list[str] = []
        self.leftovers: list[str] = []

    def _cell_file(self) -> Path:
        workdir = (self.folder / "work").resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        info = {
            "id": self.planned.cell.id,
            "values": self.planned.cell.values,
            "options": self.session.options(self.planned, workdir, self.run_id).to_json(),
            "python": str(self.runtime.python),
            "workdir": str(workdir),
            "folder": str(self.folder.resolve()),
        }
        path = self.folder / "cell.json"
        path.write_text(json.dumps(info, indent=2) + "\n")
        return path

    def execute(self, timeout_s: float, on_start: OnStart | None) -> Verdict:
        """Render, validate, run the subprocess, restore and judge."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.journal.unlink(missing_ok=True)
        cell_file = self._cell_file()
        rendered = exps.render(self.experiment, self.planned.cell.id, cell_file, self.folder)
        exps.validate(json.loads(rendered.read_text()), rendered)
        before = _snapshot(self.target)
        info = json.loads(cell_file.read_text())
        workloads = Workloads(info, self.target, self._workload_env(), self.root, self.folder)
        rc = -1
        try:
            with ControlServer(
                self.folder / "control.sock", _ops(self.target, workloads)
            ) as server:
                env = {**self._env(), CONTROL_VAR: str(server.path), exps.CELL_VAR: str(cell_file)}
                rc = self._chaos_toolkit(rendered, env, timeout_s, on_start)
        finally:
            workloads.stop()
            self._restore(before)
        return self._judge(rc)

    def _chaos_toolkit(
        self, rendered: Path, env: dict[str, str], timeout_s: float, on_start: OnStart | None
    ) -> int:
        """Run the experiment's own process; its exit code (-9 when it timed out)."""
        argv = [sys.executable, "-m", "certify.chaos.subproc", str(rendered), str(self.journal)]
        with (self.folder / "chaos.log").open("ab") as out:
            proc = start_child(argv, out, self.root, env)
            if on_start is not None:
                on_start(proc)
            try:
                return wait_child(proc, out, timeout_s)
            finally:
                stop_group(proc, _ROLLBACK_GRACE_S)

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
            result = replace(result, status="error", message=f"timed out; {result.message}")
        if (self.restored or self.leftovers) and result.status in ("passed", "failed"):
            message = result.message
            if result.status == "passed":
                message = "the experiment's rollbacks left the platform broken"
            result = replace(result, status="failed", message=f"{message}; {self.finish_note()}")
        return result

    def finish_note(self) -> str:
        """What certify had to restore, and what is still wrong."""
        parts = []
        if self.restored:
            parts.append("certify restored: " + ", ".join(self.restored))
        if self.leftovers:
            parts.append("NOT back as before: " + ", ".join(self.leftovers))
        return "; ".join(parts)

    def _restore(self, before: _Snapshot) -> None:
        try:
            self.restored = list(self.target.restore())
        except Exception as exc:  # the check below says what is left
            self.restored = [f"restore failed: {exc}"]
        self.leftovers = _differences(before, self.target)

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

    def evidence(self, result: Verdict | None) -> _Evidence:
        """The record's finding and metrics (what certify restored included), and its runtime."""
        journal = os.path.relpath(self.journal, self.out)
        finding = result.finding if result is not None else None
        metrics = result.metrics if result is not None else {}
        finding = replace(
            finding or ChaosFinding(),
            journal=journal,
            restored=tuple(self.restored),
            leftovers=tuple(self.leftovers),
        )
        return _Evidence(finding, metrics, self.runtime.name)


def _paths(root: Path) -> list[str]:
    own = str(Path(__file__).resolve().parents[2])
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return list(dict.fromkeys([str(root), own, *extra]))


def _ops(target: FaultTarget, workloads: Workloads) -> dict[str, Callable[..., object]]:
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


def _confirm(healed: FaultEvidence) -> FaultEvidence:
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


@dataclass(frozen=True)
class _Snapshot:
    """The platform as the experiment may change it: each service's endpoint and health."""

    services: Mapping[str, tuple[str, bool]]
    qdisc: str

    def unhealthy(self, before: _Snapshot) -> bool:
        """Whether a service healthy in `before` is not healthy now."""
        return any(
            ok and not self.services.get(name, ("", False))[1]
            for name, (_, ok) in before.services.items()
        )


def _snapshot(target: FaultTarget) -> _Snapshot:
    services = {s.name: (s.endpoint, s.healthy) for s in target.services()}
    return _Snapshot(services, _tc_qdisc())


def _differences(before: _Snapshot, target: FaultTarget) -> list[str]:
    """How the platform differs from before the experiment (waiting a while for health)."""
    after = _snapshot(target)
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline and after.unhealthy(before):
        time.sleep(0.5)
        after = _snapshot(target)
    diffs = []
    for name, (endpoint, healthy) in before.services.items():
        now_endpoint, now_healthy = after.services.get(name, ("", False))
        if healthy and not now_healthy:
            diffs.append(f"service {name} is not healthy")
        if now_endpoint != endpoint:
            diffs.append(f"service {name} moved from {endpoint} to {now_endpoint}")
    if after.qdisc != before.qdisc:
        diffs.append(f"tc qdisc on lo changed: {after.qdisc!r}")
    return diffs + target.leftovers()
