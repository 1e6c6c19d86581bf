"""`certify gate`'s re-derivation on a run folder written by the real report code (no JVM).

A small project (two tiers, four cells) is "run" by writing its records to a real store and
finalizing its report as `certify run` does; each test then edits one thing and requires the
gate to name it. tests/acceptance/test_tamper.py does the same through the CLI on a real run.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.config.policy import load_policy
from certify.errors import UnusableReport
from certify.host.provenance import now
from certify.matrix.model import load_matrix
from certify.plan import build_plan
from certify.report.digests import file_sha256
from certify.report.finalize import Decision, finalize
from certify.report.rederive import Rules, judge
from certify.results import Outcome, RecordStore

MATRIX = """\
schema: certify.matrix/1
name: tiny
dimensions:
  spark: {values: {"3.5": {pyspark: "3.5.7"}}}
  catalog: {values: {hive: {}, glue: {}}}
  flavor: {values: {a: {}, b: {}}}
tiers:
  certified: {cells: [{catalog: hive}]}
default_tier: documented
profiles:
  all: {tiers: [certified, documented], suites: [smoke]}
"""
POLICY = """\
schema: certify.policy/1
blocking_tiers: [certified]
max_evidence_age_days: {default: 30, release: 7}
"""
HIVE_A = "spark=3.5,catalog=hive,flavor=a"
GLUE_B = "spark=3.5,catalog=glue,flavor=b"


def _project(base: Path) -> Path:
    root = base / "project"
    (root / "matrices").mkdir(parents=True)
    (root / "scenarios" / "smoke").mkdir(parents=True)
    (root / "reports").mkdir()
    (root / "matrices" / "tiny.yaml").write_text(MATRIX)
    (root / "reports" / "policy.yaml").write_text(POLICY)
    return root


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project, run folder): every cell passed, glue's flavour b failed one test."""
    base = tmp_path_factory.mktemp("rederive")
    root = _project(base)
    matrix = load_matrix(root / "matrices" / "tiny.yaml")
    plan = build_plan(matrix, "all")
    out = base / "run"
    out.mkdir()
    (out / "plan.json").write_text(json.dumps(plan.to_json()))
    policy = load_policy(root / "reports" / "policy.yaml")
    store = RecordStore(out / "results.sqlite")
    run: dict[str, Any] = {"id": "r1", "profile": "all", "matrix": "tiny", "platform": "local"}
    provenance = {"certify": "0", "python": "3", "java": None, "host": "h", "git_revision": None}
    run.update(started=now(), argv=[], provenance=provenance, resumed=False, interrupted=False)
    run.update(matrix_sha256=file_sha256(matrix.path), policy_sha256=policy.digest())
    for planned in plan.cells:
        for test in ("ok", "flavour"):
            failed = planned.cell.id == GLUE_B and test == "flavour"
            outcome = Outcome("r1", planned.cell.id, "scenario", "smoke")
            store.add(
                outcome.record("failed" if failed else "passed", "E  boom" if failed else "",
                               test_id=f"scenarios/smoke/test_x.py::test_{test}")
            )  # fmt: skip
    run["finished"] = now()
    finalize(run, plan, store, out, Decision(policy))
    return root, out


@pytest.fixture
def copy(made: tuple[Path, Path], tmp_path: Path) -> Path:
    shutil.copytree(made[1], tmp_path / "run")
    return tmp_path / "run"


def _judge(folder: Path, root: Path, when: datetime | None = None) -> tuple[str, ...]:
    policy = load_policy(root / "reports" / "policy.yaml")
    rules = Rules(policy, root, when or datetime.now(timezone.utc))
    return judge(folder / "report.json", rules).reasons


def _edit(
    folder: Path, change: Callable[[dict[str, Any]], None], name: str = "report.json"
) -> None:
    doc = json.loads((folder / name).read_text())
    change(doc)
    (folder / name).write_text(json.dumps(doc))


def _cell(doc: dict[str, Any], cell_id: str) -> dict[str, Any]:
    return next(c for c in doc["cells"] if c["id"] == cell_id)


def test_the_untouched_run_passes(made: tuple[Path, Path]) -> None:
    assert _judge(made[1], made[0]) == ()


def test_a_dropped_failing_record_is_named(made: tuple[Path, Path], copy: Path) -> None:
    def drop(doc: dict[str, Any]) -> None:
        cell = _cell(doc, GLUE_B)
        cell["tests"] = [t for t in cell["tests"] if t["status"] != "failed"]

    _edit(copy, drop)
    assert _judge(copy, made[0])[0] == (
        f"cell {GLUE_B}: report.json lacks test scenarios/smoke/test_x.py::test_flavour "
        "(status failed in results.sqlite): a record was dropped"
    )


def test_a_tier_changed_in_report_and_plan_is_the_matrix_s(
    made: tuple[Path, Path], copy: Path
) -> None:
    _edit(copy, lambda d: _cell(d, HIVE_A).update(tier="experimental"))
    _edit(copy, lambda d: d["cells"][0].update(tier="experimental"), "plan.json")
    reasons = _judge(copy, made[0])
    assert f"plan.json gives cell {HIVE_A} tier experimental; the matrix gives certified" in reasons


def test_a_matrix_edited_since_the_run_fails(made: tuple[Path, Path], tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(made[0], root)
    path = root / "matrices" / "tiny.yaml"
    path.write_text(path.read_text() + "\n# tiers to be reviewed\n")
    [reason] = _judge(made[1], root)
    assert reason.startswith(f"the matrix {path} changed since the run (sha256 ")


def test_a_widened_embedded_policy_fails_by_digest(made: tuple[Path, Path], copy: Path) -> None:
    _edit(copy, lambda d: d["gate"]["policy"].update(blocking_tiers=[]))
    [reason] = _judge(copy, made[0])
    assert reason.startswith("the policy embedded in report.json (sha256 ")
    assert "is not the repository's policy" in reason


def test_stale_and_future_evidence_fail(made: tuple[Path, Path]) -> None:
    later = datetime.now(timezone.utc) + timedelta(days=31)
    reasons = _judge(made[1], made[0], later)
    assert reasons[0].startswith("the evidence is 31.0 days old")
    assert "the policy allows 30 days for this profile" in reasons[0]
    earlier = datetime.now(timezone.utc) - timedelta(days=1)
    reasons = _judge(made[1], made[0], earlier)
    assert reasons[0].startswith("report.json run.started ")
    assert "is in the future" in reasons[0]


def test_records_of_another_run_or_an_unplanned_cell_are_named(
    made: tuple[Path, Path], copy: Path
) -> None:
    with sqlite3.connect(copy / "results.sqlite") as db:
        body = json.loads(db.execute("SELECT body FROM records LIMIT 1").fetchone()[0])
        other = {**body, "run_id": "r0"}
        stray = {**body, "cell_id": "spark=3.5,catalog=glue,flavor=c"}
        for rec in (other, stray):
            db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
                (rec["run_id"], rec["cell_id"], rec["test_id"], rec["suite"], rec["status"],
                 json.dumps(rec)),
            )  # fmt: skip
    reasons = _judge(copy, made[0])
    assert "results.sqlite holds 1 record(s) of run r0, which this report is not (it is r1)" in (
        reasons
    )
    assert any(
        r.startswith("results.sqlite holds records of cell spark=3.5,catalog=glue,flavor=c, "
                     "which plan.json does not plan") for r in reasons
    )  # fmt: skip


def test_a_report_without_its_records_fails_closed(made: tuple[Path, Path], tmp_path: Path) -> None:
    shutil.copy(made[1] / "report.json", tmp_path / "report.json")
    [reason] = _judge(tmp_path, made[0])
    assert "no results.sqlite or plan.json beside report.json: a report alone is not evidence" in (
        reason
    )


def test_a_plan_that_is_not_one_is_unusable(made: tuple[Path, Path], copy: Path) -> None:
    (copy / "plan.json").write_text('{"schema": "certify.plan/1"}')
    with pytest.raises(UnusableReport, match=r"plan\.json: not a certify\.plan/1 document"):
        _judge(copy, made[0])


def test_a_plan_edited_to_drop_a_failing_suite_does_not_hide_its_records(
    made: tuple[Path, Path], copy: Path
) -> None:
    def drop(doc: dict[str, Any]) -> None:
        _cell(doc, GLUE_B)["suites"] = []

    _edit(copy, drop, "plan.json")
    _edit(copy, lambda d: _cell(d, GLUE_B)["planned"].update(suites=[]))
    reasons = _judge(copy, made[0])
    assert (
        f"results.sqlite holds records of smoke on cell {GLUE_B}, which plan.json does not plan "
        "for it (first: scenarios/smoke/test_x.py::test_ok)"
    ) in reasons
    assert any(r.startswith(f"plan.json plans cell {GLUE_B} with runtime ") for r in reasons)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))] or [path]
    return [path]


# What produced the report, not evidence: the gate does not judge them (a signature covers
# them); where the embedded policy was read from is no part of its digest; history's changes.
UNJUDGED: set[tuple[str, ...]] = {
    *(("run", k) for k in ("argv", "platform", "provenance", "policy_sha256", "resumed")),
    ("gate", "policy", "source"),
    ("changes",),
}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_edit_of_a_report_is_a_reason_or_unusable_never_a_traceback(
    made: tuple[Path, Path], data: st.DataObject
) -> None:
    doc = json.loads((made[1] / "report.json").read_text())
    paths = [p for p in _leaves(doc) if not any(p[: len(u)] == u for u in UNJUDGED)]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(JSON)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if path:
        node[path[-1]] = value
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        shutil.copytree(made[1], folder)
        (folder / "report.json").write_text(json.dumps(doc))
        try:
            reasons = _judge(folder, made[0])
        except UnusableReport:
            return
    if json.dumps(value) != json.dumps(_at(made[1], path)):
        assert reasons, f"{path} = {value!r} went unnoticed"


def _at(folder: Path, path: tuple[Any, ...]) -> Any:
    node = json.loads((folder / "report.json").read_text())
    for key in path:
        node = node[key]
    return node
