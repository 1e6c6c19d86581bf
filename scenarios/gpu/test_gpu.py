"""GPU suite: on a gpu=nvidia cell the queries run on the GPU and give the rows the CPU gives.

A GPU cell certifies only on evidence of GPU execution, never on a CPU run that happens to be
correct. The queries are the parity suite's deterministic jobs (`fixtures/parity_jobs.py`: no
floating point, no ANSI-sensitive arithmetic), over data Spark generates itself, so they depend
on no catalog or storage and every correct engine gives the same rows.

- Each job's executed physical plan must contain GPU operators (`Gpu*`); the failure names the
  CPU operators that did not go to the GPU; each plan is kept in the cell's work folder
  (`gpu-plans/<job>.txt`). Classic sessions read the plan that ran
  (`queryExecution().executedPlan()`, the final adaptive plan); Spark Connect exposes no
  executed plan, so its cells read the plan the server makes for the query with adaptive
  execution off: an adaptive plan not yet run shows only its initial form (not checked on a
  GPU yet: the first GPU run of `tools/gpu-cells.sh` settles it).
- The same job with `spark.rapids.sql.enabled=false` (a session setting: same session, same
  data) gives identical rows, and its plan holds no GPU operator, so the comparison really is
  GPU against CPU.
- A session without the RAPIDS plugin fails the suite; a session in RAPIDS' explain-only mode
  (which plans on the CPU) leaves it `not_run`: neither may certify a GPU cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from certify.scenario import RAPIDS_PLUGIN as PLUGIN
from certify.scenario import CellContext, gpu_plan_check, not_run
from fixtures.parity import canonical_rows, compare_results
from fixtures.parity_jobs import JOBS, Job, register_views

pytestmark = [pytest.mark.gpu, pytest.mark.requires(gpu="nvidia")]

ENABLED = "spark.rapids.sql.enabled"


@pytest.fixture(scope="module")
def gpu_spark(spark: Any, cell: CellContext) -> Iterator[Any]:
    """The cell's session, checked to run the RAPIDS Accelerator, with the parity views."""
    plugins = spark.conf.get("spark.plugins", "")
    if PLUGIN not in plugins.split(","):
        pytest.fail(
            f"the session of {cell.id} does not load the RAPIDS Accelerator "
            f"(spark.plugins={plugins!r}, expected {PLUGIN}): the platform did not configure it",
            pytrace=False,
        )
    mode = spark.conf.get("spark.rapids.sql.mode", "executeongpu")
    if mode.lower() == "explainonly":
        not_run("RAPIDS runs in explain-only mode here: queries are planned on the CPU, not run")
    register_views(spark)
    spark.conf.set(ENABLED, "true")
    yield spark
    spark.conf.set(ENABLED, "true")


def _plan(spark: Any, frame: Any, remote: bool) -> str:
    """The physical plan of a frame that has run (see the module docstring for Connect)."""
    if not remote:
        return str(frame._jdf.queryExecution().executedPlan().toString())
    adaptive = spark.conf.get("spark.sql.adaptive.enabled", "true")
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    try:
        return str(frame._explain_string())
    finally:
        spark.conf.set("spark.sql.adaptive.enabled", adaptive)


def _run(spark: Any, job: Job, remote: bool) -> tuple[list[Any], str]:
    """The job's canonical rows and the plan that produced them."""
    frame = spark.sql(job.sql)
    rows = canonical_rows(tuple(r) for r in frame.collect())
    return rows, _plan(spark, frame, remote)


@pytest.mark.parametrize("job", JOBS, ids=[j.name for j in JOBS])
def test_job_runs_on_the_gpu(job: Job, gpu_spark: Any, cell: CellContext) -> None:
    """The job's physical plan holds GPU operators; else the CPU operators are named."""
    _, plan = _run(gpu_spark, job, bool(cell.options.spark.remote))
    # kept as evidence either way: <cell workdir>/gpu-plans/<job>.txt
    plans = cell.workdir / "gpu-plans"
    plans.mkdir(parents=True, exist_ok=True)
    (plans / f"{job.name}.txt").write_text(plan)
    ok, reason = gpu_plan_check([plan])
    if not ok:
        pytest.fail(f"job {job.name!r}: {reason}\nplan:\n{plan}", pytrace=False)


@pytest.mark.parametrize("job", JOBS, ids=[j.name for j in JOBS])
def test_job_gives_the_cpu_rows(job: Job, gpu_spark: Any, cell: CellContext) -> None:
    """The job gives identical rows with the RAPIDS Accelerator on and off."""
    remote = bool(cell.options.spark.remote)
    gpu_rows, _ = _run(gpu_spark, job, remote)
    gpu_spark.conf.set(ENABLED, "false")
    try:
        cpu_rows, cpu_plan = _run(gpu_spark, job, remote)
    finally:
        gpu_spark.conf.set(ENABLED, "true")
    on_gpu, _ = gpu_plan_check([cpu_plan])
    if on_gpu:
        pytest.fail(
            f"job {job.name!r}: with {ENABLED}=false the plan still holds GPU operators, so "
            f"there is no CPU answer to compare with:\n{cpu_plan}",
            pytrace=False,
        )
    diffs = compare_results(gpu_rows, cpu_rows, "GPU", "CPU")
    if diffs:
        pytest.fail(
            f"job {job.name!r}: GPU and CPU rows differ:\n" + "\n".join(diffs), pytrace=False
        )
