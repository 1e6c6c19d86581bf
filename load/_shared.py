"""What every certify locustfile shares: the cell, credentials, shapes, timing and SLO checks.

A locustfile runs under certify (`certify load run`, `certify run`) or on its own:

    CERTIFY_LOAD_CELL=cell.json CERTIFY_LOAD_SECONDS=20 locust -f load/object-store.py --headless

Environment:
- CERTIFY_LOAD_CELL: a JSON file {"id", "values", "workdir", "options"} (the cell's options as
  the platform session gives them; `certify run` writes one per cell),
- CERTIFY_S3_ACCESS_KEY_ID / CERTIFY_S3_SECRET_ACCESS_KEY: S3 credentials (never in the file),
- CERTIFY_LOAD_SHAPE (ramp, step, spike, soak), CERTIFY_LOAD_SECONDS, CERTIFY_LOAD_USERS,
- CERTIFY_LOAD_SLO: thresholds overriding the file's SLO (JSON, or the path of a JSON file),
- CERTIFY_LOAD_REPORT: where to write what the run declared (shape, bounds, SLO, parts).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from locust import LoadTestShape, events
from locust.env import Environment

from certify.cell import ADHOC_SCOPE, CellNames, database_name
from certify.load import shapes, slo

CELL_VAR = "CERTIFY_LOAD_CELL"
SHAPE_VAR = "CERTIFY_LOAD_SHAPE"
SECONDS_VAR = "CERTIFY_LOAD_SECONDS"
USERS_VAR = "CERTIFY_LOAD_USERS"
REPORT_VAR = "CERTIFY_LOAD_REPORT"
KEY_VAR = "CERTIFY_S3_ACCESS_KEY_ID"
SECRET_VAR = "CERTIFY_S3_SECRET_ACCESS_KEY"

log = logging.getLogger("certify.load")
_PARTS: dict[str, dict[str, str]] = {}


class ProfileNotApplicable(RuntimeError):
    """The profile cannot run on this cell (a missing service or client); the run stops."""


def cell() -> dict[str, Any]:
    """The cell under load: id, values, workdir, options (from CERTIFY_LOAD_CELL)."""
    path = os.environ.get(CELL_VAR, "")
    if not path:
        raise SystemExit(
            f"{CELL_VAR} is not set: point it at a cell JSON file (certify writes one per cell "
            "under the run folder: evidence/<cell>/load/cell.json)"
        )
    try:
        data: dict[str, Any] = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{CELL_VAR}={path}: not a readable cell JSON file ({exc})") from None
    return data


def credentials() -> tuple[str, str]:
    """S3 access key and secret from the environment (ProfileNotApplicable without them)."""
    key, secret = os.environ.get(KEY_VAR, ""), os.environ.get(SECRET_VAR, "")
    if not key or not secret:
        raise ProfileNotApplicable(
            f"no S3 credentials in the environment ({KEY_VAR}, {SECRET_VAR})"
        )
    return key, secret


def bounds(users: int, seconds: float) -> tuple[int, float]:
    """Peak users and duration: the file's defaults unless the environment sets them (bounded)."""
    users = int(os.environ.get(USERS_VAR) or users)
    seconds = float(os.environ.get(SECONDS_VAR) or seconds)
    return shapes.bounded(users, seconds)


class _Bounded(LoadTestShape):
    """A shape over a bounded run; subclasses name the schedule of certify.load.shapes."""

    abstract = True
    kind = "ramp"
    users = 1
    seconds = 10.0

    def tick(self) -> tuple[int, float] | None:
        """(users, spawn rate) now, or None when the run is over."""
        return shapes.held_target(
            self.kind,
            self.get_run_time(),
            self.users,
            self.seconds,
            os.environ.get(shapes.HOLD_VAR),
            time.time(),
        )


class RampShape(_Bounded):
    """From one user up to the peak over the first half, then hold."""

    abstract = True
    kind = "ramp"


class StepShape(_Bounded):
    """The peak in four equal steps."""

    abstract = True
    kind = "step"


class SpikeShape(_Bounded):
    """A quarter of the peak, all users in the middle fifth of the run, then a quarter again."""

    abstract = True
    kind = "spike"


class SoakShape(_Bounded):
    """Every user for the whole run."""

    abstract = True
    kind = "soak"


SHAPE_CLASSES: dict[str, type[_Bounded]] = {
    c.kind: c for c in (RampShape, StepShape, SpikeShape, SoakShape)
}


def shape(default: str, users: int, seconds: float) -> type[LoadTestShape]:
    """The shape class of this run (CERTIFY_LOAD_SHAPE, else `default`), with its bounds."""
    kind = shapes.check_shape(os.environ.get(SHAPE_VAR) or default)
    peak, total = bounds(users, seconds)
    base = SHAPE_CLASSES[kind]
    attrs = {"abstract": False, "users": peak, "seconds": total, "__module__": __name__}
    return type(base.__name__, (base,), attrs)


def part(name: str, status: str, reason: str = "") -> None:
    """Note what happened to one half of a profile (e.g. hive: not_run, and why)."""
    _PARTS[name] = {"status": status, "reason": reason}
    if status != "ran":
        log.warning("%s: %s: %s", name, status, reason)


@contextmanager
def request(environment: Environment, kind: str, name: str) -> Iterator[dict[str, Any]]:
    """Time the block and report it through locust's request event (an exception = failure)."""
    info: dict[str, Any] = {"length": 0}
    start = time.perf_counter()
    error: BaseException | None = None
    try:
        yield info
    except Exception as exc:  # every failure of the system under test is a failed request
        error = exc
    environment.events.request.fire(
        request_type=kind,
        name=name,
        response_time=(time.perf_counter() - start) * 1000.0,
        response_length=int(info["length"]),
        exception=error,
        context={},
    )


def timed(environment: Environment, kind: str, name: str, call: Callable[[], Any]) -> Any:
    """Run `call` as one timed request; its result, or None when it failed."""
    with request(environment, kind, name):
        return call()
    return None


def declare(module: dict[str, Any]) -> dict[str, Any]:
    """Register the listeners of a locustfile whose globals are `module` (call at import)."""
    info = cell()
    peak, total = bounds(module.get("USERS", 4), module.get("SECONDS", 60))
    thresholds = slo.resolve(
        module.get("SLO", {}), info.get("values", {}), slo.override_from_env(), "SLO"
    )
    run = {
        "profile": module.get("PROFILE"),
        "cell": info.get("id"),
        "shape": os.environ.get(SHAPE_VAR) or module.get("SHAPE", "ramp"),
        "users": peak,
        "seconds": total,
        "slo": thresholds,
    }

    @events.quitting.add_listener
    def _verdict(environment: Environment, **_: Any) -> None:
        total_stats = environment.stats.total
        metrics: dict[str, float] = {"rps": total_stats.total_rps}
        if total_stats.num_requests:
            metrics["error_rate"] = total_stats.num_failures / total_stats.num_requests
            for key, p in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
                metrics[key] = float(total_stats.get_response_time_percentile(p))
        results = slo.evaluate(thresholds, metrics)
        _write({**run, "parts": _PARTS, "slos": [r.to_json() for r in results]})
        missed = [r for r in results if not r.met]
        for result in missed:
            log.error("SLO missed: %s %s %s, measured %s", result.metric, result.op,
                      result.threshold, result.measured)  # fmt: skip
        if missed and environment.process_exit_code in (None, 0):
            environment.process_exit_code = 1

    _write({**run, "parts": _PARTS})
    return info


def names(info: dict[str, Any]) -> CellNames:
    """Every name the cell makes in shared services (its database, its S3 prefix).

    The platform's database for the cell, else the one a cell run by hand gets: never a name
    another cell or run could share.
    """
    options = info.get("options") or {}
    database = str(options.get("database") or "")
    return CellNames(database or database_name(ADHOC_SCOPE, str(info.get("id", ""))))


def not_applicable(reason: str) -> None:
    """Stop locust (from an `init` listener): the profile does not apply to this cell."""
    _write({"applicable": False, "reason": reason, "parts": _PARTS})
    log.error("not applicable: %s", reason)
    raise SystemExit(0)


def setup_failed(what: str, exc: BaseException) -> None:
    """Stop locust with exit code 2 (from an `init` listener): the profile's setup failed."""
    log.error("setup failed: %s: %s: %s", what, type(exc).__name__, exc)
    raise SystemExit(2)


def _write(data: dict[str, Any]) -> None:
    path = os.environ.get(REPORT_VAR)
    if not path:
        return
    target = Path(path)
    previous: dict[str, Any] = {}
    if target.is_file():
        try:
            previous = json.loads(target.read_text())
        except ValueError:
            previous = {}
    target.write_text(json.dumps({**previous, **data}, indent=2, default=str) + "\n")
