"""The loopback fault proxy: data stays exact, and each fault is really there."""

from __future__ import annotations

import hashlib
import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.platforms.local.proxy import FaultProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture(scope="module")
def echo() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(echo: int) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", echo, "echo") as p:
        yield p


def _connect(proxy: FaultProxy, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout)


def _round_trip(sock: socket.socket, payload: bytes) -> bytes:
    sender = threading.Thread(target=sock.sendall, args=(payload,))
    sender.start()
    got = bytearray()
    while len(got) < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    sender.join()
    return bytes(got)


def test_pass_through_is_exact(proxy: FaultProxy) -> None:
    payload = os.urandom(3 * 1024 * 1024)
    with _connect(proxy) as sock:
        got = _round_trip(sock, payload)
    assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()
    stats = proxy.stats()
    assert stats["bytes_up"] == len(payload)
    assert stats["connections"] == 1
    assert not proxy.faulty


def test_latency_is_added_each_way_and_measured(proxy: FaultProxy) -> None:
    with _connect(proxy) as sock:
        _round_trip(sock, b"warm")
        proxy.latency(150)
        assert proxy.faulty
        t0 = time.monotonic()
        assert _round_trip(sock, b"ping") == b"ping"
        slow = time.monotonic() - t0
        proxy.heal()
        t0 = time.monotonic()
        assert _round_trip(sock, b"pong") == b"pong"
        fast = time.monotonic() - t0
    assert slow >= 0.3  # 150 ms up and 150 ms down
    assert fast < slow
    assert proxy.stats()["added_ms_max"] >= 150


def test_latency_is_pipelined_not_a_throughput_cap(proxy: FaultProxy) -> None:
    proxy.latency(100)
    with _connect(proxy) as sock:
        t0 = time.monotonic()
        payload = os.urandom(2 * 1024 * 1024)  # about 32 chunks: serialised delays would take 3 s+
        assert _round_trip(sock, payload) == payload
        took = time.monotonic() - t0
    assert took >= 0.2
    assert proxy.stats()["delayed_chunks"] >= 2


def test_partition_holds_data_and_heal_delivers_it(proxy: FaultProxy) -> None:
    with _connect(proxy, timeout=0.5) as sock:
        assert _round_trip(sock, b"before") == b"before"
        proxy.partition()
        sock.sendall(b"held")
        with pytest.raises(socket.timeout):
            sock.recv(16)
        # a new connection is accepted but reaches nothing either
        with _connect(proxy, timeout=0.5) as other:
            other.sendall(b"x")
            with pytest.raises(socket.timeout):
                other.recv(16)
        proxy.heal()
        sock.settimeout(5)
        assert sock.recv(16) == b"held"
    assert proxy.stats()["partitioned_s"] >= 0.5


def test_loss_stalls_chunks_without_losing_data(proxy: FaultProxy) -> None:
    proxy.loss(1.0)
    with _connect(proxy) as sock:
        t0 = time.monotonic()
        assert _round_trip(sock, b"data") == b"data"
        took = time.monotonic() - t0
    stats = proxy.stats()
    assert stats["lost_chunks"] >= 2
    assert took >= 0.4  # one retransmission timeout each way


def test_reset_aborts_open_connections(proxy: FaultProxy) -> None:
    sock = _connect(proxy)
    try:
        assert _round_trip(sock, b"a") == b"a"
        proxy.reset()
        with pytest.raises((ConnectionError, OSError)):
            sock.sendall(b"b")
            if not sock.recv(16):
                raise ConnectionResetError("closed")
    finally:
        sock.close()
    assert proxy.stats()["resets"] == 1
    with _connect(proxy) as again:
        assert _round_trip(again, b"c") == b"c"


def test_close_stops_listening(echo: int) -> None:
    proxy = FaultProxy("127.0.0.1", echo)
    proxy.start()
    port = proxy.port
    proxy.close()
    proxy.close()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert not any(t.name == f"certify-{proxy.name}" for t in threading.enumerate())


@pytest.mark.parametrize("bad", ["10.0.0.1", "example.org"])
def test_only_loopback_upstreams(bad: str) -> None:
    with pytest.raises(ValueError, match="not loopback"):
        FaultProxy(bad, 80)


def test_bad_fault_values_are_refused(proxy: FaultProxy) -> None:
    with pytest.raises(ValueError, match="fraction"):
        proxy.loss(1.5)
    with pytest.raises(ValueError, match="delay_ms"):
        proxy.latency(-1)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=5000), min_size=1, max_size=12),
    delay=st.sampled_from([0, 5, 20]),
    jitter=st.sampled_from([0, 5]),
    loss=st.sampled_from([0.0, 0.3]),
)
def test_any_fault_mix_keeps_bytes_in_order(
    proxy: FaultProxy, chunks: list[bytes], delay: int, jitter: int, loss: float
) -> None:
    proxy.latency(delay, jitter)
    proxy.loss(loss)
    try:
        with _connect(proxy, timeout=15) as sock:
            payload = b"".join(chunks)
            assert _round_trip(sock, payload) == payload
    finally:
        proxy.heal()
