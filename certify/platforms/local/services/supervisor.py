"""Start services as supervised processes, wait until they are healthy, and always stop them.

Each service runs in its own process group with its output captured to a log file, carries its
session's marker in its environment and has a pid file in the session folder. In a run, services
also get SIGKILL when certify dies (PR_SET_PDEATHSIG); a `platform up` leaves them running.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from certify.errors import InfrastructureError
from certify.host import procs
from certify.platforms.local.services.base import Launch, Service
from certify.platforms.local.state import ServiceRecord, SessionState

_POLL_S = 0.25


@dataclass
class Running:
    """A started service: its launch, process (None when it has none) and log."""

    service: Service
    launch: Launch
    proc: subprocess.Popen[bytes] | None
    log: Path
    healthy: bool = False
    start_s: float = 0.0

    @property
    def name(self) -> str:
        """The service's name (`spark-master`, `hive-metastore`, ...)."""
        return self.service.name


class Supervisor:
    """The services of one session: started together, checked, stopped in reverse order."""

    def _spawn(self, launch: Launch, home: Path, log: Path) -> subprocess.Popen[bytes]:
        """Start a service's process in its own session, marked, output appended to `log`."""
        env = {**os.environ, **launch.env, procs.SESSION_VAR: self.session.id}
        with log.open("ab") as out:
            return subprocess.Popen(
                list(launch.argv),
                cwd=home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=procs.die_with_parent if self.die_with_parent else None,
            )

    def __init__(
        self,
        session: SessionState,
        logs: Path,
        secrets: Sequence[str] = (),
        die_with_parent: bool = True,
    ) -> None:
        self.session = session
        self.logs = logs
        self.secrets = [s for s in secrets if s]
        self.die_with_parent = die_with_parent
        self.running: dict[str, Running] = {}

    def start(self, services: Sequence[Service], group: str = "") -> dict[str, Running]:
        """Start `services`, wait until all are healthy; on failure stop them and raise."""
        started = [self.spawn(s, group) for s in services]
        try:
            self.wait_healthy(started)
        except BaseException:
            self.stop()
            raise
        return {r.name: r for r in started}

    def spawn(self, service: Service, group: str = "") -> Running:
        """Start one service's process (no wait); its endpoint is known from here on."""
        home = self.session.path / service.name
        home.mkdir(parents=True, exist_ok=True)
        launch = service.launch(home)
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{service.name}.log"
        proc = None
        t0 = time.monotonic()
        if launch.argv:
            proc = self._spawn(launch, home, log)
        running = Running(service, launch, proc, log, start_s=t0)
        self.running[service.name] = running
        pid = proc.pid if proc else 0
        self.session.record(
            ServiceRecord(
                service.name,
                pid,
                procs.start_time(pid) if pid else None,
                launch.expect,
                launch.endpoint,
                str(log),
                group,
            )
        )
        return running

    def wait_healthy(self, started: list[Running]) -> None:
        """Poll until every service is healthy; raise if one exits or times out."""
        deadline = {r.name: r.start_s + r.service.timeout_s for r in started}
        waiting = list(started)
        while waiting:
            for running in list(waiting):
                if running.proc is not None and running.proc.poll() is not None:
                    raise InfrastructureError(
                        f"service {running.name} exited with code {running.proc.returncode} "
                        f"while starting: {self.tail(running)} (log: {running.log})"
                    )
                if running.service.healthy(running.launch):
                    running.healthy = True
                    running.start_s = time.monotonic() - running.start_s
                    waiting.remove(running)
                elif time.monotonic() > deadline[running.name]:
                    raise InfrastructureError(
                        f"service {running.name} was not healthy within "
                        f"{running.service.timeout_s:.0f} s: {self.tail(running)} "
                        f"(log: {running.log})"
                    )
            if waiting:
                time.sleep(_POLL_S)

    def tail(self, running: Running, lines: int = 6) -> str:
        """The last lines of a service's log, with secrets redacted."""
        try:
            text = running.log.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return "(no log)"
        return redact(" | ".join(text), self.secrets) or "(empty log)"

    def stop_one(self, name: str, grace_s: float = 10.0) -> None:
        """Stop one service's process group (it stays known, so `restart` can bring it back)."""
        running = self._get(name)
        if running.proc is not None:
            if running.proc.poll() is None:
                procs.terminate([running.proc.pid], grace_s)
            running.proc.wait()
        running.healthy = False

    def alive(self, name: str) -> bool:
        """Whether the service's process is running (True for a service without a process)."""
        running = self._get(name)
        return running.proc is None or running.proc.poll() is None

    def restart(self, name: str, wait: bool = True) -> Running:
        """Start a stopped (or dead) service again with the SAME launch: argv, ports, data.

        A running service is left alone. With `wait`, returns once it is healthy again.
        """
        old = self._get(name)
        if old.proc is not None and old.proc.poll() is None:
            try:  # a process killed a moment ago may still be exiting
                old.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                return old
        if old.proc is not None:
            procs.terminate([old.proc.pid], 1.0)  # whatever is left of its process group
        launch = old.launch
        home = self.session.path / name
        home.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        proc = self._spawn(launch, home, old.log)
        running = Running(old.service, launch, proc, old.log, start_s=t0)
        self.running[name] = running
        self.session.record(
            ServiceRecord(
                name, proc.pid, procs.start_time(proc.pid), launch.expect, launch.endpoint,
                str(old.log), "",
            )
        )  # fmt: skip
        if wait:
            self.wait_healthy([running])
        return running

    def _get(self, name: str) -> Running:
        if name not in self.running:
            known = ", ".join(sorted(self.running)) or "none"
            raise InfrastructureError(f"no service {name!r} in this session (services: {known})")
        return self.running[name]

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop every service (reverse start order), then anything else of the session."""
        for running in reversed(list(self.running.values())):
            if running.proc is not None and running.proc.poll() is None:
                procs.terminate([running.proc.pid], grace_s)
            if running.proc is not None:
                running.proc.wait()
        procs.stop_session(self.session.id, grace_s)
        for running in self.running.values():
            redact_file(running.log, self.secrets)
        self.running.clear()


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret replaced by `***`."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def redact_file(path: Path, secrets: Sequence[str]) -> None:
    """Rewrite `path` with every secret replaced (a no-op when none occurs)."""
    if not secrets or not path.is_file():
        return
    data = path.read_bytes()
    clean = data
    for secret in secrets:
        clean = clean.replace(secret.encode(), b"***")
    if clean != data:
        path.write_bytes(clean)


def endpoints(running: Mapping[str, Running]) -> dict[str, str]:
    """Service name -> endpoint."""
    return {name: r.launch.endpoint for name, r in running.items()}
