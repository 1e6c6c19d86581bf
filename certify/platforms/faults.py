"""The fault-target interface: what a platform lets an experiment do to one cell's services.

Experiments name roles and service kinds, never local specifics (pids, folders), so another
platform (Kubernetes, through chaostoolkit-kubernetes) can supply its own target.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol, TypedDict

from certify.results.findings import JsonObject

# what `kill(role)` accepts
ROLES = ("executor", "worker", "driver", "connect-server")

ProxyStats = dict[str, float]  # what one fault proxy measured (chunks delayed, ms added, ...)


class FaultEvidence(TypedDict, total=False):
    """What a fault operation did, as the experiment's journal keeps it (plain JSON).

    `at` is when the fault began (epoch seconds); `confirmed` and `evidence` say whether it
    really happened, where the target can tell (network faults are confirmed on heal, from
    the proxies' `stats`).
    """

    target: str
    pid: int | None
    at: float
    confirmed: bool
    evidence: str
    endpoint: str
    started_at: float
    healthy_at: float
    latency_ms: float
    jitter_ms: float
    loss: float
    stats: dict[str, ProxyStats]


@dataclass(frozen=True)
class ServiceInfo:
    """One service of the cell as the target sees it now."""

    name: str
    kind: str
    pid: int | None
    endpoint: str
    healthy: bool

    def to_json(self) -> JsonObject:
        """Plain JSON form (for the control channel)."""
        return asdict(self)


class FaultTarget(Protocol):
    """Faults a platform can inject into one cell's services, and how it puts everything back."""

    def services(self) -> list[ServiceInfo]:
        """The cell's services: name, kind, pid, endpoint, healthy."""
        ...

    def stop_service(self, name: str) -> FaultEvidence:
        """Stop a service (an outage); returns evidence (pid, stopped_at)."""
        ...

    def start_service(self, name: str) -> FaultEvidence:
        """Start a stopped or killed service on the same endpoint and wait until it is healthy."""
        ...

    def kill(self, role: str) -> FaultEvidence:
        """kill -9 one process of `role` (see ROLES) that belongs to this cell; returns evidence."""
        ...

    def proxy(self, service: str) -> str:
        """An endpoint in front of `service` through which network faults can be injected."""
        ...

    def latency(self, service: str, ms: float, jitter: float = 0.0) -> FaultEvidence:
        """Add latency between clients of the proxy and `service`."""
        ...

    def loss(self, service: str, fraction: float) -> FaultEvidence:
        """Lose (stall) this fraction of the traffic to `service`."""
        ...

    def partition(self, service: str) -> FaultEvidence:
        """Nothing flows between the proxy's clients and `service`."""
        ...

    def heal(self, service: str | None = None) -> FaultEvidence:
        """End the network faults of `service` (of every proxy when None); returns proxy stats."""
        ...

    def restore(self) -> list[str]:
        """Put everything back (start stopped services, close proxies); what it had to do."""
        ...

    def leftovers(self) -> list[str]:
        """What of the target's own is still there after `restore` (open proxies, strays)."""
        ...
