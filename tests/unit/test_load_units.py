"""Load units without locust: SLO rounding rule, fault windows, shape schedules, loopback refusal,
profile declarations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certify.cell import Cell
from certify.errors import LoadError, ProfileError
from certify.load.profile import read_profile
from certify.load.runner import (
    LoadOptions,
    _endpoints,
    _FaultOutcome,
    _Job,
    _prepare,
    _verdict,
    check_loopback,
    run_load,
)
from certify.load.shapes import SHAPES, schedule, target
from certify.load.slo import evaluate, locust_round, met, override_from_env, rounding_bound
from certify.load.stats import FaultWindow, summary, windows
from certify.plan import PlannedCell
from certify.platforms.base import CellJob, Runtime
from certify.results import Outcome, Record, RecordStore
from certify.results.findings import LoadFinding, findings_json

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ("spark-connect-sql", "catalog-metadata", "online-lookup", "object-store")

times = st.floats(min_value=0, max_value=100_000, allow_nan=False)


@given(times)
def test_rounding_bound_covers_locust_rounding(true_ms: float) -> None:
    reported = locust_round(true_ms)
    assert abs(reported - true_ms) <= rounding_bound(reported)


@given(times, st.floats(min_value=0, max_value=100_000, allow_nan=False))
def test_a_true_value_within_the_threshold_is_never_a_miss(
    true_ms: float, threshold: float
) -> None:
    reported = float(locust_round(true_ms))
    if true_ms <= threshold:
        assert met("p95_ms", threshold, reported)
    if met("p95_ms", threshold, reported):
        # met only when some true value with this rounding may be within the threshold
        assert reported - rounding_bound(reported) <= threshold


def test_slo_results_carry_measured_values_and_rounding_notes() -> None:
    results = evaluate(
        {"p95_ms": 0.001, "error_rate": 0.01, "rps": 5},
        {"p95_ms": 150.0, "error_rate": 0.0, "rps": 2.0},
    )
    by = {r.metric: r for r in results}
    assert (by["p95_ms"].measured, by["p95_ms"].met, by["p95_ms"].op) == (150.0, False, "max")
    assert "+/-5 ms" in by["p95_ms"].note
    assert by["error_rate"].met and not by["rps"].met and by["rps"].op == "min"
    assert evaluate({"p50_ms": 10}, {})[0].met is False  # not measured fails closed


def test_slo_override_inline_or_file(tmp_path: Path) -> None:
    assert override_from_env({"CERTIFY_LOAD_SLO": '{"p95_ms": 0.001}'}) == {"p95_ms": 0.001}
    path = tmp_path / "slo.json"
    path.write_text('{"rps": 1000}')
    assert override_from_env({"CERTIFY_LOAD_SLO": str(path)}) == {"rps": 1000.0}
    with pytest.raises(ValueError, match="unknown SLO metric 'p42'"):
        override_from_env({"CERTIFY_LOAD_SLO": '{"p42": 1}'})


HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size"
)


def _history(path: Path, rows: list[tuple[int, int, int, int, int]]) -> Path:
    """rows: (timestamp, users, cumulative requests, cumulative failures, p95)."""
    lines = [HEADER]
    for ts, users, requests, failures, p95 in rows:
        pct = ",".join([str(p95 // 2)] + [str(p95)] * 10)
        lines.append(f"{ts},{users},sql,q,0,0,{pct},{requests},{failures},1,10.0,1,1,0")
        lines.append(f"{ts},{users},,Aggregated,0,0,{pct},{requests},{failures},1,10.0,1,1,0")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_windows_before_during_after_and_recovery(tmp_path: Path) -> None:
    # 10 req/s for 10 s, a fault in the rows of 111 to 115 (1 req/s, failures, slow), back at 117;
    # windows are widened by one history row each way (rows count what happened until written)
    rows = [(100, 0, 0, 0, 0)]
    total, failed = 0, 0
    for ts in range(101, 131):
        rate, bad, p95 = (10, 0, 20) if ts <= 110 or ts >= 117 else (1, 1, 900)
        if 115 < ts < 117:
            rate, bad, p95 = 4, 0, 400
        total, failed = total + rate, failed + bad
        rows.append((ts, 5, total, failed, p95))
    out = windows(_history(tmp_path / "h.csv", rows), FaultWindow(111.5, 114.5))
    before, during, after = out.before, out.during, out.after
    assert before["rps"] == pytest.approx(10.0) and before["error_rate"] == 0
    assert during["rps"] == pytest.approx(1.0) and during["error_rate"] == 1.0
    assert during["p95_ms"] == 900 and before["p95_ms"] == 20
    assert after["requests"] == 4 + 14 * 10
    # at 117 the last 2 s ran at (4 + 10) / 2 = 7 req/s < 80% of 10; at 118 at 10
    assert out.throughput_recovery_s == 3.5


def test_windows_without_recovery(tmp_path: Path) -> None:
    rows = [(100 + i, 3, 10 * i if i <= 5 else 50, 0, 10) for i in range(15)]
    out = windows(_history(tmp_path / "h.csv", rows), FaultWindow(106.5, 108.0))
    assert out.during["requests"] == 0
    assert "mean_ms" not in out.during  # nothing measured is absent, as a stored record reads it
    assert out.throughput_recovery_s is None


def test_summary_reads_the_aggregated_row(tmp_path: Path) -> None:
    stats = tmp_path / "s_stats.csv"
    stats.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,"
        "75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
        ",Aggregated,200,2,10,11.0,1,30,0.0,20.0,0.2,10,12,13,14,18,19,20,25,30,30,30\n"
    )
    assert summary(stats) == {
        "requests": 200.0, "failures": 2.0, "error_rate": 0.01, "rps": 20.0,
        "p50_ms": 10.0, "p95_ms": 19.0, "p99_ms": 25.0,
    }  # fmt: skip


@pytest.mark.parametrize("shape", SHAPES)
def test_shape_schedules_are_bounded(shape: str) -> None:
    counts = schedule(shape, 8, 20)
    assert len(counts) == 20 and max(counts) == 8 and min(counts) >= 1
    assert target(shape, 20.0, 8, 20) is None


def test_shape_schedules() -> None:
    assert schedule("ramp", 4, 8) == [1, 1, 2, 3, 4, 4, 4, 4]
    assert schedule("step", 8, 8) == [2, 2, 4, 4, 6, 6, 8, 8]
    assert schedule("spike", 8, 10) == [2, 2, 2, 2, 8, 8, 2, 2, 2, 2]
    assert schedule("soak", 3, 4) == [3, 3, 3, 3]
    assert schedule("soak", 10_000, 2) == [50, 50]  # users are bounded


def test_locustfile_shape_ticks_follow_the_schedule(tmp_path: Path) -> None:
    """The LoadTestShape classes of load/_shared.py (in a subprocess: locust patches gevent)."""
    cell = tmp_path / "cell.json"
    cell.write_text(json.dumps({"id": "x", "values": {}, "options": {}}))
    code = (
        "import sys, json, time; sys.path.insert(0, 'load'); import _shared\n"
        "out = {}\n"
        "for kind in ('ramp', 'step', 'spike', 'soak'):\n"
        "    s = _shared.shape(kind, 8, 10)(); ticks = []\n"
        "    for t in range(11):\n"
        "        s.start_time = time.monotonic() - t - 0.01; r = s.tick()\n"
        "        ticks.append(r[0] if r else None)\n"
        "    out[kind] = ticks\n"
        "print(json.dumps(out))\n"
    )
    env = {"CERTIFY_LOAD_CELL": str(cell), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    ticks = json.loads(proc.stdout.strip().splitlines()[-1])
    for kind in SHAPES:
        assert ticks[kind] == [*schedule(kind, 8, 10), None]


@pytest.mark.parametrize(
    "endpoint", ["http://10.0.0.5:8333", "sc://spark.example.org:15002", "thrift://0.0.0.0:9083"]
)
def test_non_loopback_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(LoadError, match="not on loopback"):
        check_loopback(endpoint)


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:8333", "sc://localhost:1", "http://[::1]:2"]
)
def test_loopback_endpoints_pass(endpoint: str) -> None:
    assert check_loopback(endpoint) == endpoint


class _Options(dict[str, object]):
    """A cell's options in their JSON form (`to_json`), as a platform session gives them."""

    def to_json(self) -> dict[str, object]:
        return dict(self)


class _Session:
    """A platform session that gives the cell `options` (what `_prepare` asks of one)."""

    session_id = ""

    def __init__(self, options: dict[str, object]) -> None:
        self._options = _Options(options)
        self.secrets: list[str] = []

    def options(self, planned: PlannedCell, workdir: Path, scope: str = "") -> _Options:
        return self._options


S3_CELL = PlannedCell(
    Cell((("spark", "3.5"), ("storage", "s3")), "certified"), "spark-3.5", (), (), ("object-store",)
)


def _job(tmp_path: Path, options: dict[str, object]) -> CellJob:
    runtime = Runtime("spark-3.5", Path(sys.executable), None)
    store = RecordStore(tmp_path / "results.sqlite")
    return CellJob(S3_CELL, runtime, _Session(options), tmp_path, ROOT, store, "run")


def _options(**extra: str) -> dict[str, object]:
    """Options of an Iceberg REST + S3 cell whose Spark conf names storage, not hosts."""
    conf = {
        "spark.sql.catalog.lake.warehouse": "s3://bucket/warehouse",
        "spark.sql.catalog.meta.uri": "sqlite:///tmp/catalog.db",
        "spark.sql.warehouse.dir": "file:/tmp/spark-warehouse",
        **extra,
    }
    return {"s3": {"s3": "http://127.0.0.1:8333", "bucket": "bucket"}, "spark": {"conf": conf}}


def test_storage_uris_in_the_options_are_not_taken_for_hosts(tmp_path: Path) -> None:
    assert _endpoints(_options()) == ["http://127.0.0.1:8333"]
    prepared = _prepare("object-store", _job(tmp_path, _options()), LoadOptions())
    assert prepared.endpoint == "http://127.0.0.1:8333"
    assert json.loads((prepared.folder / "cell.json").read_text())["options"] == _options()


def test_a_non_loopback_network_endpoint_in_the_options_is_still_refused(tmp_path: Path) -> None:
    job = _job(tmp_path, _options(**{"spark.hive.uri": "http://10.0.0.5:9083"}))
    record = run_load("object-store", job, LoadOptions())
    assert (
        record.status == "error" and "'http://10.0.0.5:9083' is not on loopback" in record.message
    )
    assert record.metrics is None and record.finding is None
    assert record in job.store.records("run", S3_CELL.cell.id)


STATS_CSV = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,"
    "75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
    ",Aggregated,200,2,10,11.0,1,30,0.0,20.0,0.2,10,12,13,14,18,19,20,25,30,30,30\n"
)
PARTS = {"hive": {"status": "not_run", "reason": "no metastore"}, "rest": {"status": "ran"}}


def _ran(tmp_path: Path, declared: dict[str, object]) -> _Job:
    """A finished locust run's folder: its stats, history and what the locustfile declared."""
    folder = tmp_path / "evidence" / "c" / "load" / "object-store"
    folder.mkdir(parents=True)
    (folder / "stats_stats.csv").write_text(STATS_CSV)
    rows = [(100 + i, 4, 10 * i, 0, 20) for i in range(30)]
    _history(folder / "stats_stats_history.csv", rows)
    (folder / "declared.json").write_text(json.dumps(declared))
    slo = {"p95_ms": 15.0, "rps": 5.0}
    profile = read_profile(ROOT, "object-store")
    return _Job(profile, S3_CELL, folder, tmp_path, "ramp", 4, 20.0, slo, "http://127.0.0.1:1")


def test_a_load_record_carries_typed_findings_in_the_json_of_provenance_before(
    tmp_path: Path,
) -> None:
    job = _ran(tmp_path, {"parts": PARTS})
    verdict = _verdict(job, 1, _FaultOutcome(), None)
    assert verdict.status == "failed" and verdict.message.startswith("SLO missed: p95_ms 19 > 15")
    assert "hive: not_run (no metastore)" in verdict.message
    stats = "evidence/c/load/object-store/stats"
    rounding = "rounding: locust keeps response times to ~2 significant digits, so the true value"
    assert findings_json(verdict.metrics, verdict.finding) == {
        "metrics": {"error_rate": 0.01, "failures": 2.0, "p50_ms": 10.0, "p95_ms": 19.0,
                    "p99_ms": 25.0, "requests": 200.0, "rps": 20.0},
        "load": {
            "duration_s": 20.0, "during": None, "host": "http://127.0.0.1:1", "parts": PARTS,
            "shape": "ramp", "throughput_recovery_s": None, "users": 4, "windows": None,
            "slos": [
                {"measured": 19.0, "met": False, "metric": "p95_ms", "op": "max",
                 "threshold": 15.0,
                 "note": f"{rounding} is within +/-0.5 ms of 19; met when 19 - 0.5 <= 15"},
                {"measured": 20.0, "met": True, "metric": "rps", "op": "min", "threshold": 5.0,
                 "note": "rounding: none (counted exactly from requests and failures)"},
            ],
            "stats": {"csv": f"{stats}_stats.csv", "csv_history": f"{stats}_stats_history.csv",
                      "json": f"{stats}.json", "log": "evidence/c/load/object-store/locust.log"},
        },
    }  # fmt: skip
    record = Outcome("run", S3_CELL.cell.id, "load", "object-store").record(
        verdict.status, verdict.message, metrics=verdict.metrics, finding=verdict.finding
    )
    assert record.provenance == {} and Record.from_json(json.loads(record.dumps())) == record


def test_a_load_under_a_fault_judges_the_window_before_it(tmp_path: Path) -> None:
    job = _ran(tmp_path, {"parts": {}})
    verdict = _verdict(job, 0, _FaultOutcome(FaultWindow(110.5, 114.0)), "pause")
    assert isinstance(verdict.finding, LoadFinding) and verdict.finding.windows is not None
    assert verdict.finding.slo_window == "before" and verdict.finding.run is not None
    assert verdict.finding.run.during == "pause"
    assert [s.measured for s in verdict.finding.slos] == [20.0, 10.0]  # the before window's
    assert " before the fault (p50 " in verdict.message
    assert set(verdict.finding.windows) == {"before", "during", "after"}
    assert verdict.finding.windows["before"]["rps"] == 10.0


def test_an_error_or_a_declined_load_records_no_metrics(tmp_path: Path) -> None:
    crashed = _verdict(_ran(tmp_path / "a", {"parts": PARTS}), 2, _FaultOutcome(), None)
    assert crashed.status == "error" and "exited with code 2" in crashed.message
    assert crashed.metrics is None and isinstance(crashed.finding, LoadFinding)
    assert crashed.finding.slos == () and crashed.finding.windows is None
    assert set(findings_json(crashed.metrics, crashed.finding)) == {"load"}
    declined = {"applicable": False, "reason": "no thrift", "parts": PARTS}
    verdict = _verdict(_ran(tmp_path / "b", declined), 0, _FaultOutcome(), None)
    assert (verdict.status, verdict.message, verdict.applicable) == ("not_run", "no thrift", False)
    assert findings_json(verdict.metrics, verdict.finding) == {"load": {"parts": PARTS}}
    lost = _verdict(_ran(tmp_path / "c", {}), 0, _FaultOutcome(error="OSError: gone"), "pause")
    assert lost.status == "error" and "fault during the load did not run: OSError" in lost.message


def test_a_missing_profile_names_its_file() -> None:
    with pytest.raises(ProfileError, match=r"load/no-such-profile\.py.*has no locustfile"):
        read_profile(ROOT, "no-such-profile")


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_declares_slo_shape_and_applicability(name: str) -> None:
    profile = read_profile(ROOT, name)
    assert profile.name == name and profile.shape in SHAPES and profile.requires
    assert {"p50_ms", "p95_ms", "p99_ms", "error_rate", "rps"} <= set(profile.slo["*"])


def test_online_lookup_defaults_to_the_published_target() -> None:
    slo = read_profile(ROOT, "online-lookup").slo["*"]
    assert slo["p50_ms"] == 75 and slo["p95_ms"] == 200


def test_a_held_run_keeps_its_last_stage_until_the_hold_file_says_so(tmp_path: Path) -> None:
    from certify.load.shapes import held_target, target

    hold = tmp_path / "hold-until"
    # within the shape's duration the hold changes nothing
    assert held_target("spike", 5.0, 8, 10, str(hold), 100.0) == target("spike", 5.0, 8, 10)
    # past it, without a hold file the run ends; with one not yet written it holds the last stage
    assert held_target("ramp", 12.0, 8, 10, None, 100.0) is None
    assert held_target("ramp", 12.0, 8, 10, str(hold), 100.0) == (8, 8.0)
    assert held_target("spike", 30.0, 8, 10, str(hold), 100.0) == (2, 8.0)
    hold.write_text("150.5\n")
    assert held_target("ramp", 40.0, 8, 10, str(hold), 150.0) == (8, 8.0)
    assert held_target("ramp", 41.0, 8, 10, str(hold), 150.5) is None
    hold.write_text("garbage")
    assert held_target("ramp", 41.0, 8, 10, str(hold), 1e12) == (8, 8.0)
