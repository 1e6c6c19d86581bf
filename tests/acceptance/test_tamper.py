"""A gate nobody can fool: one real passing smoke run, then many edits, each made on a fresh copy.

Every edit of the run's report.json, results.sqlite, plan.json, of the policy or of the matrix
must make `certify gate` exit 1 (the gate fails) or 2 (the input is unusable) with a reason that
names what was wrong, never a traceback; the untouched copy must pass. The signed-bundle edits
live in tests/acceptance/test_bundle_tamper.py.
"""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.conftest import REPO, Certify

Doc = dict[str, Any]
# (the run folder copy, a scratch folder) -> extra `certify gate` options
Apply = Callable[[Path, Path], list[str]]


@dataclass(frozen=True)
class Edit:
    """One way to tamper with the evidence, and what the gate must say about it."""

    apply: Apply
    says: tuple[str, ...]  # any of these, formatted with the run's ids, must be in the output
    codes: tuple[int, ...] = (1,)


EDITS: dict[str, Edit] = {}


def edit(*says: str, codes: tuple[int, ...] = (1,)) -> Callable[[Apply], Apply]:
    """Register an edit under its function's name."""

    def register(apply: Apply) -> Apply:
        EDITS[apply.__name__.replace("_", "-")] = Edit(apply, says, codes)
        return apply

    return register


@pytest.fixture(scope="module")
def smoke(certify: Certify, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real `certify run --profile smoke` (a JVM, the local platform): it passes."""
    base = tmp_path_factory.mktemp("tamper")
    out = base / "run"
    result = certify(
        "run", "--profile", "smoke", "--out", str(out), "--history", str(base / "history"),
        timeout=900,
    )  # fmt: skip
    assert result.rc == 0, result.output
    return out


@pytest.fixture
def ids(smoke: Path) -> dict[str, str]:
    """The run's id, its cell and one passing and one not-applicable test, for the messages."""
    doc = _doc(smoke)
    [cell] = doc["cells"]
    passed = next(t for t in cell["tests"] if t["status"] == "passed")
    not_run = next(t for t in cell["tests"] if t["status"] == "not_run")
    return {
        "run": doc["run"]["id"],
        "cell": cell["id"],
        "passed": passed["test_id"],
        "not_run": not_run["test_id"],
    }


def _copy(smoke: Path, dest: Path) -> Path:
    shutil.copytree(smoke, dest, ignore=shutil.ignore_patterns("work", "evidence", "allure-*"))
    return dest


def _doc(folder: Path, name: str = "report.json") -> Doc:
    doc: Doc = json.loads((folder / name).read_text())
    return doc


def _save(folder: Path, doc: Doc, name: str = "report.json") -> None:
    (folder / name).write_text(json.dumps(doc))


@contextmanager
def _report(folder: Path, name: str = "report.json") -> Iterator[Doc]:
    doc = _doc(folder, name)
    yield doc
    _save(folder, doc, name)


@contextmanager
def _db(folder: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(folder / "results.sqlite")) as db, db:
        yield db


def _records(folder: Path) -> list[tuple[int, Doc]]:
    with _db(folder) as db:
        rows = db.execute("SELECT rowid, body FROM records ORDER BY rowid").fetchall()
    return [(rowid, json.loads(body)) for rowid, body in rows]


def _row(body: Doc) -> tuple[str, ...]:
    keys = ("run_id", "cell_id", "test_id", "suite", "status")
    return (*(str(body[k]) for k in keys), json.dumps(body, sort_keys=True))


def _put(folder: Path, rowid: int, body: Doc) -> None:
    """Rewrite one record, its key columns and its body alike (a careful forger)."""
    with _db(folder) as db:
        db.execute(
            "UPDATE records SET run_id = ?, cell_id = ?, test_id = ?, suite = ?, status = ?,"
            " body = ? WHERE rowid = ?",
            (*_row(body), rowid),
        )


def _insert(folder: Path, body: Doc) -> None:
    with _db(folder) as db:
        db.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", _row(body))


def _first(folder: Path, status: str) -> tuple[int, Doc]:
    return next((rowid, body) for rowid, body in _records(folder) if body["status"] == status)


def _cell(doc: Doc) -> Doc:
    cell: Doc = doc["cells"][0]
    return cell


def _test(doc: Doc, test_id: str) -> Doc:
    return next(t for t in _cell(doc)["tests"] if t["test_id"] == test_id)


def _shift(text: str, delta: timedelta) -> str:
    when = datetime.fromisoformat(text.replace("Z", "+00:00")) + delta
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _move_in_time(folder: Path, delta: timedelta) -> None:
    """Every time of the run, in the report and in the store alike (a consistent forgery)."""
    with _report(folder) as doc:
        for key in ("started", "finished"):
            doc["run"][key] = _shift(doc["run"][key], delta)
        for test in _cell(doc)["tests"]:
            for key in ("started", "finished"):
                test[key] = _shift(test[key], delta) if test[key] else ""
    for rowid, body in _records(folder):
        for key in ("started", "finished"):
            body[key] = _shift(body[key], delta) if body[key] else ""
        _put(folder, rowid, body)


def _project(tmp: Path) -> Path:
    """A copy of the repository's project (matrices copied, the rest linked) to edit."""
    root = tmp / "project"
    (root / "matrices").mkdir(parents=True)
    for name in ("scenarios", "chaos", "load", "reports"):
        (root / name).symlink_to(REPO / name)
    for path in (REPO / "matrices").glob("*.yaml"):
        shutil.copy(path, root / "matrices" / path.name)
    return root


def _policy(tmp: Path, change: Callable[[str], str]) -> list[str]:
    path = tmp / "policy.yaml"
    path.write_text(change((REPO / "reports" / "policy.yaml").read_text()))
    return ["--policy", str(path)]


# --- report.json ------------------------------------------------------------------------------


@edit("cell {cell}: report.json lacks test {passed} (status passed in results.sqlite)")
def report_drops_a_record(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        passed = next(t for t in _cell(doc)["tests"] if t["status"] == "passed")
        _cell(doc)["tests"].remove(passed)
    return []


@edit('cell {cell} test {not_run}: status is "passed" in report.json but "not_run" from its')
def report_flips_a_status(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        next(t for t in _cell(doc)["tests"] if t["status"] == "not_run")["status"] = "passed"
    return []


@edit('cell {cell}: verdict is "degraded" in report.json but its records give "certified"')
def report_changes_the_cell_verdict(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        _cell(doc)["verdict"] = "degraded"
    return []


@edit('cell {cell} criterion suite:smoke: verdict is "waived" in report.json but "certified"')
def report_changes_a_criterion_verdict(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        _cell(doc)["suites"][0]["verdict"] = "waived"
    return []


@edit('cell {cell}: tier is "documented" in report.json but plan.json (and the matrix) give')
def report_changes_the_tier(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        _cell(doc)["tier"] = "documented"
    return []


@edit("plan.json gives cell {cell} tier documented; the matrix gives certified")
def report_and_plan_change_the_tier(folder: Path, tmp: Path) -> list[str]:
    for name in ("report.json", "plan.json"):
        with _report(folder, name) as doc:
            doc["cells"][0]["tier"] = "documented"
    return []


@edit("cell {cell} criterion suite:smoke: a reason the records give is missing from report.json")
def report_deletes_a_reason(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        reasons = _cell(doc)["suites"][0]["reasons"]
        assert reasons, "the smoke cell's suite must give reasons (its not-applicable tests)"
        reasons.pop(0)
    return []


@edit("report.json `summary` is not what its records give")
def report_edits_the_summary(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        doc["summary"]["tests"]["passed"] += 1
    return []


@edit("report.json embeds no policy (gate.policy)")
def report_empties_the_embedded_policy(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        doc["gate"]["policy"] = {}
    return []


@edit("the policy embedded in report.json (sha256 ")
def report_widens_the_embedded_policy(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        doc["gate"]["policy"]["blocking_tiers"] = []
        doc["gate"]["policy"]["require_complete_coverage"] = False
    return []


@edit("the policy embedded in report.json (sha256 ")
def report_adds_a_blanket_waiver_to_the_embedded_policy(folder: Path, tmp: Path) -> list[str]:
    waiver = {"cells": "*", "criterion": "*", "reason": "ship it", "owner": "me"}
    with _report(folder) as doc:
        doc["gate"]["policy"]["waivers"] = [{**waiver, "expires": "2099-12-31"}]
    return []


@edit("report.json lists cell {cell} 2 times")
def report_duplicates_the_cell(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        doc["cells"].append(copy.deepcopy(_cell(doc)))
    return []


@edit("results.sqlite holds no record of run someone-elses-run")
def report_changes_the_run_id(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        doc["run"]["id"] = "someone-elses-run"
    return []


@edit("report.json records no digest of its matrix (run.matrix_sha256)")
def report_drops_the_matrix_digest(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        del doc["run"]["matrix_sha256"]
    return []


@edit("report.json says the run finished (")
def report_finishes_the_run_before_it_started(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        run = doc["run"]
        run["started"], run["finished"] = run["finished"], run["started"]
    return []


@edit("run {run} is merged 2 times into this report (run.shards): two copies of one run")
def report_merges_the_run_with_itself(folder: Path, tmp: Path) -> list[str]:
    with _report(folder) as doc:
        doc["run"]["shards"] = [doc["run"]["id"], doc["run"]["id"]]
    return []


@edit("not valid JSON (truncated or damaged?)", codes=(2,))
def report_is_truncated(folder: Path, tmp: Path) -> list[str]:
    text = (folder / "report.json").read_text()
    (folder / "report.json").write_text(text[: len(text) // 3])
    return []


@edit("a report alone is not evidence, its verdicts cannot be re-derived from records")
def report_without_its_records(folder: Path, tmp: Path) -> list[str]:
    (folder / "results.sqlite").unlink()
    for wal in folder.glob("results.sqlite-*"):
        wal.unlink()
    return []


# --- results.sqlite ---------------------------------------------------------------------------


@edit('cell {cell} test {passed}: status is "passed" in report.json but "failed" from its')
def store_fails_a_record_the_report_passes(folder: Path, tmp: Path) -> list[str]:
    rowid, body = _first(folder, "passed")
    _put(folder, rowid, {**body, "status": "failed", "message": "E   AssertionError"})
    return []


@edit("suite smoke: 1 of ", "collected tests have no result")
def store_and_report_drop_a_record(folder: Path, tmp: Path) -> list[str]:
    rowid, body = _first(folder, "passed")
    with _db(folder) as db:
        db.execute("DELETE FROM records WHERE rowid = ?", (rowid,))
    with _report(folder) as doc:
        _cell(doc)["tests"].remove(_test(doc, body["test_id"]))
    return []


@edit("the row was edited")
def store_row_edited_without_its_body(folder: Path, tmp: Path) -> list[str]:
    rowid, _ = _first(folder, "not_run")
    with _db(folder) as db:
        db.execute("UPDATE records SET status = 'passed' WHERE rowid = ?", (rowid,))
    return []


@edit("results.sqlite holds records of cell spark=3.5,catalog=unity,")
def store_holds_a_record_of_an_unplanned_cell(folder: Path, tmp: Path) -> list[str]:
    _, body = _first(folder, "passed")
    _insert(folder, {**body, "cell_id": body["cell_id"].replace("catalog=hive", "catalog=unity")})
    return []


@edit("results.sqlite holds 1 record(s) of run another-run, which this report is not")
def store_holds_a_record_of_another_run(folder: Path, tmp: Path) -> list[str]:
    _, body = _first(folder, "passed")
    _insert(folder, {**body, "run_id": "another-run"})
    return []


@edit("identical record(s) (same cell, test and times): two copies of one run were merged")
def store_merges_the_run_with_its_copy(folder: Path, tmp: Path) -> list[str]:
    for _, body in _records(folder):
        _insert(folder, {**body, "run_id": body["run_id"] + "-copy"})
    with _report(folder) as doc:
        doc["run"]["shards"] = [doc["run"]["id"], doc["run"]["id"] + "-copy"]
    return []


@edit(
    "results.sqlite: the record store is damaged",
    "results.sqlite: not a readable record store",
    codes=(2,),
)
def store_is_corrupted(folder: Path, tmp: Path) -> list[str]:
    path = folder / "results.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096] = 0xFF  # no b-tree page has this type
    path.write_bytes(bytes(data))
    return []


@edit("results.sqlite: not a readable record store (file is not a database)", codes=(2,))
def store_is_not_sqlite(folder: Path, tmp: Path) -> list[str]:
    for wal in folder.glob("results.sqlite-*"):
        wal.unlink()
    (folder / "results.sqlite").write_bytes(b"SQLite format 2\x00" + bytes(4080))
    return []


@edit("record {passed} of cell {cell} finished (")
def store_and_report_finish_a_record_before_it_started(folder: Path, tmp: Path) -> list[str]:
    rowid, body = _first(folder, "passed")
    body["started"], body["finished"] = body["finished"], _shift(body["started"], -timedelta(1))
    _put(folder, rowid, body)
    with _report(folder) as doc:
        _test(doc, body["test_id"]).update(started=body["started"], finished=body["finished"])
    return []


# --- times ------------------------------------------------------------------------------------


@edit("the evidence is 91.0 days old", "the policy allows 30 days for this profile")
def evidence_from_last_quarter(folder: Path, tmp: Path) -> list[str]:
    _move_in_time(folder, -timedelta(days=91))
    return []


@edit("is in the future (the clock says ")
def evidence_dated_in_the_future(folder: Path, tmp: Path) -> list[str]:
    _move_in_time(folder, timedelta(days=30))
    return []


# --- plan.json --------------------------------------------------------------------------------


@edit("report.json holds cell {cell}, which plan.json does not plan")
def plan_drops_the_cell(folder: Path, tmp: Path) -> list[str]:
    with _report(folder, "plan.json") as plan:
        plan["cells"] = []
    return []


@edit("plan.json lists cell {cell} 2 times")
def plan_duplicates_the_cell(folder: Path, tmp: Path) -> list[str]:
    with _report(folder, "plan.json") as plan:
        plan["cells"].append(copy.deepcopy(plan["cells"][0]))
    return []


@edit("plan.json plans cell {cell} with runtime spark-3.5 and suites/chaos/load")
def plan_adds_a_suite(folder: Path, tmp: Path) -> list[str]:
    with _report(folder, "plan.json") as plan:
        plan["cells"][0]["suites"].append("etl")
    return []


@edit("results.sqlite holds records of smoke on cell {cell}, which plan.json does not plan")
def plan_and_report_drop_the_suite(folder: Path, tmp: Path) -> list[str]:
    with _report(folder, "plan.json") as plan:
        plan["cells"][0]["suites"] = []
    with _report(folder) as doc:
        cell = _cell(doc)
        cell.update(tests=[], suites=[], reasons=[])
        cell["planned"]["suites"] = []
    return []


@edit("no plan.json beside report.json")
def plan_is_missing(folder: Path, tmp: Path) -> list[str]:
    (folder / "plan.json").unlink()
    return []


@edit("plan.json: not a certify.plan/1 document", codes=(2,))
def plan_is_not_a_plan(folder: Path, tmp: Path) -> list[str]:
    (folder / "plan.json").write_text('{"schema": "certify.plan/1", "cells": 3}')
    return []


# --- the repository's policy and matrix --------------------------------------------------------


@edit("is not the repository's policy")
def policy_changed_in_the_repository(folder: Path, tmp: Path) -> list[str]:
    return _policy(tmp, lambda text: text.replace("flaky_tolerated: 1", "flaky_tolerated: 3"))


@edit("slo[0].max: nan is not a finite number", codes=(2,))
def policy_threshold_is_not_a_number(folder: Path, tmp: Path) -> list[str]:
    return _policy(tmp, lambda text: text.replace("max: 2000", "max: nan", 1))


@edit("so no measurement can meet both", codes=(2,))
def policy_minimum_above_its_maximum(folder: Path, tmp: Path) -> list[str]:
    return _policy(tmp, lambda text: text.replace("max: 2000", "max: 2000\n    min: 3000", 1))


@edit("changed since the run (sha256 ")
def matrix_edited_since_the_run(folder: Path, tmp: Path) -> list[str]:
    root = _project(tmp)
    path = root / "matrices" / "platform.yaml"
    path.write_text(path.read_text() + "\n# cells to review next quarter\n")
    return ["--root", str(root)]


@edit("the matrix the run planned profile 'smoke' from is missing")
def matrix_removed_from_the_repository(folder: Path, tmp: Path) -> list[str]:
    root = _project(tmp)
    for path in (root / "matrices").iterdir():
        path.unlink()
    return ["--root", str(root)]


# --- the tests --------------------------------------------------------------------------------


def test_the_untouched_run_passes(certify: Certify, smoke: Path, tmp_path: Path) -> None:
    result = certify("gate", str(_copy(smoke, tmp_path / "run")))
    assert (result.rc, result.stdout) == (0, "gate: PASS\n"), result.output


def test_the_suite_tampers_in_many_distinct_ways() -> None:
    assert len(EDITS) >= 30
    assert {name.split("-")[0] for name in EDITS} >= {"report", "store", "plan", "policy", "matrix"}


@pytest.mark.parametrize("name", list(EDITS))
def test_every_edit_fails_the_gate_with_a_reason(
    certify: Certify, smoke: Path, ids: dict[str, str], tmp_path: Path, name: str
) -> None:
    tamper = EDITS[name]
    folder = _copy(smoke, tmp_path / "run")
    extra = tamper.apply(folder, tmp_path)
    result = certify("gate", str(folder), *extra)
    assert "Traceback" not in result.output
    assert result.rc in tamper.codes, result.output
    said = [s.format(**ids) for s in tamper.says]
    assert any(s in result.output for s in said), f"expected one of {said}:\n{result.output}"
    if result.rc == 1:
        assert result.stdout.startswith("gate: FAIL\n")
