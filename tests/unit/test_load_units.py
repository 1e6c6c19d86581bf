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

from certify.errors import LoadError, ProfileError
from certify.load.profile import read_profile
from certify.load.runner import check_loopback
from certify.load.shapes import SHAPES, schedule, target
from certify.load.slo import evaluate, locust_round, met, override_from_env, rounding_bound
from certify.load.stats import FaultWindow, summary, windows

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
    by = {r["metric"]: r for r in results}
    assert by["p95_ms"] == {**by["p95_ms"], "measured": 150.0, "met": False, "op": "max"}
    assert "+/-5 ms" in by["p95_ms"]["note"]
    assert by["error_rate"]["met"] and not by["rps"]["met"] and by["rps"]["op"] == "min"
    assert evaluate({"p50_ms": 10}, {})[0]["met"] is False  # not measured fails closed


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
    before, during, after = out["before"], out["during"], out["after"]
    assert before["rps"] == pytest.approx(10.0) and before["error_rate"] == 0
    assert during["rps"] == pytest.approx(1.0) and during["error_rate"] == 1.0
    assert during["p95_ms"] == 900 and before["p95_ms"] == 20
    assert after["requests"] == 4 + 14 * 10
    # at 117 the last 2 s ran at (4 + 10) / 2 = 7 req/s < 80% of 10; at 118 at 10
    assert out["throughput_recovery_s"] == 3.5


def test_windows_without_recovery(tmp_path: Path) -> None:
    rows = [(100 + i, 3, 10 * i if i <= 5 else 50, 0, 10) for i in range(15)]
    out = windows(_history(tmp_path / "h.csv", rows), FaultWindow(106.5, 108.0))
    assert out["during"]["requests"] == 0
    assert out["throughput_recovery_s"] is None


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
