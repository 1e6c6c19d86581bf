"""Run a child process in its own process group and always stop the whole group.

A SIGINT or SIGTERM to certify stops the child's group (Spark JVMs included) before certify
itself stops, so no process a run started outlives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from certify.errors import Interrupted
from certify.host.procs import die_with_parent

_GRACE_S = 10.0


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = _GRACE_S) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after `grace_s`."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
    # the leader may be gone while its children (a JVM) still run: kill the group regardless
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


@contextmanager
def raise_on_signals() -> Iterator[None]:
    """Turn SIGINT/SIGTERM into Interrupted on the main thread (a no-op on other threads)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def run_supervised(
    argv: Sequence[str], log: Path, cwd: Path, env: dict[str, str], timeout_s: float | None = None
) -> int:
    """Run `argv` with output to `log`; return its exit code (-9 on timeout).

    Raises Interrupted after stopping the child's group when certify is signalled.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out, raise_on_signals():
        proc = start_child(argv, out, cwd, env)
        try:
            return wait_child(proc, out, timeout_s)
        finally:
            stop_group(proc)


def start_child(
    argv: Sequence[str], out: BinaryIO, cwd: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own process group, output to `out`, dying with its starting thread."""
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


def wait_child(proc: subprocess.Popen[bytes], out: BinaryIO, timeout_s: float | None) -> int:
    """The child's exit code, or -9 (noted in its log) when it outlives `timeout_s`."""
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        out.write(f"\n[certify] timed out after {timeout_s} s; stopped\n".encode())
        return -9
