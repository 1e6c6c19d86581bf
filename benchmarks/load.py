"""Load harness benchmark: what locust adds to a Spark Connect query's latency, and how many
requests a second the generator sustains on one core.

Run as `python benchmarks/load.py [--rounds 3] [--seconds 20] [--users 1]` from the project
folder (it builds the Spark 4.1 runtime through `certify env sync` if needed and starts its own
Connect server). Prints labelled figures and ratios, all measured in this run.

The comparison is like for like: three variants of the spark-connect-sql profile's query mix,
each a fresh subprocess of the cell runtime's python with the same number of clients, no wait
time, the same setup statements and the same warm-up queries (discarded), alternated in every
round (A B C, then C B A) so that drift of the server or of the machine falls on all of them:
- `plain`: the queries in a plain loop (one thread per client), pyspark's Connect client;
- `gevent`: the same loop after what locust does to the process (gevent's monkey patching) and
  what the profile does to gRPC (`grpc.experimental.gevent.init_gevent()`), one greenlet a client;
- `locust`: the profile itself, run by locust with the runner's flags, its wait time set to zero
  by a plugin locustfile that also writes every request's raw response time.
p50s are medians of raw per-request timings on every side (not locust's rounded percentiles).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certify.host.pool import session_marker  # noqa: E402
from certify.load.stats import summary  # noqa: E402
from tests.integration.cells import CONNECT_HIVE  # noqa: E402
from tests.integration.load_platform import LoadPlatform, load_platform  # noqa: E402

PROFILE = ROOT / "load" / "spark-connect-sql.py"
WARM = 20  # queries per client before measuring, discarded on every side
VARIANTS = ("plain", "gevent", "locust")
Timings = list[tuple[str, float]]  # (request name, milliseconds) of each measured request


@dataclass(frozen=True)
class Run:
    """One variant's run: its measured requests, and its client process's CPU time over them."""

    timings: Timings
    cpu_s: float


# the profile's setup statements and query mix (SqlUser's tasks and weights), in a plain loop
PLAIN_LOOP = textwrap.dedent(
    """
    import faulthandler, json, random, sys, time
    mode, remote, table, users, warm, seconds, out = sys.argv[1:8]
    if mode == "gevent":
        from gevent import monkey
        monkey.patch_all()  # what importing locust does
        import grpc.experimental.gevent
        grpc.experimental.gevent.init_gevent()  # what the profile does
    import threading
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.client.reattach import ExecutePlanResponseReattachableIterator
    users, warm, seconds, rows = int(users), int(warm), float(seconds), 200
    faulthandler.dump_traceback_later(seconds + 120, exit=True)  # a hang says where it is
    MIX = [("point", 4), ("count", 2), ("group", 2), ("literal", 1)]
    def sql(name):
        return {
            "point": f"SELECT v FROM {table} WHERE k = {random.randrange(rows)}",
            "count": f"SELECT count(*) FROM {table}",
            "group": f"SELECT k % 10 AS g, count(*) FROM {table} GROUP BY 1",
            "literal": "SELECT 1",
        }[name]
    NAMES = [n for n, w in MIX for _ in range(w)]
    setup = SparkSession.builder.remote(remote).create()
    setup.sql(f"CREATE DATABASE IF NOT EXISTS {table.split('.')[0]}").collect()
    setup.sql(f"CREATE TABLE IF NOT EXISTS {table} (k INT, v STRING) USING parquet").collect()
    setup.sql(f"INSERT OVERWRITE {table} SELECT CAST(id AS INT), CAST(id * 7 AS STRING) "
              f"FROM range({rows})").collect()
    setup.stop()
    times, sessions = [], []
    def client():
        spark = SparkSession.builder.remote(remote).create()
        for _ in range(warm):
            spark.sql(sql(random.choice(NAMES))).collect()
        start.wait()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            name = random.choice(NAMES)
            query = sql(name)
            t0 = time.perf_counter()
            spark.sql(query).collect()
            times.append((name, (time.perf_counter() - t0) * 1000.0))
        sessions.append(spark)
    def measuring():
        cpu.append(time.process_time())
    cpu, start = [], threading.Barrier(users, action=measuring)
    threads = [threading.Thread(target=client) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        json.dump({"times": times, "cpu_s": time.process_time() - cpu[0]}, f)
    # the client can hang on its way out under gevent: a watchdog ends it (and says where)
    faulthandler.dump_traceback_later(20, exit=True)
    for spark in sessions:
        spark.stop()
    ExecutePlanResponseReattachableIterator.shutdown()
    """
)

# loaded beside the profile (`-f profile.py,plugin.py`): no wait time, raw timings to a file
PLUGIN = textwrap.dedent(
    """
    import faulthandler, json, os, time
    from locust import constant, events
    OUT = os.environ["CERTIFY_BENCH_TIMES"]
    SKIP = int(os.environ["CERTIFY_BENCH_WARM"]) * int(os.environ["CERTIFY_LOAD_USERS"])
    seen, cpu = [], []
    @events.init.add_listener
    def _no_wait(environment, **_):
        for cls in environment.user_classes:
            cls.wait_time = constant(0)
    @events.request.add_listener
    def _timing(name, response_time, exception, **_):
        if exception is None:
            seen.append((name, response_time))
            if len(seen) == SKIP:  # the warm-up is over: the client's CPU time from here
                cpu.append(time.process_time())
    @events.test_stop.add_listener
    def _stop(**_):
        cpu.append(time.process_time())
    @events.quitting.add_listener
    def _dump(**_):  # the first quitting listener (they run in reverse)
        faulthandler.dump_traceback_later(30, exit=True)  # exit can hang under gevent
        with open(OUT, "w") as f:
            json.dump({"times": seen[SKIP:], "cpu_s": cpu[1] - cpu[0]}, f)
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


class Bench:
    """The platform's Connect cell and the files of one benchmark run."""

    def __init__(self, lp: LoadPlatform, folder: Path) -> None:
        self.lp, self.folder = lp, folder
        self.planned, self.runtime = lp.cell(CONNECT_HIVE)
        self.options = lp.session.options(self.planned, folder / "work")
        self.table = f"{self.options.get('database', 'default')}.certify_load_kv"
        self.cell = folder / "cell.json"
        cell = {"id": self.planned.cell.id, "values": self.planned.cell.values,
                "workdir": str(folder / "work"), "options": self.options}  # fmt: skip
        self.cell.write_text(json.dumps(cell))
        (folder / "plugin.py").write_text(PLUGIN)
        self.runs = 0
        self.hangs: list[tuple[str, str]] = []

    def run(self, variant: str, users: int, seconds: float) -> Run:
        """One run of `variant` with `users` clients: its measured requests and CPU time."""
        self.runs += 1
        out = self.folder / f"{variant}-{self.runs}.json"
        if variant == "locust":
            self._locust(users, seconds, out)
        else:
            argv = [str(self.runtime.python), "-c", PLAIN_LOOP, variant,
                    self.options["spark"]["remote"], self.table, str(users), str(WARM),
                    str(seconds), str(out)]  # fmt: skip
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 180)
            self._check(variant, proc, out)
        data = json.loads(out.read_text())
        return Run([(str(n), float(t)) for n, t in data["times"]], float(data["cpu_s"]))

    def _locust(self, users: int, seconds: float, out: Path) -> None:
        # the runner's flags (certify/load/runner.py _argv), the plugin beside the profile
        prefix = self.folder / f"stats-{self.runs}"
        argv = [
            str(self.runtime.python), "-m", "locust",
            "-f", f"{PROFILE},{self.folder / 'plugin.py'}",
            "--headless", "--only-summary", "--csv", str(prefix), "--csv-full-history",
            "--json-file", str(prefix), "--stop-timeout", "5", "--loglevel", "INFO",
        ]  # fmt: skip
        # warm-up time on top: the plugin drops the first WARM requests of each user
        per_query_s = 0.1
        env = {
            **os.environ, **self.lp.session.env(self.planned), **session_marker(self.lp.session),
            "CERTIFY_LOAD_CELL": str(self.cell), "CERTIFY_LOAD_SHAPE": "soak",
            "CERTIFY_LOAD_USERS": str(users),
            "CERTIFY_LOAD_SECONDS": str(seconds + WARM * per_query_s + 2),
            "CERTIFY_BENCH_TIMES": str(out), "CERTIFY_BENCH_WARM": str(WARM),
            "PYTHONDONTWRITEBYTECODE": "1",
        }  # fmt: skip
        env.pop("VIRTUAL_ENV", None)
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + 180, env=env, cwd=ROOT
        )
        self._check("locust", proc, out)

    def _check(self, variant: str, proc: subprocess.CompletedProcess[str], out: Path) -> None:
        """Stop on a failed run; count a run whose client hung on exit after its timings."""
        if not out.is_file():
            raise SystemExit(f"{variant} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        if "Timeout (0:00:" in proc.stderr:  # faulthandler's watchdog ended a hung exit
            self.hangs.append((variant, proc.stderr[proc.stderr.index("Timeout (0:00:") :]))

    def generator_rate(self, users: int, seconds: int = 12) -> float:
        """Requests a second one locust process sustains on one core with a no-op request."""
        (self.folder / "noop.py").write_text(NOOP)
        prefix = self.folder / f"noop-{users}"
        subprocess.run(
            ["taskset", "-c", "0", str(self.runtime.python), "-m", "locust", "-f",
             str(self.folder / "noop.py"), "--headless", "--only-summary", "-u", str(users),
             "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix)],
            capture_output=True, text=True, timeout=seconds + 120, check=False,
        )  # fmt: skip
        return summary(Path(f"{prefix}_stats.csv"))["rps"]


def p50(timings: Timings, name: str | None = None) -> float:
    """Median milliseconds of `timings` (of one request name if given)."""
    return statistics.median(t for n, t in timings if name is None or n == name)


def rounds(bench: Bench, count: int, users: int, seconds: float) -> dict[str, list[Run]]:
    """`count` rounds of every variant, alternating the order (ABC, CBA, ABC...)."""
    runs: dict[str, list[Run]] = {v: [] for v in VARIANTS}
    for i in range(count):
        for variant in VARIANTS if i % 2 == 0 else VARIANTS[::-1]:
            run = bench.run(variant, users, seconds)
            runs[variant].append(run)
            print(f"  round {i + 1} {variant:6}: p50 {p50(run.timings):6.1f} ms "
                  f"over {len(run.timings)} requests", flush=True)  # fmt: skip
    return runs


def ratios(runs: dict[str, list[Run]], a: str, b: str) -> list[float]:
    """p50 of `a` over p50 of `b`, round by round (the runs of a round are neighbours)."""
    return [p50(x.timings) / p50(y.timings) for x, y in zip(runs[a], runs[b], strict=True)]


def report(runs: dict[str, list[Run]], users: int) -> None:
    """Print each variant's p50 and the ratios, per round and pooled, overall and per query."""
    print(f"{users} client(s), no wait time, p50 of raw timings (median over rounds):")
    pooled = {v: [x for run in runs[v] for x in run.timings] for v in VARIANTS}
    for v in VARIANTS:
        per = [p50(r.timings) for r in runs[v]]
        cpu_ms = 1000 * sum(r.cpu_s for r in runs[v]) / len(pooled[v])
        print(f"  {v:6}: p50 {statistics.median(per):6.1f} ms (rounds "
              f"{', '.join(f'{p:.1f}' for p in per)}; pooled {p50(pooled[v]):.1f} ms over "
              f"{len(pooled[v])} requests); client CPU {cpu_ms:.1f} ms a request")  # fmt: skip
    for a, b in (("gevent", "plain"), ("locust", "gevent"), ("locust", "plain")):
        rs = ratios(runs, a, b)
        print(f"  p50 {a}/{b}: {statistics.median(rs):.3f} "
              f"(rounds {', '.join(f'{r:.3f}' for r in rs)})")  # fmt: skip
    for name in sorted({n for n, _ in pooled["plain"]}):
        figures = {v: p50(pooled[v], name) for v in VARIANTS}
        print(f"  {name:8} pooled p50: " + ", ".join(f"{v} {figures[v]:.1f}" for v in VARIANTS)
              + f" ms; locust/plain {figures['locust'] / figures['plain']:.3f}")  # fmt: skip
    ratio = statistics.median(ratios(runs, "locust", "plain"))
    print(f"  harness p50 ratio (locust / plain loop, same client): {ratio:.3f} "
          f"(target <= 1.05: {'met' if ratio <= 1.05 else 'missed'})")  # fmt: skip
    cpu = sum(r.cpu_s for r in runs["locust"]) / len(pooled["locust"])
    print(f"  spark-connect-sql generator on one core: at most {1 / cpu:,.0f} requests/s "
          f"(locust process CPU {1000 * cpu:.1f} ms a request)")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    """Print every figure and ratio of one run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds a run")
    parser.add_argument("--users", default="1", help="client counts, comma-separated (1,4)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, load_platform(Path(tmp) / "p", [CONNECT_HIVE]) as lp:
        bench = Bench(lp, Path(tmp))
        # a first run of every variant, not counted: the table, the server's JIT and caches
        for variant in VARIANTS:
            bench.run(variant, 1, 5.0)
        for users in (int(u) for u in args.users.split(",")):
            print(f"\n{users} client(s), {args.rounds} rounds of {args.seconds:g} s, "
                  f"{WARM} warm-up queries a client:", flush=True)  # fmt: skip
            report(rounds(bench, args.rounds, users, args.seconds), users)
        rates = {u: bench.generator_rate(u) for u in (1, 20)}
    for variant, where in bench.hangs[:2]:
        print(f"\n{variant} client hung on exit after its timings were written:\n{where[:1500]}")
    print(f"\nclients hung on exit (ended by a watchdog, timings kept): {len(bench.hangs)} "
          f"of {bench.runs} runs")  # fmt: skip
    print("\ngenerator on one core, no-op requests (locust's own ceiling): "
          + ", ".join(f"{u} users {r:,.0f} req/s" for u, r in rates.items())
          + f"; highest {max(rates.values()):,.0f} requests/s")  # fmt: skip


if __name__ == "__main__":
    main()
