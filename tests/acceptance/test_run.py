"""`certify run` as a user runs it: a real smoke run with a real JVM, and gates that fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from certify.report import schema

ROOT = Path(__file__).resolve().parents[2]
CERTIFY = [sys.executable, "-m", "certify"]
SMOKE_CELL = "spark=3.5,catalog=hive,storage=local,gpu=none,deploy=local"


def certify(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess, as a user would."""
    return subprocess.run([*CERTIFY, *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def smoke_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One real smoke run (JVM and all), shared by the tests that inspect it."""
    out = tmp_path_factory.mktemp("smoke") / "run"
    return certify("run", "--profile", "smoke", "--out", str(out)), out


@pytest.mark.slow
def test_smoke_run_certifies_the_cell(smoke_run: tuple[Any, Path]) -> None:
    proc, out = smoke_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, schema())
    assert report["gate"] == {"verdict": "pass", "reasons": [], "policy": report["gate"]["policy"]}
    [cell] = report["cells"]
    assert cell["id"] == SMOKE_CELL
    assert cell["verdict"] == "certified"
    statuses = {t["test_id"].split("::")[-1]: t["status"] for t in cell["tests"]}
    assert statuses == {
        "test_session_runs_a_job": "passed",
        "test_catalog_reachable": "passed",
        "test_table_write_and_read": "passed",
        "test_storage_round_trip": "passed",
        # scenarios for other catalogs and storages: recorded, with the unmet requirement
        "test_iceberg_table_has_snapshots": "not_run",
        "test_pyiceberg_round_trip": "not_run",
        "test_s3_object_round_trip": "not_run",
    }
    assert "gate: PASS" in proc.stdout
    assert "1 certified" in proc.stdout


@pytest.mark.slow
def test_smoke_run_records_provenance(smoke_run: tuple[Any, Path]) -> None:
    _, out = smoke_run
    report = json.loads((out / "report.json").read_text())
    prov = report["cells"][0]["provenance"]
    assert prov["pyspark"] == "3.5.7"
    assert prov["java"] and prov["java"][0].isdigit()
    assert prov["cell"] == SMOKE_CELL
    assert prov["python"].count(".") == 2
    assert report["run"]["provenance"]["host"]


@pytest.mark.slow
def test_smoke_run_writes_junit_with_cell_in_every_name(smoke_run: tuple[Any, Path]) -> None:
    _, out = smoke_run
    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == [SMOKE_CELL]
    cases = suites[0].findall("testcase")
    assert len(cases) == 7
    assert all(
        SMOKE_CELL in c.get("name", "") and SMOKE_CELL in c.get("classname", "") for c in cases
    )
    assert suites[0].get("failures") == "0"


@pytest.mark.slow
def test_smoke_run_leaves_no_process(smoke_run: tuple[Any, Path]) -> None:
    _, out = smoke_run
    # the driver JVM carries the cell's work folder on its command line
    assert _processes_mentioning(str(out / "work")) == []


# --- a project of our own, with scenarios that pass, fail or cannot run (no JVM needed) -------

MATRIX = """
schema: certify.matrix/1
name: mini
dimensions:
  spark: {values: {"3.5": {pyspark: "%s"}}}
  catalog: {values: {hive: {}, unity: {}}}
tiers:
  certified: {cells: [{catalog: "*"}]}
profiles:
  one: {tiers: [certified], select: [{catalog: hive}], suites: [smoke]}
  unity: {tiers: [certified], select: [{catalog: unity}], suites: [smoke]}
  missing-suite: {tiers: [certified], select: [{catalog: hive}], suites: [smoke, nosuch]}
"""


def make_project(tmp_path: Path, scenario: str) -> Path:
    """A project folder with a one-cell matrix and one scenario module."""
    from importlib.metadata import version

    (tmp_path / "matrices").mkdir(parents=True)
    (tmp_path / "matrices" / "mini.yaml").write_text(MATRIX % version("pyspark"))
    (tmp_path / "scenarios" / "smoke").mkdir(parents=True)
    (tmp_path / "scenarios" / "smoke" / "test_s.py").write_text(textwrap.dedent(scenario))
    return tmp_path


PASSING = """
import pytest

def test_ok(cell):
    assert cell.values["catalog"] == "hive"

@pytest.mark.requires(catalog="iceberg-*")
def test_needs_iceberg():
    raise AssertionError("must not run on a hive cell")
"""


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, schema())
    return report


def test_passing_scenarios_pass_the_gate(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", PASSING)
    proc = certify(
        "run", "--profile", "one", "--out", str(tmp_path / "out"), "--root", str(project)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [cell] = _report(tmp_path / "out")["cells"]
    assert cell["verdict"] == "certified"
    tests = {t["test_id"].split("::")[-1]: t for t in cell["tests"]}
    assert tests["test_ok"]["status"] == "passed"
    needs = tests["test_needs_iceberg"]
    assert needs["status"] == "not_run"
    assert needs["message"] == "requires catalog=iceberg-*, cell has catalog=hive"


def test_a_failing_scenario_fails_its_cell_and_the_gate(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", PASSING + "\n\ndef test_bad():\n    assert 1 + 1 == 3\n")
    proc = certify(
        "run", "--profile", "one", "--out", str(tmp_path / "out"), "--root", str(project)
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = _report(tmp_path / "out")
    [cell] = report["cells"]
    assert cell["verdict"] == "failed"
    assert report["gate"]["verdict"] == "fail"
    [reason] = report["gate"]["reasons"]
    assert reason.startswith("spark=3.5,catalog=hive (certified): failed")
    assert "test_bad: failed" in reason and "assert (1 + 1) == 3" in reason
    assert "gate: FAIL" in proc.stdout
    failures = [
        c
        for c in ET.parse(tmp_path / "out" / "junit.xml").iter("testcase")
        if c.find("failure") is not None
    ]
    assert [c.get("name") for c in failures] == ["test_bad[spark=3.5,catalog=hive]"]


def test_no_gate_exits_zero_but_reports_the_failure(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "def test_bad():\n    assert False\n")
    out = tmp_path / "out"
    proc = certify(
        "run", "--profile", "one", "--out", str(out), "--root", str(project), "--no-gate"
    )
    assert proc.returncode == 0
    assert _report(out)["gate"]["verdict"] == "fail"


def test_a_scenario_that_cannot_be_collected_fails_closed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "def test_broken(:\n    pass\n")
    out = tmp_path / "out"
    proc = certify("run", "--profile", "one", "--out", str(out), "--root", str(project))
    assert proc.returncode == 1
    [cell] = _report(out)["cells"]
    assert cell["verdict"] == "failed"
    assert [t["status"] for t in cell["tests"]] == ["error"]
    assert "SyntaxError" in cell["tests"][0]["message"]


def test_a_cell_whose_pytest_died_before_reaching_it_fails_closed(tmp_path: Path) -> None:
    """Its lane's pytest ends before it claims the cell: the cell has an error, not a gap."""
    project = make_project(tmp_path / "p", PASSING)
    (project / "scenarios" / "conftest.py").write_text(
        "import os\n\ndef pytest_collection_finish(session):\n    os._exit(3)\n"
    )
    out = tmp_path / "out"
    proc = certify("run", "--profile", "one", "--out", str(out), "--root", str(project))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [cell] = _report(out)["cells"]
    assert cell["verdict"] == "failed"
    messages = [t["message"] for t in cell["tests"] if t["status"] == "error"]
    assert messages == [
        "its scenarios never started: every pytest of its runtime ended before reaching it "
        "(see evidence/lane-*/pytest.log)"
    ]


def test_a_missing_suite_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """A profile naming a suite that does not exist is a config error (exit 2), not a run."""
    project = make_project(tmp_path / "p", PASSING)
    out = tmp_path / "out"
    proc = certify("run", "--profile", "missing-suite", "--out", str(out), "--root", str(project))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "mini.yaml" in proc.stderr and "profiles.missing-suite.suites[1]" in proc.stderr
    assert "suite 'nosuch' does not exist" in proc.stderr and "(valid: smoke)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_a_cell_the_platform_cannot_run_is_not_run_with_the_reason(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", PASSING)
    out = tmp_path / "out"
    proc = certify("run", "--profile", "unity", "--out", str(out), "--root", str(project))
    assert proc.returncode == 1  # a certified-tier cell without evidence fails closed
    [cell] = _report(out)["cells"]
    assert cell["verdict"] == "not_run"
    assert cell["reasons"] == [
        "smoke::*: not run (in scope, not exercised): catalog=unity needs a Unity Catalog OSS "
        "server, which none of the registries this machine reaches serves (it ships as a GitHub "
        "release tarball; io.unitycatalog is not on Maven Central here)"
    ]
    assert "not_run" in _report(out)["gate"]["reasons"][0]


def test_the_profile_retry_policy_reaches_the_scenarios(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        """
        import pathlib

        def test_flaky_metastore():
            marker = pathlib.Path(__file__).with_name("seen")
            if not marker.exists():
                marker.write_text("1")
                raise TimeoutError("metastore read timed out")
        """,
    )
    matrix = project / "matrices" / "mini.yaml"
    matrix.write_text(
        matrix.read_text()
        + "  retrying: {tiers: [certified], select: [{catalog: hive}], suites: [smoke],\n"
        + '             retry: {on: ["timed out"], times: 2}}\n'
    )
    out = tmp_path / "out"
    proc = certify("run", "--profile", "retrying", "--out", str(out), "--root", str(project))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [test] = _report(out)["cells"][0]["tests"]
    assert (test["status"], test["attempts"]) == ("flaky", 2)
    assert "metastore read timed out" in test["message"]


def test_a_suite_that_does_not_apply_to_the_cell_neither_certifies_nor_fails_it(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "p", PASSING)
    icy = project / "scenarios" / "icy"
    icy.mkdir()
    (icy / "test_icy.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.requires(catalog='iceberg-*')\n"
        "def test_time_travel():\n    raise AssertionError('never on hive')\n"
    )
    matrix = project / "matrices" / "mini.yaml"
    matrix.write_text(
        matrix.read_text()
        + "  icy: {tiers: [certified], select: [{catalog: hive}], suites: [smoke, icy]}\n"
    )
    out = tmp_path / "out"
    proc = certify("run", "--profile", "icy", "--out", str(out), "--root", str(project))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [cell] = _report(out)["cells"]
    assert cell["verdict"] == "certified"
    icy_suite = next(s for s in cell["suites"] if s["name"] == "icy")
    assert (icy_suite["verdict"], icy_suite["applicable"]) == ("not_run", False)
    assert icy_suite["reasons"] == [
        "suite icy does not apply to this cell: requires catalog=iceberg-*, cell has catalog=hive"
    ]
    test = next(t for t in cell["tests"] if t["suite"] == "icy")
    assert (test["status"], test["applicable"]) == ("not_run", False)


def test_a_cell_the_platform_cannot_provide_a_fixture_for_stays_not_run(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        "from certify.scenario import not_run\n\n"
        "def test_needs_a_service(cell):\n    not_run('the object store is down here')\n",
    )
    out = tmp_path / "out"
    proc = certify("run", "--profile", "one", "--out", str(out), "--root", str(project))
    assert proc.returncode == 1  # unlike an inapplicable suite, this is missing evidence
    [cell] = _report(out)["cells"]
    assert cell["verdict"] == "not_run"
    assert cell["tests"][0]["applicable"] is True


def test_a_pass_beside_a_test_the_platform_cannot_serve_is_not_certified(tmp_path: Path) -> None:
    """One passing test does not certify a suite whose other test applies but never ran."""
    project = make_project(
        tmp_path / "p",
        PASSING + "\nfrom certify.scenario import not_run\n\n"
        "def test_needs_a_service(cell):\n    not_run('the object store is down here')\n",
    )
    out = tmp_path / "out"
    proc = certify("run", "--profile", "one", "--out", str(out), "--root", str(project))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = _report(out)
    [cell] = report["cells"]
    statuses = {t["test_id"].split("::")[-1]: t["status"] for t in cell["tests"]}
    assert statuses["test_ok"] == "passed" and statuses["test_needs_a_service"] == "not_run"
    assert cell["verdict"] == "not_run"
    assert cell["reasons"][0] == (
        "scenarios/smoke/test_s.py::test_needs_a_service: not run (in scope, not exercised): "
        "the object store is down here"
    ), cell["reasons"]
    [reason] = report["gate"]["reasons"]
    assert reason.startswith("spark=3.5,catalog=hive (certified): not_run: suite:smoke: ")


def test_a_plain_skip_beside_passes_leaves_the_cell_incomplete_with_the_skip_shown(
    tmp_path: Path,
) -> None:
    project = make_project(
        tmp_path / "p", PASSING + "\n\ndef test_later():\n    pytest.skip('cluster busy, later')\n"
    )
    out = tmp_path / "out"
    proc = certify("run", "--profile", "one", "--out", str(out), "--root", str(project))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = _report(out)
    [cell] = report["cells"]
    assert cell["verdict"] == "incomplete"
    later = next(t for t in cell["tests"] if t["test_id"].endswith("::test_later"))
    assert (later["status"], later["message"]) == ("skipped", "cluster busy, later")
    assert cell["reasons"][0] == (
        "scenarios/smoke/test_s.py::test_later: skipped (in scope, not declared not applicable): "
        "cluster busy, later"
    ), cell["reasons"]
    [skipped] = [
        c.find("skipped")
        for c in ET.parse(out / "junit.xml").iter("testcase")
        if c.get("name", "").startswith("test_later[")
    ]
    assert skipped is not None
    assert skipped.get("message", "").startswith("skipped (in scope, not declared not applicable)")
    assert report["gate"]["reasons"][0].startswith("spark=3.5,catalog=hive (certified): incomplete")
