"""Load harness benchmark: what locust adds to a Spark Connect query's latency, and how many
requests a second the generator sustains on one core.

Run as `python benchmarks/load.py` from the project folder (it builds the Spark 4.1 runtime through
`certify env sync` if needed and starts its own Connect server). Prints labelled figures and the
ratios, all measured in this run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certify.load.runner import run_load  # noqa: E402
from certify.load.slo import locust_round  # noqa: E402
from certify.results import RecordStore  # noqa: E402
from tests.integration.cells import CONNECT_HIVE  # noqa: E402
from tests.integration.load_platform import load_platform  # noqa: E402

SECONDS = 30
LOOP_QUERIES = 150

# the spark-connect-sql profile's queries and weights, run by one client in a plain loop
PLAIN_LOOP = textwrap.dedent(
    """
    import json, random, sys, time
    from pyspark.sql import SparkSession
    remote, table, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    spark = SparkSession.builder.remote(remote).create()
    queries = [f"SELECT v FROM {table} WHERE k = {{k}}"] * 4 + [
        f"SELECT count(*) FROM {table}"] * 2 + [
        f"SELECT k % 10 AS g, count(*) FROM {table} GROUP BY 1"] * 2 + ["SELECT 1"]
    for _ in range(10):
        spark.sql("SELECT 1").collect()
    times = []
    for _ in range(n):
        sql = random.choice(queries).format(k=random.randrange(200))
        start = time.perf_counter()
        spark.sql(sql).collect()
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(random.uniform(0.05, 0.3))
    spark.stop()
    print(json.dumps(times))
    """
)

NOOP = textwrap.dedent(
    """
    from locust import User, constant, task
    class Cheap(User):
        wait_time = constant(0)
        @task
        def noop(self):
            self.environment.events.request.fire(
                request_type="noop", name="noop", response_time=0.1, response_length=0,
                exception=None, context={})
    """
)


def through_locust(lp: object, out: Path) -> dict[str, float]:
    """p50 of the spark-connect-sql profile, one user (the soak shape), through locust."""
    planned, runtime = lp.cell(CONNECT_HIVE)  # type: ignore[attr-defined]
    store = RecordStore(out / "results.sqlite")
    record = run_load(
        "spark-connect-sql", planned, runtime, lp.session, out, ROOT, store, "bench",  # type: ignore[attr-defined]
        shape="soak", users=1, seconds=SECONDS,
    )  # fmt: skip
    if not record.provenance.get("metrics"):
        raise SystemExit(f"locust run failed: {record.message}")
    return dict(record.provenance["metrics"])


def plain_loop(lp: object) -> list[float]:
    """Milliseconds of each query of the same mix in a plain loop with the same client."""
    planned, runtime = lp.cell(CONNECT_HIVE)  # type: ignore[attr-defined]
    options = lp.session.options(planned, ROOT)  # type: ignore[attr-defined]
    table = f"{options['database']}.certify_load_kv"
    argv = [str(runtime.python), "-c", PLAIN_LOOP, options["spark"]["remote"], table]
    proc = subprocess.run(
        [*argv, str(LOOP_QUERIES)], capture_output=True, text=True, timeout=600, check=True
    )
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


def generator_rate(folder: Path) -> float:
    """Requests a second one locust process sustains on one core with a no-op request."""
    locustfile = folder / "noop.py"
    locustfile.write_text(NOOP)
    prefix = folder / "noop"
    subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-m", "locust", "-f", str(locustfile),
         "--headless", "--only-summary", "-u", "20", "-r", "20", "-t", "15s",
         "--csv", str(prefix)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    from certify.load.stats import summary

    return summary(Path(f"{prefix}_stats.csv"))["rps"]


def main() -> None:
    """Print every figure and ratio of one run."""
    with tempfile.TemporaryDirectory() as tmp, load_platform(Path(tmp) / "p", [CONNECT_HIVE]) as lp:
        locust = through_locust(lp, Path(tmp) / "run")
        loop = plain_loop(lp)
        rate = generator_rate(Path(tmp))
    loop_p50 = statistics.median(loop)
    loop_p50_rounded = statistics.median(locust_round(t) for t in loop)
    print(f"spark-connect-sql via locust, 1 user, {SECONDS} s: p50 {locust['p50_ms']:g} ms, "
          f"p95 {locust['p95_ms']:g} ms over {int(locust['requests'])} requests")  # fmt: skip
    print(f"same queries, plain loop, same client, {len(loop)} queries: p50 {loop_p50:.1f} ms "
          f"(rounded as locust does: {loop_p50_rounded:g} ms), "
          f"p95 {statistics.quantiles(loop, n=20)[-1]:.1f} ms")  # fmt: skip
    ratio = locust["p50_ms"] / loop_p50_rounded
    print(f"harness p50 ratio (locust / plain loop, both rounded): {ratio:.3f} "
          f"(target <= 1.05: {'met' if ratio <= 1.05 else 'missed'})")  # fmt: skip
    print(f"generator on one core (no-op requests, 20 users): {rate:,.0f} requests/s")


if __name__ == "__main__":
    main()
