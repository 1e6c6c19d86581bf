"""gpu=nvidia without a GPU: the RAPIDS release table, its settings, the discovery script, and
the check that plans ran on the GPU, on plan text in the forms Spark and RAPIDS print."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certify.platforms.gpu import (
    PLUGIN,
    RELEASES,
    Unsupported,
    explain_blocks,
    gpu_plan_check,
    rapids_conf,
    rapids_release,
    read_plan,
    standalone_worker_opts,
    write_discovery_script,
)

# tests/fixtures/gpu/README.md says where each plan text comes from
PLANS = Path(__file__).resolve().parents[1] / "fixtures" / "gpu"
GPU_PLAN = (PLANS / "gpu_plan_join.txt").read_text()
CPU_PLAN = (PLANS / "cpu_plan_join.txt").read_text()
EXPLAIN_JOIN = (PLANS / "explain_join.txt").read_text()
EXPLAIN_REFLECT = (PLANS / "explain_reflect.txt").read_text()


def test_no_rapids_release_supports_pyspark_3_5_7() -> None:
    got = rapids_release("3.5.7", "2.12")
    assert isinstance(got, Unsupported)
    assert "pyspark 3.5.7" in got.reason
    assert "com.nvidia:rapids-4-spark_2.12:25.04.0" in got.reason
    assert "3.5.0-3.5.5" in got.reason


@pytest.mark.parametrize("pyspark", ["4.1.1", "4.0.1", "3.5.7", "4.2.0"])
def test_the_2_13_release_serves_the_4_x_pins(pyspark: str) -> None:
    assert rapids_release(pyspark, "2.13") == "com.nvidia:rapids-4-spark_2.13:26.08.1"


@pytest.mark.parametrize(("pyspark", "scala"), [("4.1.0", "2.13"), ("4.1.4", "2.13")])
def test_a_version_without_a_shim_is_unsupported(pyspark: str, scala: str) -> None:
    got = rapids_release(pyspark, scala)
    assert isinstance(got, Unsupported)
    assert "4.1.1-4.1.3" in got.reason


def test_an_unknown_scala_line_is_unsupported() -> None:
    got = rapids_release("3.5.1", "2.11")
    assert isinstance(got, Unsupported) and "Scala 2.11" in got.reason


@given(st.integers(3, 4), st.integers(0, 5), st.integers(0, 12), st.sampled_from(["2.12", "2.13"]))
def test_a_release_is_named_exactly_when_its_shims_cover_the_version(
    major: int, minor: int, patch: int, scala: str
) -> None:
    version = f"{major}.{minor}.{patch}"
    covers = [r for r in RELEASES if r.scala == scala and r.supports(version)]
    got = rapids_release(version, scala)
    assert got == covers[0].coordinate if covers else isinstance(got, Unsupported)


def test_gpu_conf_requests_one_gpu_per_executor(tmp_path: Path) -> None:
    script = tmp_path / "gpu.sh"
    conf = rapids_conf(script, explain_only=False)
    assert conf["spark.plugins"] == PLUGIN
    assert conf["spark.rapids.sql.enabled"] == "true"
    assert conf["spark.kryo.registrator"] == "com.nvidia.spark.rapids.GpuKryoRegistrator"
    assert conf["spark.executor.resource.gpu.amount"] == "1"
    assert conf["spark.executor.resource.gpu.discoveryScript"] == str(script)
    assert conf["spark.task.resource.gpu.amount"] == "1"
    assert "spark.rapids.sql.mode" not in conf
    assert rapids_conf(script, False, executor_cores=4)["spark.task.resource.gpu.amount"] == "0.25"


def test_explain_only_conf_requests_no_gpu(tmp_path: Path) -> None:
    conf = rapids_conf(tmp_path / "gpu.sh", explain_only=True)
    assert conf["spark.plugins"] == PLUGIN
    assert conf["spark.rapids.sql.mode"] == "explainOnly"
    assert conf["spark.rapids.sql.explain"] == "ALL"
    assert [k for k in conf if "resource" in k] == []


def test_standalone_worker_offers_its_gpus(tmp_path: Path) -> None:
    opts = standalone_worker_opts(tmp_path / "gpu.sh", gpus=2).split()
    assert opts == [
        "-Dspark.worker.resource.gpu.amount=2",
        f"-Dspark.worker.resource.gpu.discoveryScript={tmp_path / 'gpu.sh'}",
    ]


def test_a_gpu_plan_passes_and_names_what_stayed_on_the_cpu() -> None:
    ok, reason = gpu_plan_check([GPU_PLAN])
    assert ok, reason
    assert "GpuHashAggregate" in reason and "GpuBroadcastHashJoin" in reason
    assert reason.endswith("stayed on the CPU: Scan")
    # the initial plan is not what ran: its SortMergeJoin is not reported
    assert "SortMergeJoin" not in reason


def test_a_cpu_plan_fails_naming_its_operators() -> None:
    ok, reason = gpu_plan_check([CPU_PLAN])
    assert not ok
    assert reason == (
        "no GPU operator in plan 1 of 1; CPU operators that did not go to the GPU: Union; "
        "HashAggregate; AQEShuffleRead; Exchange; Project; BroadcastHashJoin; "
        "BroadcastExchange; Filter; Range; Scan"
    )


def test_every_plan_must_run_on_the_gpu() -> None:
    ok, reason = gpu_plan_check([GPU_PLAN, CPU_PLAN, GPU_PLAN])
    assert not ok and "plan 2 of 3" in reason
    assert not gpu_plan_check([])[0]


def test_transitions_alone_are_no_gpu_work() -> None:
    plan = "\n".join(
        [
            "GpuColumnarToRow false",
            "+- GpuRowToColumnar targetsize(1073741824)",
            "   +- *(1) Project [a#1]",
            "      +- *(1) Scan ExistingRDD[a#1]",
        ]
    )
    ok, reason = gpu_plan_check([plan])
    assert not ok and reason.endswith("did not go to the GPU: Project; Scan")


def test_a_non_adaptive_physical_plan_is_read_whole() -> None:
    plan = "\n".join(
        [
            "== Physical Plan ==",
            "GpuColumnarToRow false",
            "+- GpuFilter NOT (value#2 = 1)",
            "   +- GpuRowToColumnar targetsize(2147483647)",
            "      +- *(1) SerializeFromObject [input[0, int, false] AS value#2]",
            "         +- Scan[obj#1]",
        ]
    )
    reading = read_plan(plan)
    assert reading.on_gpu and reading.cpu == ("SerializeFromObject", "Scan")
    assert reading.gpu == ("GpuColumnarToRow", "GpuFilter", "GpuRowToColumnar")


def test_explain_output_names_what_would_run_on_the_gpu() -> None:
    ok, reason = gpu_plan_check([EXPLAIN_JOIN])
    assert ok, reason
    assert "would run (explain-only)" in reason and "BroadcastHashJoinExec" in reason
    reading = read_plan(EXPLAIN_JOIN)
    assert reading.predicted
    assert reading.cpu == (
        "RDDScanExec (GPU does not currently support the operator class "
        "org.apache.spark.sql.execution.RDDScanExec)",
    )


def test_explain_output_names_the_operator_and_the_expression_kept_on_the_cpu() -> None:
    ok, reason = gpu_plan_check([EXPLAIN_REFLECT])
    assert ok, reason  # its range would still run on the GPU
    assert "(RangeExec)" in reason
    [project] = read_plan(EXPLAIN_REFLECT).cpu
    assert project.startswith("ProjectExec (not all expressions can be replaced; ")
    assert "CallMethodViaReflection: GPU does not currently support" in project


def test_explain_output_with_nothing_on_the_gpu_fails() -> None:
    only_cpu = (
        "! <RDDScanExec> cannot run on GPU because GPU does not currently support the operator "
        "class org.apache.spark.sql.execution.RDDScanExec\n"
        "  @Expression <AttributeReference> x#8 could run on GPU"
    )
    ok, reason = gpu_plan_check([only_cpu])
    assert not ok and "RDDScanExec (GPU does not currently support" in reason


def test_explain_blocks_are_cut_from_a_driver_log() -> None:
    log = (
        "26/12/02 04:40:14 WARN RapidsPluginUtils: RAPIDS Accelerator is in explain only mode\n"
        "26/12/02 04:40:59 WARN GpuOverrides: \n"
        f"{EXPLAIN_REFLECT}\n"
        "26/12/02 04:41:02 WARN GpuOverrides: \n"
        "*Exec <RangeExec> will run on GPU\n"
        "\n"
        "ROWS 994\n"
    )
    blocks = explain_blocks(log)
    assert len(blocks) == 2
    assert blocks[0] == EXPLAIN_REFLECT.rstrip("\n")
    assert blocks[1] == "*Exec <RangeExec> will run on GPU"


def _fake_smi(folder: Path, body: str) -> dict[str, str]:
    """A PATH whose nvidia-smi runs `body` (and records its arguments)."""
    folder.mkdir()
    smi = folder / "nvidia-smi"
    smi.write_text(f'#!/bin/sh\necho "$@" > "{folder}/args"\n{body}\n')
    smi.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def _discover(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = write_discovery_script(tmp_path / "conf")
    env = _fake_smi(tmp_path / "bin", body)
    return subprocess.run([str(script)], capture_output=True, text=True, env=env, timeout=30)


def test_discovery_script_lists_every_gpu(tmp_path: Path) -> None:
    proc = _discover(tmp_path, "printf '0\\n1\\n'")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"name": "gpu", "addresses": ["0", "1"]}
    assert (tmp_path / "bin" / "args").read_text().split() == [
        "--query-gpu=index",
        "--format=csv,noheader",
    ]
    assert os.access(tmp_path / "conf" / "gpu-discovery.sh", os.X_OK)


def test_discovery_script_with_no_gpu_lists_none(tmp_path: Path) -> None:
    proc = _discover(tmp_path, "true")
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"name": "gpu", "addresses": []}


def test_discovery_script_fails_when_nvidia_smi_does(tmp_path: Path) -> None:
    proc = _discover(tmp_path, "echo 'NVIDIA-SMI has failed' >&2; exit 9")
    assert proc.returncode != 0 and proc.stdout == ""


SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "gpu-cells.sh"


@pytest.mark.parametrize("body", ["true", "echo 'NVIDIA-SMI has failed' >&2; exit 9"])
def test_gpu_cells_script_refuses_a_machine_without_a_gpu(tmp_path: Path, body: str) -> None:
    env = _fake_smi(tmp_path / "bin", body)
    proc = subprocess.run(
        [str(SCRIPT), "--plan-only"], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 2
    assert "gpu-cells: nvidia-smi lists no GPU" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_gpu_cells_script_rejects_an_unknown_argument() -> None:
    proc = subprocess.run([str(SCRIPT), "--cells"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown argument --cells" in proc.stderr
