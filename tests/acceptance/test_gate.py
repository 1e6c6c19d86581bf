"""`certify gate` on a real run, and `certify report merge|bundle|verify`, tampered with.

The gate re-derives every verdict from the run's records (results.sqlite), plan.json, the
repository's policy and matrix: a report alone is not evidence. Every tampering must fail: exit 1
with a reason naming what was wrong, or exit 2 when the input cannot be read at all.
tests/acceptance/test_tamper.py goes through many more edits of a real smoke run.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import sqlite3
import tarfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from certify.report.bundle import create_bundle, verify_bundle
from tests.acceptance.test_report_outputs import CELLS, certify, make_report_project, report_of

HIVE_A, HIVE_B, GLUE_A, GLUE_B = CELLS


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project, run folder) of one passing run: hive cells certified, unity cells not_run."""
    base = tmp_path_factory.mktemp("gate")
    project = make_report_project(base / "project")
    out = base / "run"
    proc = certify(
        "run", "--profile", "all", "--out", str(out), "--root", str(project), "--no-gate",
        "--history", str(base / "history"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return project, out


@pytest.fixture(scope="module")
def run_dir(made: tuple[Path, Path]) -> Path:
    return made[1]


@pytest.fixture
def doc(run_dir: Path) -> dict[str, Any]:
    """A fresh copy of the run's report to tamper with."""
    return copy.deepcopy(report_of(run_dir))


@pytest.fixture
def folder(run_dir: Path, tmp_path: Path) -> Path:
    """A fresh copy of the run folder's evidence to tamper with."""
    dest = tmp_path / "run"
    shutil.copytree(run_dir, dest, ignore=shutil.ignore_patterns("work", "evidence"))
    return dest


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "report.json") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def _cell(doc: dict[str, Any], cell_id: str) -> dict[str, Any]:
    return next(c for c in doc["cells"] if c["id"] == cell_id)


Gate = Callable[..., tuple[int, list[str]]]


@pytest.fixture(scope="module")
def gate(made: tuple[Path, Path]) -> Gate:
    """`gate(PATH, *options)`: `certify gate` under the project's rules; (exit code, lines)."""

    def run(path: Path, *extra: str) -> tuple[int, list[str]]:
        proc = certify("gate", str(path), "--root", str(made[0]), *extra)
        assert "Traceback" not in proc.stderr
        return proc.returncode, (proc.stdout + proc.stderr).splitlines()

    return run


def _set_status(folder: Path, cell_id: str, status: str) -> None:
    """Rewrite the store's records of a cell with another status (row and body alike)."""
    with sqlite3.connect(folder / "results.sqlite") as db:
        rows = db.execute("SELECT rowid, body FROM records WHERE cell_id = ?", (cell_id,))
        for rowid, body in rows.fetchall():
            record = {**json.loads(body), "status": status}
            db.execute(
                "UPDATE records SET status = ?, body = ? WHERE rowid = ?",
                (status, json.dumps(record), rowid),
            )


def test_the_untouched_run_passes(gate: Gate, run_dir: Path) -> None:
    assert gate(run_dir) == (0, ["gate: PASS"])
    assert gate(run_dir / "report.json") == (0, ["gate: PASS"])


def test_deleting_a_cells_records_from_the_report_fails_the_gate(
    gate: Gate, doc: dict[str, Any], folder: Path
) -> None:
    dropped = [(t["test_id"], t["status"]) for t in _cell(doc, HIVE_A)["tests"]]
    _cell(doc, HIVE_A)["tests"] = []
    rc, lines = gate(_write(folder, doc))
    assert rc == 1
    assert lines[0] == "gate: FAIL"
    assert lines[1 : 1 + len(dropped)] == [
        f"cell {HIVE_A}: report.json lacks test {test} (status {status} in results.sqlite): "
        "a record was dropped"
        for test, status in dropped
    ]


def test_a_report_without_its_records_fails_closed(
    gate: Gate, doc: dict[str, Any], tmp_path: Path
) -> None:
    path = _write(tmp_path / "alone", doc)
    assert gate(path) == (
        1,
        [
            "gate: FAIL",
            f"{path.parent}: no results.sqlite or plan.json beside report.json: a report alone "
            "is not evidence, its verdicts cannot be re-derived from records (gate the run "
            "folder or its bundle)",
        ],
    )


def test_a_truncated_report_is_unusable(gate: Gate, run_dir: Path, folder: Path) -> None:
    text = (run_dir / "report.json").read_text()
    path = folder / "report.json"
    path.write_text(text[: len(text) // 2])
    rc, lines = gate(path)
    assert rc == 2
    assert lines[0].startswith(f"certify: {path}: not valid JSON (truncated or damaged?)")


def test_a_missing_or_schema_invalid_report_is_unusable(
    gate: Gate, doc: dict[str, Any], folder: Path, tmp_path: Path
) -> None:
    assert gate(tmp_path / "nope.json") == (
        2,
        [f"certify: {tmp_path / 'nope.json'}: no such report"],
    )
    _cell(doc, HIVE_A)["verdict"] = "great"
    rc, lines = gate(_write(folder, doc))
    assert rc == 2
    assert "not a valid certify.report/1 document at cells[0].verdict" in lines[0]


def test_a_required_suite_whose_records_are_not_run_fails_the_gate(
    gate: Gate, folder: Path
) -> None:
    _set_status(folder, HIVE_B, "not_run")  # the report.json's verdict is not trusted
    rc, lines = gate(folder)
    assert rc == 1
    assert any(line.startswith(f"{HIVE_B} (certified): not_run: suite:smoke: ") for line in lines)


def test_an_unknown_status_fails_the_gate(gate: Gate, folder: Path) -> None:
    _set_status(folder, HIVE_A, "passed-ish")
    rc, lines = gate(folder)
    assert rc == 1
    [reason] = [line for line in lines if line.startswith(f"{HIVE_A} (certified): ")]
    assert reason.startswith(f"{HIVE_A} (certified): failed: suite:smoke: ")
    assert ": passed-ish: " in reason


def _policy(tmp_path: Path, expires: date) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "schema: certify.policy/1\n"
        "blocking_tiers: [certified, documented]\n"
        "waivers:\n"
        "  - cells: '*catalog=unity*'\n"
        "    criterion: suite:smoke\n"
        "    reason: no Unity Catalog server on the local platform\n"
        "    owner: platform-team\n"
        f"    expires: {expires.isoformat()}\n"
    )
    return path


def test_a_waiver_covers_missing_evidence_until_it_expires(
    gate: Gate, folder: Path, tmp_path: Path
) -> None:
    # unity cells are not_run; blocking them makes the gate fail unless a valid waiver covers them
    valid = _policy(tmp_path, date.today())
    # a report decided under another policy than the gate's fails by the embedded digest ...
    rc, lines = gate(folder, "--policy", str(valid))
    assert rc == 1
    assert lines[1].startswith("the policy embedded in report.json (sha256 ")
    # ... and passes once it is decided under the gate's policy
    rendered = certify("report", str(folder), "--policy", str(valid), "--no-history")
    assert rendered.returncode == 0, rendered.stderr
    assert gate(folder, "--policy", str(valid)) == (0, ["gate: PASS"])
    expired = _policy(tmp_path, date.today() - timedelta(days=1))
    rendered = certify("report", str(folder), "--policy", str(expired), "--no-history")
    assert rendered.returncode == 0, rendered.stderr
    rc, lines = gate(folder, "--policy", str(expired))
    assert rc == 1
    day = (date.today() - timedelta(days=1)).isoformat()
    for line, cell in zip(lines[1:], (GLUE_A, GLUE_B), strict=True):
        assert line.startswith(f"{cell} (documented): not_run: suite:smoke: waiver suite:smoke")
        assert f"expired on {day} and no longer waives suite:smoke" in line


def test_an_invalid_policy_is_a_usage_error(gate: Gate, run_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("schema: certify.policy/1\nblocking_tiers: gold\n")
    rc, lines = gate(run_dir, "--policy", str(bad))
    assert rc == 2
    assert lines[0] == f"{bad}:2: blocking_tiers: got str 'gold' (valid: a list)"


def _shard(doc: dict[str, Any], cells: list[str], run_id: str) -> dict[str, Any]:
    shard = copy.deepcopy(doc)
    shard["run"]["id"] = run_id
    shard["cells"] = [c for c in shard["cells"] if c["id"] in cells]
    return shard


def test_merge_joins_shards_and_keeps_the_worse_of_conflicting_results(
    doc: dict[str, Any], run_dir: Path, tmp_path: Path
) -> None:
    a = _write(tmp_path, _shard(doc, [HIVE_A, GLUE_A], "shard-a"), "a/report.json").parent
    b_doc = _shard(doc, [HIVE_B, GLUE_B, HIVE_A], "shard-b")
    _cell(b_doc, HIVE_A)["tests"][0]["status"] = "failed"  # the same test, a different result
    b = _write(tmp_path, b_doc, "b/report.json").parent
    shutil.copy(run_dir / "plan.json", a / "plan.json")
    proc = certify("report", "merge", str(a), str(b), "--out", str(tmp_path / "m"), "--no-history")
    assert proc.returncode == 0, proc.stderr
    merged = report_of(tmp_path / "m")
    # cells in the plan's order (as an unsharded run lists them, and as the gate requires)
    planned = [c["id"] for c in json.loads((run_dir / "plan.json").read_text())["cells"]]
    assert sorted(planned) == sorted([HIVE_A, GLUE_A, HIVE_B, GLUE_B])
    assert [c["id"] for c in merged["cells"]] == planned
    assert merged["run"]["shards"] == ["shard-a", "shard-b"]
    hive_a = _cell(merged, HIVE_A)
    assert hive_a["verdict"] == "failed"
    assert "merge: shards disagree (passed in shard-a, failed in shard-b)" in hive_a["reasons"][0]
    assert merged["gate"]["verdict"] == "fail"


def test_merge_fails_closed_on_a_planned_cell_no_shard_reported(
    doc: dict[str, Any], run_dir: Path, tmp_path: Path
) -> None:
    a = _write(tmp_path, _shard(doc, [HIVE_A, GLUE_A, GLUE_B], "shard-a"), "a/report.json").parent
    shutil.copy(run_dir / "plan.json", a / "plan.json")
    proc = certify("report", "merge", str(a), "--out", str(tmp_path / "m"), "--no-history")
    assert proc.returncode == 0, proc.stderr
    assert _cell(report_of(tmp_path / "m"), HIVE_B)["verdict"] == "incomplete"
    other = _shard(doc, [HIVE_B], "shard-x")
    other["plan"]["profile"] = "nightly"
    x = _write(tmp_path, other, "x/report.json").parent
    proc = certify("report", "merge", str(a), str(x), "--out", str(tmp_path / "m2"))
    assert proc.returncode == 2
    assert "profile 'nightly' != 'all'" in proc.stderr


def _rewrite(
    bundle: Path, out: Path, change: dict[str, bytes | None], add: dict[str, bytes]
) -> Path:
    """Copy a bundle, replacing (bytes), dropping (None) or adding members."""
    with tarfile.open(bundle) as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name in change:
                if change[member.name] is None:
                    continue
                data = change[member.name]  # type: ignore[assignment]
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
        for name, data in add.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


def test_an_evidence_bundle_verifies_and_every_tampering_is_named(
    run_dir: Path, tmp_path: Path
) -> None:
    proc = certify("report", "bundle", str(run_dir), "--out", str(tmp_path / "b.tar.gz"))
    assert proc.returncode == 0, proc.stderr
    bundle = tmp_path / "b.tar.gz"
    digest = proc.stdout.split("manifest sha256: ")[1].strip()
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())  # type: ignore[union-attr]
    assert names[0] == "MANIFEST.json" and "report.json" in names and "junit.xml" in names
    assert not any(n.startswith("work/") for n in names)
    assert manifest["run"]["provenance"]["python"]
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    ok = certify("report", "verify", str(bundle), "--manifest-sha256", digest)
    assert (ok.returncode, ok.stdout.strip()) == (0, f"bundle {bundle}: intact")

    modified = _rewrite(bundle, tmp_path / "m.tar.gz", {"junit.xml": b"<testsuites/>"}, {})
    bad = certify("report", "verify", str(modified))
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        f"bundle {modified}: TAMPERED",
        "junit.xml: sha256 or size differs from the manifest (modified)",
    ]
    assert verify_bundle(_rewrite(bundle, tmp_path / "d.tar.gz", {"report.md": None}, {})) == [
        "report.md: in the manifest but missing from the bundle"
    ]
    assert verify_bundle(_rewrite(bundle, tmp_path / "x.tar.gz", {}, {"extra.txt": b"x"})) == [
        "extra.txt: not in the manifest (added after bundling)"
    ]
    assert verify_bundle(bundle, "0" * 64)[0].startswith("MANIFEST.json: sha256 ")
    garbage = tmp_path / "g.tar.gz"
    garbage.write_bytes(b"not a tarball")
    assert certify("report", "verify", str(garbage)).returncode == 2


def test_a_bundle_of_a_folder_without_a_report_is_refused(tmp_path: Path) -> None:
    from certify.errors import UnusableReport

    with pytest.raises(UnusableReport, match="no such report"):
        create_bundle(tmp_path)


def test_a_report_from_before_the_gate_s_checks_fails_closed(
    gate: Gate, doc: dict[str, Any], folder: Path
) -> None:
    # reports before policy files embedded a bare policy, recorded no matrix digest and did not
    # list what each cell planned: nothing ties them to the repository's rules any more
    doc["gate"]["policy"] = {
        "blocking_tiers": ["certified"],
        "require_complete_coverage": True,
        "max_reasons_per_cell": 5,
        "notes": [],
    }
    del doc["run"]["matrix_sha256"]
    rc, lines = gate(_write(folder, doc))
    assert rc == 1
    assert lines[1].startswith("the policy embedded in report.json (sha256 ")
    assert lines[2].startswith("report.json records no digest of its matrix (run.matrix_sha256)")


def test_a_bundle_is_judged_like_its_run_folder(gate: Gate, run_dir: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    assert certify("report", "keygen", "--out", str(keys)).returncode == 0
    bundle = tmp_path / "run.tar.gz"
    signed = certify(
        "report", "bundle", str(run_dir), "--out", str(bundle), "--sign",
        str(keys / "certify-signing.key"),
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    assert gate(bundle) == (0, ["gate: PASS"])
    assert gate(bundle, "--key", str(keys / "certify-signing.pub")) == (0, ["gate: PASS"])
    # a bundle whose report was edited and repacked with a fresh manifest: the records tell
    edited = tmp_path / "edited"
    shutil.copytree(run_dir, edited, ignore=shutil.ignore_patterns("work", "evidence"))
    doc = json.loads((edited / "report.json").read_text())
    _cell(doc, HIVE_A)["tests"][0]["status"] = "failed"
    (edited / "report.json").write_text(json.dumps(doc))
    repacked = tmp_path / "repacked.tar.gz"
    assert certify("report", "bundle", str(edited), "--out", str(repacked)).returncode == 0
    rc, lines = gate(repacked)
    assert rc == 1
    assert lines[1].startswith(f"cell {HIVE_A} test ")
    assert 'status is "failed" in report.json but "passed" from its records' in lines[1]
    # and the signature of the first bundle does not cover the second
    shutil.copy(bundle.with_name(bundle.name + ".intoto.jsonl"), repacked.with_name(
        repacked.name + ".intoto.jsonl"))  # fmt: skip
    rc, lines = gate(repacked, "--key", str(keys / "certify-signing.pub"))
    assert rc == 1
    assert any("attestation: the signed subject sha256 is not the bundle's" in x for x in lines)
