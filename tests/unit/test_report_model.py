"""The aggregated report: criteria, policy rules, waivers and the gate, fail-closed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from certify.cell import Cell
from certify.config.policy import Policy, SloCriterion, TierRequirement, Waiver
from certify.plan import CoverageGroup, Plan, PlannedCell
from certify.report import RunInputs, aggregate, assemble
from certify.report.model import Report
from certify.results import Record

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
HIVE = "spark=3.5,catalog=hive"
GLUE = "spark=3.5,catalog=glue"


def _planned(cell_id: str, tier: str = "certified", **kw: Any) -> PlannedCell:
    pairs = tuple(tuple(p.split("=")) for p in cell_id.split(","))
    return PlannedCell(
        Cell(pairs, tier),  # type: ignore[arg-type]
        "spark-3.5",
        kw.get("suites", ("smoke",)),
        kw.get("chaos", ()),
        kw.get("load", ()),
    )


def _plan(*cells: PlannedCell) -> Plan:
    group = CoverageGroup("certified", "full", 2, 1, 1, len(cells), 0)
    return Plan("m", "m.yaml", "pr", 0, cells, (group,), ("spark", "catalog"))


def _rec(cell: str, test: str, status: str, **kw: Any) -> Record:
    suite = kw.pop("suite", "smoke")
    finished = kw.pop("finished", "2026-01-10T11:00:00.000Z")
    return Record("run", cell, suite, f"{suite}/t.py::{test}", status, finished=finished, **kw)


def _report(plan: Plan, records: list[Record], policy: Policy | None = None) -> Report:
    run = {"id": "run", "profile": "pr", "matrix": "m", "platform": "local"}
    return assemble(RunInputs(run, plan, records), policy or Policy(), now=NOW)


def test_certified_cells_pass_and_the_reasons_name_cell_and_criterion() -> None:
    plan = _plan(_planned(HIVE), _planned(GLUE))
    report = _report(
        plan,
        [_rec(HIVE, "a", "passed"), _rec(GLUE, "a", "passed"), _rec(GLUE, "b", "failed")],
    )
    assert [c.verdict for c in report.cells] == ["certified", "failed"]
    [reason] = report.gate.reasons
    assert reason.startswith(f"{GLUE} (certified): failed: suite:smoke: smoke/t.py::b: failed")


def test_a_cell_without_records_is_incomplete_and_fails_the_gate() -> None:
    report = _report(_plan(_planned(HIVE)), [])
    assert report.cells[0].verdict == "incomplete"
    assert report.gate.reasons == (
        f"{HIVE} (certified): incomplete: suite:smoke: suite smoke: no results recorded "
        "(the run did not finish it)",
    )


def test_an_unknown_status_fails_closed() -> None:
    report = _report(_plan(_planned(HIVE)), [_rec(HIVE, "a", "passed"), _rec(HIVE, "b", "weird")])
    assert report.cells[0].verdict == "failed"
    assert "suite:smoke: smoke/t.py::b: weird" in report.gate.reasons[0]


def test_evidence_required_by_the_policy_but_not_planned_is_missing() -> None:
    policy = Policy(tiers={"certified": TierRequirement(suites=["etl"], chaos=["kill"])})
    report = _report(_plan(_planned(HIVE)), [_rec(HIVE, "a", "passed")], policy)
    cell = report.cells[0]
    assert {s.criterion: s.verdict for s in cell.suites} == {
        "suite:smoke": "certified",
        "suite:etl": "incomplete",
        "chaos:kill": "incomplete",
    }
    assert "chaos:kill: experiment kill: no results recorded" in report.gate.reasons[0]


def test_an_optional_criterion_only_degrades() -> None:
    policy = Policy(
        tiers={"certified": TierRequirement(optional=["load:*"])}, pass_verdicts=["certified"]
    )
    plan = _plan(_planned(HIVE, load=("baseline",)))
    report = _report(plan, [_rec(HIVE, "a", "passed")], policy)
    assert report.cells[0].verdict == "degraded"
    assert "load:baseline: optional in the policy" in report.gate.reasons[0]
    lenient = policy.model_copy(update={"pass_verdicts": ["certified", "degraded"]})
    assert _report(plan, [_rec(HIVE, "a", "passed")], lenient).gate.passed


def test_slo_misses_degrade_or_fail_and_unmeasured_blocking_slos_fail_closed() -> None:
    def load(p95: float | None) -> Record:
        metrics = {} if p95 is None else {"metrics": {"p95_ms": p95}}
        return _rec(HIVE, "shape", "passed", suite="baseline", kind="load", provenance=metrics)

    plan = _plan(_planned(HIVE, load=("baseline",)))
    soft = Policy(slo=[SloCriterion(name="p95", metric="p95_ms", max=200)])
    hard = Policy(slo=[SloCriterion(name="p95", metric="p95_ms", max=200, blocking=True)])
    base = [_rec(HIVE, "a", "passed")]
    assert _report(plan, [*base, load(150)], soft).cells[0].verdict == "certified"
    degraded = _report(plan, [*base, load(250)], soft)
    assert degraded.cells[0].verdict == "degraded"
    assert "slo:p95: baseline/t.py::shape: p95_ms = 250, needs <= 200" in degraded.gate.reasons[0]
    assert _report(plan, [*base, load(250)], hard).cells[0].verdict == "failed"
    assert _report(plan, [*base, load(None)], hard).cells[0].verdict == "incomplete"


def test_flaky_results_over_the_tolerated_count_degrade() -> None:
    records = [_rec(HIVE, "a", "flaky"), _rec(HIVE, "b", "flaky")]
    plan = _plan(_planned(HIVE))
    assert _report(plan, records).cells[0].verdict == "certified"  # built-in: no limit
    report = _report(plan, records, Policy(flaky_tolerated=1))
    assert report.cells[0].verdict == "degraded"
    assert "flaky: 2 flaky result(s), the policy tolerates 1" in report.gate.reasons[0]


def test_old_evidence_is_incomplete() -> None:
    old = _rec(HIVE, "a", "passed", finished="2025-11-01T00:00:00Z")
    report = _report(_plan(_planned(HIVE)), [old], Policy(max_evidence_age_days=30))
    assert report.cells[0].verdict == "incomplete"
    assert "evidence-age: smoke/t.py::a: evidence is 70.5 days old" in report.gate.reasons[0]


def _waiver(expires: date, criterion: str = "suite:smoke") -> Waiver:
    return Waiver(cells="*catalog=glue", criterion=criterion, reason="no emulator", owner="ann",
                  expires=expires)  # fmt: skip


def test_a_valid_waiver_waives_and_an_expired_one_no_longer_does() -> None:
    plan = _plan(_planned(HIVE), _planned(GLUE))
    records = [_rec(HIVE, "a", "passed"), _rec(GLUE, "*", "not_run", message="no glue here")]
    active = _report(plan, records, Policy(waivers=[_waiver(NOW.date())]))
    assert [c.verdict for c in active.cells] == ["certified", "waived"]
    assert active.gate.passed
    assert [(u.status, u.cells) for u in active.waivers] == [("active", (GLUE,))]
    assert "waived by waiver suite:smoke on *catalog=glue (owner ann)" in active.cells[1].reasons[0]

    expired = _report(plan, records, Policy(waivers=[_waiver(NOW.date() - timedelta(days=1))]))
    assert [c.verdict for c in expired.cells] == ["certified", "not_run"]
    [reason] = expired.gate.reasons
    assert reason.startswith(f"{GLUE} (certified): not_run: suite:smoke: waiver")
    assert "expired on 2026-01-09 and no longer waives suite:smoke" in reason
    assert [u.status for u in expired.waivers] == ["expired"]
    doc = expired.to_json()
    assert doc["waivers"][0]["status"] == "expired"


def test_a_waiver_for_another_criterion_does_not_waive() -> None:
    plan = _plan(_planned(GLUE))
    records = [_rec(GLUE, "*", "not_run")]
    report = _report(plan, records, Policy(waivers=[_waiver(NOW.date(), "chaos:*")]))
    assert report.cells[0].verdict == "not_run"
    assert report.waivers[0].status == "unused"


def test_non_blocking_tiers_never_fail_the_gate_but_no_blocking_cell_does() -> None:
    plan = _plan(_planned(GLUE, tier="documented"))
    report = _report(plan, [_rec(GLUE, "a", "failed")])
    assert report.cells[0].verdict == "failed"
    assert report.gate.reasons == (
        "no cell of a blocking tier (certified) was planned: nothing to certify",
    )


def test_unreadable_evidence_and_interruptions_fail_the_gate() -> None:
    plan = _plan(_planned(HIVE))
    run = {"id": "r", "profile": "pr", "evidence_error": "the record store is unreadable: x"}
    report = assemble(RunInputs(run, plan, [_rec(HIVE, "a", "passed")]), Policy(), now=NOW)
    assert report.gate.reasons == ("the record store is unreadable: x",)
    run = {"id": "r", "profile": "pr", "interrupted": True}
    report = assemble(RunInputs(run, plan, [_rec(HIVE, "a", "passed")]), Policy(), now=NOW)
    assert report.gate.reasons == ("the run was interrupted: its evidence is partial",)


def test_records_of_cells_outside_the_plan_are_ignored() -> None:
    cells, _ = aggregate(
        _plan(_planned(HIVE)), [_rec(HIVE, "a", "passed"), _rec(GLUE, "a", "failed")]
    )
    assert [(c.id, c.verdict) for c in cells] == [(HIVE, "certified")]


def test_an_inapplicable_suite_is_left_out_of_the_verdict_only_when_finished() -> None:
    plan = _plan(_planned(HIVE, suites=("smoke", "icy")))
    inapplicable = _rec(
        HIVE,
        "tt",
        "not_run",
        suite="icy",
        applicable=False,
        message="requires catalog=iceberg-*, cell has catalog=hive",
    )
    records = [_rec(HIVE, "a", "passed"), inapplicable]
    run = {"id": "run", "profile": "pr", "matrix": "m", "platform": "local"}
    collected = {HIVE: [("icy", "icy/t.py::tt")]}
    done = assemble(RunInputs(run, plan, records, collected), Policy(), now=NOW)
    assert done.cells[0].verdict == "certified"
    # the same records while another test of the suite never finished: incomplete, not ignored
    expected = {HIVE: [("icy", "icy/t.py::tt"), ("icy", "icy/t.py::other")]}
    cut = assemble(RunInputs(run, plan, records, expected), Policy(), now=NOW)
    assert cut.cells[0].verdict == "incomplete"
    # a not_run the platform caused (applicable) is missing evidence: the cell is not_run
    gap = _rec(HIVE, "tt", "not_run", suite="icy", message="the jar is missing")
    missing = assemble(RunInputs(run, plan, [records[0], gap]), Policy(), now=NOW)
    assert missing.cells[0].verdict == "not_run"


def test_every_output_keeps_not_applicable_apart_from_not_run(tmp_path: Path) -> None:
    """Out of scope (the cell's values) vs in scope but not exercised, with the reason, in
    report.json's reasons, report.md, report.html and junit.xml."""
    from certify.report.writers import write_all

    plan = _plan(_planned(HIVE, suites=("smoke", "icy")), _planned(GLUE))
    records = [
        _rec(HIVE, "a", "passed"),
        _rec(HIVE, "b", "not_run", message="the jar x is not available here"),
        _rec(HIVE, "c", "skipped", message="cluster busy"),
        _rec(HIVE, "d", "not_run", applicable=False, message="requires storage=s3"),
        _rec(HIVE, "t", "not_run", suite="icy", applicable=False, message="requires iceberg"),
        _rec(GLUE, "a", "passed"),
        _rec(GLUE, "d", "not_run", applicable=False, message="requires storage=s3"),
    ]
    report = _report(plan, records)
    hive, glue = report.cells
    assert (hive.verdict, glue.verdict) == ("incomplete", "certified")
    doc: Any = report.to_json()
    smoke = next(s for s in doc["cells"][0]["suites"] if s["name"] == "smoke")
    assert smoke["verdict"] == "incomplete"
    assert smoke["reasons"][:3] == [
        "smoke/t.py::b: not run (in scope, not exercised): the jar x is not available here",
        "smoke/t.py::c: skipped (in scope, not declared not applicable): cluster busy",
        "smoke/t.py::d: not applicable (out of scope for the cell's values): requires storage=s3",
    ]
    assert "a plain skip is no evidence" in smoke["reasons"][3]
    assert glue.reasons == (
        "smoke/t.py::d: not applicable (out of scope for the cell's values): requires storage=s3",
    )
    write_all(report, tmp_path)
    md = (tmp_path / "report.md").read_text()
    not_run = md[md.index("## Not run") : md.index("## Changes")]
    assert "2 test(s) apply to their cell but were not exercised" in not_run
    assert (
        f"| `{HIVE}` | smoke/t.py::b | not run (in scope, not exercised) "
        "| the jar x is not available here |" in not_run
    )
    assert "| smoke/t.py::c | skipped (in scope, not declared not applicable) |" in not_run
    assert "smoke/t.py::d" not in not_run  # out of scope: counted, not listed as missing
    assert "3 test(s) are not applicable to their cell's values (out of scope)" in not_run
    page = (tmp_path / "report.html").read_text()
    section = page[page.index('<section id="not-run">') :]
    section = section[: section.index("</section>")]
    assert "not run (in scope, not exercised)" in section and "cluster busy" in section
    assert "3 test(s) are not applicable" in section
    suites = page[page.index('<section id="suites">') :]
    assert "suite:icy: 1 not applicable" in suites  # not a bare not_run beside real ones
    data = json.loads(page[page.index('id="cells-data">') + 16 : page.index("</script>")])
    assert data[HIVE]["criteria"][1][:2] == ["suite:icy", "not applicable"]
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "junit.xml").iter("testcase")}
    messages = {
        name.split("[")[0]: child.get("message", "")
        for name, case in cases.items()
        if name is not None
        for child in case
    }
    assert messages["b"].startswith("not run (in scope, not exercised): the jar x")
    assert messages["c"].startswith("skipped (in scope, not declared not applicable): cluster")
    assert messages["d"].startswith("not applicable (out of scope for the cell's values): ")


def test_a_cell_none_of_whose_criteria_apply_is_shown_as_not_applicable(tmp_path: Path) -> None:
    from certify.report.writers import write_markdown

    plan = _plan(_planned(HIVE))
    records = [_rec(HIVE, "t", "not_run", applicable=False, message="requires iceberg")]
    report = _report(plan, records)
    assert report.cells[0].verdict == "not_run"  # report.json keeps the verdict
    write_markdown(report, tmp_path)
    assert (
        f"| `{HIVE}` | certified | not applicable | suite smoke does not apply"
        in (tmp_path / "report.md").read_text()
    )
