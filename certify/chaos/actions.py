"""Chaos Toolkit actions (python provider `certify.chaos.actions`): clients of the fault target.

They run in the experiment's Chaos Toolkit subprocess and reach the fault target in certify's
own process over the control socket (CERTIFY_CHAOS_CONTROL). Every action returns evidence with
an `at` timestamp (epoch seconds), which the journal keeps.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from certify.chaos.control import call
from certify.chaos.workload_io import read_json

Configuration = dict[str, Any] | None
Secrets = dict[str, Any] | None


def cell_info(configuration: Configuration) -> dict[str, Any]:
    """The cell file the runner wrote (named by the experiment's `cell` configuration)."""
    path = (configuration or {}).get("cell")
    if not path:
        raise RuntimeError("the experiment's configuration has no `cell` (the cell file path)")
    data = json.loads(Path(str(path)).read_text())
    return data if isinstance(data, dict) else {}


def start_workload(
    configuration: Configuration = None,
    secrets: Secrets = None,
    table: str = "chaos_workload",
    until: str = "writing",
    via: dict[str, str] | None = None,
    timeout_s: float = 240.0,
    **params: Any,
) -> dict[str, Any]:
    """Start the cell's workload and return once it reached phase `until` (e.g. `writing`).

    `via` routes the workload's client through fault proxies: {"hive": "hive-metastore"}
    or {"s3": "seaweedfs", "iceberg_rest": "seaweedfs/s3.iceberg"}. Other keyword arguments
    (rows, seed_rows, partitions, task_pause_ms, hold_s, conf) go to the workload as they are.
    """
    env = {}
    for entry in ((secrets or {}).get("s3") or {}).items():
        env[
            {
                "access_key": "CERTIFY_S3_ACCESS_KEY_ID",
                "secret_key": "CERTIFY_S3_SECRET_ACCESS_KEY",
            }.get(entry[0], entry[0])
        ] = str(entry[1])
    started = call("start_workload", table=table, via=via or {}, params=params, env=env)
    folder = Path(started["folder"])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, result = read_json(folder / "status.json"), read_json(folder / "result.json")
        if until in status.get("at", {}):
            return {**started, "phase": until, "at": status["at"][until]}
        if result.get("outcome") == "error":
            raise RuntimeError(f"the workload could not start: {result.get('error')}")
        if result or not call("workload_alive"):
            raise RuntimeError(
                f"the workload ended before phase {until!r}: {result or 'no result'}; "
                f"see {folder / 'workload.log'}"
            )
        time.sleep(0.1)
    raise RuntimeError(f"the workload did not reach phase {until!r} within {timeout_s:.0f} s")


def kill(role: str) -> dict[str, Any]:
    """kill -9 one process of `role` (executor, worker, driver, connect-server) of the cell."""
    return dict(call("kill", role=role))


def stop_service(service: str) -> dict[str, Any]:
    """Stop one of the cell's services (by name or kind: hive-metastore, seaweedfs, ...)."""
    return dict(call("stop_service", name=service))


def start_service(service: str) -> dict[str, Any]:
    """Start a stopped service again on the same endpoint (a no-op if it runs)."""
    return dict(call("start_service", name=service))


def latency(service: str, ms: float, jitter: float = 0.0) -> dict[str, Any]:
    """Add latency through the fault proxy in front of `service`."""
    return dict(call("latency", service=service, ms=ms, jitter=jitter))


def loss(service: str, fraction: float) -> dict[str, Any]:
    """Stall this fraction of the chunks through the proxy in front of `service`."""
    return dict(call("loss", service=service, fraction=fraction))


def partition(service: str) -> dict[str, Any]:
    """Nothing flows between the workload and `service` (through its proxy)."""
    return dict(call("partition", service=service))


def heal(service: str | None = None) -> dict[str, Any]:
    """End network faults; the proxies' stats say whether the fault was really there."""
    return dict(call("heal", service=service))
