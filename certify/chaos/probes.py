"""Chaos Toolkit probes (python provider `certify.chaos.probes`): steady state and verdicts.

Each returns a dict with `status` 1 (holds) or 0, so a hypothesis uses the tolerance `1`, plus
the timestamps the recovery time is measured from.
"""

from __future__ import annotations

import time
from pathlib import Path

from certify.chaos.control import call
from certify.chaos.workload_io import read_json
from certify.results.findings import JsonObject

_KEPT = ("outcome", "error", "answer_ok", "started_at", "finished_at", "query_ok_at")


def _unhealthy() -> list[str]:
    services = call("services")
    rows = [s for s in services if isinstance(s, dict)] if isinstance(services, list) else []
    return [str(s.get("name")) for s in rows if not s.get("healthy")]


def services_healthy(timeout_s: float = 0.0) -> JsonObject:
    """Every service of the cell healthy (waiting up to `timeout_s` for it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        bad = _unhealthy()
        if not bad:
            return {"status": 1, "regained_at": time.time()}
        if time.monotonic() >= deadline:
            return {"status": 0, "unhealthy": list(bad), "at": time.time()}
        time.sleep(0.25)


def _folder() -> Path | None:
    folder = call("workload_folder")
    return Path(folder) if isinstance(folder, str) and folder else None


def _result(folder: Path, timeout_s: float) -> JsonObject:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = read_json(folder / "result.json")
        if result:
            return result
        if not call("workload_alive"):
            return read_json(folder / "result.json") or {
                "outcome": "died",
                "error": "the workload process died",
            }
        time.sleep(0.25)
    return {"outcome": "timeout", "error": f"no outcome within {timeout_s:.0f} s"}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def recovered(timeout_s: float = 120.0) -> JsonObject:
    """Wait until the services are healthy and a query works again; when that was."""
    healthy = services_healthy(timeout_s)
    folder = _folder()
    query_ok_at = None
    if folder is not None:
        query_ok_at = _number(_result(folder, timeout_s).get("query_ok_at"))
    healthy_at = _number(healthy.get("regained_at"))
    if healthy_at is None or (folder is not None and query_ok_at is None):
        return {"status": 0, "healthy": healthy_at is not None, "query_ok_at": query_ok_at}
    return {
        "status": 1,
        "regained_at": max(healthy_at, query_ok_at or 0.0),
        "healthy_at": healthy_at,
        "query_ok_at": query_ok_at,
    }


def workload_outcome(timeout_s: float = 300.0) -> JsonObject:
    """The workload completed with the exact answer, or failed with a clear error (1); else 0.

    Before any workload ran (the first hypothesis) it holds trivially.
    """
    folder = _folder()
    if folder is None:
        return {"status": 1, "outcome": "none"}
    result = _result(folder, timeout_s)
    outcome = result.get("outcome")
    ok = (outcome == "completed" and bool(result.get("answer_ok"))) or (
        outcome == "failed" and bool(result.get("error"))
    )
    return {"status": int(ok), **{k: result.get(k) for k in _KEPT if k in result}}


def data_integrity(timeout_s: float = 300.0) -> JsonObject:
    """The tables the workload wrote hold exactly what its outcome says (1); else 0."""
    folder = _folder()
    if folder is None:
        return {"status": 1, "verdict": "unchecked", "tables": []}
    (folder / "verify.go").touch()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        verify = read_json(folder / "verify.json")
        if verify:
            return _integrity(verify)
        if not call("workload_alive"):
            break
        time.sleep(0.25)
    return {
        "status": 0,
        "verdict": "unchecked",
        "tables": [],
        "problems": ["the workload did not verify its table"],
    }


def _integrity(verify: JsonObject) -> JsonObject:
    """The probe's answer from the workload's verification."""
    found = verify.get("tables")
    tables = [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []
    intact = bool(tables) and all(t.get("verdict") == "intact" for t in tables)
    verdicts = {str(t.get("verdict")) for t in tables} - {"intact"}
    verdict = "intact" if intact else (sorted(verdicts)[0] if verdicts else "unchecked")
    problems = verify.get("problems")
    return {
        "status": int(intact),
        "verdict": verdict,
        "tables": list(tables),
        "problems": problems if isinstance(problems, list) else [],
    }
