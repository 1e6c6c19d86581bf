"""A TCP fault proxy on loopback: latency, loss, partition and resets between client and service.

Network faults need the traffic between Spark (or pyiceberg, boto3) and a catalog or object store
to pass through something certify controls. Where the kernel offers `tc netem` in a namespace that
holds the service, that is one way; this kernel has no `sch_netem`, so certify puts a proxy on
127.0.0.1 in front of the service and points the workload's client at the proxy.

The proxy models what the client of a faulty network sees, not packets:
- latency: every chunk is delivered `delay` (plus or minus jitter) after it arrived, pipelined,
  in order; throughput is not capped by the delay;
- loss: a chunk is held for a retransmission timeout (200 ms, doubling while losses repeat, as
  TCP backs off) with the given probability; later chunks queue behind it (head-of-line blocking);
- partition: nothing flows either way, new connections are accepted but get no upstream until
  the partition heals (as SYN retransmissions would), and held data flows after the heal;
- reset: every open connection is aborted (what a restarted peer or a middlebox RST looks like).

Every added delay is measured where it happens, so an experiment can confirm its fault was real.
The event loop runs in a daemon thread; the control methods may be called from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"
_CHUNK = 65536
_QUEUE = 64  # chunks held per direction before the proxy stops reading (backpressure)
_RTO_S = 0.2  # TCP's minimum retransmission timeout on Linux
_RTO_MAX_S = 3.2


@dataclass
class _Faults:
    delay_s: float = 0.0
    jitter_s: float = 0.0
    loss: float = 0.0


@dataclass
class _Stats:
    connections: int = 0
    active: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    delayed_chunks: int = 0
    lost_chunks: int = 0
    added_ms_max: float = 0.0
    partitioned_s: float = 0.0
    resets: int = 0


@dataclass(eq=False)
class _Conn:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class FaultProxy:
    """A loopback TCP proxy in front of `upstream_host:upstream_port` that injects faults."""

    def __init__(self, upstream_host: str, upstream_port: int, name: str = "") -> None:
        if upstream_host not in (LOOPBACK, "localhost"):
            raise ValueError(
                f"fault proxy {name or upstream_port}: upstream {upstream_host} is not loopback; "
                "certify injects network faults only between processes on 127.0.0.1"
            )
        self.upstream = (LOOPBACK, upstream_port)
        self.name = name or f"proxy-{upstream_port}"
        self.port = 0
        self._faults = _Faults()
        self._stats = _Stats()
        self._rng = random.Random()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._flowing: asyncio.Event | None = None
        self._partition_since: float | None = None
        self._conns: set[_Conn] = set()
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        """`127.0.0.1:PORT`, where clients connect instead of the service."""
        return f"{LOOPBACK}:{self.port}"

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Listen on a free loopback port and serve in a daemon thread (returns once listening)."""
        if self._thread is not None:
            return
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._flowing = asyncio.Event()
                self._flowing.set()
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, LOOPBACK, 0, reuse_address=True)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=serve, name=f"certify-{self.name}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread = None
            raise failure[0]

    def close(self) -> None:
        """Stop listening, abort every connection and stop the thread (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for conn in list(self._conns):
                conn.abort()
            self._conns.clear()

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- faults ----------------------------------------------------------------------------

    def latency(self, delay_ms: float, jitter_ms: float = 0.0) -> None:
        """Deliver every chunk `delay_ms` (+/- `jitter_ms`) after it arrived."""
        if delay_ms < 0 or jitter_ms < 0:
            raise ValueError(f"{self.name}: latency needs delay_ms >= 0 and jitter_ms >= 0")
        self._faults.delay_s = delay_ms / 1000.0
        self._faults.jitter_s = min(jitter_ms, delay_ms) / 1000.0

    def loss(self, fraction: float) -> None:
        """Hold a chunk for a retransmission timeout with probability `fraction` (0..1)."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"{self.name}: loss is a fraction between 0 and 1, got {fraction}")
        self._faults.loss = fraction

    def partition(self) -> None:
        """Nothing flows either way until `heal()`; connections stay open."""
        with self._lock:
            if self._partition_since is None:
                self._partition_since = time.monotonic()
        self._call(lambda flowing: flowing.clear())

    def heal(self) -> None:
        """Back to pass-through: no latency, no loss, no partition; held data flows."""
        self._faults = _Faults()
        with self._lock:
            if self._partition_since is not None:
                self._stats.partitioned_s += time.monotonic() - self._partition_since
                self._partition_since = None
        self._call(lambda flowing: flowing.set())

    def reset(self) -> None:
        """Abort every open connection (new ones are accepted as before)."""
        loop = self._loop
        if loop is None:
            return

        done = threading.Event()

        def abort() -> None:
            for conn in list(self._conns):
                conn.abort()
                self._stats.resets += 1
            self._conns.clear()
            done.set()

        loop.call_soon_threadsafe(abort)
        done.wait(5)

    @property
    def faulty(self) -> bool:
        """True while any fault is in force."""
        f = self._faults
        return bool(f.delay_s or f.loss or self._partition_since is not None)

    def stats(self) -> dict[str, float]:
        """What went through and what was done to it (delays as measured, in ms)."""
        s = self._stats
        partitioned = s.partitioned_s
        with self._lock:
            if self._partition_since is not None:
                partitioned += time.monotonic() - self._partition_since
        return {
            "connections": s.connections,
            "active": s.active,
            "bytes_up": s.bytes_up,
            "bytes_down": s.bytes_down,
            "delayed_chunks": s.delayed_chunks,
            "lost_chunks": s.lost_chunks,
            "added_ms_max": round(s.added_ms_max, 3),
            "partitioned_s": round(partitioned, 3),
            "resets": s.resets,
        }

    def _call(self, action: Callable[[asyncio.Event], None]) -> None:
        loop, flowing = self._loop, self._flowing
        if loop is None or flowing is None:
            return
        done = threading.Event()

        def run() -> None:
            action(flowing)
            done.set()

        loop.call_soon_threadsafe(run)
        done.wait(5)

    # ---- data path -------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(writer)
        self._conns.add(conn)
        self._stats.connections += 1
        self._stats.active += 1
        try:
            assert self._flowing is not None
            await self._flowing.wait()  # a partition holds the connection attempt
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            conn.upstream = up_writer
            up = asyncio.ensure_future(self._pipe(reader, up_writer, "up"))
            down = asyncio.ensure_future(self._pipe(up_reader, writer, "down"))
            conn.tasks = [up, down]
            await asyncio.gather(up, down, return_exceptions=True)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._stats.active -= 1
            self._conns.discard(conn)
            conn.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str
    ) -> None:
        queue: asyncio.Queue[tuple[float, float, bytes]] = asyncio.Queue(_QUEUE)
        sender = asyncio.ensure_future(self._send(queue, writer, direction))
        losses = 0
        try:
            while True:
                data = await reader.read(_CHUNK)
                arrived = time.monotonic()
                if not data:
                    await queue.put((arrived, arrived, b""))
                    break
                faults = self._faults
                hold = faults.delay_s
                if faults.jitter_s:
                    hold += self._rng.uniform(-faults.jitter_s, faults.jitter_s)
                if faults.loss and self._rng.random() < faults.loss:
                    hold += min(_RTO_S * 2**losses, _RTO_MAX_S)
                    losses += 1
                    self._stats.lost_chunks += 1
                else:
                    losses = 0
                await queue.put((arrived, arrived + max(hold, 0.0), data))
            await sender
        finally:
            sender.cancel()

    async def _send(
        self,
        queue: asyncio.Queue[tuple[float, float, bytes]],
        writer: asyncio.StreamWriter,
        direction: str,
    ) -> None:
        assert self._flowing is not None
        while True:
            arrived, due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._flowing.wait()
            if not data:
                with contextlib.suppress(OSError):
                    if writer.can_write_eof():
                        writer.write_eof()
                return
            held_ms = (time.monotonic() - arrived) * 1000.0
            if held_ms >= 1.0:
                self._stats.delayed_chunks += 1
                self._stats.added_ms_max = max(self._stats.added_ms_max, held_ms)
            writer.write(data)
            await writer.drain()
            if direction == "up":
                self._stats.bytes_up += len(data)
            else:
                self._stats.bytes_down += len(data)
