"""The interface every service implements, and the small probes their health checks use."""

from __future__ import annotations

import contextlib
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Launch:
    """How to start one service: its command (empty for a service without a process)."""

    argv: tuple[str, ...]
    endpoint: str
    expect: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)
    details: Mapping[str, str] = field(default_factory=dict)


class Service(Protocol):
    """A real process certify starts, checks and stops for the cells that need it."""

    @property
    def name(self) -> str:
        """The service's name in pid files, logs and `platform status`."""
        ...

    @property
    def timeout_s(self) -> float:
        """How long it may take to become healthy."""
        ...

    def launch(self, home: Path) -> Launch:
        """Allocate ports, write config under `home` and say how to start the service."""
        ...

    def healthy(self, launch: Launch) -> bool:
        """Whether the started service answers as it should (called until true or timeout)."""
        ...


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports (held open together so they differ)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((LOOPBACK, 0))
            socks.append(sock)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


def tcp_open(port: int, host: str = LOOPBACK) -> bool:
    """Whether something accepts connections on host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1.0):
        return True
    return False


def http_status(url: str, timeout_s: float = 2.0) -> int | None:
    """The HTTP status `url` answers with (None when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def http_json(url: str, timeout_s: float = 2.0) -> Any:
    """The JSON body `url` answers with, or None."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None
