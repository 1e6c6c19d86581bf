"""Process identity and stopping on Linux: start times, command lines and session markers.

Every process certify starts for a run or a `platform up` carries `CERTIFY_SESSION=<id>` in its
environment, which its children (executor JVMs, driver JVMs) inherit. A stale session is cleaned
up by finding every process that carries its marker, so nothing escapes through a re-parented
child or a new process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

SESSION_VAR = "CERTIFY_SESSION"
_PROC = Path("/proc")


def die_with_parent() -> None:
    """In a child before exec: get SIGKILL when the thread that started it dies (Linux prctl)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: stopping by session marker still applies


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (stable across exec), or None."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19]) if len(fields) > 19 else None


def _stat_fields(pid: int) -> list[str]:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    return stat[stat.rfind(")") + 2 :].split()  # fields from 3 (state) on


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by `root` and every live descendant of it.

    What a pytest process and the driver JVM it started cost, read from /proc; children that
    already ended count where their parent waited for them (cutime, cstime).
    """
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in _PROC.iterdir():
        fields = _stat_fields(int(entry.name)) if entry.name.isdigit() else []
        if len(fields) > 14:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            cpu[int(entry.name)] = sum(int(f) for f in fields[11:15]) / tick
    total, todo, seen = 0.0, [root], set()
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            total += cpu.get(pid, 0.0)
            todo += children.get(pid, [])
    return total


def cmdline(pid: int) -> str:
    """The process's command line with spaces between arguments ('' if it is gone)."""
    try:
        return (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def is_same(pid: int, started: int | None, expect: str = "") -> bool:
    """True if `pid` is still the process that started at `started` and runs `expect`."""
    if pid <= 0 or started is None or start_time(pid) != started:
        return False
    return expect in cmdline(pid) if expect else True


def _zombie(pid: int) -> bool:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].startswith("Z")


def marked(session: str) -> list[int]:
    """Live processes whose environment carries `CERTIFY_SESSION=<session>`."""
    needle = f"{SESSION_VAR}={session}".encode()
    found = []
    me = os.getpid()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and not _zombie(int(entry.name)):
            found.append(int(entry.name))
    return found


def _signal(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def terminate(pids: list[int], grace_s: float = 10.0) -> None:
    """SIGTERM `pids` (each with its process group), SIGKILL what is left after `grace_s`."""
    groups = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    own = os.getpgrp()
    for group in groups - {own}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGTERM)
    _signal(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(not _zombie(p) for p in pids):
        time.sleep(0.1)
    for group in groups - {own}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    _signal(pids, signal.SIGKILL)


def stop_session(session: str, grace_s: float = 10.0) -> list[int]:
    """Stop every process marked with `session`; returns the pids it found."""
    pids = marked(session)
    if pids:
        terminate(pids, grace_s)
        # a process started between the scan and the kill (a JVM forking) is caught here
        late = marked(session)
        if late:
            terminate(late, 1.0)
    return pids
