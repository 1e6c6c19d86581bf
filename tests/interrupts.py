"""A pytest plugin for certify's own suite: Ctrl-C (or SIGTERM) stops the whole suite.

Code under test installs its own SIGINT/SIGTERM handlers (certify turns them into Interrupted
while a child runs), so a Ctrl-C used to fail only the running test and the suite went on. The
signal wakeup fd sees every signal whatever handler is installed: after each test, a signal
seen there stops the session, whose fixtures then stop their services; at the very end every
process the suite started and left behind is stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Generator
from pathlib import Path

import pytest

_STOPPING = (signal.SIGINT, signal.SIGTERM)
_key = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    """Route every signal's number to a pipe that no handler swap can silence."""
    with contextlib.suppress(ValueError):  # not on the main thread: nothing to do
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        config.stash[_key] = read
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            # SIGTERM like Ctrl-C: unwind through fixture teardown instead of dying on the spot
            signal.signal(signal.SIGTERM, signal.default_int_handler)


def _signalled(config: pytest.Config) -> int | None:
    read = config.stash.get(_key, None)
    if read is None:
        return None
    try:
        data = os.read(read, 512)
    except (BlockingIOError, OSError):
        return None
    stopping = [b for b in data if b in _STOPPING]
    return stopping[0] if stopping else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """After each test: if the suite was signalled meanwhile, stop it here."""
    result = yield
    signum = _signalled(item.config)
    if signum is not None:
        item.session.shouldstop = f"interrupted by {signal.Signals(signum).name}"
    return result


def _descendants(pid: int) -> list[int]:
    """Every live process whose parent chain leads to `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop whatever the suite started and left running (after every fixture's teardown)."""
    left = _descendants(os.getpid())
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in left):
            time.sleep(0.1)
            for pid in left:  # reap our own children so they do not linger as zombies
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
    read = config.stash.get(_key, None)
    if read is not None:
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(-1)
        os.close(read)
