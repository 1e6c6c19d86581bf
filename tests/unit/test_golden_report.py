"""The same records give a byte-identical report.json: two real runs kept as fixtures.

The fixtures (tests/fixtures/golden, see its README) were made by `certify run` before the
restructuring of records, findings and reports; each report is rebuilt here from the run's own
results store, plan.json, policy and history, and must equal the report.json it wrote, byte for
byte. A second check reads report.json back (as `certify gate`/`report merge` do) and renders it
again: what a report says survives its own round trip.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from certify.config.policy import load_policy
from certify.plan import Plan
from certify.report import RunInputs, assemble
from certify.report.history import History
from certify.report.readback import load_evidence
from certify.results import RecordStore

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
RUNS = ["failing", "passing"]


def _bytes(doc: dict[str, object]) -> str:
    return json.dumps(doc, separators=(",", ":")) + "\n"  # as report/writers.py writes it


def _rebuild(run_dir: Path, tmp_path: Path) -> str:
    saved = json.loads((run_dir / "report.json").read_text())
    store = RecordStore(run_dir / "results.sqlite")
    run = dict(saved["run"])
    plan = Plan.from_json(json.loads((run_dir / "plan.json").read_text()))
    history = None
    if (run_dir / "history").is_dir():
        shutil.copytree(run_dir / "history", tmp_path / "history")
        history = History(tmp_path / "history")
    finished = datetime.fromisoformat(run["finished"].replace("Z", "+00:00"))
    report = assemble(
        RunInputs(run, plan, store.records(run["id"]), store.expected(run["id"])),
        # the policy file as it was then, named where it was then (the report names its source)
        load_policy(GOLDEN / "policy.yaml").model_copy(
            update={"source": saved["gate"]["policy"]["source"]}
        ),
        history,
        now=finished,
    )
    return _bytes(report.to_json())


@pytest.mark.parametrize("name", RUNS)
def test_the_records_of_a_real_run_give_its_report_byte_for_byte(name: str, tmp_path: Path) -> None:
    run_dir = GOLDEN / name
    shutil.copy(run_dir / "results.sqlite", tmp_path / "results.sqlite")
    assert _rebuild(run_dir, tmp_path) == (run_dir / "report.json").read_text()


@pytest.mark.parametrize("name", RUNS)
def test_a_report_read_back_renders_the_same_report(name: str) -> None:
    saved = (GOLDEN / name / "report.json").read_text()
    evidence = load_evidence(GOLDEN / name / "report.json")
    finished = datetime.fromisoformat(evidence.run["finished"].replace("Z", "+00:00"))
    report = assemble(evidence.inputs(), evidence.policy(), None, now=finished)
    doc = report.to_json()
    doc["changes"] = json.loads(saved)["changes"]  # history is not part of a report's evidence
    assert _bytes(doc) == saved


def test_the_fixture_runs_hold_every_kind_of_evidence() -> None:
    """The fixtures exercise what the byte check is for: scenarios, experiments, loads, faults."""
    records = RecordStore(GOLDEN / "passing" / "results.sqlite").records()
    kinds = {r.kind for r in records}
    assert kinds == {"scenario", "experiment", "load"}
    assert any(r.kind == "load" and r.finding is not None and r.metrics for r in records)
    assert any(not r.applicable for r in records)
    doc = json.loads((GOLDEN / "passing" / "report.json").read_text())
    assert any(row["windows"] for cell in doc["cells"] for row in cell["load"])
