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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from certify.cell import cell_slug
from certify.errors import LoadError, ProfileError, StatsError
from certify.host.jsontypes import JsonObject
from certify.host.pool import session_marker
from certify.host.process import raise_on_signals, start_child, stop_group, wait_child
from certify.load import shapes
from certify.load import slo as slos
from certify.load.profile import LoadProfile, read_profile
from certify.load.shapes import bounded, check_shape
from certify.load.stats import FaultWindow, summary, windows
from certify.plan import PlannedCell
from certify.platforms.base import CellJob, PlatformSession, Runtime
from certify.platforms.local.services.supervisor import redact_file
from certify.results import Outcome, Record
from certify.results.findings import LoadFinding, LoadRun, SloResult

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


def _endpoints(options: Mapping[str, object]) -> list[str]:
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


@dataclass(frozen=True)
class _Verdict:
    """How a load run ended: status, message, and what it measured (None: nothing)."""

    status: str
    message: str
    metrics: dict[str, float] | None = None
    finding: LoadFinding | None = None
    applicable: bool = True


def run_load(profile: str, job: CellJob, options: LoadOptions | None = None) -> Record:
    """Run load profile `profile` on the job's cell, add its record to the store, return it.

    With `options.during`, the fault callable runs in a thread after the first third and the
    record gets per-window figures.
    """
    opts = options or LoadOptions()
    outcome, t0 = Outcome(job.run_id, job.planned.cell.id, "load", profile), time.monotonic()

    def done(verdict: _Verdict) -> Record:
        record = outcome.record(
            verdict.status,
            verdict.message,
            duration_s=round(time.monotonic() - t0, 3),
            metrics=verdict.metrics,
            finding=verdict.finding,
            applicable=verdict.applicable,
        )
        job.store.add(record)
        return record

    try:
        prepared = _prepare(profile, job, opts)
    except (ProfileError, LoadError) as exc:
        return done(_Verdict("error", str(exc)))
    except _NotApplicable as exc:
        return done(_Verdict("not_run", str(exc), applicable=False))
    try:
        rc, fault = _execute(prepared, job, opts)
    finally:
        redact_file(prepared.log, job.session.secrets)
    return done(_verdict(prepared, rc, fault, opts.during_name))


class _NotApplicable(Exception):
    """The profile does not apply to the cell's values or services."""


def _prepare(name: str, job: CellJob, opts: LoadOptions) -> _Job:
    """The locust run of profile `name` on the job's cell: applicable, on loopback, bounded."""
    planned, session, out = job.planned, job.session, job.out.resolve()
    profile = read_profile(job.root, name)
    values = planned.cell.values
    why = profile.inapplicable(values)
    if why:
        raise _NotApplicable(why)
    slug = cell_slug(planned.cell.id)
    options = session.options(planned, out / "work" / slug, job.run_id).to_json()
    endpoint = profile.endpoint(options)
    if profile.target and endpoint is None:
        raise _NotApplicable(f"the platform gives this cell no {profile.target} endpoint")
    for url in [endpoint or "", *_endpoints(options)]:
        if url:
            check_loopback(url)
    chosen, peak, total, thresholds = _settings(profile, values, opts)
    folder = out / "evidence" / slug / "load" / name
    folder.mkdir(parents=True, exist_ok=True)
    cell = {"id": planned.cell.id, "values": values, "tier": planned.cell.tier,
            "workdir": str(out / "work" / slug), "options": options}  # fmt: skip
    (folder / "cell.json").write_text(json.dumps(cell, indent=2) + "\n")
    return _Job(profile, planned, folder, out, chosen, peak, total, thresholds, endpoint or "")


def _settings(
    profile: LoadProfile, values: Mapping[str, str], opts: LoadOptions
) -> tuple[str, int, float, dict[str, float]]:
    """(shape, peak users, seconds, SLO): the options', else the environment's, else declared."""
    env_seconds = os.environ.get("CERTIFY_LOAD_SECONDS")
    peak, total = bounded(
        opts.users or int(os.environ.get("CERTIFY_LOAD_USERS") or profile.users),
        opts.seconds or float(env_seconds or profile.seconds),
    )
    try:
        override = dict(opts.slo) if opts.slo else slos.override_from_env()
        thresholds = slos.resolve(profile.slo, values, override, str(profile.path))
        shape = check_shape(opts.shape or os.environ.get("CERTIFY_LOAD_SHAPE") or profile.shape)
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    return shape, peak, total, thresholds


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


@dataclass
class _FaultOutcome:
    """What the fault callable left (its thread writes it): its window, or what went wrong."""

    window: FaultWindow | None = None
    error: str | None = None


def _execute(job: _Job, cell: CellJob, opts: LoadOptions) -> tuple[int, _FaultOutcome]:
    """Run locust to its end (or timeout); (exit code, what the fault during it left)."""
    during, timeout_s = opts.during, opts.timeout_s
    # under a fault the run lasts until the after-window is over (see shapes.held_target)
    limit = timeout_s if during is not None else min(timeout_s, job.seconds + _GRACE_S)
    fault = _FaultOutcome()
    thread: threading.Thread | None = None
    env = _env(job, cell.session)
    hold = job.folder / "hold-until"
    hold.unlink(missing_ok=True)
    if during is not None:
        env[shapes.HOLD_VAR] = str(hold)
    with job.log.open("ab") as log, raise_on_signals():
        proc = start_child(_argv(job, cell.runtime), log, Path(job.profile.path).parents[1], env)
        try:
            if during is not None:
                _wait_before(job, proc.pid, time.monotonic())
                thread = threading.Thread(
                    target=_run_fault, args=(during, fault, hold, job.seconds / 3), daemon=True
                )
                thread.start()
            rc = wait_child(proc, log, limit)
        finally:
            stop_group(proc, grace_s=5.0)
    if thread is not None:
        thread.join(timeout=max(30.0, timeout_s))
        if thread.is_alive() and fault.error is None:
            fault.error = "the fault callable did not return"
    return rc, fault


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


def _run_fault(
    during: Callable[[], FaultWindow | None], fault: _FaultOutcome, hold: Path, after_s: float
) -> None:
    """Run the fault; then let the load go on for `after_s` past the window's end, and stop."""
    try:
        fault.window = during()
    except Exception as exc:  # the record says what went wrong with the fault
        fault.error = f"{type(exc).__name__}: {exc}"
    finally:
        window = fault.window
        end = max(window.end, time.time()) if window is not None else time.time()
        hold.write_text(f"{end + after_s:.3f}\n")


def _verdict(job: _Job, rc: int, fault: _FaultOutcome, during_name: str | None) -> _Verdict:
    """How a finished locust run ended, from its exit code, its stats and its fault."""
    declared = _declared(job)
    parts = declared.get("parts")
    parts = parts if isinstance(parts, dict) else {}
    if declared.get("applicable") is False:
        why = str(declared.get("reason", "not applicable"))
        return _Verdict("not_run", why, finding=LoadFinding(parts=parts), applicable=False)
    run = _load_run(job, during_name)
    log, unjudged = run.stats["log"], LoadFinding(run, parts=parts)
    if rc not in _LOCUST_DONE:
        why = "timed out" if rc == -9 else f"exited with code {rc}"
        return _Verdict("error", f"locust {why}; see {log}", finding=unjudged)
    try:
        metrics = summary(job.out / run.stats["csv"])
        around = None
        if fault.window is not None:
            around = windows(job.out / run.stats["csv_history"], fault.window)
    except StatsError as exc:
        return _Verdict("error", f"locust left no usable stats: {exc}; see {log}", finding=unjudged)
    if around is not None:
        unjudged = replace(
            unjudged, windows=around.by_window, throughput_recovery_s=around.throughput_recovery_s
        )
    if not metrics["requests"]:
        return _Verdict("error", f"locust ran no request; see {log}", metrics, unjudged)
    return _judged(job, unjudged, metrics, fault, during_name)


def _load_run(job: _Job, during_name: str | None) -> LoadRun:
    """How the profile ran, and where its stats are (relative to the run folder)."""
    stats = {
        "json": job.rel(Path(f"{job.prefix}.json")),
        "csv": job.rel(Path(f"{job.prefix}_stats.csv")),
        "csv_history": job.rel(Path(f"{job.prefix}_stats_history.csv")),
        "log": job.rel(job.log),
    }
    return LoadRun(job.shape, job.users, job.seconds, during_name, job.endpoint, stats)


def _judged(
    job: _Job,
    finding: LoadFinding,
    metrics: dict[str, float],
    fault: _FaultOutcome,
    during_name: str | None,
) -> _Verdict:
    """The SLO verdict of a load that ran requests (an error when its fault did not run)."""
    # under a fault, the profile's SLOs judge the steady state before it (the run's totals
    # include the fault itself); the policy's windowed SLOs judge during and after
    before = finding.windows["before"] if finding.windows else None
    judged = metrics if before is None else before
    finding = replace(
        finding,
        slos=tuple(slos.evaluate(job.slo, judged)),
        slo_window=None if before is None else "before",
    )
    if fault.error or (during_name is not None and fault.window is None):
        why = fault.error or "no window"
        return _Verdict("error", f"the fault during the load did not run: {why}", metrics, finding)
    status, message = _slo_message(finding.slos, judged, finding.parts)
    if before is not None:
        message = message.replace(" (p50", " before the fault (p50", 1)
    return _Verdict(status, message, metrics, finding)


def _declared(job: _Job) -> JsonObject:
    """What the locustfile wrote of its run (load/_shared.py's declared.json); {} if none."""
    try:
        data = json.loads((job.folder / "declared.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _slo_message(
    results: Sequence[SloResult], metrics: Mapping[str, float], parts: JsonObject
) -> tuple[str, str]:
    missed = [r for r in results if not r.met]
    nan = float("nan")
    figures = (
        f"p50 {metrics.get('p50_ms') or nan:g} ms, p95 {metrics.get('p95_ms') or nan:g} ms, "
        f"errors {metrics['error_rate']:.2%}, {metrics['rps']:.1f} req/s over "
        f"{int(metrics['requests'])} requests"
    )
    notes = {k: v if isinstance(v, dict) else {} for k, v in parts.items()}
    skipped = [
        f"{k}: {v.get('status')} ({v.get('reason')})"
        for k, v in notes.items()
        if v.get("status") != "ran"
    ]
    tail = f"; {'; '.join(skipped)}" if skipped else ""
    if missed:
        what = ", ".join(
            f"{r.metric} {r.measured:g} {'>' if r.op == 'max' else '<'} {r.threshold:g}"
            if r.measured is not None
            else f"{r.metric} not measured"
            for r in missed
        )
        return "failed", f"SLO missed: {what} ({figures}){tail}"
    return "passed", f"every SLO met ({figures}){tail}"
