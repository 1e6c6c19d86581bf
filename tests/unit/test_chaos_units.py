"""Fast checks of the chaos engine: experiment files, rendering, validation, journals, criteria."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from certify.chaos import experiments as exps
from certify.chaos.control import ControlServer, call
from certify.chaos.journal import criteria, verdict
from certify.errors import ControlError

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


def test_a_clean_journal_passes_with_recovery_from_probe_timestamps() -> None:
    got = verdict(_journal(), "kill-executor", {"max_recovery_s": 60, "zero_data_loss": True})
    assert got.status == "passed"
    assert got.chaos["recovery_time_s"] == 15.0
    assert got.metrics == {
        "recovery_s": 15.0,
        "rows_verified": 10,
        "data_loss_rows": 0,
        "fault_confirmed": 1,
    }
    assert got.chaos["fault_window"] == {"start": 1767225605.0, "end": 1767225620.0}
    assert [a["name"] for a in got.chaos["activities"]] == [
        "kill-executor",
        "recovered",
        "data_integrity",
    ]


def test_lost_rows_deviate_and_fail() -> None:
    got = verdict(_journal(deviated=True, intact=False), "kill-executor", {"zero_data_loss": True})
    assert got.status == "failed" and "data_integrity" in got.message
    assert got.metrics["data_loss_rows"] == 3
    assert got.chaos["data_integrity"]["verdict"] == "lost"


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
    data = {"verdict": "changed"}
    judged = {
        c["name"]: c["met"]
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
