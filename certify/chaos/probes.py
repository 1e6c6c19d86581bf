"""Chaos Toolkit probes (python provider `certify.chaos.probes`): steady state and verdicts.

Each returns a dict with `status` 1 (holds) or 0, so a hypothesis uses the tolerance `1`, plus
the timestamps the recovery time is measured from.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from certify.chaos.control import call
from certify.chaos.workload_io import read_json

Configuration = dict[str, Any] | None


def _unhealthy() -> list[str]:
    return [s["name"] for s in call("services") if not s["healthy"]]


def services_healthy(timeout_s: float = 0.0) -> dict[str, Any]:
    """Every service of the cell healthy (waiting up to `timeout_s` for it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        bad = _unhealthy()
        if not bad:
            return {"status": 1, "regained_at": time.time()}
        if time.monotonic() >= deadline:
            return {"status": 0, "unhealthy": bad, "at": time.time()}
        time.sleep(0.25)


def _folder() -> Path | None:
    folder = call("workload_folder")
    return Path(folder) if folder else None


def _result(folder: Path, timeout_s: float) -> dict[str, Any]:
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


def recovered(timeout_s: float = 120.0) -> dict[str, Any]:
    """Wait until the services are healthy and a query works again; when that was."""
    healthy = services_healthy(timeout_s)
    folder = _folder()
    query_ok_at = None
    if folder is not None:
        query_ok_at = _result(folder, timeout_s).get("query_ok_at")
    if not healthy["status"] or (folder is not None and query_ok_at is None):
        return {"status": 0, "healthy": bool(healthy["status"]), "query_ok_at": query_ok_at}
    regained = max(float(healthy["regained_at"]), float(query_ok_at or 0.0))
    return {
        "status": 1,
        "regained_at": regained,
        "healthy_at": healthy["regained_at"],
        "query_ok_at": query_ok_at,
    }


def workload_outcome(timeout_s: float = 300.0) -> dict[str, Any]:
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
    keep = ("outcome", "error", "answer_ok", "started_at", "finished_at", "query_ok_at")
    return {"status": int(ok), **{k: result.get(k) for k in keep if k in result}}


def data_integrity(timeout_s: float = 300.0) -> dict[str, Any]:
    """The tables the workload wrote hold exactly what its outcome says (1); else 0."""
    folder = _folder()
    if folder is None:
        return {"status": 1, "verdict": "unchecked", "tables": []}
    (folder / "verify.go").touch()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        verify = read_json(folder / "verify.json")
        if verify:
            tables = list(verify.get("tables", []))
            intact = bool(tables) and all(t.get("verdict") == "intact" for t in tables)
            verdicts = {t.get("verdict") for t in tables} - {"intact"}
            verdict = "intact" if intact else (sorted(verdicts)[0] if verdicts else "unchecked")
            return {
                "status": int(intact),
                "verdict": verdict,
                "tables": tables,
                "problems": verify.get("problems", []),
            }
        if not call("workload_alive"):
            break
        time.sleep(0.25)
    return {
        "status": 0,
        "verdict": "unchecked",
        "tables": [],
        "problems": ["the workload did not verify its table"],
    }
