"""gpu=nvidia cells: the RAPIDS Accelerator release, its Spark settings, and proof of GPU plans.

Which release: the one whose shims cover the cell's exact pyspark version. A RAPIDS jar carries
one shim folder per Spark version it supports (`spark411/` for Spark 4.1.1); the table below
lists them as read from the jars served by Maven Central (zip listings, 2026-12-02):
- com.nvidia:rapids-4-spark_2.12:25.04.0, the newest _2.12 release served (600 MB): Spark
  3.2.0-3.5.5 (and vendor builds: cdh, db), so no release supports pyspark 3.5.7 on Scala 2.12;
- com.nvidia:rapids-4-spark_2.13:26.08.1, the only _2.13 release served (1.0 GB): Spark
  3.5.0-3.5.9, 4.0.0-4.0.4, 4.1.1-4.1.3 and 4.2.0 (no 4.1.0).
Neither release's POM can be read as published: each names a parent POM
(rapids-4-spark-parent_2.13:26.08.1, rapids-4-spark-jdk-profiles_2.12:25.04.0) that the registry
does not serve, so `mvn` fails with "Failed to read artifact descriptor" unless that parent is
present in the local repository; the dist jar has no dependencies of its own.

Proof of GPU execution (`gpu_plan_check`): an executed physical plan names GPU operators `Gpu*`
(`GpuHashAggregate`, `GpuProject`, ...); a CPU operator keeps its Spark name (`HashAggregate`).
In explain-only mode (`spark.rapids.sql.mode=explainOnly`, no GPU needed) the plugin plans on
the CPU and logs, per query, what would run on the GPU:
`*Exec <HashAggregateExec> will run on GPU`, `!Exec <ProjectExec> cannot run on GPU because ...`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PLUGIN = "com.nvidia.spark.SQLPlugin"
KRYO_REGISTRATOR = "com.nvidia.spark.rapids.GpuKryoRegistrator"
DISCOVERY_SCRIPT = "gpu-discovery.sh"


@dataclass(frozen=True)
class Release:
    """One RAPIDS Accelerator release and the Spark versions its shims cover."""

    coordinate: str
    scala: str
    shims: frozenset[str]  # shim folder ids: spark411 is Spark 4.1.1

    def supports(self, pyspark: str) -> bool:
        """Whether a shim of this release is built for exactly this Spark version."""
        return shim_id(pyspark) in self.shims

    def spark_versions(self) -> str:
        """The Apache Spark versions covered, as ranges per minor line (3.5.0-3.5.9, ...)."""
        versions = sorted((int(s[5]), int(s[6]), int(s[7:])) for s in self.shims if s[5:].isdigit())
        lines: dict[tuple[int, int], list[int]] = {}
        for major, minor, patch in versions:
            lines.setdefault((major, minor), []).append(patch)
        return ", ".join(
            f"{a}.{b}.{p[0]}" if len(p) == 1 else f"{a}.{b}.{p[0]}-{a}.{b}.{p[-1]}"
            for (a, b), p in lines.items()
        )


def _shims(*groups: tuple[str, Sequence[int]]) -> frozenset[str]:
    return frozenset(f"spark{line}{patch}" for line, patches in groups for patch in patches)


RELEASES = (
    Release(
        "com.nvidia:rapids-4-spark_2.12:25.04.0",
        "2.12",
        _shims(("32", range(5)), ("33", range(5)), ("34", range(5)), ("35", range(6)))
        | {"spark321cdh", "spark330cdh", "spark332cdh", "spark330db", "spark332db", "spark341db"},
    ),
    Release(
        "com.nvidia:rapids-4-spark_2.13:26.08.1",
        "2.13",
        _shims(("35", range(10)), ("40", range(5)), ("41", (1, 2, 3)), ("42", (0,))),
    ),
)


@dataclass(frozen=True)
class Unsupported:
    """No RAPIDS release supports a Spark version: `reason` names the newest one tried."""

    reason: str


def shim_id(pyspark: str) -> str:
    """The shim folder id of a Spark version: 4.1.1 -> spark411."""
    return "spark" + pyspark.replace(".", "")


def rapids_release(pyspark: str, scala: str) -> str | Unsupported:
    """The coordinate of the RAPIDS release built for exactly `pyspark` on `scala`, or why none."""
    tried = [r for r in RELEASES if r.scala == scala]
    for release in tried:
        if release.supports(pyspark):
            return release.coordinate
    if not tried:
        known = ", ".join(r.scala for r in RELEASES)
        return Unsupported(f"no RAPIDS Accelerator release is known for Scala {scala} ({known})")
    newest = tried[-1]
    return Unsupported(
        f"no RAPIDS Accelerator release supports pyspark {pyspark} on Scala {scala}: the newest "
        f"one served, {newest.coordinate}, supports Spark {newest.spark_versions()}"
    )


def rapids_conf(
    discovery_script: Path, explain_only: bool, executor_cores: int = 1
) -> dict[str, str]:
    """The Spark settings of a RAPIDS cell: on GPUs, or explain-only on a machine without one.

    On GPUs each executor takes one GPU (found by the discovery script) shared by its task
    slots. Explain-only requests no GPU at all: the plugin plans every query on the CPU and
    logs what would have run on the GPU, so such a run proves configuration, never execution.
    """
    conf = {
        "spark.plugins": PLUGIN,
        "spark.rapids.sql.enabled": "true",
        # certify's drivers use Kryo (BASE_CONF): the plugin refuses to start without its
        # serializers registered
        "spark.kryo.registrator": KRYO_REGISTRATOR,
    }
    if explain_only:
        conf["spark.rapids.sql.mode"] = "explainOnly"
        conf["spark.rapids.sql.explain"] = "ALL"
        return conf
    conf["spark.rapids.sql.explain"] = "NOT_ON_GPU"
    conf["spark.executor.resource.gpu.amount"] = "1"
    conf["spark.executor.resource.gpu.discoveryScript"] = str(discovery_script)
    conf["spark.task.resource.gpu.amount"] = f"{1 / max(1, executor_cores):g}"
    return conf


def standalone_worker_opts(discovery_script: Path, gpus: int = 1) -> str:
    """SPARK_WORKER_OPTS for a standalone worker offering `gpus` GPUs to its executors."""
    return (
        f"-Dspark.worker.resource.gpu.amount={gpus} "
        f"-Dspark.worker.resource.gpu.discoveryScript={discovery_script}"
    )


_DISCOVERY = """#!/bin/sh
# certify: this machine's GPUs in the form Spark's resource discovery reads
# ({"name":"gpu","addresses":["0","1"]}); fails when nvidia-smi does
set -eu
indexes=$(nvidia-smi --query-gpu=index --format=csv,noheader)
addresses=""
for index in $indexes; do
  case $index in *[!0-9]*) continue ;; esac
  addresses="${addresses:+$addresses,}\\"$index\\""
done
printf '{"name":"gpu","addresses":[%s]}\\n' "$addresses"
"""


def write_discovery_script(folder: Path) -> Path:
    """Write the executable GPU discovery script into `folder` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / DISCOVERY_SCRIPT
    script.write_text(_DISCOVERY)
    script.chmod(0o755)
    return script


@dataclass(frozen=True)
class PlanReading:
    """The operators of one plan: on the GPU, and on the CPU (with why, where the plan says)."""

    gpu: tuple[str, ...] = ()
    cpu: tuple[str, ...] = ()
    predicted: bool = False  # read from explain output: what would run, not what ran

    @property
    def on_gpu(self) -> bool:
        """Whether real work ran (or would run) on the GPU, not only row/column transitions."""
        return any(op not in TRANSITIONS for op in self.gpu)


# GPU operators that only move data between CPU and GPU: alone they prove no GPU work
TRANSITIONS = frozenset(
    {"GpuColumnarToRow", "GpuRowToColumnar", "GpuCoalesceBatches", "GpuShuffleCoalesce"}
)
# plan nodes that wrap operators (adaptive execution, reuse) and run nothing themselves
_WRAPPERS = frozenset(
    {
        "AdaptiveSparkPlan",
        "ResultQueryStage",
        "ShuffleQueryStage",
        "BroadcastQueryStage",
        "TableCacheQueryStage",
        "ReusedExchange",
        "ReusedSubquery",
        "InputAdapter",
        "WholeStageCodegen",
    }
)
_EXPLAIN = re.compile(r"^(?P<indent>\s*)(?P<mark>[*!@])(?P<kind>\w*) ?<(?P<name>\w+)> (?P<rest>.*)")
_NODE = re.compile(r"^[\s:|+\-]*(?:\*\(\d+\)\s+)?!?(?P<name>[A-Za-z][\w$]*)")


def read_plan(text: str) -> PlanReading:
    """The operators of a physical plan string, or of RAPIDS explain output (`*Exec <X> ...`)."""
    if any(_EXPLAIN.match(line) for line in text.splitlines()):
        return _read_explain(text)
    lines = text.splitlines()
    if lines and "isFinalPlan=true" in lines[0]:
        # an executed adaptive plan: the final plan ran, the initial one is history
        start = next((i for i, ln in enumerate(lines) if "== Final Plan ==" in ln), 0)
        end = next((i for i, ln in enumerate(lines) if "== Initial Plan ==" in ln), len(lines))
        lines = lines[start + 1 : end]
    gpu: list[str] = []
    cpu: list[str] = []
    for line in lines:
        found = _NODE.match(line)
        if found is None or found["name"] in _WRAPPERS:
            continue
        name = found["name"]
        target = gpu if name.startswith("Gpu") else cpu
        if name not in target:
            target.append(name)
    return PlanReading(tuple(gpu), tuple(cpu))


def _read_explain(text: str) -> PlanReading:
    """RAPIDS explain lines: GPU execs, and CPU execs with their reasons and failing expressions."""
    gpu: list[str] = []
    cpu: dict[str, list[str]] = {}
    owners: list[tuple[int, str]] = []  # the enclosing execs of the current line
    for line in text.splitlines():
        found = _EXPLAIN.match(line)
        if found is None:
            continue
        indent, name, rest = len(found["indent"]), found["name"], found["rest"]
        while owners and owners[-1][0] >= indent:
            owners.pop()
        is_exec = found["kind"] == "Exec" or name.endswith("Exec")
        cannot = found["mark"] == "!" and "cannot run on GPU" in rest
        why = rest.split(" because ", 1)[1].strip() if " because " in rest else ""
        if is_exec:
            owners.append((indent, name))
            if cannot:
                cpu.setdefault(name, [])
                if why and why not in cpu[name]:
                    cpu[name].append(why)
            elif found["mark"] == "*" and name not in gpu:
                gpu.append(name)
        elif cannot and owners and owners[-1][1] in cpu:
            note = f"{name}: {why}" if why else name
            if note not in cpu[owners[-1][1]]:
                cpu[owners[-1][1]].append(note)
    notes = tuple(f"{n} ({'; '.join(w)})" if w else n for n, w in cpu.items())
    return PlanReading(tuple(gpu), notes, predicted=True)


def gpu_plan_check(plans: Sequence[str]) -> tuple[bool, str]:
    """Whether every plan ran GPU operators, and a reason naming what stayed on the CPU.

    `plans`: executed physical plans (`df._jdf.queryExecution().executedPlan().toString()`)
    or RAPIDS explain output, one query each.
    """
    if not plans:
        return False, "no plan to check"
    readings = [read_plan(p) for p in plans]
    missing = [i for i, r in enumerate(readings, 1) if not r.on_gpu]
    on_cpu = _unique(op for r in readings for op in r.cpu)
    cpu_text = "; ".join(on_cpu) if on_cpu else "nothing"
    if missing:
        which = ", ".join(str(i) for i in missing)
        return False, (
            f"no GPU operator in plan {which} of {len(plans)}; CPU operators that did not go "
            f"to the GPU: {cpu_text}"
        )
    gpu = ", ".join(_unique(op for r in readings for op in r.gpu))
    verb = "would run (explain-only)" if any(r.predicted for r in readings) else "ran"
    return True, (
        f"GPU operators {verb} in all {len(plans)} plans ({gpu}); stayed on the CPU: {cpu_text}"
    )


def _unique(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


_LOG_HEADER = re.compile(r"^\S.*\bGpuOverrides:\s*$")


def explain_blocks(log: str) -> list[str]:
    """Split a driver log into the explain blocks the plugin logged (`... WARN GpuOverrides:`)."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in log.splitlines():
        if _LOG_HEADER.match(line):
            current = []
            blocks.append(current)
        elif current is not None:
            if _EXPLAIN.match(line):
                current.append(line)
            elif line.strip() or current:
                current = None
    return ["\n".join(b) for b in blocks if b]
