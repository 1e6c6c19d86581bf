"""Run the cells of several runtimes at once: one thread per runtime, one pytest child at a time.

Signals are handled on the main thread only: on SIGINT or SIGTERM it stops every running child's
process group, lets the threads finish without starting another cell, and raises Interrupted.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path

from certify.errors import Cancelled
from certify.host.process import start_child, stop_group, wait_child
from certify.host.procs import SESSION_VAR


class Children:
    """The pytest children of a run, so the main thread can stop them all at once."""

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self.cancelled = threading.Event()

    def run(
        self,
        argv: Sequence[str],
        log: Path,
        cwd: Path,
        env: dict[str, str],
        timeout_s: float | None,
    ) -> int:
        """Run `argv` in its own process group with output to `log`; -9 on timeout."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            with self._lock:
                if self.cancelled.is_set():
                    raise Cancelled()
                # the thread that starts it waits for it, so it dies with certify only
                proc = start_child(argv, out, cwd, env)
                self._procs.add(proc)
            try:
                return wait_child(proc, out, timeout_s)
            finally:
                stop_group(proc)
                with self._lock:
                    self._procs.discard(proc)
                if self.cancelled.is_set():
                    raise Cancelled()

    def stop_all(self) -> None:
        """Stop every running child and let no new one start."""
        with self._lock:
            self.cancelled.set()
            running = list(self._procs)
        for proc in running:
            stop_group(proc, grace_s=10.0)


def run_concurrently(work: Sequence[Callable[..., None]], parallel: int) -> None:
    """Call each `work(children=...)` with at most `parallel` at once; stop all on a signal."""
    children = Children()
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="runtime") as pool:
        futures: list[Future[None]] = [pool.submit(w, children=children) for w in work]
        try:
            pending: set[Future[None]] = set(futures)
            while pending:
                # short waits keep the main thread responsive to signals
                _, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
                for future in futures:
                    if future.done() and not future.cancelled() and future.exception():
                        raise future.exception()  # type: ignore[misc]
        except BaseException:
            children.stop_all()
            for future in futures:
                future.cancel()
            raise
        finally:
            for future in futures:
                with contextlib.suppress(BaseException):
                    future.result()


def session_marker(session_id: str) -> dict[str, str]:
    """The environment marker of a platform session, inherited by every child process."""
    return {SESSION_VAR: session_id} if session_id else {}


def available_memory_gib() -> float:
    """MemAvailable from /proc/meminfo, in GiB (a large number where it cannot be read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return 1024.0
