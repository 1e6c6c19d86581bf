"""The state folder: one folder per session (a run or a `platform up`) with a pid file per service.

A session belongs to the certify process that created it. When that process is gone (killed by
SIGKILL, a crash, a power cut) its session is stale, and the next certify command sweeps it:
it stops every process carrying the session's marker and removes the folder. The one exception is
a `platform up` session that finished starting: it is meant to outlive its command, until
`certify platform down`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from certify.host import procs

STATE_DIR_VAR = "CERTIFY_STATE_DIR"
SESSION_FILE = "session.json"


def state_dir() -> Path:
    """$CERTIFY_STATE_DIR, else `.certify/state` in the current folder."""
    from_env = os.environ.get(STATE_DIR_VAR)
    return Path(from_env).resolve() if from_env else Path(".certify", "state").resolve()


@dataclass(frozen=True)
class ServiceRecord:
    """What a pid file says about one running service."""

    name: str
    pid: int
    started: int | None
    expect: str
    endpoint: str
    log: str
    group: str = ""

    def alive(self) -> bool:
        """Whether the recorded process still runs (same pid, start time and command)."""
        return self.pid > 0 and procs.is_same(self.pid, self.started, self.expect)


class SessionState:
    """A session folder: its owner, its mode (`run` or `up`) and its services' pid files."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.id = path.name

    @classmethod
    def create(cls, mode: str, root: Path | None = None) -> SessionState:
        """A new session owned by this process."""
        root = root or state_dir()
        stamp = time.strftime("%Y%m%d%H%M%S")
        session = cls(root / f"{mode}-{stamp}-{uuid.uuid4().hex[:8]}")
        session.path.mkdir(parents=True)
        pid = os.getpid()
        session._write_meta(
            {"mode": mode, "owner": pid, "owner_started": procs.start_time(pid), "complete": False}
        )
        return session

    @property
    def meta(self) -> dict[str, Any]:
        """The session file's content ({} if unreadable)."""
        try:
            data: dict[str, Any] = json.loads((self.path / SESSION_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return data

    def _write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self.path / (SESSION_FILE + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
        tmp.replace(self.path / SESSION_FILE)

    def mark_complete(self, **extra: Any) -> None:
        """Every service is up (an `up` session now outlives its command)."""
        self._write_meta({**self.meta, **extra, "complete": True})

    @property
    def mode(self) -> str:
        """`run` or `up`."""
        return str(self.meta.get("mode", "run"))

    def owner_alive(self) -> bool:
        """Whether the certify process that created the session still runs."""
        meta = self.meta
        return procs.is_same(int(meta.get("owner", 0)), meta.get("owner_started"))

    def stale(self) -> bool:
        """Owner gone, and not a completed `platform up` (which lives until `down`)."""
        if self.owner_alive():
            return False
        return not (self.mode == "up" and self.meta.get("complete"))

    def record(self, service: ServiceRecord) -> None:
        """Write (or replace) a service's pid file."""
        (self.path / f"{service.name}.pid.json").write_text(json.dumps(asdict(service)) + "\n")

    def services(self) -> list[ServiceRecord]:
        """The services recorded in this session, in start order."""
        out = []
        for path in sorted(self.path.glob("*.pid.json"), key=lambda p: p.stat().st_mtime_ns):
            with contextlib.suppress(OSError, ValueError, TypeError):
                out.append(ServiceRecord(**json.loads(path.read_text())))
        return out

    def stop(self, grace_s: float = 10.0) -> list[int]:
        """Stop every process of the session and remove its folder."""
        pids = procs.stop_session(self.id, grace_s)
        for service in self.services():  # in case a marker could not be read
            if service.alive():
                procs.terminate([service.pid], grace_s)
        shutil.rmtree(self.path, ignore_errors=True)
        return pids


def sessions(root: Path | None = None) -> list[SessionState]:
    """Every session folder under the state folder."""
    root = root or state_dir()
    if not root.is_dir():
        return []
    return [SessionState(p) for p in sorted(root.iterdir()) if (p / SESSION_FILE).exists()]


def sweep_stale(root: Path | None = None) -> list[str]:
    """Stop and remove every stale session; returns their ids. Never raises."""
    swept = []
    try:
        for session in sessions(root):
            if session.stale():
                session.stop(grace_s=5.0)
                swept.append(session.id)
    except OSError:
        pass
    return swept


def up_session(root: Path | None = None) -> SessionState | None:
    """The `platform up` session, if one exists."""
    found = [s for s in sessions(root) if s.mode == "up"]
    return found[-1] if found else None
