"""A Chaos Toolkit journal -> certify's verdict for one experiment on one cell.

passed: the journal completed without deviation, the fault was injected and confirmed, and every
criterion of the experiment is met. failed: the steady state deviated (services, job outcome or
data), a criterion was missed, or the platform had to be restored by certify. error: the
experiment could not run (the platform was not in its steady state before, the fault could not be
injected, no journal).

The journal is external JSON, read here once into typed activities; what comes out is a typed
finding (certify.results.findings) and the metrics the policy judges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from certify.results.findings import (
    ChaosFinding,
    Criterion,
    FaultProof,
    Integrity,
    JsonObject,
    JsonValue,
    Window,
)

Json = Mapping[str, JsonValue]
_PHASES = (("before", "before"), ("method", "run"), ("after", "after"), ("rollback", "rollbacks"))
_DEVIATION_KEYS = ("unhealthy", "outcome", "error", "verdict", "problems")
_EMPTY: Json = {}


def _obj(value: JsonValue | None) -> Json:
    return value if isinstance(value, dict) else _EMPTY


def _list(value: JsonValue | None) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def _num(value: JsonValue | None) -> float | None:
    """A number as findings read one (a bool counts as 0/1, anything else is unknown)."""
    if isinstance(value, bool):
        return float(value)
    return value if isinstance(value, int | float) else None


def _int(value: JsonValue | None) -> int:
    number = _num(value)
    return int(number) if number is not None else 0


def _text(value: JsonValue | None, default: str = "") -> str:
    return default if value is None else value if isinstance(value, str) else str(value)


def _epoch(iso: JsonValue | None) -> float | None:
    try:
        return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class Activity:
    """One activity run of a journal (a probe or an action), in one phase."""

    name: str
    type: str
    phase: str  # before, method, after, rollback
    func: str
    status: str
    start: float | None
    end: float | None
    duration_s: float
    output: JsonValue
    tolerance_met: bool | None
    error: str

    @property
    def out(self) -> Json:
        """The activity's output when it is an object ({} otherwise)."""
        return _obj(self.output)

    def summary(self) -> JsonObject:
        """What a finding keeps of it (no output: that stays in the journal)."""
        return {
            "name": self.name,
            "type": self.type,
            "phase": self.phase,
            "status": self.status,
            "start": self.start,
            "end": self.end,
            "duration_s": self.duration_s,
        }

    @classmethod
    def of(cls, phase: str, run: Json) -> Activity:
        """One run of the journal, read leniently."""
        activity = _obj(run.get("activity"))
        tolerance = run.get("tolerance_met")
        return cls(
            _text(activity.get("name")),
            _text(activity.get("type")),
            phase,
            _text(_obj(activity.get("provider")).get("func")),
            _text(run.get("status")),
            _epoch(run.get("start")),
            _epoch(run.get("end")),
            round(_num(run.get("duration")) or 0.0, 3),
            run.get("output"),
            tolerance if isinstance(tolerance, bool) else None,
            _error(run),
        )


@dataclass(frozen=True)
class Verdict:
    """What a journal says, in certify's terms: status, message, the finding and its metrics."""

    status: str
    message: str
    finding: ChaosFinding | None = None  # None: no journal was judged
    metrics: dict[str, float] = field(default_factory=dict)


def activities(journal: Json) -> list[Activity]:
    """Every activity run (hypothesis before, method, hypothesis after, rollbacks), in order."""
    states = _obj(journal.get("steady_states"))
    out = []
    for phase, key in _PHASES:
        # the hypotheses' probes sit under steady_states, the method and rollbacks at the top
        runs = (
            _obj(states.get(key)).get("probes") if key in ("before", "after") else journal.get(key)
        )
        out += [Activity.of(phase, _obj(run)) for run in _list(runs)]
    return out


def _error(run: Json) -> str:
    exc = run.get("exception")
    if not exc:
        return ""
    text = str(exc[-1] if isinstance(exc, list) else exc).strip()
    return text.splitlines()[-1][:300] if text else ""


def _outputs(acts: Sequence[Activity], name: str, phase: str = "") -> list[Json]:
    return [
        a.out
        for a in acts
        if name in (a.name, a.func)
        and (not phase or a.phase == phase)
        and isinstance(a.output, dict)
    ]


def fault_of(acts: Sequence[Activity], fault: str) -> tuple[FaultProof, str]:
    """The fault's evidence and why it was not injected ('' when it was)."""
    runs = [a for a in acts if a.phase == "method" and a.name == fault]
    if not runs:
        never = "the fault activity never ran"
        return FaultProof(fault, "", None, False, never), never
    run = runs[0]
    out = run.out
    proof = FaultProof(
        fault,
        _text(out.get("target", "")),
        _num(out.get("at")),
        bool(out.get("confirmed", False)),
        _text(out.get("evidence", "")),
    )
    if run.status != "succeeded":
        return proof, f"the fault {fault} could not be injected: {run.error}"
    if "confirmed" not in out:  # network faults are confirmed by what the proxy measured
        later = [
            a.out
            for a in acts
            if a.phase in ("method", "rollback")
            and "confirmed" in a.out
            and a.start is not None
            and run.start is not None
            and a.start >= run.start
            and a.name != fault
        ]
        if later:
            proof = replace(
                proof,
                confirmed=bool(later[0]["confirmed"]),
                evidence=_text(later[0].get("evidence", "")),
            )
    return proof, ""


def recovery(acts: Sequence[Activity], injected_at: float | None) -> float | None:
    """Seconds from the fault to the steady state regained (the `recovered` probe's timestamp)."""
    if injected_at is None:
        return None
    for out in _outputs(acts, "recovered", "method"):
        regained = _num(out.get("regained_at"))
        if out.get("status") == 1 and regained is not None:
            return round(max(0.0, regained - injected_at), 3)
    return None


def integrity(acts: Sequence[Activity]) -> Integrity:
    """The data-integrity verdict of the hypothesis after the method."""
    outs = _outputs(acts, "data_integrity", "after")
    if not outs:
        return Integrity()
    out = outs[-1]
    tables = tuple(dict(t) for t in _list(out.get("tables")) if isinstance(t, dict))
    return Integrity(
        _text(out.get("verdict", "unchecked")) or "unchecked",
        sum(_int(t.get("rows_after", 0)) for t in tables),
        tables,
        tuple(_text(p) for p in _list(out.get("problems"))),
    )


def criteria(
    wanted: Mapping[str, JsonValue], recovery_s: float | None, data: Integrity, confirmed: bool
) -> tuple[Criterion, ...]:
    """Each criterion of the experiment, measured and judged."""
    out = []
    for name, threshold in wanted.items():
        if name == "max_recovery_s":
            limit = _num(threshold)
            met = recovery_s is not None and limit is not None and recovery_s <= limit
            out.append(Criterion(name, threshold, recovery_s, met))
        elif name == "zero_data_loss":
            met = not threshold or data.verdict == "intact"
            out.append(Criterion(name, threshold, data.verdict, met))
        elif name == "fault_confirmed":
            out.append(Criterion(name, threshold, confirmed, not threshold or confirmed))
    return tuple(out)


def _deviation(acts: Sequence[Activity]) -> str:
    for a in acts:
        if a.phase == "after" and a.tolerance_met is False:
            detail = {k: v for k, v in a.out.items() if k in _DEVIATION_KEYS}
            return f"steady state not regained: {a.name} {detail or a.error}"
    return ""


def _window_end(acts: Sequence[Activity]) -> float | None:
    """When the fault window closed: the steady state regained, else the last activity's end."""
    end = None
    for out in _outputs(acts, "recovered", "method"):
        end = _num(out.get("regained_at"))
    if end is None:
        end = max((a.end for a in acts if a.end is not None), default=None)
    return end


def _judgement(finding: ChaosFinding, acts: Sequence[Activity], not_injected: str) -> Verdict:
    """The status and message of a judged journal."""
    missed = [c for c in finding.criteria or () if not c.met]
    failed_actions = [a for a in acts if a.phase == "method" and a.status != "succeeded"]
    rec = finding.recovery_time_s
    if finding.status == "aborted":
        return Verdict("error", "the platform was not in its steady state before the fault")
    if finding.status == "interrupted":
        return Verdict("error", "the experiment was interrupted")
    if not_injected:
        return Verdict("error", not_injected)
    if finding.deviated or finding.status == "failed":
        return Verdict("failed", _deviation(acts) or f"the experiment {finding.status}")
    if failed_actions:
        a = failed_actions[0]
        return Verdict("failed", f"activity {a.name} failed: {a.error}")
    if missed:
        return Verdict(
            "failed",
            "criteria missed: "
            + ", ".join(f"{c.name} (want {c.threshold}, measured {c.measured})" for c in missed),
        )
    return Verdict(
        "passed",
        f"steady state held; recovered in {rec} s" if rec is not None else "steady state held",
    )


def _metrics(finding: ChaosFinding) -> dict[str, float]:
    """The numbers the policy judges."""
    data = finding.integrity
    metrics: dict[str, float] = {
        "rows_verified": data.rows_verified,
        "data_loss_rows": sum(
            max(0, _int(t.get("rows_before", 0)) - _int(t.get("rows_after", 0)))
            for t in data.tables
        ),
        "fault_confirmed": int(bool(finding.fault and finding.fault.confirmed)),
    }
    if finding.recovery_time_s is not None:
        metrics["recovery_s"] = finding.recovery_time_s
    return metrics


def verdict(journal: Json, fault: str, wanted: Mapping[str, JsonValue]) -> Verdict:
    """The record status, message, finding and metrics of one journal."""
    acts = activities(journal)
    proof, not_injected = fault_of(acts, fault)
    rec = recovery(acts, proof.injected_at)
    data = integrity(acts)
    finding = ChaosFinding(
        status=_text(journal.get("status", "")),
        deviated=bool(journal.get("deviated")),
        recovery_time_s=rec,
        integrity=data,
        fault=proof,
        criteria=criteria(wanted, rec, data, bool(proof.confirmed)),
        window=Window(proof.injected_at, _window_end(acts)),
        activities=tuple(a.summary() for a in acts),
    )
    judged = _judgement(finding, acts, not_injected)
    return replace(judged, finding=finding, metrics=_metrics(finding))
