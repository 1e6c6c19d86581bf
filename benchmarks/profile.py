"""Where a run's time goes: `certify run --profile pr` against plain pytest doing the same work.

Run as `python benchmarks/profile.py [--profile pr] [-n auto] [--no-limit]` from the project
folder. It runs the profile with certify while sampling every descendant process from /proc,
then (unless --no-limit) the limit in the same invocation: plain pytest running the same
scenarios on the same runnable cells, one pytest and one shared Spark session per cell, one
cell after the other, against services started once. Prints one labelled figure per line:
- wall time, the gate, cells by verdict;
- the critical path: service start-up, the longest batch (one pytest process), what ran after;
- CPU seconds in total, by kind of process, and per scenario suite (the pytest process and its
  driver JVM during each test, from the records' `cpu_s`);
- JVM starts by role (driver, executor, standalone, metastore, Connect server) and service
  starts; driver JVMs reused between cells;
- seconds each cell's driver waited for its executors (the longest, and how many waited > 5 s);
- certify's CPU seconds over the limit's (target <= 1.3).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
# a JVM's role, from its command line (first match wins); only java processes are JVMs
JVM_ROLES: tuple[tuple[str, str], ...] = (
    ("org.apache.spark.launcher.Main", "Spark launcher JVM"),  # spark-submit's first JVM
    ("CoarseGrainedExecutorBackend", "executor JVM"),
    ("deploy.master.Master", "standalone master JVM"),
    ("deploy.worker.Worker", "standalone worker JVM"),
    ("HiveMetaStore", "metastore JVM"),
    ("LoopbackMetastore", "metastore JVM"),
    ("SparkConnectServer", "Connect server JVM"),
    ("pyspark-shell", "driver JVM"),
)
PYTHON_ROLES: tuple[tuple[str, str], ...] = (
    ("-m pytest", "pytest"),
    ("-m certify", "certify"),
    ("pyspark.daemon", "pyspark worker"),
    ("locust", "locust"),
)
SERVICES = ("standalone master JVM", "standalone worker JVM", "metastore JVM", "Connect server JVM")


def role(cmdline: str) -> str:
    """The role of a process, from its command line (wrapper scripts are `other`)."""
    argv0 = cmdline.split(" ", 1)[0]
    if argv0.endswith("/java") or argv0 == "java":
        return next((name for needle, name in JVM_ROLES if needle in cmdline), "other JVM")
    if "weed" in argv0:
        return "SeaweedFS"
    if "python" in argv0:
        return next((name for needle, name in PYTHON_ROLES if needle in cmdline), "other python")
    return "other"


@dataclass
class Seen:
    """One process the sampler saw: role, first and last sighting, CPU seconds at the last."""

    role: str
    first: float
    last: float
    cpu_s: float = 0.0


@dataclass
class Sampler:
    """Polls /proc for every descendant of this process (and the CPU each has used)."""

    interval_s: float = 0.2
    seen: dict[tuple[int, str], Seen] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        children: dict[int, list[int]] = defaultdict(list)
        stats: dict[int, list[str]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            stats[int(entry.name)] = fields
            children[int(fields[1])].append(int(entry.name))
        todo, now = list(children.get(os.getpid(), [])), time.monotonic()
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            fields = stats[pid]
            key = (pid, fields[19])  # pid and start time: a reused pid is another process
            # a wrapper script exec's its JVM under the same pid: look again until it is one
            if key not in self.seen or self.seen[key].role.startswith("other"):
                try:
                    cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
                seen = self.seen.setdefault(key, Seen("other", now, now))
                seen.role = role(cmd.decode(errors="replace"))
            self.seen[key].last = now
            self.seen[key].cpu_s = (int(fields[11]) + int(fields[12])) / TICK

    def run(self) -> None:
        """Sample until stopped."""
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def children_cpu_s() -> float:
    """CPU seconds of every descendant this process has waited for (exact, kernel-counted)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Measured:
    """What one phase cost: wall and CPU seconds, and the processes it ran."""

    wall_s: float
    cpu_s: float
    started: float
    procs: list[Seen]

    def by_role(self) -> dict[str, float]:
        """CPU seconds per role (sampled; the last 0.2 s of a process may be missed)."""
        out: Counter[str] = Counter()
        for proc in self.procs:
            out[proc.role] += proc.cpu_s
        return dict(out)

    def starts(self) -> Counter[str]:
        """How many processes of each role started."""
        return Counter(p.role for p in self.procs)


def measure(work: Callable[[], None]) -> Measured:
    """Run `work` while sampling; its wall and CPU seconds, and the processes it ran."""
    cpu0, wall0 = children_cpu_s(), time.monotonic()
    with Sampler() as sampler:
        work()
    wall, cpu = time.monotonic() - wall0, children_cpu_s() - cpu0
    return Measured(wall, cpu, wall0, list(sampler.seen.values()))


def certify_run(out: Path, profile: str, workers: str) -> subprocess.CompletedProcess[str]:
    """`certify run` of the profile into `out`."""
    argv = [sys.executable, "-m", "certify", "run", "--profile", profile, "-n", workers]
    argv += ["--out", str(out), "--no-gate"]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=7200)


def suites_cpu(out: Path) -> dict[str, float]:
    """CPU seconds per suite: the records' cpu_s (pytest process and driver JVM per test)."""
    from certify.results import RecordStore

    found: Counter[str] = Counter()
    for record in RecordStore(out / "results.sqlite").records():
        if record.kind == "scenario":
            found[record.suite] += float((record.metrics or {}).get("cpu_s", 0.0))
    return dict(found)


def session_notes(out: Path) -> list[dict[str, object]]:
    """Each cell's spark-session.json (how its session started, how long it waited)."""
    notes = []
    for path in sorted((out / "work").glob("*/spark-session.json")):
        notes.append(json.loads(path.read_text()))
    return notes


def critical_path(run: Measured) -> tuple[float, float, float]:
    """(seconds before the first pytest, the longest pytest's wall, seconds after the last)."""
    pytests = [p for p in run.procs if p.role == "pytest"]
    if not pytests:
        return run.wall_s, 0.0, 0.0
    first = min(p.first for p in pytests) - run.started
    longest = max(p.last - p.first for p in pytests)
    after = run.started + run.wall_s - max(p.last for p in pytests)
    return first, longest, after


def limit(profile: str, base: Path) -> Measured:
    """Plain pytest over the runnable cells of `out`'s run, one after the other, one session
    each, against services started once (the same services certify started)."""
    from certify.plan import PlannedCell, build_plan, find_profile
    from certify.platforms import get_platform

    matrix = find_profile(ROOT, profile, None)
    platform = get_platform("local")
    cells: list[PlannedCell] = []
    for planned in build_plan(matrix, profile).cells:
        if platform.assess(matrix, planned, fetch=True).runnable:
            cells.append(planned)

    def work() -> None:
        session = platform.start(matrix, cells, base / "services", "run")
        try:
            for planned in cells:
                _plain_pytest(platform, matrix, session, planned, base)
        finally:
            session.stop()

    return measure(work)


def _plain_pytest(platform, matrix, session, planned, base: Path) -> None:  # type: ignore[no-untyped-def]
    """One cell's suites in one plain pytest (no store, no recorder), with its options."""
    runtime = platform.runtime(matrix, planned)
    workdir = base / "work" / planned.cell.slug
    options = session.options(planned, workdir)
    suites = [f"scenarios/{s}" for s in planned.suites if (ROOT / "scenarios" / s).is_dir()]
    argv = [str(runtime.python), "-m", "pytest", *suites, "-q", "-p", "no:cacheprovider"]
    argv += ["--certify-cell", planned.cell.id, "--certify-values"]
    argv += [json.dumps(dict(planned.cell.values)), "--certify-tier", planned.cell.tier]
    argv += ["--certify-workdir", str(workdir), "--certify-options"]
    argv += [json.dumps(options.to_json())]
    env = {**os.environ, **session.env(planned), "PYSPARK_PYTHON": str(runtime.python)}
    env["PYSPARK_DRIVER_PYTHON"] = str(runtime.python)
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, timeout=3600, check=False)


def _print_run(run: Measured, out: Path, proc: subprocess.CompletedProcess[str]) -> None:
    report = json.loads((out / "report.json").read_text())
    verdicts = Counter(c["verdict"] for c in report["cells"])
    print(f"certify run: wall {run.wall_s:.1f} s, exit {proc.returncode}")
    print(f"gate: {report['gate']['verdict']}; cells: {dict(verdicts)}")
    before, longest, after = critical_path(run)
    print(
        f"critical path: {before:.1f} s before the first pytest (plan, runtimes, services), "
        f"longest batch {longest:.1f} s, {after:.1f} s after the last pytest"
    )
    print(f"CPU seconds: {run.cpu_s:.1f} in total ({run.cpu_s / run.wall_s:.2f} cores busy)")
    for name, cpu in sorted(run.by_role().items(), key=lambda kv: -kv[1]):
        print(f"  {name}: {cpu:.1f} CPU s over {run.starts()[name]} process(es)")
    for suite, cpu in sorted(suites_cpu(out).items(), key=lambda kv: -kv[1]):
        print(f"  suite {suite}: {cpu:.1f} CPU s (pytest + driver JVM, summed over cells)")
    starts = run.starts()
    jvms = {k: v for k, v in starts.items() if k.endswith("JVM")}
    print(f"JVM starts: {sum(jvms.values())} {dict(sorted(jvms.items()))}")
    print(f"service starts: {sum(starts[s] for s in SERVICES) + starts['SeaweedFS']}")
    notes = session_notes(out)
    reused = sum(1 for n in notes if n.get("jvm_reused"))
    print(f"driver sessions: {len(notes)}, in a reused JVM: {reused}")
    waits = [float(str(n.get("executor_wait_s", 0))) for n in notes]
    if waits:
        print(
            f"executor waits: longest {max(waits):.1f} s, cells waiting > 5 s: "
            f"{sum(1 for w in waits if w > 5)} of {len(waits)}"
        )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="pr")
    parser.add_argument("-n", dest="workers", default="auto")
    parser.add_argument("--no-limit", action="store_true", help="skip the plain-pytest limit")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; profile {args.profile}; -n {args.workers}")
    with tempfile.TemporaryDirectory(prefix="certify-bench-profile-") as tmp:
        base = Path(tmp)
        out = base / "run"
        result: list[subprocess.CompletedProcess[str]] = []
        run = measure(lambda: result.append(certify_run(out, args.profile, args.workers)))
        if not (out / "report.json").is_file():
            sys.exit(f"certify run wrote no report:\n{result[0].stdout}\n{result[0].stderr}")
        _print_run(run, out, result[0])
        if args.no_limit:
            return
        plain = limit(args.profile, base / "limit")
        print(
            f"limit (plain pytest, one session per cell, one cell at a time): wall "
            f"{plain.wall_s:.1f} s, CPU {plain.cpu_s:.1f} s"
        )
        print(f"certify CPU / limit CPU: {run.cpu_s / plain.cpu_s:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
