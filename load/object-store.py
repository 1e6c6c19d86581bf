"""object-store: PUT and GET latency and throughput against the cell's S3 endpoint (boto3).

Small (4 KiB) and large (1 MiB) objects under a prefix private to the cell; each request's
size is reported, so locust's stats carry bytes per second beside the latencies.
"""

from __future__ import annotations

import os
import random
from typing import Any

import _shared
from locust import User, between, events, task
from locust.env import Environment

PROFILE = "object-store"
TARGET = "s3.s3"
REQUIRES = {"storage": ["s3"]}
SHAPE = "ramp"
USERS = 4
SECONDS = 60
SLO = {
    "*": {"p50_ms": 100, "p95_ms": 500, "p99_ms": 1500, "error_rate": 0.001, "rps": 5.0},
}
SIZES = {"4KiB": 4096, "1MiB": 1024 * 1024}
KEYS = 20  # objects per size the users overwrite and read back

CELL = _shared.declare(globals())
OPTIONS: dict[str, Any] = CELL.get("options", {})
S3: dict[str, Any] = OPTIONS.get("s3") or {}
BUCKET = str(S3.get("bucket", "warehouse"))
PREFIX = _shared.names(CELL).s3_key("load")  # under the cell's prefix of the shared bucket
PAYLOAD = {name: os.urandom(size) for name, size in SIZES.items()}


def _client() -> Any:
    from certify.platforms.clients import s3_client

    return s3_client(S3, *_shared.credentials())


def _key(size: str) -> str:
    return f"{PREFIX}/{size}/{random.randrange(KEYS)}"


@events.init.add_listener
def _setup(environment: Environment, **_: Any) -> None:
    """Write every object once, so GETs never miss."""
    if not S3.get("s3"):
        _shared.not_applicable("the cell has no S3 endpoint")
    try:
        client = _client()
        for size, body in PAYLOAD.items():
            for i in range(KEYS):
                client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{size}/{i}", Body=body)
    except _shared.ProfileNotApplicable as exc:
        _shared.not_applicable(str(exc))
    except Exception as exc:  # nothing to read back without the objects
        _shared.setup_failed(f"writing s3://{BUCKET}/{PREFIX}", exc)


class ObjectStoreUser(User):
    """PUTs and GETs of small and large objects."""

    wait_time = between(0.01, 0.05)

    def on_start(self) -> None:
        self.s3 = _client()

    def _put(self, size: str) -> None:
        with _shared.request(self.environment, "PUT", size) as info:
            self.s3.put_object(Bucket=BUCKET, Key=_key(size), Body=PAYLOAD[size])
            info["length"] = len(PAYLOAD[size])

    def _get(self, size: str) -> None:
        with _shared.request(self.environment, "GET", size) as info:
            body = self.s3.get_object(Bucket=BUCKET, Key=_key(size))["Body"].read()
            if len(body) != len(PAYLOAD[size]):
                raise OSError(f"read {len(body)} bytes, wrote {len(PAYLOAD[size])}")
            info["length"] = len(body)

    @task(4)
    def get_small(self) -> None:
        self._get("4KiB")

    @task(2)
    def put_small(self) -> None:
        self._put("4KiB")

    @task(2)
    def get_large(self) -> None:
        self._get("1MiB")

    @task(1)
    def put_large(self) -> None:
        self._put("1MiB")


Shape = _shared.shape(SHAPE, USERS, SECONDS)
