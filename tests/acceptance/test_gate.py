"""`certify gate`, `certify report merge|bundle|verify` on a real run's report, tampered with.

Every tampering must fail: exit 1 with a reason naming the cell and the criterion, or exit 2
when the report cannot be read at all.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import tarfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from certify.report.bundle import create_bundle, verify_bundle
from tests.acceptance.test_report_outputs import CELLS, certify, make_report_project, report_of

HIVE_A, HIVE_B, GLUE_A, GLUE_B = CELLS


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One passing run: hive cells certified, glue cells (documented tier) not_run."""
    base = tmp_path_factory.mktemp("gate")
    project = make_report_project(base / "project")
    out = base / "run"
    proc = certify(
        "run", "--profile", "all", "--out", str(out), "--root", str(project), "--no-gate",
        "--history", str(base / "history"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture
def doc(run_dir: Path) -> dict[str, Any]:
    """A fresh copy of the run's report to tamper with."""
    return copy.deepcopy(report_of(run_dir))


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "report.json") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def _cell(doc: dict[str, Any], cell_id: str) -> dict[str, Any]:
    return next(c for c in doc["cells"] if c["id"] == cell_id)


def _gate(path: Path, *extra: str) -> tuple[int, list[str]]:
    proc = certify("gate", str(path), *extra)
    assert "Traceback" not in proc.stderr
    return proc.returncode, (proc.stdout + proc.stderr).splitlines()


def test_the_untouched_report_passes(run_dir: Path) -> None:
    assert _gate(run_dir) == (0, ["gate: PASS"])


def test_deleting_a_cells_records_fails_the_gate(doc: dict[str, Any], tmp_path: Path) -> None:
    _cell(doc, HIVE_A)["tests"] = []
    rc, lines = _gate(_write(tmp_path, doc))
    assert rc == 1
    assert lines == [
        "gate: FAIL",
        f"{HIVE_A} (certified): incomplete: suite:smoke: suite smoke: no results recorded "
        "(the run did not finish it)",
    ]


def test_a_truncated_report_is_unusable(run_dir: Path, tmp_path: Path) -> None:
    text = (run_dir / "report.json").read_text()
    path = tmp_path / "report.json"
    path.write_text(text[: len(text) // 2])
    rc, lines = _gate(path)
    assert rc == 2
    assert lines[0].startswith(f"certify: {path}: not valid JSON (truncated or damaged?)")


def test_a_missing_or_schema_invalid_report_is_unusable(
    doc: dict[str, Any], tmp_path: Path
) -> None:
    assert _gate(tmp_path / "nope.json") == (
        2,
        [f"certify: {tmp_path / 'nope.json'}: no such report"],
    )
    _cell(doc, HIVE_A)["verdict"] = "great"
    rc, lines = _gate(_write(tmp_path, doc))
    assert rc == 2
    assert "not a valid certify.report/1 document at cells[0].verdict" in lines[0]


def test_a_required_suite_marked_not_run_fails_the_gate(
    doc: dict[str, Any], tmp_path: Path
) -> None:
    for test in _cell(doc, HIVE_B)["tests"]:
        test["status"] = "not_run"
    _cell(doc, HIVE_B)["verdict"] = "certified"  # the recorded verdict is not trusted
    rc, lines = _gate(_write(tmp_path, doc))
    assert rc == 1
    [reason] = lines[1:]
    assert reason.startswith(f"{HIVE_B} (certified): not_run: suite:smoke: ")


def test_an_unknown_status_fails_the_gate(doc: dict[str, Any], tmp_path: Path) -> None:
    _cell(doc, HIVE_A)["tests"][0]["status"] = "passed-ish"
    rc, lines = _gate(_write(tmp_path, doc))
    assert rc == 1
    assert lines[1].startswith(f"{HIVE_A} (certified): failed: suite:smoke: ")
    assert ": passed-ish: " in lines[1]


def _policy(tmp_path: Path, expires: date) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "schema: certify.policy/1\n"
        "blocking_tiers: [certified, documented]\n"
        "waivers:\n"
        "  - cells: '*catalog=glue*'\n"
        "    criterion: suite:smoke\n"
        "    reason: no Glue emulator on the local platform\n"
        "    owner: platform-team\n"
        f"    expires: {expires.isoformat()}\n"
    )
    return path


def test_a_waiver_covers_missing_evidence_until_it_expires(run_dir: Path, tmp_path: Path) -> None:
    # glue cells are not_run; blocking them makes the gate fail unless a valid waiver covers them
    rc, lines = _gate(run_dir, "--policy", str(_policy(tmp_path, date.today())))
    assert (rc, lines) == (0, ["gate: PASS"])
    rc, lines = _gate(run_dir, "--policy", str(_policy(tmp_path, date.today() - timedelta(days=1))))
    assert rc == 1
    expired = (date.today() - timedelta(days=1)).isoformat()
    for line, cell in zip(lines[1:], (GLUE_A, GLUE_B), strict=True):
        assert line.startswith(f"{cell} (documented): not_run: suite:smoke: waiver suite:smoke")
        assert f"expired on {expired} and no longer waives suite:smoke" in line


def test_an_invalid_policy_is_a_usage_error(run_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("schema: certify.policy/1\nblocking_tiers: gold\n")
    rc, lines = _gate(run_dir, "--policy", str(bad))
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
    assert [c["id"] for c in merged["cells"]] == [HIVE_A, GLUE_A, HIVE_B, GLUE_B]
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


def test_a_report_from_before_policy_files_is_decided_under_its_recorded_rules(
    doc: dict[str, Any], tmp_path: Path
) -> None:
    doc["gate"]["policy"] = {
        "blocking_tiers": ["certified"],
        "require_complete_coverage": True,
        "max_reasons_per_cell": 5,
        "notes": [],
    }
    for cell in doc["cells"]:
        cell.pop("planned")
        cell.pop("unfinished")
    assert _gate(_write(tmp_path, doc)) == (0, ["gate: PASS"])
