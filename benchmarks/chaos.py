"""Chaos benchmark: recovery time (median of 3) for executor loss and metastore outage on the local
platform, and the chaos runner's overhead against the bare workload.

Run as `python benchmarks/chaos.py [REPEATS]` from the project folder. One standalone Spark 3.5
cell with a Thrift Hive Metastore is started once; each experiment runs REPEATS times (default 3).
The bare workload is the same Spark job (`certify.chaos.workload`) run directly, without Chaos
Toolkit, a control channel, hypotheses or restore checks. Prints one labelled figure per line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certify.chaos.runner import run_experiment  # noqa: E402
from certify.platforms.base import CellJob  # noqa: E402
from certify.results import RecordStore  # noqa: E402
from certify.results.findings import ChaosFinding  # noqa: E402
from tests.integration.cells import STANDALONE_HIVE  # noqa: E402
from tests.integration.load_platform import load_platform  # noqa: E402


def bare_workload(cell: dict[str, object], python: str, folder: Path, env: dict[str, str]) -> float:
    """Seconds the experiment's workload takes on its own (no fault, no Chaos Toolkit)."""
    spec = json.loads((ROOT / "chaos" / "executor-loss.json").read_text())
    args = dict(spec["method"][0]["provider"]["arguments"])
    args.pop("until", None)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "verify.go").touch()
    body = {"kind": "spark", "values": cell["values"], "options": cell["options"], "conf": {},
            "endpoints": {}, "folder": str(folder), **args}  # fmt: skip
    (folder / "spec.json").write_text(json.dumps(body))
    t0 = time.monotonic()
    argv = [python, "-m", "certify.chaos.workload", str(folder / "spec.json")]
    subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    return time.monotonic() - t0


def main(repeats: int) -> None:
    """Print the figures."""
    with tempfile.TemporaryDirectory(prefix="certify-chaos-bench-") as tmp:
        out = Path(tmp)
        with load_platform(out / "platform", [STANDALONE_HIVE]) as plat:
            planned, runtime = plat.cell(STANDALONE_HIVE)
            store = RecordStore(out / "results.sqlite")
            durations: list[float] = []
            for name in ("executor-loss", "metastore-outage"):
                recovery = []
                for i in range(repeats):
                    job = CellJob(planned, runtime, plat.session, out / f"{name}-{i}", ROOT,
                                  store, "bench")  # fmt: skip
                    rec = run_experiment(name, job)
                    if rec.status != "passed":
                        print(f"{name} run {i + 1}: {rec.status}: {rec.message}")
                        continue
                    assert isinstance(rec.finding, ChaosFinding)
                    recovery.append(rec.finding.recovery_time_s or float("nan"))
                    if name == "executor-loss":
                        durations.append(rec.duration_s)
                if recovery:
                    print(f"{name} recovery_s median of {len(recovery)}: "
                          f"{statistics.median(recovery):.2f} (runs: "
                          f"{', '.join(f'{r:.2f}' for r in recovery)})")  # fmt: skip
            options = plat.session.options(planned, out / "bare-work").to_json()
            cell = {"values": planned.cell.values, "options": options}
            env = {**os.environ, "PYTHONPATH": str(ROOT), "PYSPARK_PYTHON": str(runtime.python)}
            env.update({"CERTIFY_SESSION": plat.session.session_id})
            bare = [bare_workload(cell, str(runtime.python), out / f"bare-{i}", env)
                    for i in range(repeats)]  # fmt: skip
            chaos = statistics.median(durations) if durations else float("nan")
            print(f"bare workload s median of {repeats}: {statistics.median(bare):.2f}")
            print(f"executor-loss experiment s median: {chaos:.2f}")
            print(f"chaos runner overhead s (experiment - bare workload, incl. fault and "
                  f"recovery): {chaos - statistics.median(bare):.2f}")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
