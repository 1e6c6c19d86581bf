"""The AWS Glue Data Catalog API, emulated by moto's server (PyPI `moto[server]`).

moto keeps its catalog in memory: a restart starts empty, and it accepts any signed request
(it checks no credentials and no `VersionId` on UpdateTable), so cells on it are emulated.
"""

from __future__ import annotations

import json
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from certify.platforms.local.services.base import LOOPBACK, Launch, free_port

REGION = "us-east-1"
BINARY = "moto_server"
# moto routes a request to its Glue backend by the service in the SigV4 credential scope; it
# does not verify the signature, so the probe needs no credentials of the cell's
_PROBE_AUTH = (
    f"AWS4-HMAC-SHA256 Credential=certify-probe/20240101/{REGION}/glue/aws4_request, "
    "SignedHeaders=host;x-amz-target, Signature=0"
)


def moto_server_binary(candidates: list[Path] | None = None) -> Path | None:
    """`moto_server`: beside an interpreter in `candidates`, beside this one, or on PATH."""
    for folder in [*(candidates or []), Path(sys.executable).parent]:
        if (folder / BINARY).exists():
            return folder / BINARY
    found = shutil.which(BINARY)
    return Path(found) if found else None


def glue_databases(endpoint: str, timeout_s: float = 2.0) -> list[str] | None:
    """The database names Glue's GetDatabases answers at `endpoint` (None: no Glue answers)."""
    request = urllib.request.Request(
        endpoint + "/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSGlue.GetDatabases",
            "Authorization": _PROBE_AUTH,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = json.loads(response.read())
    except (OSError, ValueError, urllib.error.HTTPError):
        return None
    listed = body.get("DatabaseList") if isinstance(body, dict) else None
    if not isinstance(listed, list):
        return None
    return [str(d.get("Name")) for d in listed if isinstance(d, dict)]


@dataclass
class Glue:
    """`moto_server -H 127.0.0.1 -p PORT`: Glue (and moto's other AWS APIs) on one loopback port."""

    binary: Path
    name: str = "glue"
    timeout_s: float = 60.0
    port: int = 0

    def launch(self, home: Path) -> Launch:
        """Take a free port; moto keeps nothing on disk, so `home` only holds its log's folder."""
        self.port = free_port()
        endpoint = f"http://{LOOPBACK}:{self.port}"
        return Launch(
            (str(self.binary), "-H", LOOPBACK, "-p", str(self.port)),
            endpoint,
            expect=BINARY,
            ports={"glue": self.port},
            details={"glue": endpoint, "region": REGION, "emulator": "moto"},
        )

    def healthy(self, launch: Launch) -> bool:
        """Glue's GetDatabases answers with a database list."""
        return glue_databases(launch.endpoint) is not None
