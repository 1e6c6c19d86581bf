"""Chaos and load records in the report: per-cell sections, policy chaos criteria, SLOs, gate.

The records are built the way the chaos and load runners write them (the record contract); the
subject here is aggregation, the report document and its renderings.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from certify.cell import Cell
from certify.config.policy import ChaosCriterion, Policy, SloCriterion, TierRequirement, Waiver
from certify.plan import CoverageGroup, Plan, PlannedCell
from certify.report import RunInputs, assemble, schema
from certify.report.html import render_html
from certify.report.model import Report
from certify.report.readback import load_evidence
from certify.report.writers import write_all
from certify.results import Record

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
FINISHED = "2026-01-10T11:00:00.000Z"
CELL = "spark=3.5,catalog=hive,deploy=standalone"
OTHER = "spark=4.1,catalog=hive,deploy=connect"
GATE_POLICY = ChaosCriterion(
    name="recovery", max_recovery_s=120, zero_data_loss=True, require_fault_confirmed=True
)


def _planned(cell_id: str, records: list[Record]) -> PlannedCell:
    """The cell, planned with the experiments and load profiles its records ran."""
    pairs = tuple(tuple(p.split("=")) for p in cell_id.split(","))
    mine = [r for r in records if r.cell_id == cell_id]
    return PlannedCell(
        Cell(pairs, "certified"),  # type: ignore[arg-type]
        "spark-3.5",
        ("smoke",),
        tuple(dict.fromkeys(r.suite for r in mine if r.kind == "experiment")),
        tuple(dict.fromkeys(r.suite for r in mine if r.kind == "load")),
    )


def _plan(*cells: PlannedCell) -> Plan:
    group = CoverageGroup("certified", "full", 2, 1, 1, len(cells), 0)
    return Plan("m", "m.yaml", "nightly-chaos", 0, cells, (group,), ("spark", "catalog", "deploy"))


def smoke(cell: str = CELL) -> Record:
    """A passing scenario, with the provenance every record carries."""
    prov = {"certify": "0.1", "python": "3.11", "java": "17", "host": "h", "git_revision": None}
    return Record(
        "run", cell, "smoke", "smoke/t.py::a", "passed", finished=FINISHED, provenance=prov
    )


def experiment(
    cell: str = CELL,
    status: str = "passed",
    recovery: float | None = 42.5,
    integrity: str = "intact",
    lost: int = 0,
    confirmed: bool | None = True,
    name: str = "executor-loss",
) -> Record:
    """An experiment record as the chaos runner writes it."""
    metrics: dict[str, Any] = {"rows_verified": 1000, "data_loss_rows": lost}
    if recovery is not None:
        metrics["recovery_s"] = recovery
    if confirmed is not None:
        metrics["fault_confirmed"] = int(confirmed)
    chaos: dict[str, Any] = {
        "journal": f"evidence/cell/chaos/{name}/{name}.journal.json",
        "status": "completed",
        "deviated": status != "passed",
        "recovery_time_s": recovery,
        "data_integrity": {
            "verdict": integrity,
            "rows_verified": 1000,
            "tables": [
                {
                    "table": "db.t",
                    "rows_before": 1000,
                    "rows_after": 1000 - lost,
                    "checksum_before": "abc",
                    "checksum_after": "abc" if not lost else "def",
                    "verdict": integrity,
                }
            ],
        },
        "criteria": [
            {"name": "max_recovery_s", "threshold": 300, "measured": recovery, "met": True}
        ],
        "fault_window": {"start": 1.0, "end": 43.5},
        "activities": [],
    }
    if confirmed is not None:
        chaos["fault"] = {
            "action": "kill",
            "target": "executor",
            "injected_at": 1.0,
            "confirmed": confirmed,
            "evidence": "pid 123 exited -9",
        }
    return Record(
        "run",
        cell,
        name,
        f"chaos/{name}",
        status,
        kind="experiment",
        duration_s=60.0,
        message=f"{status}: executor loss",
        finished=FINISHED,
        provenance={**smoke(cell).provenance, "metrics": metrics, "chaos": chaos},
    )


def load(
    cell: str = CELL,
    p95: float = 180.0,
    status: str = "passed",
    windows: dict[str, Any] | None = None,
    recovered: float | None = 4.0,
    error_rate: float = 0.0,
) -> Record:
    """A load record as the load runner writes it (under chaos when `windows` is given)."""
    metrics = {
        "p50_ms": 90.0,
        "p95_ms": p95,
        "p99_ms": 400.0,
        "error_rate": error_rate,
        "rps": 35.0,
        "requests": 700,
        "failures": 0,
    }
    slos = [
        {
            "metric": "p95_ms",
            "op": "max",
            "threshold": 200.0,
            "measured": p95,
            "met": p95 <= 200,
            "note": "locust rounds to 2 significant digits",
        }
    ]
    body = {
        "shape": "ramp",
        "users": 4,
        "duration_s": 20.0,
        "during": "executor-loss" if windows else None,
        "slos": slos,
        "stats": {"json": "evidence/x/stats.json"},
        "windows": windows,
        "throughput_recovery_s": recovered if windows else None,
    }
    return Record(
        "run",
        cell,
        "spark-connect-sql",
        "load/spark-connect-sql",
        status,
        kind="load",
        duration_s=20.0,
        finished=FINISHED,
        provenance={**smoke(cell).provenance, "metrics": metrics, "load": body},
    )


WINDOWS = {
    "before": {"p50_ms": 80.0, "p95_ms": 150.0, "error_rate": 0.0, "rps": 36.0},
    "during": {"p50_ms": 400.0, "p95_ms": 2400.0, "error_rate": 0.2, "rps": 9.0},
    "after": {"p50_ms": 85.0, "p95_ms": 160.0, "error_rate": 0.0, "rps": 35.0},
}


def _report(records: list[Record], policy: Policy | None = None, *cells: str) -> Report:
    plan = _plan(*(_planned(c, records) for c in (cells or (CELL,))))
    run = {
        "id": "run",
        "profile": "nightly-chaos",
        "matrix": "m",
        "platform": "local",
        "started": FINISHED,
        "finished": FINISHED,
        "provenance": {
            "certify": "0.1",
            "python": "3.11",
            "java": "17",
            "host": "h",
            "git_revision": None,
        },
    }
    return assemble(RunInputs(run, plan, records), policy or Policy(chaos=[GATE_POLICY]), now=NOW)


def _criteria(report: Report, cell: int = 0) -> dict[str, str]:
    return {s.criterion: s.verdict for s in report.cells[cell].suites}


def test_report_json_carries_experiment_and_load_results_and_validates() -> None:
    report = _report([smoke(), experiment(), load(windows=WINDOWS)])
    doc = report.to_json()
    jsonschema.validate(doc, schema())
    [cell] = doc["cells"]
    assert cell["verdict"] == "certified"
    suites = {s["criterion"]: s for s in cell["suites"]}
    chaos = suites["chaos:executor-loss"]
    assert chaos["recovery_time_s"] == 42.5
    assert chaos["data_integrity"]["verdict"] == "intact"
    assert chaos["data_integrity"]["rows_verified"] == 1000
    assert chaos["data_integrity"]["tables"][0]["checksum_after"] == "abc"
    assert chaos["fault"] == {
        "action": "kill",
        "target": "executor",
        "confirmed": True,
        "evidence": "pid 123 exited -9",
    }
    assert chaos["journal"].endswith("executor-loss.journal.json")
    assert chaos["criteria"][0]["name"] == "max_recovery_s"
    policy = suites["chaos-criteria:executor-loss"]
    assert policy["verdict"] == "certified" and policy["kind"] == "chaos-criteria"
    assert [c["check"] for c in policy["checks"]] == [
        "max_recovery_s",
        "zero_data_loss",
        "fault_confirmed",
    ]
    loaded = suites["load:spark-connect-sql"]
    assert loaded["slos"][0]["measured"] == 180.0 and loaded["slos"][0]["met"] is True
    assert loaded["metrics"]["p95_ms"] == 180.0
    assert loaded["windows"]["during"]["p95_ms"] == 2400.0
    assert loaded["throughput_recovery_s"] == 4.0
    assert cell["chaos"] == [
        {
            "experiment": "executor-loss",
            "test_id": "chaos/executor-loss",
            "status": "passed",
            "verdict": "certified",
            "policy": "certified",
            "recovery_time_s": 42.5,
            "rows_verified": 1000,
            "data_integrity": "intact",
            "fault_confirmed": True,
            "journal": "evidence/cell/chaos/executor-loss/executor-loss.journal.json",
            "message": "passed: executor loss",
        }
    ]
    [row] = cell["load"]
    assert (row["profile"], row["verdict"], row["p95_ms"], row["rps"]) == (
        "spark-connect-sql",
        "certified",
        180.0,
        35.0,
    )
    assert row["windows"]["after"]["rps"] == 35.0 and row["during"] == "executor-loss"
    # the cell's provenance is the run's, not one experiment's findings
    assert "chaos" not in cell["provenance"] and "metrics" not in cell["provenance"]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (experiment(recovery=150.0), "recovery took 150 s, the policy allows at most 120 s"),
        (experiment(integrity="lost", lost=12), "data lost (data integrity lost, 12 row(s) lost)"),
        (experiment(confirmed=False), "the fault was not confirmed, so the experiment proves"),
    ],
)
def test_a_chaos_criterion_miss_fails_the_cell_and_the_gate(record: Record, reason: str) -> None:
    report = _report([smoke(), record])
    assert _criteria(report)["chaos-criteria:executor-loss"] == "failed"
    assert report.cells[0].verdict == "failed"
    [why] = report.gate.reasons
    assert why.startswith(f"{CELL} (certified): failed: chaos-criteria:executor-loss: ")
    assert reason in why


def test_a_missing_measurement_fails_closed_when_blocking_and_degrades_otherwise() -> None:
    unmeasured = experiment(recovery=None, integrity="unchecked", confirmed=None)
    report = _report([smoke(), unmeasured])
    assert report.cells[0].verdict == "incomplete"
    reasons = report.cells[0].reasons
    assert any("no recovery time measured (fail closed)" in r for r in reasons)
    assert any(
        "data loss was not checked (data integrity unchecked; fail closed)" in r for r in reasons
    )
    assert any("nothing confirms the fault happened" in r for r in reasons)
    soft = Policy(chaos=[GATE_POLICY.model_copy(update={"blocking": False})])
    assert _report([smoke(), unmeasured], soft).cells[0].verdict == "degraded"


def test_a_non_blocking_chaos_miss_degrades_and_fails_the_gate_only_if_degraded_blocks() -> None:
    soft = Policy(chaos=[ChaosCriterion(name="fast", max_recovery_s=30, blocking=False)])
    report = _report([smoke(), experiment(recovery=42.5)], soft)
    assert report.cells[0].verdict == "degraded"
    assert not report.gate.passed
    lenient = soft.model_copy(update={"pass_verdicts": ["certified", "waived", "degraded"]})
    assert _report([smoke(), experiment(recovery=42.5)], lenient).gate.passed


def test_an_optional_tier_criterion_degrades_a_chaos_criteria_miss() -> None:
    policy = Policy(
        chaos=[GATE_POLICY], tiers={"certified": TierRequirement(optional=["chaos-criteria:*"])}
    )
    report = _report([smoke(), experiment(recovery=500.0)], policy)
    assert _criteria(report)["chaos-criteria:executor-loss"] == "degraded"


def test_a_waiver_waives_a_chaos_criterion_until_it_expires() -> None:
    def waiver(expires: date) -> Waiver:
        return Waiver(
            cells="*deploy=standalone",
            criterion="chaos-criteria:executor-*",
            reason="SPARK-1: slow executor re-registration",
            owner="ann",
            expires=expires,
        )

    active = Policy(chaos=[GATE_POLICY], waivers=[waiver(date(2026, 2, 1))])
    report = _report([smoke(), experiment(recovery=150.0)], active)
    assert report.cells[0].verdict == "waived" and report.gate.passed
    assert report.waivers[0].status == "active"
    expired = Policy(chaos=[GATE_POLICY], waivers=[waiver(date(2026, 1, 1))])
    report = _report([smoke(), experiment(recovery=150.0)], expired)
    assert report.cells[0].verdict == "failed"
    # the experiment's own verdict is not waived by a chaos-criteria waiver
    failed = _report([smoke(), experiment(status="failed")], active)
    assert _criteria(failed)["chaos:executor-loss"] == "failed"


def test_criteria_apply_only_to_matching_experiments_that_ran() -> None:
    policy = Policy(chaos=[GATE_POLICY.model_copy(update={"experiment": "metastore-*"})])
    assert "chaos-criteria:executor-loss" not in _criteria(_report([smoke(), experiment()], policy))
    skipped = experiment(status="not_run", recovery=None, integrity="unchecked", confirmed=None)
    report = _report([smoke(), skipped])
    assert "chaos-criteria:executor-loss" not in _criteria(report)
    assert report.cells[0].verdict == "not_run"  # the experiment's own criterion says why


def test_a_missed_slo_fails_the_load_criterion_and_optional_load_only_degrades() -> None:
    missed = load(p95=250.0, status="failed")
    report = _report([smoke(), experiment(), missed])
    assert _criteria(report)["load:spark-connect-sql"] == "failed"
    assert report.cells[0].verdict == "failed"
    assert "load/spark-connect-sql: failed" in report.gate.reasons[0]
    policy = Policy(chaos=[GATE_POLICY], tiers={"certified": TierRequirement(optional=["load:*"])})
    assert _report([smoke(), experiment(), missed], policy).cells[0].verdict == "degraded"
    [row] = report.to_json()["cells"][0]["load"]
    assert row["slos"][0] == {
        "metric": "p95_ms",
        "op": "max",
        "threshold": 200.0,
        "measured": 250.0,
        "met": False,
        "note": "locust rounds to 2 significant digits",
    }


def test_slo_windows_read_steady_runs_or_one_window_of_loads_under_chaos() -> None:
    steady = SloCriterion(
        name="p95", load="spark-connect-sql", metric="p95_ms", max=200, window="run", blocking=True
    )
    after = SloCriterion(
        name="after-errors", load="*", metric="error_rate", max=0.01, window="after", blocking=True
    )
    during = SloCriterion(name="during-p95", load="*", metric="p95_ms", max=1000, window="during")
    recovery = SloCriterion(name="rps-back", metric="throughput_recovery_s", max=30, blocking=True)
    rps = SloCriterion(name="rps", load="*", metric="throughput_rps", min=10, window="run")
    policy = Policy(slo=[steady, after, during, recovery, rps])
    chaotic = load(p95=900.0, windows=WINDOWS, error_rate=0.05)
    report = _report([smoke(), experiment(), chaotic], policy)
    got = _criteria(report)
    # the whole run under chaos is not a steady run: p95 900 does not count against `run`
    assert "slo:p95" not in got and "slo:rps" not in got
    assert got["slo:after-errors"] == "certified" and got["slo:rps-back"] == "certified"
    assert got["slo:during-p95"] == "degraded"
    assert any("p95_ms (during window) = 2400, needs <= 1000" in r for r in report.cells[0].reasons)
    never = load(windows=WINDOWS, recovered=None)
    got = _criteria(_report([smoke(), experiment(), never], policy))
    assert got["slo:rps-back"] == "incomplete"  # never recovered: fail closed
    got = _criteria(_report([smoke(), experiment(), load(p95=150.0)], policy))
    assert got == {**got, "slo:p95": "certified", "slo:rps": "certified"}  # rps read as throughput
    assert "slo:after-errors" not in got  # no windows without chaos


def test_the_gate_decides_a_written_report_json_again_with_the_same_evidence(
    tmp_path: Path,
) -> None:
    records = [
        smoke(),
        experiment(recovery=150.0),
        load(windows=WINDOWS),
        smoke(OTHER),
        experiment(OTHER),
        load(OTHER),
    ]
    report = _report(records, None, CELL, OTHER)
    write_all(report, tmp_path, report.to_json())
    evidence = load_evidence(tmp_path)
    again = assemble(evidence.inputs(), evidence.policy(), now=NOW)
    assert [c.verdict for c in again.cells] == [c.verdict for c in report.cells]
    assert [c.verdict for c in again.cells] == ["failed", "certified"]
    assert again.gate.reasons == report.gate.reasons
    assert again.to_json()["cells"] == report.to_json()["cells"]


def test_reports_written_before_records_kept_their_metrics_still_decide() -> None:
    doc = _report(
        [smoke(), load(p95=250.0)],
        Policy(slo=[SloCriterion(name="p95", metric="p95_ms", max=200, blocking=True)]),
    ).to_json()
    cell = doc["cells"][0]
    for test in cell["tests"]:
        test.pop("metrics", None)
        test.pop("load", None)
    cell["provenance"] = {**cell["provenance"], "metrics": {"p95_ms": 250.0}}  # the old form
    from certify.report.readback import evidence_of

    evidence = evidence_of(doc, Path("old/report.json"))
    inputs = RunInputs(evidence.run, evidence.plan, evidence.records)
    again = assemble(inputs, evidence.policy(), now=NOW)
    assert _criteria(again)["slo:p95"] == "failed"


def test_markdown_shows_each_cells_chaos_and_load_tables(tmp_path: Path) -> None:
    records = [
        smoke(),
        experiment(recovery=150.0),
        load(windows=WINDOWS),
        smoke(OTHER),
        experiment(OTHER),
        load(OTHER, p95=250.0, status="failed"),
    ]
    report = _report(records, None, CELL, OTHER)
    write_all(report, tmp_path)
    text = (tmp_path / "report.md").read_text()
    section = text[text.index("## Chaos and load per cell") : text.index("## Changes")]
    assert section.index(f"### `{CELL}` (failed)") < section.index(f"### `{OTHER}` (failed)")
    assert (
        "| experiment | verdict | recovery time | rows verified | data integrity "
        "| fault confirmed | policy criteria |" in section
    )
    assert "| executor-loss | certified | 150 s | 1000 | intact | yes | failed |" in section
    assert "| executor-loss | certified | 42.5 s | 1000 | intact | yes | certified |" in section
    assert "| spark-connect-sql | failed (failed) | 90 ms | 250 ms | 400 ms | 0 | 35 " in section
    assert "p95_ms 250 <= 200 MISSED" in section and "p95_ms 180 <= 200 met" in section
    assert (
        "| spark-connect-sql | executor-loss | p95 150 ms, err 0, 36 rps | "
        "p95 2400 ms, err 0.2, 9 rps | p95 160 ms, err 0, 35 rps | 4 s |" in section
    )


def test_html_has_chaos_and_load_sections_and_panel_data() -> None:
    report = _report([smoke(), experiment(recovery=150.0), load(windows=WINDOWS)])
    page = render_html(report)
    chaos = page[page.index('<section id="chaos">') : page.index('<section id="load">')]
    assert "<td>150 s</td>" in chaos and "<td>intact</td>" in chaos
    load_section = page[page.index('<section id="load">') :]
    assert "Load under chaos" in load_section and "p95 2400 ms, err 0.2, 9 rps" in load_section
    data = page[page.index('id="cells-data">') + 16 : page.index("</script>")]
    cell = json.loads(data)[CELL]
    assert cell["chaos"][0][:3] == ["executor-loss", "certified", "150 s"]
    assert cell["load"][0][0] == "spark-connect-sql" and cell["windows"][0][1] == "executor-loss"
    assert "var TABLES=" in page
    quiet = render_html(_report([smoke()]))
    assert '<section id="chaos">' not in quiet and '<section id="load">' not in quiet
    data = quiet[quiet.index('id="cells-data">') + 16 : quiet.index("</script>")]
    assert set(json.loads(data)[CELL]) == {"tier", "verdict", "criteria"}


def test_a_policy_slo_allows_locusts_rounding_of_load_latencies() -> None:
    policy = Policy(
        slo=[SloCriterion(name="p95", load="*", metric="p95_ms", max=200, blocking=True)]
    )
    # locust keeps 205 for any true value in [200, 210): it may be within the bound
    assert _criteria(_report([smoke(), load(p95=205.0)], policy))["slo:p95"] == "certified"
    report = _report([smoke(), load(p95=210.0)], policy)
    assert _criteria(report)["slo:p95"] == "failed"
    assert any(
        "p95_ms = 210, needs <= 200 (even allowing locust's rounding of +/-5 ms)" in r
        for r in report.cells[0].reasons
    )


def test_an_experiment_that_does_not_apply_is_shown_as_not_applicable(tmp_path: Path) -> None:
    """Its row says `not applicable`, never `not_run (not_run)` as a real gap would read."""
    out_of_scope = Record(
        "run", CELL, "object-store-latency", "chaos/object-store-latency", "not_run",
        kind="experiment", message="requires catalog in ['iceberg-rest']", finished=FINISHED,
        applicable=False,
    )  # fmt: skip
    gap = Record(
        "run", CELL, "worker-loss", "chaos/worker-loss", "not_run", kind="experiment",
        message="the platform supplies no fault target for chaos", finished=FINISHED,
    )  # fmt: skip
    report = _report([smoke(), experiment(), out_of_scope, gap])
    assert _criteria(report)["chaos:worker-loss"] == "not_run"
    assert report.cells[0].verdict == "not_run"
    write_all(report, tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "| object-store-latency | not applicable | - |" in text
    assert "| worker-loss | not_run (in scope, not run) | - |" in text
    page = (tmp_path / "report.html").read_text()
    chaos = page[
        page.index('<section id="chaos">') : page.index(
            "</section>", page.index('<section id="chaos">')
        )
    ]
    assert ">not applicable</td>" in chaos and ">not_run (in scope, not run)</td>" in chaos
