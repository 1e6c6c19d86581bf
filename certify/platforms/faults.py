"""The fault-target interface: what a platform lets an experiment do to one cell's services.

Experiments name roles and service kinds, never local specifics (pids, folders), so another
platform (Kubernetes, through chaostoolkit-kubernetes) can supply its own target.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

# what `kill(role)` accepts
ROLES = ("executor", "worker", "driver", "connect-server")


@dataclass(frozen=True)
class ServiceInfo:
    """One service of the cell as the target sees it now."""

    name: str
    kind: str
    pid: int | None
    endpoint: str
    healthy: bool

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (for the control channel)."""
        return asdict(self)


class FaultTarget(Protocol):
    """Faults a platform can inject into one cell's services, and how it puts everything back."""

    def services(self) -> list[ServiceInfo]:
        """The cell's services: name, kind, pid, endpoint, healthy."""
        ...

    def stop_service(self, name: str) -> dict[str, Any]:
        """Stop a service (an outage); returns evidence (pid, stopped_at)."""
        ...

    def start_service(self, name: str) -> dict[str, Any]:
        """Start a stopped or killed service on the same endpoint and wait until it is healthy."""
        ...

    def kill(self, role: str) -> dict[str, Any]:
        """kill -9 one process of `role` (see ROLES) that belongs to this cell; returns evidence."""
        ...

    def proxy(self, service: str) -> str:
        """An endpoint in front of `service` through which network faults can be injected."""
        ...

    def latency(self, service: str, ms: float, jitter: float = 0.0) -> dict[str, Any]:
        """Add latency between clients of the proxy and `service`."""
        ...

    def loss(self, service: str, fraction: float) -> dict[str, Any]:
        """Lose (stall) this fraction of the traffic to `service`."""
        ...

    def partition(self, service: str) -> dict[str, Any]:
        """Nothing flows between the proxy's clients and `service`."""
        ...

    def heal(self, service: str | None = None) -> dict[str, Any]:
        """End the network faults of `service` (of every proxy when None); returns proxy stats."""
        ...

    def restore(self) -> list[str]:
        """Put everything back (start stopped services, close proxies); what it had to do."""
        ...
