"""gpu=nvidia on a machine without a GPU: the real RAPIDS Accelerator in explain-only mode.

The plugin (com.nvidia:rapids-4-spark_2.13:26.08.1) loads in a local Spark 4.1 driver with
`rapids_conf(explain_only=True)`, which requests no GPU, plans every query on the CPU and logs
what it would run on a GPU. That proves the configuration and the plan check, never execution:
the plans that ran hold no GPU operator, and the GPU suite leaves such a cell `not_run`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from certify.platforms.gpu import explain_blocks, gpu_plan_check, rapids_conf, read_plan
from certify.results import RecordStore
from certify.scenario import BASE_CONF
from fixtures.parity_jobs import JOBS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
RAPIDS = "com.nvidia:rapids-4-spark_2.13:26.08.1"
JARS = ROOT / ".certify" / "jars"
GPU_CELL = {
    "spark": "4.1",
    "catalog": "hive",
    "storage": "local",
    "gpu": "nvidia",
    "deploy": "standalone",
}


def rapids_jar() -> Path:
    """The RAPIDS jar, fetched once by mvn into .certify/jars/rapids (the one fetch to replace
    with the JarProvider API); a copy whose SHA-1 is not the registry's is fetched again.

    The jar's POM names a parent POM (rapids-4-spark-parent_2.13) that the registry does not
    serve, so mvn cannot read its descriptor ("Failed to read artifact descriptor"). The dist
    jar has no dependencies: an empty parent in this fetch's own local repository lets mvn fetch
    and checksum the jar itself, and keeps the stand-in out of the platform's Maven cache.
    """
    group, artifact, version = RAPIDS.split(":")
    target = JARS / "rapids" / f"{artifact}-{version}.jar"
    repo = JARS / "rapids-repository"
    sha1 = repo / group.replace(".", "/") / artifact / version / f"{target.name}.sha1"
    if target.is_file() and sha1.is_file():
        digest = hashlib.sha1()
        with target.open("rb") as f:
            while chunk := f.read(1 << 24):
                digest.update(chunk)
        if digest.hexdigest() == sha1.read_text().split()[0]:
            return target
    parent = f"{artifact.replace('_', '-parent_')}"
    pom = repo / group.replace(".", "/") / parent / version / f"{parent}-{version}.pom"
    pom.parent.mkdir(parents=True, exist_ok=True)
    pom.write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        f"<groupId>{group}</groupId><artifactId>{parent}</artifactId><version>{version}</version>"
        "<packaging>pom</packaging></project>\n"
    )
    argv = ["mvn", "-B", "-q", "-C", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"]
    argv += [f"-Dartifact={RAPIDS}", f"-DoutputDirectory={target.parent}"]
    argv += [f"-Dmaven.repo.local={repo}", "-Dmdep.overWriteReleases=true"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0 or not target.is_file():
        pytest.fail(f"mvn could not fetch {RAPIDS}: {proc.stdout[-2000:]}", pytrace=False)
    return target


@pytest.fixture(scope="module")
def jar() -> Path:
    """The RAPIDS Accelerator jar for Spark 4.1.1."""
    return rapids_jar()


@pytest.fixture(scope="module")
def explain_run(jar: Path, spark41_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The explain-only job's result (OUT.json) and its driver log."""
    out = tmp_path_factory.mktemp("gpu-explain") / "out.json"
    script = Path(__file__).with_name("gpu_explain_job.py")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYSPARK_PYTHON": str(spark41_python)}
    proc = subprocess.run(
        [str(spark41_python), str(script), str(jar), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stderr


def test_the_plugin_loads_on_a_machine_without_a_gpu(explain_run: Any) -> None:
    result, log = explain_run
    assert result["plugins"] == "com.nvidia.spark.SQLPlugin"
    assert result["mode"] == "explainOnly"
    assert "RAPIDS Accelerator 26.08.1" in log
    assert "RAPIDS Accelerator is in explain only mode" in log


def test_the_driver_log_names_operators_that_would_run_on_the_gpu(explain_run: Any) -> None:
    _, log = explain_run
    blocks = explain_blocks(log)
    assert blocks, log[-3000:]
    ok, reason = gpu_plan_check(blocks)
    assert ok, reason
    assert "would run (explain-only)" in reason and "HashAggregateExec" in reason


@pytest.mark.parametrize("job", [j.name for j in JOBS])
def test_every_gpu_suite_query_would_run_on_the_gpu(explain_run: Any, job: str) -> None:
    result, _ = explain_run
    potential = result["jobs"][job]["potential"]
    ok, reason = gpu_plan_check([potential])
    assert ok, f"{reason}\n{potential}"


@pytest.mark.parametrize("job", [j.name for j in JOBS])
def test_what_ran_in_explain_only_mode_is_no_gpu_evidence(explain_run: Any, job: str) -> None:
    result, _ = explain_run
    executed = result["jobs"][job]["executed"]
    ok, reason = gpu_plan_check([executed])
    assert not ok and "no GPU operator in plan 1 of 1" in reason
    assert not read_plan(executed).gpu


def test_an_unsupported_expression_names_the_cpu_operator(explain_run: Any) -> None:
    result, log = explain_run
    query = result["unsupported"]
    assert sorted(query["rows"]) == [[i, str(i)] for i in range(100)]
    ok, reason = gpu_plan_check([query["potential"]])
    assert ok, reason  # its range still would run on the GPU
    [project] = read_plan(query["potential"]).cpu
    assert project.startswith("ProjectExec (not all expressions can be replaced")
    assert "CallMethodViaReflection" in project
    assert (
        "!Exec <ProjectExec> cannot run on GPU because not all expressions can be replaced" in log
    )


def test_the_gpu_suite_never_certifies_an_explain_only_cell(
    jar: Path, spark41_python: Path, tmp_path: Path
) -> None:
    """The suite on a gpu=nvidia cell whose session is explain-only: every scenario not_run."""
    work = tmp_path / "work"
    conf = {**BASE_CONF, "spark.master": "local[1]", "spark.jars": str(jar)}
    conf.update(rapids_conf(tmp_path / "unused.sh", explain_only=True))
    conf["spark.sql.warehouse.dir"] = (work / "warehouse").as_uri()
    store = tmp_path / "results.sqlite"
    cell = ",".join(f"{k}={v}" for k, v in GPU_CELL.items())
    argv = [str(spark41_python), "-m", "pytest", "scenarios/gpu", "-q", "-p", "no:cacheprovider"]
    argv += ["--certify-cell", cell, "--certify-store", str(store), "--certify-run-id", "it"]
    argv += ["--certify-workdir", str(work), "--certify-values", json.dumps(GPU_CELL)]
    argv += ["--certify-options", json.dumps({"spark": {"conf": conf}})]
    env = {**os.environ, "PYSPARK_PYTHON": str(spark41_python)}
    proc = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env, check=False
    )
    records = RecordStore(store).records("it") if store.exists() else []
    assert len(records) == 2 * len(JOBS), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert {r.suite for r in records} == {"gpu"}
    assert {r.status for r in records} == {"not_run"}
    assert all("explain-only mode" in r.message for r in records)


def test_the_gpu_suite_does_not_apply_to_a_cpu_cell(tmp_path: Path) -> None:
    """On gpu=none every GPU scenario is not applicable, before any Spark session starts."""
    values = {**GPU_CELL, "gpu": "none"}
    store = tmp_path / "results.sqlite"
    argv = [sys.executable, "-m", "pytest", "scenarios/gpu", "-q", "-p", "no:cacheprovider"]
    argv += ["--certify-cell", ",".join(f"{k}={v}" for k, v in values.items())]
    argv += ["--certify-store", str(store), "--certify-run-id", "it"]
    argv += ["--certify-workdir", str(tmp_path / "work"), "--certify-values", json.dumps(values)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    records = RecordStore(store).records("it") if store.exists() else []
    assert len(records) == 2 * len(JOBS), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert all(r.status == "not_run" and "requires gpu=nvidia" in r.message for r in records)
