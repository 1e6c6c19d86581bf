"""Chaos Toolkit actions (python provider `certify.chaos.actions`): clients of the fault target.

They run in the experiment's Chaos Toolkit subprocess and reach the fault target in certify's
own process over the control socket (CERTIFY_CHAOS_CONTROL). Every action returns evidence with
an `at` timestamp (epoch seconds), which the journal keeps.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from certify.chaos.control import call, call_object
from certify.chaos.workload_io import read_json
from certify.results.findings import JsonObject, JsonValue

# what Chaos Toolkit hands a provider that asks for them (parsed from the experiment)
Configuration = JsonObject | None
Secrets = dict[str, JsonObject] | None
_CREDENTIALS = {
    "access_key": "CERTIFY_S3_ACCESS_KEY_ID",
    "secret_key": "CERTIFY_S3_SECRET_ACCESS_KEY",
}


def cell_info(configuration: Configuration) -> JsonObject:
    """The cell file the runner wrote (named by the experiment's `cell` configuration)."""
    path = (configuration or {}).get("cell")
    if not path:
        raise RuntimeError("the experiment's configuration has no `cell` (the cell file path)")
    data = json.loads(Path(str(path)).read_text())
    return data if isinstance(data, dict) else {}


def start_workload(
    secrets: Secrets = None,
    table: str = "chaos_workload",
    until: str = "writing",
    via: dict[str, str] | None = None,
    timeout_s: float = 240.0,
    **params: JsonValue,
) -> JsonObject:
    """Start the cell's workload and return once it reached phase `until` (e.g. `writing`).

    `via` routes the workload's client through fault proxies: {"hive": "hive-metastore"}
    or {"s3": "seaweedfs", "iceberg_rest": "seaweedfs/s3.iceberg"}. Other keyword arguments
    (rows, seed_rows, partitions, task_pause_ms, hold_s, write_timeout_s, conf) go to the
    workload as they are.
    """
    s3 = (secrets or {}).get("s3") or {}
    env: JsonObject = {_CREDENTIALS.get(k, k): str(v) for k, v in s3.items()}
    routes: JsonObject = dict(via or {})
    started = call_object("start_workload", table=table, via=routes, params=params, env=env)
    folder = Path(str(started["folder"]))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, result = read_json(folder / "status.json"), read_json(folder / "result.json")
        reached = status.get("at")
        if isinstance(reached, dict) and until in reached:
            return {**started, "phase": until, "at": reached[until]}
        if result.get("outcome") == "error":
            raise RuntimeError(f"the workload could not start: {result.get('error')}")
        if result or not call("workload_alive"):
            raise RuntimeError(
                f"the workload ended before phase {until!r}: {result or 'no result'}; "
                f"see {folder / 'workload.log'}"
            )
        time.sleep(0.1)
    raise RuntimeError(f"the workload did not reach phase {until!r} within {timeout_s:.0f} s")


def kill(role: str) -> JsonObject:
    """kill -9 one process of `role` (executor, worker, driver, connect-server) of the cell."""
    return call_object("kill", role=role)


def stop_service(service: str) -> JsonObject:
    """Stop one of the cell's services (by name or kind: hive-metastore, seaweedfs, ...)."""
    return call_object("stop_service", name=service)


def start_service(service: str) -> JsonObject:
    """Start a stopped service again on the same endpoint (a no-op if it runs)."""
    return call_object("start_service", name=service)


def latency(service: str, ms: float, jitter: float = 0.0) -> JsonObject:
    """Add latency through the fault proxy in front of `service`."""
    return call_object("latency", service=service, ms=ms, jitter=jitter)


def loss(service: str, fraction: float) -> JsonObject:
    """Stall this fraction of the chunks through the proxy in front of `service`."""
    return call_object("loss", service=service, fraction=fraction)


def partition(service: str) -> JsonObject:
    """Nothing flows between the workload and `service` (through its proxy)."""
    return call_object("partition", service=service)


def heal(service: str | None = None) -> JsonObject:
    """End network faults; the proxies' stats say whether the fault was really there."""
    return call_object("heal", service=service)
