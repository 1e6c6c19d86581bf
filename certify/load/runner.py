"""Run one load profile on one cell: locust headless in the cell's runtime, its own process group.

The locust child gets the cell (a JSON file of its options, no secrets), credentials through its
environment, and a bounded shape; its JSON and CSV stats and its log stay in the run folder
under `evidence/<cell>/load/<profile>/`. The SLO verdict is certify's, from those stats.
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from certify.cell import cell_slug
from certify.errors import LoadError, ProfileError, StatsError
from certify.host.pool import session_marker
from certify.host.process import raise_on_signals, start_child, stop_group, wait_child
from certify.host.provenance import now
from certify.load import shapes
from certify.load import slo as slos
from certify.load.profile import LoadProfile, read_profile
from certify.load.shapes import bounded, check_shape
from certify.load.stats import FaultWindow, summary, windows
from certify.plan import PlannedCell
from certify.platforms.base import CellJob, PlatformSession, Runtime
from certify.platforms.local.services.supervisor import redact_file
from certify.results import Record

__all__ = ["FaultWindow", "LoadError", "LoadOptions", "check_loopback", "run_load"]

_LOCUST_DONE = (0, 1)  # locust exits 1 when a request failed or an SLO was missed: it ran
_GRACE_S = 90.0  # start-up and shutdown on top of the shape's duration
_MAX_BEFORE_WAIT_S = 60.0
# schemes of endpoints a load reaches over the network; storage URIs (s3://bucket, file:, sqlite:)
# name places, not hosts, and are reached through one of these endpoints
_NETWORK_SCHEMES = frozenset({"http", "https", "sc", "thrift", "grpc"})


def check_loopback(endpoint: str) -> str:
    """`endpoint` if its host is a loopback address, else LoadError naming it."""
    host = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LoadError(
            f"load target {endpoint!r} is not on loopback (host {host or '?'}): load profiles "
            "run only against 127.0.0.1 endpoints of the local platform"
        )
    return endpoint


def _endpoints(options: Mapping[str, Any]) -> list[str]:
    """Every URL-like value in the cell's options (services, S3, catalogs, Connect)."""
    found: list[str] = []
    for value in options.values():
        if isinstance(value, Mapping):
            found += _endpoints(value)
        elif isinstance(value, str) and urlsplit(value).scheme in _NETWORK_SCHEMES:
            found.append(value)
    return found


@dataclass(frozen=True)
class _Job:
    """One locust run's inputs and where its evidence goes."""

    profile: LoadProfile
    planned: PlannedCell
    folder: Path
    out: Path
    shape: str
    users: int
    seconds: float
    slo: dict[str, float]
    endpoint: str

    @property
    def prefix(self) -> Path:
        return self.folder / "stats"

    @property
    def log(self) -> Path:
        return self.folder / "locust.log"

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.out)) if path.is_relative_to(self.out) else str(path)


def _record(
    planned: PlannedCell, name: str, run_id: str, status: str, message: str, started: str,
    t0: float, provenance: dict[str, Any] | None = None, applicable: bool = True,
) -> Record:  # fmt: skip
    return Record(
        run_id,
        planned.cell.id,
        name,
        f"load/{name}",
        status,
        kind="load",
        duration_s=round(time.monotonic() - t0, 3),
        message=message,
        started=started,
        finished=now(),
        provenance=provenance or {},
        applicable=applicable,
    )


@dataclass(frozen=True)
class LoadOptions:
    """How to run one load profile beyond what its locustfile declares."""

    shape: str | None = None  # else CERTIFY_LOAD_SHAPE or the locustfile's
    during: Callable[[], FaultWindow | None] | None = None  # a fault to run meanwhile
    during_name: str | None = None  # the experiment `during` runs
    timeout_s: float = 600
    seconds: float | None = None  # else CERTIFY_LOAD_SECONDS or the locustfile's bound
    users: int | None = None  # else CERTIFY_LOAD_USERS or the locustfile's bound
    slo: Mapping[str, float] | None = None  # thresholds, else CERTIFY_LOAD_SLO or declared


def run_load(profile: str, job: CellJob, options: LoadOptions | None = None) -> Record:
    """Run load profile `profile` on the job's cell, add its record to the store, return it.

    With `options.during`, the fault callable runs in a thread after the first third and the
    record gets per-window figures.
    """
    opts = options or LoadOptions()
    planned, runtime, session = job.planned, job.runtime, job.session
    out, root, store, run_id = job.out, job.root, job.store, job.run_id
    shape, during, during_name = opts.shape, opts.during, opts.during_name
    timeout_s, seconds, users, slo = opts.timeout_s, opts.seconds, opts.users, opts.slo
    started, t0 = now(), time.monotonic()

    def done(
        status: str, message: str, prov: dict[str, Any] | None = None, applies: bool = True
    ) -> Record:
        record = _record(planned, profile, run_id, status, message, started, t0, prov, applies)
        store.add(record)
        return record

    try:
        prepared = _prepare(
            profile, planned, session, out.resolve(), root, shape, seconds, users, slo
        )
    except ProfileError as exc:
        return done("error", str(exc))
    except LoadError as exc:
        return done("error", str(exc))
    except _NotApplicable as exc:
        return done("not_run", str(exc), applies=False)
    try:
        rc, window, fault_error = _execute(prepared, runtime, session, timeout_s, during)
    finally:
        redact_file(prepared.log, session.secrets)
    status, message, prov = _verdict(prepared, rc, window, fault_error, during_name)
    return done(status, message, prov, applies=prov.pop("applicable", True))


class _NotApplicable(Exception):
    """The profile does not apply to the cell's values or services."""


def _prepare(
    name: str, planned: PlannedCell, session: PlatformSession, out: Path, root: Path,
    shape: str | None, seconds: float | None, users: int | None, slo: Mapping[str, float] | None,
) -> _Job:  # fmt: skip
    profile = read_profile(root, name)
    values = planned.cell.values
    why = profile.inapplicable(values)
    if why:
        raise _NotApplicable(why)
    slug = cell_slug(planned.cell.id)
    options = session.options(planned, out / "work" / slug)
    endpoint = profile.endpoint(options)
    if profile.target and endpoint is None:
        raise _NotApplicable(f"the platform gives this cell no {profile.target} endpoint")
    for url in [endpoint or "", *_endpoints(options)]:
        if url:
            check_loopback(url)
    env_seconds = os.environ.get("CERTIFY_LOAD_SECONDS")
    peak, total = bounded(
        users or int(os.environ.get("CERTIFY_LOAD_USERS") or profile.users),
        seconds or float(env_seconds or profile.seconds),
    )
    try:
        thresholds = slos.resolve(
            profile.slo, values, dict(slo) if slo else slos.override_from_env(), str(profile.path)
        )
        chosen = check_shape(shape or os.environ.get("CERTIFY_LOAD_SHAPE") or profile.shape)
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    folder = out / "evidence" / slug / "load" / name
    folder.mkdir(parents=True, exist_ok=True)
    cell = {"id": planned.cell.id, "values": values, "tier": planned.cell.tier,
            "workdir": str(out / "work" / slug), "options": options}  # fmt: skip
    (folder / "cell.json").write_text(json.dumps(cell, indent=2) + "\n")
    return _Job(profile, planned, folder, out, chosen, peak, total, thresholds, endpoint or "")


def _env(job: _Job, session: PlatformSession) -> dict[str, str]:
    env = {
        **os.environ,
        **session.env(job.planned),
        **session_marker(session.session_id),
        "CERTIFY_LOAD_CELL": str(job.folder / "cell.json"),
        "CERTIFY_LOAD_SHAPE": job.shape,
        "CERTIFY_LOAD_SECONDS": str(job.seconds),
        "CERTIFY_LOAD_USERS": str(job.users),
        "CERTIFY_LOAD_REPORT": str(job.folder / "declared.json"),
        slos.SLO_VAR: json.dumps(job.slo),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    env.pop("LOCUST_SKIP_MONKEY_PATCH", None)
    return env


def _argv(job: _Job, runtime: Runtime) -> list[str]:
    # the shape bounds users and time; locust ignores -u/-t beside a shape, so none are given
    return [
        str(runtime.python), "-m", "locust", "-f", str(job.profile.path), "--headless",
        "--only-summary", "--csv", str(job.prefix), "--csv-full-history",
        "--json-file", str(job.prefix), "--stop-timeout", "5", "--loglevel", "INFO",
        *(["--host", job.endpoint] if job.endpoint else []),
    ]  # fmt: skip


def _execute(
    job: _Job,
    runtime: Runtime,
    session: PlatformSession,
    timeout_s: float,
    during: Callable[[], FaultWindow | None] | None,
) -> tuple[int, FaultWindow | None, str | None]:
    """Run locust to its end (or timeout); (exit code, fault window, fault error)."""
    # under a fault the run lasts until the after-window is over (see shapes.held_target)
    limit = timeout_s if during is not None else min(timeout_s, job.seconds + _GRACE_S)
    result: dict[str, Any] = {}
    thread: threading.Thread | None = None
    env = _env(job, session)
    hold = job.folder / "hold-until"
    hold.unlink(missing_ok=True)
    if during is not None:
        env[shapes.HOLD_VAR] = str(hold)
    with job.log.open("ab") as log, raise_on_signals():
        proc = start_child(_argv(job, runtime), log, Path(job.profile.path).parents[1], env)
        try:
            if during is not None:
                _wait_before(job, proc.pid, time.monotonic())
                thread = threading.Thread(
                    target=_fault, args=(during, result, hold, job.seconds / 3), daemon=True
                )
                thread.start()
            rc = wait_child(proc, log, limit)
        finally:
            stop_group(proc, grace_s=5.0)
    if thread is not None:
        thread.join(timeout=max(30.0, timeout_s))
        if thread.is_alive():
            result.setdefault("error", "the fault callable did not return")
    return rc, result.get("window"), result.get("error")


def _wait_before(job: _Job, pid: int, t0: float) -> None:
    """Let the before phase run: until users are up, then a third of the duration."""
    history = Path(f"{job.prefix}_stats_history.csv")
    while time.monotonic() - t0 < _MAX_BEFORE_WAIT_S and os.path.exists(f"/proc/{pid}"):
        if history.is_file() and any(
            line.split(",")[1] not in ("0", "User Count")
            for line in history.read_text().splitlines()
            if line.count(",") > 2
        ):
            break
        time.sleep(0.25)
    time.sleep(job.seconds / 3)


def _fault(
    during: Callable[[], FaultWindow | None], result: dict[str, Any], hold: Path, after_s: float
) -> None:
    """Run the fault; then let the load go on for `after_s` past the window's end, and stop."""
    try:
        result["window"] = during()
    except Exception as exc:  # the record says what went wrong with the fault
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        window = result.get("window")
        end = max(window.end, time.time()) if window is not None else time.time()
        hold.write_text(f"{end + after_s:.3f}\n")


def _verdict(
    job: _Job, rc: int, window: FaultWindow | None, fault_error: str | None, during_name: str | None
) -> tuple[str, str, dict[str, Any]]:
    """(status, message, provenance) of a finished locust run."""
    declared = _declared(job)
    if declared.get("applicable") is False:
        why = str(declared.get("reason", "not applicable"))
        return "not_run", why, {"applicable": False, "load": {"parts": declared.get("parts", {})}}
    log = job.rel(job.log)
    stats = {
        "json": job.rel(Path(f"{job.prefix}.json")),
        "csv": job.rel(Path(f"{job.prefix}_stats.csv")),
        "csv_history": job.rel(Path(f"{job.prefix}_stats_history.csv")),
        "log": log,
    }
    load: dict[str, Any] = {
        "shape": job.shape, "users": job.users, "duration_s": job.seconds,
        "during": during_name, "host": job.endpoint, "slos": [], "stats": stats,
        "windows": None, "throughput_recovery_s": None, "parts": declared.get("parts", {}),
    }  # fmt: skip
    if rc not in _LOCUST_DONE:
        why = "timed out" if rc == -9 else f"exited with code {rc}"
        return "error", f"locust {why}; see {log}", {"load": load}
    try:
        metrics = summary(
            Path(stats["csv"]) if Path(stats["csv"]).is_absolute() else job.out / stats["csv"]
        )
        if window is not None:
            figures = windows(job.out / stats["csv_history"], window)
            load["throughput_recovery_s"] = figures.pop("throughput_recovery_s")
            load["windows"] = figures
    except StatsError as exc:
        return "error", f"locust left no usable stats: {exc}; see {log}", {"load": load}
    if not metrics["requests"]:
        return "error", f"locust ran no request; see {log}", {"metrics": metrics, "load": load}
    # under a fault, the profile's SLOs judge the steady state before it (the run's totals
    # include the fault itself); the policy's windowed SLOs judge during and after
    judged = load["windows"]["before"] if load["windows"] else metrics
    load["slos"] = slos.evaluate(job.slo, judged)
    if load["windows"]:
        load["slo_window"] = "before"
    prov = {"metrics": metrics, "load": load}
    if fault_error or (during_name is not None and window is None):
        return "error", f"the fault during the load did not run: {fault_error or 'no window'}", prov
    status, message = _slo_message(load["slos"], judged, load["parts"])
    if load["windows"]:
        message = message.replace(" (p50", " before the fault (p50", 1)
    return status, message, prov


def _declared(job: _Job) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((job.folder / "declared.json").read_text())
        return data
    except (OSError, ValueError):
        return {}


def _slo_message(
    results: list[dict[str, Any]], metrics: Mapping[str, float], parts: Mapping[str, Any]
) -> tuple[str, str]:
    missed = [r for r in results if not r["met"]]
    nan = float("nan")
    figures = (
        f"p50 {metrics.get('p50_ms') or nan:g} ms, p95 {metrics.get('p95_ms') or nan:g} ms, "
        f"errors {metrics['error_rate']:.2%}, {metrics['rps']:.1f} req/s over "
        f"{int(metrics['requests'])} requests"
    )
    skipped = [
        f"{k}: {v.get('status')} ({v.get('reason')})"
        for k, v in parts.items()
        if v.get("status") != "ran"
    ]
    tail = f"; {'; '.join(skipped)}" if skipped else ""
    if missed:
        what = ", ".join(
            f"{r['metric']} {r['measured']:g} {'>' if r['op'] == 'max' else '<'} {r['threshold']:g}"
            if r["measured"] is not None
            else f"{r['metric']} not measured"
            for r in missed
        )
        return "failed", f"SLO missed: {what} ({figures}){tail}"
    return "passed", f"every SLO met ({figures}){tail}"
