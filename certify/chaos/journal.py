"""A Chaos Toolkit journal -> certify's verdict for one experiment on one cell.

passed: the journal completed without deviation, the fault was injected and confirmed, and every
criterion of the experiment is met. failed: the steady state deviated (services, job outcome or
data), a criterion was missed, or the platform had to be restored by certify. error: the
experiment could not run (the platform was not in its steady state before, the fault could not be
injected, no journal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ProbeRun = dict[str, Any]


@dataclass
class Verdict:
    """What a journal says, in certify's terms."""

    status: str
    message: str
    chaos: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def _epoch(iso: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def activities(journal: dict[str, Any]) -> list[dict[str, Any]]:
    """Every activity run (hypothesis before, method, hypothesis after, rollbacks), in order."""
    runs: list[tuple[str, ProbeRun]] = []
    states = journal.get("steady_states") or {}
    for phase, key in (
        ("before", "before"),
        ("method", None),
        ("after", "after"),
        ("rollback", None),
    ):
        if key is not None:
            runs += [(phase, r) for r in ((states.get(key) or {}).get("probes") or [])]
        elif phase == "method":
            runs += [(phase, r) for r in journal.get("run") or []]
        else:
            runs += [(phase, r) for r in journal.get("rollbacks") or []]
    out = []
    for phase, run in runs:
        activity = run.get("activity") or {}
        start, end = _epoch(run.get("start")), _epoch(run.get("end"))
        out.append(
            {
                "name": activity.get("name", ""),
                "type": activity.get("type", ""),
                "phase": phase,
                "func": (activity.get("provider") or {}).get("func", ""),
                "status": run.get("status", ""),
                "start": start,
                "end": end,
                "duration_s": round(float(run.get("duration") or 0.0), 3),
                "output": run.get("output"),
                "tolerance_met": run.get("tolerance_met"),
                "error": _error(run),
            }
        )
    return out


def _error(run: ProbeRun) -> str:
    exc = run.get("exception")
    if not exc:
        return ""
    text = exc[-1] if isinstance(exc, list) else str(exc)
    return str(text).strip().splitlines()[-1][:300] if str(text).strip() else ""


def _outputs(acts: list[dict[str, Any]], name: str, phase: str = "") -> list[dict[str, Any]]:
    return [
        a["output"]
        for a in acts
        if name in (a["name"], a["func"])
        and (not phase or a["phase"] == phase)
        and isinstance(a["output"], dict)
    ]


def fault_of(acts: list[dict[str, Any]], fault: str) -> tuple[dict[str, Any], str]:
    """The fault's evidence and why it was not injected ('' when it was)."""
    runs = [a for a in acts if a["phase"] == "method" and a["name"] == fault]
    if not runs:
        return {
            "action": fault,
            "target": "",
            "injected_at": None,
            "confirmed": False,
            "evidence": "the fault activity never ran",
        }, "the fault activity never ran"
    run = runs[0]
    out = run["output"] if isinstance(run["output"], dict) else {}
    info = {
        "action": fault,
        "target": str(out.get("target", "")),
        "injected_at": out.get("at"),
        "confirmed": bool(out.get("confirmed", False)),
        "evidence": str(out.get("evidence", "")),
    }
    if run["status"] != "succeeded":
        return info, f"the fault {fault} could not be injected: {run['error']}"
    if "confirmed" not in out:  # network faults are confirmed by what the proxy measured
        later = [
            a["output"]
            for a in acts
            if a["phase"] in ("method", "rollback")
            and isinstance(a["output"], dict)
            and "confirmed" in a["output"]
            and a["start"] is not None
            and run["start"] is not None
            and a["start"] >= run["start"]
            and a["name"] != fault
        ]
        if later:
            info["confirmed"] = bool(later[0]["confirmed"])
            info["evidence"] = str(later[0].get("evidence", ""))
    return info, ""


def recovery(acts: list[dict[str, Any]], injected_at: float | None) -> float | None:
    """Seconds from the fault to the steady state regained (the `recovered` probe's timestamp)."""
    if injected_at is None:
        return None
    for out in _outputs(acts, "recovered", "method"):
        if out.get("status") == 1 and out.get("regained_at") is not None:
            return round(max(0.0, float(out["regained_at"]) - float(injected_at)), 3)
    return None


def integrity(acts: list[dict[str, Any]]) -> dict[str, Any]:
    """The data-integrity verdict of the hypothesis after the method."""
    outs = _outputs(acts, "data_integrity", "after")
    if not outs:
        return {"verdict": "unchecked", "rows_verified": 0, "tables": []}
    out = outs[-1]
    tables = list(out.get("tables") or [])
    rows = sum(int(t.get("rows_after", 0)) for t in tables)
    verdict = str(out.get("verdict", "unchecked"))
    return {
        "verdict": verdict,
        "rows_verified": rows,
        "tables": tables,
        "problems": list(out.get("problems") or []),
    }


def criteria(
    wanted: dict[str, Any], recovery_s: float | None, data: dict[str, Any], confirmed: bool
) -> list[dict[str, Any]]:
    """Each criterion of the experiment, measured and judged."""
    out = []
    for name, threshold in wanted.items():
        if name == "max_recovery_s":
            met = recovery_s is not None and recovery_s <= float(threshold)
            out.append({"name": name, "threshold": threshold, "measured": recovery_s, "met": met})
        elif name == "zero_data_loss":
            met = not threshold or data["verdict"] == "intact"
            out.append(
                {"name": name, "threshold": threshold, "measured": data["verdict"], "met": met}
            )
        elif name == "fault_confirmed":
            met = not threshold or confirmed
            out.append({"name": name, "threshold": threshold, "measured": confirmed, "met": met})
    return out


def _deviation(acts: list[dict[str, Any]]) -> str:
    for a in acts:
        if a["phase"] == "after" and a["tolerance_met"] is False:
            out = a["output"] if isinstance(a["output"], dict) else {}
            detail = {
                k: v
                for k, v in out.items()
                if k in ("unhealthy", "outcome", "error", "verdict", "problems")
            }
            return f"steady state not regained: {a['name']} {detail or a['error']}"
    return ""


def verdict(journal: dict[str, Any], fault: str, wanted: dict[str, Any]) -> Verdict:
    """The record status, message and provenance of one journal."""
    acts = activities(journal)
    status_j, deviated = str(journal.get("status", "")), bool(journal.get("deviated"))
    info, not_injected = fault_of(acts, fault)
    rec = recovery(acts, info["injected_at"])
    data = integrity(acts)
    judged = criteria(wanted, rec, data, info["confirmed"])
    window_end = None
    for out in _outputs(acts, "recovered", "method"):
        window_end = out.get("regained_at")
    if window_end is None and acts:
        window_end = max((a["end"] for a in acts if a["end"] is not None), default=None)
    chaos = {
        "status": status_j,
        "deviated": deviated,
        "fault": info,
        "recovery_time_s": rec,
        "data_integrity": data,
        "criteria": judged,
        "fault_window": {"start": info["injected_at"], "end": window_end},
        "activities": [
            {k: a[k] for k in ("name", "type", "phase", "status", "start", "end", "duration_s")}
            for a in acts
        ],
    }
    missed = [c for c in judged if not c["met"]]
    failed_actions = [a for a in acts if a["phase"] == "method" and a["status"] != "succeeded"]
    if status_j == "aborted":
        status, message = "error", "the platform was not in its steady state before the fault"
    elif status_j == "interrupted":
        status, message = "error", "the experiment was interrupted"
    elif not_injected:
        status, message = "error", not_injected
    elif deviated or status_j == "failed":
        status, message = "failed", _deviation(acts) or f"the experiment {status_j}"
    elif failed_actions:
        a = failed_actions[0]
        status, message = "failed", f"activity {a['name']} failed: {a['error']}"
    elif missed:
        status = "failed"
        message = "criteria missed: " + ", ".join(
            f"{c['name']} (want {c['threshold']}, measured {c['measured']})" for c in missed
        )
    else:
        status = "passed"
        message = (
            f"steady state held; recovered in {rec} s" if rec is not None else "steady state held"
        )
    metrics: dict[str, Any] = {
        "rows_verified": data["rows_verified"],
        "data_loss_rows": sum(
            max(0, int(t.get("rows_before", 0)) - int(t.get("rows_after", 0)))
            for t in data["tables"]
        ),
        "fault_confirmed": int(info["confirmed"]),
    }
    if rec is not None:
        metrics["recovery_s"] = rec
    return Verdict(status, message, chaos, metrics)
