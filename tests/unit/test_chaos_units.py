"""Fast checks of the chaos engine: experiment files, rendering, validation, journals, criteria."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from certify.chaos import experiments as exps
from certify.chaos.control import ControlServer, call
from certify.chaos.journal import Verdict, criteria, verdict
from certify.errors import ControlError
from certify.results import Record
from certify.results.findings import ChaosFinding, Integrity, Window, findings_json

ROOT = Path(__file__).resolve().parents[2]


def test_every_shipped_experiment_is_valid_and_names_its_fault() -> None:
    found = exps.validate_all(ROOT)
    assert len(found) >= 6
    assert {n: why for n, why in found.items() if why} == {}


def test_requires_selects_cells_and_says_why_not() -> None:
    experiment = exps.load(exps.find(ROOT, "executor-loss"))
    values = {"spark": "3.5", "catalog": "iceberg-hive", "deploy": "standalone"}
    assert experiment.not_applicable(values) is None
    why = experiment.not_applicable({**values, "deploy": "local"})
    assert why is not None and "deploy" in why and "standalone" in why


def test_rendering_puts_the_cell_in_configuration_never_a_secret(tmp_path: Path) -> None:
    experiment = exps.load(exps.find(ROOT, "object-store-outage"))
    path = exps.render(experiment, "spark=3.5,catalog=iceberg-rest", tmp_path / "c.json", tmp_path)
    body = json.loads(path.read_text())
    assert body["configuration"]["cell"]["key"] == exps.CELL_VAR
    assert body["configuration"]["cell_id"] == "spark=3.5,catalog=iceberg-rest"
    assert all(v["type"] == "env" for v in body["secrets"]["s3"].values())
    exps.validate(body, path)


def _body(**changes: Any) -> dict[str, Any]:
    body = json.loads((ROOT / "chaos" / "executor-loss.json").read_text())
    body.update(changes)
    return body


def test_validation_errors_name_the_key_and_the_fix(tmp_path: Path) -> None:
    body = _body()
    body["extensions"][0]["fault"] = "nope"
    body["extensions"][0]["criteria"] = {"max_recovery_s": "fast", "speed": 1}
    body["secrets"] = {"s3": {"access_key": "AKIALITERAL"}}
    with pytest.raises(exps.ExperimentError) as err:
        exps.validate(body, "x.json")
    text = str(err.value)
    assert "extensions.certify.fault: 'nope'" in text and "kill-executor" in text
    assert "criteria.max_recovery_s" in text and "criteria.speed: unknown criterion" in text
    assert "secrets.s3.access_key: a literal secret" in text
    with pytest.raises(exps.ExperimentError, match="Chaos Toolkit"):
        exps.validate(_body(method=[{"type": "action", "name": "x"}]), "y.json")


def _run(name: str, output: Any, status: str = "succeeded", t: int = 0) -> dict[str, Any]:
    return {
        "activity": {"name": name, "type": "probe", "provider": {"func": name}},
        "output": output,
        "status": status,
        "duration": 1.0,
        "start": f"2026-01-01T00:00:{t:02d}+00:00",
        "end": f"2026-01-01T00:00:{t + 1:02d}+00:00",
    }


def _journal(
    deviated: bool = False, intact: bool = True, regained: float = 1767225620.0
) -> dict[str, Any]:
    table = {
        "table": "t",
        "rows_before": 10,
        "rows_after": 10 if intact else 7,
        "checksum_before": "a",
        "checksum_after": "a" if intact else "b",
        "verdict": "intact" if intact else "lost",
    }
    after = _run(
        "data_integrity",
        {"status": int(intact), "verdict": table["verdict"], "tables": [table]},
        t=30,
    )
    after["tolerance_met"] = intact
    return {
        "status": "completed",
        "deviated": deviated,
        "steady_states": {"before": {"probes": []}, "after": {"probes": [after]}},
        "run": [
            _run(
                "kill-executor",
                {
                    "at": 1767225605.0,
                    "target": "executor",
                    "confirmed": True,
                    "evidence": "kill -9 1",
                },
                t=5,
            ),
            _run("recovered", {"status": 1, "regained_at": regained}, t=10),
        ],
        "rollbacks": [],
    }


def finding(got: Verdict) -> ChaosFinding:
    assert got.finding is not None
    return got.finding


def test_a_clean_journal_passes_with_recovery_from_probe_timestamps() -> None:
    got = verdict(_journal(), "kill-executor", {"max_recovery_s": 60, "zero_data_loss": True})
    assert got.status == "passed"
    assert finding(got).recovery_time_s == 15.0
    assert got.metrics == {
        "recovery_s": 15.0,
        "rows_verified": 10,
        "data_loss_rows": 0,
        "fault_confirmed": 1,
    }
    assert finding(got).window == Window(1767225605.0, 1767225620.0)
    assert [a["name"] for a in finding(got).activities or ()] == [
        "kill-executor",
        "recovered",
        "data_integrity",
    ]


def _activity(name: str, phase: str, start: float) -> dict[str, Any]:
    return {"duration_s": 1.0, "end": start + 1, "name": name, "phase": phase, "start": start,
            "status": "succeeded", "type": "probe"}  # fmt: skip


# what certify.record/1 kept in `provenance` for the clean journal (its producer's output)
_RECORD1 = {
    "chaos": {
        "activities": [_activity("kill-executor", "method", 1767225605.0),
                       _activity("recovered", "method", 1767225610.0),
                       _activity("data_integrity", "after", 1767225630.0)],
        "criteria": [{"measured": 15.0, "met": True, "name": "max_recovery_s", "threshold": 60},
                     {"measured": "intact", "met": True, "name": "zero_data_loss",
                      "threshold": True},
                     {"measured": True, "met": True, "name": "fault_confirmed", "threshold": True}],
        "data_integrity": {"problems": [], "rows_verified": 10, "verdict": "intact",
                           "tables": [{"checksum_after": "a", "checksum_before": "a",
                                       "rows_after": 10, "rows_before": 10, "table": "t",
                                       "verdict": "intact"}]},
        "deviated": False,
        "fault": {"action": "kill-executor", "confirmed": True, "evidence": "kill -9 1",
                  "injected_at": 1767225605.0, "target": "executor"},
        "fault_window": {"end": 1767225620.0, "start": 1767225605.0},
        "journal": "evidence/c/chaos/x.journal.json",
        "leftovers": [],
        "recovery_time_s": 15.0,
        "restored": ["healed proxy hive"],
        "status": "completed",
    },
    "metrics": {"data_loss_rows": 0, "fault_confirmed": 1, "recovery_s": 15.0, "rows_verified": 10},
}  # fmt: skip


def test_the_typed_finding_has_the_json_form_records_always_had() -> None:
    wanted = {"max_recovery_s": 60, "zero_data_loss": True, "fault_confirmed": True}
    got = verdict(_journal(), "kill-executor", wanted)
    found = replace(
        finding(got), journal="evidence/c/chaos/x.journal.json", restored=("healed proxy hive",)
    )
    assert findings_json(got.metrics, found) == _RECORD1
    # and a record/1 producer's provenance reads back as the same finding and metrics
    legacy = Record("r", "c", "x", "chaos/x", "passed", kind="experiment", provenance=_RECORD1)
    assert legacy.finding == found and legacy.metrics == got.metrics and legacy.provenance == {}


def test_lost_rows_deviate_and_fail() -> None:
    got = verdict(_journal(deviated=True, intact=False), "kill-executor", {"zero_data_loss": True})
    assert got.status == "failed" and "data_integrity" in got.message
    assert got.metrics["data_loss_rows"] == 3
    assert finding(got).integrity.verdict == "lost"


def test_slow_recovery_misses_the_criterion() -> None:
    got = verdict(_journal(regained=1767225805.0), "kill-executor", {"max_recovery_s": 60})
    assert got.status == "failed" and "max_recovery_s" in got.message


def test_a_fault_that_could_not_be_injected_is_an_error() -> None:
    journal = _journal()
    journal["run"][0]["status"] = "failed"
    journal["run"][0]["exception"] = ["InfrastructureError: no executor process found"]
    got = verdict(journal, "kill-executor", {})
    assert got.status == "error" and "no executor" in got.message


def test_criteria_judgement() -> None:
    data = Integrity("changed")
    judged = {
        c.name: c.met
        for c in criteria(
            {"max_recovery_s": 10, "zero_data_loss": True, "fault_confirmed": True},
            None,
            data,
            True,
        )
    }
    assert judged == {"max_recovery_s": False, "zero_data_loss": False, "fault_confirmed": True}


def test_control_channel_round_trip_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> None:
        raise RuntimeError("no such thing")

    with ControlServer(tmp_path / "c.sock", {"add": lambda a, b: a + b, "boom": boom}) as server:
        assert (server.path.stat().st_mode & 0o777) == 0o600
        monkeypatch.setenv("CERTIFY_CHAOS_CONTROL", str(server.path))
        assert call("add", a=2, b=3) == 5
        with pytest.raises(ControlError, match="no such thing"):
            call("boom")
        with pytest.raises(ControlError, match="unknown operation"):
            call("nope")
    assert not (tmp_path / "c.sock").exists()


def test_the_workload_spec_file_round_trips(tmp_path: Path) -> None:
    from certify.cell import PlatformOptions, SparkOptions
    from certify.chaos.workload_io import WorkloadSpec

    options = PlatformOptions("local", "db_1", SparkOptions(remote="sc://127.0.0.1:1"))
    spec = WorkloadSpec(
        "spark", "t", tmp_path, {"spark": "4.1"}, options, {"a": "b"}, {}, {"rows": 5, "x": "y"}
    )
    data = json.loads(json.dumps(spec.to_json()))
    assert data["rows"] == 5 and data["options"]["spark"]["remote"] == "sc://127.0.0.1:1"
    back = WorkloadSpec.from_json(data)
    assert back == spec
    assert back.number("rows", 1) == 5 and back.number("x", 7) == 7 and back.number("no", 2) == 2


def test_a_bounded_call_returns_raises_or_gives_up() -> None:
    import threading

    from certify.chaos.workload_spark import within

    assert within(lambda: 42, 5, "answer") == 42
    with pytest.raises(ValueError, match="bad"):
        within(lambda: (_ for _ in ()).throw(ValueError("bad")), 5, "error")
    never = threading.Event()
    with pytest.raises(TimeoutError, match="the write: no answer"):
        within(never.wait, 0.2, "the write")
    never.set()


def test_hostile_experiment_files_are_clear_errors_not_tracebacks(tmp_path: Path) -> None:
    """Deep nesting, alias bombs and FIFOs: ExperimentError naming the file, never a hang."""
    import os

    (tmp_path / "deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    bomb += [
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]" for p, n in zip("abcde", "bcdef", strict=True)
    ]
    (tmp_path / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    os.mkfifo(tmp_path / "fifo.json")
    for name in ("deep.yaml", "deep.json", "bomb.yaml", "fifo.json"):
        with pytest.raises(exps.ExperimentError) as err:
            exps.load(tmp_path / name)
        assert name in str(err.value)
