"""The control channel between an experiment's Chaos Toolkit subprocess and the fault target.

The fault target lives in the process that started the platform session (restarted services
must stay supervised by it). The experiment's actions and probes reach it over a Unix-domain
socket in the run folder (mode 0600): one JSON request per connection, one JSON answer.
Requests are served one at a time by a single long-lived thread.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from certify.errors import ControlError
from certify.results.findings import JsonObject, JsonValue

CONTROL_VAR = "CERTIFY_CHAOS_CONTROL"
_MAX = 1 << 20
_PATH_MAX = 100
_ANSWER_S = 300.0  # the longest an operation takes (a service restart waits for health)


Handler = Callable[..., Any]


class ControlServer:
    """Serves `ops` (name -> callable taking keyword arguments) on a Unix socket at `path`."""

    def __init__(self, path: Path, ops: dict[str, Handler]) -> None:
        self.path = path
        self.ops = ops
        self.log: list[JsonObject] = []
        self._server: socketserver.UnixStreamServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: Path | None = None

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Bind the socket (0600) and serve in a daemon thread."""
        owner = self

        class _Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(_MAX)
                self.wfile.write(owner.answer(line) + b"\n")

        if len(str(self.path)) > _PATH_MAX:  # AF_UNIX paths are limited to 107 bytes
            import tempfile

            self._tmp = Path(tempfile.mkdtemp(prefix="certify-chaos-"))
            self.path = self._tmp / "control.sock"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        old = os.umask(0o177)
        try:
            self._server = socketserver.UnixStreamServer(str(self.path), _Handler)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        server = self._server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name="certify-chaos-control",
        )
        self._thread.start()

    def answer(self, line: bytes) -> bytes:
        """Run one request and encode its answer."""
        try:
            request = json.loads(line)
            op, args = str(request["op"]), dict(request.get("args") or {})
        except (ValueError, KeyError, TypeError) as exc:
            return json.dumps({"ok": False, "error": f"bad request: {exc}"}).encode()
        # credentials may travel in `env`: never keep them
        logged = {k: ("***" if k == "env" else v) for k, v in args.items()}
        entry: JsonObject = {"op": op, "args": logged, "at": time.time()}
        self.log.append(entry)
        if op not in self.ops:
            entry["error"] = f"unknown operation {op!r} (valid: {', '.join(sorted(self.ops))})"
            return json.dumps({"ok": False, "error": entry["error"]}).encode()
        try:
            result = self.ops[op](**args)
        except Exception as exc:  # the experiment sees it as a failed activity
            entry["error"] = f"{type(exc).__name__}: {exc}"
            return json.dumps({"ok": False, "error": entry["error"]}).encode()
        return json.dumps({"ok": True, "result": result}, default=str).encode()

    def close(self) -> None:
        """Stop serving and remove the socket (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.path.unlink(missing_ok=True)
        if self._tmp is not None:
            self._tmp.rmdir()
            self._tmp = None


def call(op: str, **args: JsonValue) -> JsonValue:
    """Send one request to the control socket named by CERTIFY_CHAOS_CONTROL; its result."""
    path = os.environ.get(CONTROL_VAR)
    if not path:
        raise ControlError(
            f"{CONTROL_VAR} is not set: certify's chaos actions run only under `certify chaos run`"
        )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(_ANSWER_S)
        sock.connect(path)
        sock.sendall(json.dumps({"op": op, "args": args}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer = json.loads(data or b"{}")
    if not isinstance(answer, dict) or not answer.get("ok"):
        error = answer.get("error") if isinstance(answer, dict) else None
        raise ControlError(f"{op}: {error or 'no answer from the fault target'}")
    result: JsonValue = answer.get("result")
    return result


def call_object(op: str, **args: JsonValue) -> JsonObject:
    """`call` for an operation that answers a JSON object (a fault's evidence, a workload)."""
    result = call(op, **args)
    if not isinstance(result, dict):
        raise ControlError(f"{op}: expected an object from the fault target, got {result!r}")
    return result
