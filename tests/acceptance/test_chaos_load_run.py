"""`certify run` of a profile with chaos experiments and load under them, for real.

Spark Connect SQL load through a Connect server restart (Spark 4.1) and S3 load through an
object-store outage (SeaweedFS, Iceberg REST cell): each experiment passes with a measured
recovery time and verified rows, each load shows the fault in its during-window and recovers
after it, the report shows both per cell, and nothing of the run is left running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.acceptance.test_platform_run import processes_with
from tests.integration.cells import BASE, CONNECT_HIVE, REST_S3, cell_id, write_matrix

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CASES = [
    (CONNECT_HIVE, "connect-server-restart", "spark-connect-sql"),
    (REST_S3, "object-store-outage", "object-store"),
]
_FAR_LATENCY = {"p50_ms": 600_000, "p95_ms": 600_000, "p99_ms": 600_000}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    base = tmp_path_factory.mktemp("chaos-load")
    path = write_matrix(base / "m", {"unused": [CONNECT_HIVE]})
    spec = yaml.safe_load(path.read_text())
    spec["profiles"] = {
        "under-fault": {
            "tiers": ["certified", "documented", "experimental"],
            "select": [{**BASE, **values} for values, _, _ in CASES],
            "reduction": "full",
            "suites": [],
            "chaos": [
                {"name": experiment, "cells": [{k: v for k, v in values.items() if k != "spark"}]}
                for values, experiment, _ in CASES
            ],
            "load": [{"name": load, "during": experiment} for _, experiment, load in CASES],
        }
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    # the shipped policy, except that this profile's cells need no scenario suite
    policy = yaml.safe_load((ROOT / "reports" / "policy.yaml").read_text())
    policy["tiers"]["certified"]["suites"] = []
    (base / "policy.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    out = base / "run"
    env = {
        **os.environ,
        "CERTIFY_STATE_DIR": str(base / "state"),
        "CERTIFY_LOAD_SECONDS": "24",
        "CERTIFY_MAX_DRIVERS": "1",  # two cores: one fault at a time keeps windows clean
        # how fast this machine answers today is not what this run judges: latency SLOs far
        # off; the error-rate and throughput SLOs are the profiles' own, and the tests below
        # compare the windows of this run with each other
        "CERTIFY_LOAD_SLO": json.dumps(_FAR_LATENCY),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "certify", "run", "--profile", "under-fault", "--matrix",
         str(path), "--out", str(out), "--policy", str(base / "policy.yaml"), "--no-gate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    return proc, out


def _cell(out: Path, values: dict[str, str]) -> dict[str, Any]:
    report = json.loads((out / "report.json").read_text())
    return next(c for c in report["cells"] if c["id"] == cell_id(values))


def _records(out: Path, values: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {t["test_id"]: t for t in _cell(out, values)["tests"]}


@pytest.mark.parametrize(("values", "experiment", "load"), CASES)
def test_the_experiment_under_load_passes_with_recovery_and_verified_rows(
    run: Any, values: dict[str, str], experiment: str, load: str
) -> None:
    proc, out = run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cell = _cell(out, values)
    [row] = [r for r in cell["chaos"] if r["experiment"] == experiment]
    assert row["verdict"] == "certified", (row, cell["reasons"])
    assert row["recovery_time_s"] is not None and row["recovery_time_s"] > 0
    assert row["rows_verified"] >= 1000
    journal = out / _records(out, values)[f"chaos/{experiment}"]["chaos"]["journal"]
    assert json.loads(journal.read_text())["status"] == "completed"


@pytest.mark.parametrize(("values", "experiment", "load"), CASES)
def test_the_load_shows_the_fault_window_and_recovers_after_it(
    run: Any, values: dict[str, str], experiment: str, load: str
) -> None:
    _, out = run
    record = _records(out, values)[f"load/{load}"]
    # the profile's SLOs judge the steady state before the fault; the policy judges after it
    assert record["status"] == "passed", record["message"]
    assert _cell(out, values)["verdict"] == "certified", _cell(out, values)["reasons"]
    figures = record["load"]
    assert figures["during"] == experiment
    before, during, after = (figures["windows"][w] for w in ("before", "during", "after"))
    # the SLOs judged the steady state before the fault, with the profile's own error and
    # throughput thresholds (a judgement of the whole run would count the fault's errors)
    assert figures["slo_window"] == "before", figures
    slos = {s["metric"]: s for s in figures["slos"]}
    assert {"error_rate", "rps"} <= set(slos) and slos["error_rate"]["threshold"] < 1, slos
    for metric, slo in slos.items():
        assert slo["measured"] == before[metric] and slo["met"], (metric, slo, before)
    # the fault is visible: errors appear, or latency rises, while it lasts
    assert during["error_rate"] > before["error_rate"] or during["p95_ms"] > 2 * before["p95_ms"], (
        before,
        during,
    )
    # and the load recovers after it: throughput is back, errors are gone
    assert figures["throughput_recovery_s"] is not None, figures
    assert after["rps"] > 0.5 * before["rps"], (before, after)
    assert after["error_rate"] < max(0.05, during["error_rate"]), (during, after)


def test_the_report_shows_chaos_and_load_per_cell(run: Any) -> None:
    _, out = run
    markdown = (out / "report.md").read_text()
    for _, experiment, load in CASES:
        assert experiment in markdown and load in markdown
    html = (out / "report.html").read_text()
    assert "Chaos experiments" in html and "Load profiles" in html


def test_nothing_of_the_run_is_left_running(run: Any) -> None:
    _, out = run
    assert processes_with(f"CERTIFY_STATE_DIR={out.parent / 'state'}") == []
