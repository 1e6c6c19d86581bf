"""The local platform's fault target: acts only on the processes of one cell of one session.

A process is a fair target only if it carries the session's marker (CERTIFY_SESSION in its
environment) AND belongs to the cell: it is one of the cell's services, a descendant of one
(an executor of the cell's worker), or a process of this experiment's workload (it carries the
experiment's own marker too).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from certify.errors import InfrastructureError
from certify.host import procs
from certify.plan import PlannedCell
from certify.platforms.faults import ROLES, FaultEvidence, ProxyStats, ServiceInfo
from certify.platforms.local.services.supervisor import Running

if TYPE_CHECKING:
    from certify.platforms.local.proxy import FaultProxy

# the environment variable that marks this experiment's workload processes
RUN_VAR = "CERTIFY_CHAOS_RUN"
_EXECUTOR = "CoarseGrainedExecutorBackend"
_DRIVER = "org.apache.spark.deploy.SparkSubmit"
_PORT_RE = re.compile(r"^(?P<scheme>[a-z0-9+.-]+://)?(?P<host>[^:/]+):(?P<port>\d+)")


def _environ(pid: int) -> list[bytes]:
    try:
        return (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return []


def _parent(pid: int) -> int:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rfind(")") + 2 :].split()[1])


def _descends(pid: int, ancestors: set[int]) -> bool:
    seen = 0
    while pid > 1 and seen < 64:
        if pid in ancestors:
            return True
        pid, seen = _parent(pid), seen + 1
    return False


def _gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # not its cmdline: that empties while the process is still exiting (not yet waitable)
        if not (Path("/proc") / str(pid)).exists() or procs._zombie(pid):
            return True
        time.sleep(0.05)
    return False


class _Session(Protocol):
    """What the target needs of a LocalSession (which imports this module: no cycle)."""

    @property
    def session_id(self) -> str: ...

    @property
    def running(self) -> Mapping[str, Running]: ...

    def endpoints_for(self, planned: PlannedCell) -> Mapping[str, str]: ...

    def service_alive(self, name: str) -> bool: ...

    def kind_of(self, name: str) -> str: ...

    def stop_service(self, name: str, grace_s: float = 10.0) -> None: ...

    def restart_service(self, name: str) -> Running: ...


class LocalFaultTarget:
    """Faults for one cell of a LocalSession: kills, outages and proxies; and their undoing."""

    def __init__(self, session: _Session, planned: PlannedCell, run_token: str = "") -> None:
        self.session = session
        self.planned = planned
        self.run_token = run_token
        self.proxies: dict[str, FaultProxy] = {}
        self.baseline = {s.name: s for s in self.services()}

    # ---- what there is ---------------------------------------------------------------------

    def _names(self) -> list[str]:
        return list(self.session.endpoints_for(self.planned))

    def services(self) -> list[ServiceInfo]:
        """The cell's services now."""
        out = []
        for name in self._names():
            running = self.session.running[name]
            alive = self.session.service_alive(name)
            pid = running.proc.pid if running.proc is not None and alive else None
            healthy = alive and bool(running.service.healthy(running.launch))
            out.append(
                ServiceInfo(name, self.session.kind_of(name), pid, running.launch.endpoint, healthy)
            )
        return out

    def resolve(self, service: str) -> str:
        """The cell's service called `service`, or the first whose name starts with it."""
        names = self._names()
        if service in names:
            return service
        for name in names:
            if name.startswith(service) or self.session.kind_of(name) == service:
                return name
        raise InfrastructureError(
            f"cell {self.planned.cell.id} has no service {service!r} (it has: {', '.join(names)})"
        )

    # ---- outages and kills -----------------------------------------------------------------

    def stop_service(self, name: str) -> FaultEvidence:
        """Stop one of the cell's services (SIGTERM, then SIGKILL)."""
        name = self.resolve(name)
        running = self.session.running[name]
        pid = running.proc.pid if running.proc is not None else None
        at = time.time()  # the outage starts with the stop, not when the process is gone
        self.session.stop_service(name, grace_s=5.0)
        gone = pid is None or _gone(pid, 1.0)
        return {
            "target": name,
            "pid": pid,
            "at": at,
            "confirmed": gone,
            "evidence": f"{name} pid {pid} stopped; port closed: {gone}",
        }

    def start_service(self, name: str) -> FaultEvidence:
        """Start the service again on the same endpoint; returns when it is healthy."""
        name = self.resolve(name)
        t0 = time.time()
        running = self.session.restart_service(name)
        return {
            "target": name,
            "pid": running.proc.pid if running.proc else None,
            "endpoint": running.launch.endpoint,
            "started_at": t0,
            "healthy_at": time.time(),
        }

    def kill(self, role: str) -> FaultEvidence:
        """kill -9 one process of `role` that belongs to this cell."""
        if role not in ROLES:
            raise InfrastructureError(f"unknown role {role!r} (valid: {', '.join(ROLES)})")
        pid, what = self._victim(role)
        command = procs.cmdline(pid)[:160]
        at = time.time()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        gone = _gone(pid)
        return {
            "target": what,
            "pid": pid,
            "at": at,
            "confirmed": gone,
            "evidence": f"kill -9 {pid} ({command}); process gone: {gone}",
        }

    def _victim(self, role: str, wait_s: float = 60.0) -> tuple[int, str]:
        deadline = time.monotonic() + wait_s
        while True:
            found = self._find(role)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise InfrastructureError(
                    f"no {role} process of cell {self.planned.cell.id} found within {wait_s:.0f} s"
                )
            time.sleep(0.2)

    def _find(self, role: str) -> tuple[int, str] | None:
        if role in ("worker", "connect-server"):
            kind = "spark-standalone" if role == "worker" else "spark-connect"
            for info in self.services():
                if info.kind == kind and info.pid and (role != "worker" or "worker" in info.name):
                    return info.pid, info.name
            return None
        marked = procs.marked(self.session.session_id)
        if role == "executor":
            workers = {i.pid for i in self.services() if "worker" in i.name and i.pid}
            for pid in sorted(marked):
                if _EXECUTOR in procs.cmdline(pid) and _descends(pid, workers):
                    return pid, "executor"
            return None
        needle = f"{RUN_VAR}={self.run_token}".encode()
        for pid in sorted(marked):
            if _DRIVER in procs.cmdline(pid) and self.run_token and needle in _environ(pid):
                return pid, "driver"
        return None

    # ---- network ---------------------------------------------------------------------------

    def proxy(self, service: str) -> str:
        """A fault proxy in front of `service` (`NAME` or `NAME/PORT-NAME`); its endpoint."""
        from certify.platforms.local.proxy import FaultProxy

        name, _, port_name = service.partition("/")
        name = self.resolve(name)
        key = f"{name}/{port_name}" if port_name else name
        running = self.session.running[name]
        endpoint = str(running.launch.endpoint)
        if port_name:
            port = running.launch.ports.get(port_name)
            if port is None:
                raise InfrastructureError(f"service {name} has no port {port_name!r}")
            endpoint = f"http://127.0.0.1:{port}"
        match = _PORT_RE.match(endpoint)
        if match is None:
            raise InfrastructureError(f"service {name}: cannot proxy endpoint {endpoint!r}")
        if key not in self.proxies:
            proxy = FaultProxy(match["host"], int(match["port"]), name=key)
            proxy.start()
            self.proxies[key] = proxy
        return f"{match['scheme'] or ''}{self.proxies[key].endpoint}"

    def _proxy(self, service: str) -> FaultProxy:
        for key, proxy in self.proxies.items():
            if key == service or key.startswith(service):
                return proxy
        self.proxy(service)
        return self._proxy(service)

    def latency(self, service: str, ms: float, jitter: float = 0.0) -> FaultEvidence:
        """Add `ms` (+/- `jitter`) to every chunk through the service's proxy."""
        self._proxy(service).latency(ms, jitter)
        return {"target": service, "at": time.time(), "latency_ms": ms, "jitter_ms": jitter}

    def loss(self, service: str, fraction: float) -> FaultEvidence:
        """Stall this fraction of the chunks through the service's proxy."""
        self._proxy(service).loss(fraction)
        return {"target": service, "at": time.time(), "loss": fraction}

    def partition(self, service: str) -> FaultEvidence:
        """Blackhole the service's proxy."""
        self._proxy(service).partition()
        return {"target": service, "at": time.time()}

    def heal(self, service: str | None = None) -> FaultEvidence:
        """End network faults on one proxy (or all); their stats as evidence."""
        stats: dict[str, ProxyStats] = {}
        for key, proxy in self.proxies.items():
            if service is None or key == service or key.startswith(service):
                proxy.heal()
                stats[key] = proxy.stats()
        return {"at": time.time(), "stats": stats}

    def proxy_stats(self) -> dict[str, ProxyStats]:
        """Every proxy's stats."""
        return {key: proxy.stats() for key, proxy in self.proxies.items()}

    # ---- putting things back ---------------------------------------------------------------

    def strays(self) -> list[int]:
        """Processes of this experiment's workload still running."""
        if not self.run_token:
            return []
        needle = f"{RUN_VAR}={self.run_token}".encode()
        return [p for p in procs.marked(self.session.session_id) if needle in _environ(p)]

    def restore(self) -> list[str]:
        """Close proxies, start what was running before and is not, stop workload strays."""
        done = []
        for key, proxy in list(self.proxies.items()):
            if proxy.faulty:
                done.append(f"healed proxy {key}")
            proxy.close()
            del self.proxies[key]
        for pid in self.strays():
            done.append(f"stopped stray process {pid} ({procs.cmdline(pid)[:80]})")
            procs.terminate([pid], 5.0)
        for name, before in self.baseline.items():
            if before.healthy and not self.session.service_alive(name):
                self.session.restart_service(name)
                done.append(f"restarted service {name}")
        return done

    def leftovers(self) -> list[str]:
        """Proxies still open and workload processes still running (after `restore`)."""
        found = []
        if self.proxies:
            found.append(f"proxies left open: {', '.join(self.proxies)}")
        strays = self.strays()
        if strays:
            found.append(f"stray processes left: {strays}")
        return found
