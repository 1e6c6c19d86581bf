"""Every report output of real `certify run`s (no Spark needed), checked as a user would.

One module-scoped project of four cells (two run, two are not_run on the local platform) is run
twice into one history: the second run adds a failing test, so the comparison has something to
say. report.html is loaded in headless Chromium; allure-results are rendered by the Allure CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from certify.report import schema

ROOT = Path(__file__).resolve().parents[2]
CELLS = [
    "spark=3.5,catalog=hive,flavor=a",
    "spark=3.5,catalog=hive,flavor=b",
    "spark=3.5,catalog=unity,flavor=a",
    "spark=3.5,catalog=unity,flavor=b",
]
MATRIX = """
schema: certify.matrix/1
name: rep
dimensions:
  spark: {values: {"3.5": {pyspark: "%s"}}}
  catalog: {values: {hive: {}, unity: {}}}
  flavor: {values: {a: {}, b: {}}}
tiers:
  certified: {cells: [{catalog: hive}]}
default_tier: documented
profiles:
  all: {tiers: [certified, documented], suites: [smoke]}
"""
SCENARIO = """
import pytest

def test_ok(cell):
    assert cell.values["catalog"] == "hive"

def test_flavour(cell):
    assert cell.values["flavor"] in ("a", "b")

@pytest.mark.requires(catalog="iceberg-*")
def test_needs_iceberg():
    raise AssertionError("must not run")
"""
NEW_FAILURE = """

def test_new(cell):
    assert cell.values["flavor"] == "a", "flavour b broke"
"""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def certify(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "certify", *args], cwd=cwd, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def make_report_project(root: Path, extra: str = "") -> Path:
    """A project with the four-cell matrix above and one scenario module."""
    (root / "matrices").mkdir(parents=True, exist_ok=True)
    (root / "matrices" / "rep.yaml").write_text(MATRIX % version("pyspark"))
    (root / "scenarios" / "smoke").mkdir(parents=True, exist_ok=True)
    (root / "scenarios" / "smoke" / "test_s.py").write_text(textwrap.dedent(SCENARIO + extra))
    return root


@dataclass(frozen=True)
class Runs:
    """Two runs of one project into one history folder."""

    project: Path
    first: Path
    second: Path
    second_rc: int
    history: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Run the project, then run it again with a new failing test."""
    base = tmp_path_factory.mktemp("report")
    project = make_report_project(base / "project")
    history = base / "history"
    first = certify(
        "run", "--profile", "all", "--out", str(base / "run1"), "--root", str(project),
        "--history", str(history),
    )  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    make_report_project(project, NEW_FAILURE)
    second = certify(
        "run", "--profile", "all", "--out", str(base / "run2"), "--root", str(project),
        "--history", str(history),
    )  # fmt: skip
    return Runs(project, base / "run1", base / "run2", second.returncode, history)


def report_of(out: Path) -> dict[str, Any]:
    """report.json of a run folder, validated against the shipped schema."""
    doc: dict[str, Any] = json.loads((out / "report.json").read_text())
    jsonschema.validate(doc, schema())
    return doc


def test_a_run_writes_every_output_and_valid_json(runs: Runs) -> None:
    for name in ("report.json", "report.md", "report.html", "junit.xml", "allure-results"):
        assert (runs.first / name).exists(), name
    doc = report_of(runs.first)
    assert [c["id"] for c in doc["cells"]] == CELLS
    assert [c["verdict"] for c in doc["cells"]] == ["certified", "certified", "not_run", "not_run"]
    assert doc["gate"]["verdict"] == "pass"
    assert doc["gate"]["policy"]["source"] == "built-in"
    assert doc["changes"] is None  # nothing earlier in the history
    assert report_of(runs.second)["gate"]["verdict"] == "fail"
    assert runs.second_rc == 1


def test_report_md_leads_with_the_gate_then_cells_then_changes(runs: Runs) -> None:
    text = (runs.second / "report.md").read_text()
    assert text.startswith(
        "# certify all: gate FAIL\n\n- spark=3.5,catalog=hive,flavor=b (certified)"
    )
    assert "suite:smoke: scenarios/smoke/test_s.py::test_new: failed" in text
    gate, cells, changes = (
        text.index(h) for h in ("gate FAIL", "## Cells by verdict", "## Changes")
    )
    assert gate < cells < changes
    assert (
        "- New failures: 1\n"
        "  - `spark=3.5,catalog=hive,flavor=b` scenarios/smoke/test_s.py::test_new" in text
    )
    for cell in CELLS:
        assert f"| `{cell}` |" in text


def test_the_second_run_is_compared_with_the_first(runs: Runs) -> None:
    doc = report_of(runs.second)
    changes = doc["changes"]
    assert changes["previous"] == report_of(runs.first)["run"]["id"]
    assert [(c["cell"], c["test"].split("::")[-1]) for c in changes["new_failures"]] == [
        ("spark=3.5,catalog=hive,flavor=b", "test_new")
    ]
    assert changes["fixed"] == changes["still_failing"] == changes["newly_not_run"] == []
    kept = sorted(p.name for p in (runs.history / "all").glob("*.json"))
    assert len(kept) == 2 and (runs.history / "all" / "index.jsonl").is_file()


def test_junit_names_every_test_with_its_cell(runs: Runs) -> None:
    cases = list(ET.parse(runs.first / "junit.xml").iter("testcase"))
    assert len(cases) == 2 * 3 + 2
    for case in cases:
        cell = case.get("name", "").rsplit("[", 1)[1].rstrip("]")
        assert cell in CELLS and case.get("classname", "").endswith(cell)


def test_allure_results_keep_history_per_cell(runs: Runs) -> None:
    results = [
        json.loads(p.read_text()) for p in (runs.first / "allure-results").glob("*-result.json")
    ]
    assert len(results) == 2 * 3  # the two runnable cells, three tests each
    by_test: dict[str, set[str]] = {}
    for result in results:
        cell = {p["name"]: p["value"] for p in result["parameters"]}["cell"].strip("'")
        labels = {(lb["name"], lb["value"]) for lb in result["labels"]}
        assert ("cell", cell) in labels and ("parentSuite", cell) in labels
        by_test.setdefault(result["fullName"], set()).add(result["historyId"])
    # the same test on two cells: two histories, never one merged across cells
    assert all(len(ids) == 2 for ids in by_test.values()), by_test
    env = (runs.first / "allure-results" / "environment.properties").read_text()
    assert "certify.profile=all\n" in env
    assert all(f"={cell}\n" in env for cell in CELLS)


def _allure_cli() -> str | None:
    local = ROOT / ".certify" / "node" / "node_modules" / ".bin" / "allure"
    return str(local) if local.exists() else shutil.which("allure")


def test_the_allure_cli_renders_the_results(runs: Runs, tmp_path: Path) -> None:
    cli = _allure_cli()
    if cli is None:
        pytest.skip("no Allure CLI: .ci/run installs it with npm into .certify/node")
    out = tmp_path / "allure-report"
    proc = subprocess.run(
        [cli, "generate", str(runs.first / "allure-results"), "-o", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "index.html").is_file()
    rendered = "".join(
        p.read_text(errors="replace")
        for p in out.rglob("*")
        if p.is_file() and p.stat().st_size < 5_000_000
    )
    assert all(cell in rendered for cell in CELLS[:2])


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browse(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium: .ci/run installs it (apt-get install -y chromium)")
    env = {**os.environ, "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [browser, *CHROMIUM_FLAGS, *extra, url], capture_output=True, text=True, timeout=120,
        check=False, env=env,
    )  # fmt: skip


def test_report_html_loads_in_chromium_with_every_cell_and_no_errors(
    runs: Runs, tmp_path: Path
) -> None:
    page = (runs.second / "report.html").resolve()
    html = page.read_text()
    assert "http://" not in html and "https://" not in html  # self-contained: nothing to fetch
    url = f"{page.as_uri()}#cell=spark%3D3.5%2Ccatalog%3Dhive%2Cflavor%3Db"
    proc = _browse(url, "--virtual-time-budget=2000", "--dump-dom")
    dom = proc.stdout
    # any console output is a script error or warning: the page logs nothing on its own
    assert ":CONSOLE" not in proc.stderr, proc.stderr
    assert 'data-ready="4"' in dom  # the script ran to its end over the embedded data
    for cell in CELLS:
        assert f'data-id="{cell}"' in dom
    # the detail panel opened for the linked cell, with its criteria and the failure
    panel = dom[dom.index('id="detail"') :]
    assert panel.startswith('id="detail"><h3>spark=3.5,catalog=hive,flavor=b</h3>')
    assert "flavour b broke" in panel[:5000]
    shot = tmp_path / "report.png"
    proc = _browse(url, "--window-size=1280,1600", f"--screenshot={shot}")
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", proc.stderr
    assert shot.stat().st_size > 20_000  # a page, not a blank image
    keep = os.environ.get("CERTIFY_SCREENSHOT_DIR")
    if keep:  # CI keeps the screenshot as an artifact
        shutil.copy(shot, Path(keep) / "report.png")


def test_chromium_console_check_catches_a_broken_page(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    proc = _browse(broken.as_uri(), "--dump-dom")
    assert ":CONSOLE" in proc.stderr and "Uncaught ReferenceError" in proc.stderr


def test_certify_report_re_renders_a_run_folder(runs: Runs, tmp_path: Path) -> None:
    copy = tmp_path / "run2"
    shutil.copytree(runs.second, copy)
    (copy / "report.html").unlink()
    proc = certify("report", str(copy), "--history", str(runs.history))
    assert proc.returncode == 0, proc.stderr
    assert "4 cell(s): 1 certified, 1 failed, 2 not_run; gate FAIL" in proc.stdout
    assert "1 new failures" in proc.stdout
    assert (copy / "report.html").is_file()
    assert report_of(copy)["changes"] == report_of(runs.second)["changes"]
