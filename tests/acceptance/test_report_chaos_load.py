"""Chaos and load results through the CLI: `certify report` renders them, `certify gate` decides.

A real `certify run` of the four-cell report project gives the run folder; its two hive cells
then get an experiment and a load result in report.json, written the way the report writes the
runners' records (the record contract). The gate is decided by the real CLI under policy files,
report.html is loaded in headless Chromium, and the nightly workflow is checked against the CLI
and the matrix it names.
"""

from __future__ import annotations

import copy
import json
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from certify.report.model import record_json
from tests.acceptance.test_report_outputs import (
    CELLS,
    _browse,
    certify,
    make_report_project,
    report_of,
)
from tests.unit.test_report_chaos_load import WINDOWS, experiment, load

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "nightly-chaos.yml"
HIVE_A, HIVE_B = CELLS[:2]
POLICY = """\
schema: certify.policy/1
chaos:
  - name: recovery-and-integrity
    max_recovery_s: 120
    zero_data_loss: true
    require_fault_confirmed: true
    blocking: %s
waivers: %s
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real passing run of the report project (no chaos or load in it yet)."""
    base = tmp_path_factory.mktemp("chaosload")
    project = make_report_project(base / "project")
    out = base / "run"
    proc = certify(
        "run",
        "--profile",
        "all",
        "--out",
        str(out),
        "--root",
        str(project),
        "--no-gate",
        "--history",
        str(base / "history"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _with_chaos(doc: dict[str, Any], recovery: float, integrity: str = "intact") -> dict[str, Any]:
    """The report with an experiment and a load under chaos on each hive cell."""
    doc = copy.deepcopy(doc)
    for cell in doc["cells"]:
        if cell["id"] not in (HIVE_A, HIVE_B):
            continue
        lost = 5 if integrity == "lost" and cell["id"] == HIVE_B else 0
        records = [
            experiment(
                cell["id"], recovery=recovery, integrity="lost" if lost else "intact", lost=lost
            ),
            load(cell["id"], windows=WINDOWS),
        ]
        cell["planned"]["chaos"] = ["executor-loss"]
        cell["planned"]["load"] = ["spark-connect-sql"]
        cell["tests"].extend(record_json(r) for r in records)
    return doc


def _folder(tmp_path: Path, run_dir: Path, doc: dict[str, Any]) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    (folder / "report.json").write_text(json.dumps(doc))
    return folder


def _policy(tmp_path: Path, blocking: bool = True, waive: bool = False) -> Path:
    waivers = (
        '[{cells: "*flavor=b", criterion: "chaos-criteria:*", reason: "SPARK-1", owner: ann, '
        "expires: 2999-01-01}]"
        if waive
        else "[]"
    )
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY % ("true" if blocking else "false", waivers))
    return path


def _gate(folder: Path, policy: Path) -> tuple[int, str]:
    """The gate `certify report` decides for a report.json with chaos and load results added.

    (`certify gate` itself re-derives from the run's records and refuses such an edited report:
    tests/acceptance/test_tamper.py; here the report's own decision under a policy is what is
    tested.)
    """
    proc = certify("report", str(folder), "--policy", str(policy), "--no-history")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    gate = json.loads((folder / "report.json").read_text())["gate"]
    passed = gate["verdict"] == "pass"
    head = "gate: PASS\n" if passed else "gate: FAIL\n"
    return (0 if passed else 1), head + "".join(f"  - {r}\n" for r in gate["reasons"])


def test_the_gate_passes_recovered_experiments_and_fails_a_recovery_miss(
    run_dir: Path, tmp_path: Path
) -> None:
    doc = report_of(run_dir)
    ok = _folder(tmp_path / "ok", run_dir, _with_chaos(doc, recovery=42.0))
    assert _gate(ok, _policy(tmp_path)) == (0, "gate: PASS\n")
    slow = _folder(tmp_path / "slow", run_dir, _with_chaos(doc, recovery=150.0))
    rc, out = _gate(slow, _policy(tmp_path))
    assert rc == 1
    assert (
        f"{HIVE_A} (certified): failed: chaos-criteria:executor-loss: chaos/executor-loss: "
        "policy chaos criterion recovery-and-integrity: recovery took 150 s, the policy allows "
        "at most 120 s" in out
    )
    # non-blocking: degraded, which the default pass verdicts still refuse
    rc, out = _gate(slow, _policy(tmp_path, blocking=False))
    assert rc == 1 and f"{HIVE_A} (certified): degraded: chaos-criteria:executor-loss" in out


def test_the_gate_fails_on_data_loss_and_a_waiver_waives_it(run_dir: Path, tmp_path: Path) -> None:
    lossy = _folder(tmp_path, run_dir, _with_chaos(report_of(run_dir), 30.0, "lost"))
    rc, out = _gate(lossy, _policy(tmp_path))
    assert rc == 1
    assert f"{HIVE_B} (certified): failed: chaos-criteria:executor-loss" in out
    assert "data lost (data integrity lost, 5 row(s) lost)" in out and HIVE_A not in out
    assert _gate(lossy, _policy(tmp_path, waive=True))[0] == 0


def test_certify_report_renders_the_chaos_and_load_sections(run_dir: Path, tmp_path: Path) -> None:
    folder = _folder(tmp_path, run_dir, _with_chaos(report_of(run_dir), recovery=150.0))
    for name in ("report.md", "report.html"):
        (folder / name).unlink()
    proc = certify("report", str(folder), "--policy", str(_policy(tmp_path)), "--no-history")
    assert proc.returncode == 0, proc.stderr
    doc = report_of(folder)  # valid against the shipped schema
    cell = next(c for c in doc["cells"] if c["id"] == HIVE_A)
    assert [(r["experiment"], r["recovery_time_s"], r["policy"]) for r in cell["chaos"]] == [
        ("executor-loss", 150.0, "failed")
    ]
    assert cell["load"][0]["windows"]["during"]["error_rate"] == 0.2
    text = (folder / "report.md").read_text()
    assert f"### `{HIVE_A}` (failed)" in text
    assert "| executor-loss | certified | 150 s | 1000 | intact | yes | failed |" in text
    assert "p95_ms 180 <= 200 met" in text


def test_report_html_shows_a_cells_chaos_and_load_in_chromium(
    run_dir: Path, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, run_dir, _with_chaos(report_of(run_dir), recovery=150.0))
    proc = certify("report", str(folder), "--policy", str(_policy(tmp_path)), "--no-history")
    assert proc.returncode == 0, proc.stderr
    page = (folder / "report.html").resolve()
    url = f"{page.as_uri()}#cell=" + HIVE_A.replace("=", "%3D").replace(",", "%2C")
    shown = _browse(url, "--virtual-time-budget=2000", "--dump-dom")
    assert ":CONSOLE" not in shown.stderr, shown.stderr
    dom = shown.stdout
    assert 'data-ready="4"' in dom
    panel = dom[dom.index('id="detail"') :]
    panel = panel[: panel.index("</section>")]
    assert "<h3>Chaos</h3>" in panel and "<h3>Load under chaos</h3>" in panel
    assert "<td>150 s</td>" in panel and "<td>p95 2400 ms, err 0.2, 9 rps</td>" in panel
    assert '<section id="chaos">' in dom and '<section id="load">' in dom


def _workflow() -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return doc


def _certify_commands() -> list[list[str]]:
    steps = [s for job in _workflow()["jobs"].values() for s in job["steps"]]
    lines = [ln.strip() for s in steps for ln in str(s.get("run", "")).splitlines()]
    return [shlex.split(ln)[1:] for ln in lines if ln.startswith(".venv/bin/certify ")]


def test_the_nightly_workflow_runs_on_a_schedule_and_uploads_its_evidence() -> None:
    flow = _workflow()
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] == "0 2 * * *" and "workflow_dispatch" in triggers
    steps = [s for job in flow["jobs"].values() for s in job["steps"]]
    uses = {s.get("uses", "").split("@")[0]: s for s in steps}
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert uses["actions/setup-java"]["with"]["java-version"] == "17"
    upload = uses["actions/upload-artifact"]
    assert upload["uses"].endswith("@v4") and upload["if"] == "always()"
    for wanted in ("report.*", "junit.xml", "allure-results/", "*.journal.json"):
        assert wanted in upload["with"]["path"], wanted
    commands = _certify_commands()
    assert commands[-1] == ["gate", "runs/nightly/report.json"]  # the gate decides, last
    assert steps.index(upload) == len(steps) - 2


def test_every_certify_command_of_the_workflow_exists_with_its_options() -> None:
    commands = _certify_commands()
    assert [c[:2] for c in commands] == [
        ["env", "sync"],
        ["env", "sync"],
        ["run", "--profile"],
        ["gate", "runs/nightly/report.json"],
    ]
    for command in commands:
        words = [w for w in command if not w.startswith("-")][:2]
        path = words[:2] if words[0] == "env" else words[:1]
        helped = certify(*path, "--help")
        assert helped.returncode == 0, helped.stderr
        for option in (w for w in command if w.startswith("--")):
            assert option in helped.stdout, (command, option)
    run = next(c for c in commands if c[0] == "run")
    profile = run[run.index("--profile") + 1]
    matrix = yaml.safe_load((ROOT / "matrices" / "platform.yaml").read_text())
    assert profile in matrix["profiles"], (
        f"the workflow runs profile {profile!r}, which matrices/platform.yaml does not define"
    )
    for sync in (c for c in commands if c[:2] == ["env", "sync"]):
        assert sync[sync.index("--spark") + 1] in matrix["dimensions"]["spark"]["values"]
