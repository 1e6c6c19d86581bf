"""One shared suite run against every service: it starts, is healthy, listens on loopback only,
has a pid file, and leaves no process behind when stopped."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from certify.host import procs
from certify.platforms.local.services.base import Service
from certify.platforms.local.services.hive_metastore import HiveMetastore
from certify.platforms.local.services.seaweedfs import SeaweedFS, weed_binary
from certify.platforms.local.services.spark_connect import SparkConnect
from certify.platforms.local.services.spark_standalone import SparkMaster, SparkWorker
from certify.platforms.local.services.sql_catalog import SqlCatalog
from certify.platforms.local.services.supervisor import Supervisor
from certify.platforms.local.state import SessionState

pytestmark = pytest.mark.slow

LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}
SECRET = "planted-" + secrets.token_hex(12)


def _listening(pids: list[int]) -> list[str]:
    """Local addresses (hex, as /proc/net shows them) of sockets the processes listen on."""
    inodes = set()
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        try:
            for fd in fds.iterdir():
                try:
                    link = fd.readlink().as_posix()
                except OSError:
                    continue
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            continue
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.append(fields[1].split(":")[0])
    return found


def _standalone(s35: Path, s41: Callable[[], Path]) -> list[Service]:
    master = SparkMaster(s35)
    return [master, SparkWorker(s35, master)]


FACTORIES: dict[str, Callable[[Path, Callable[[], Path]], list[Service]]] = {
    "spark-standalone": _standalone,
    "hive-metastore": lambda s35, s41: [HiveMetastore(s35)],
    "seaweedfs": lambda s35, s41: [SeaweedFS(weed_binary() or Path("weed"), "key", SECRET)],
    "sql-catalog": lambda s35, s41: [SqlCatalog()],
    "spark-connect": lambda s35, s41: [SparkConnect(s41())],
}


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_a_service_starts_healthy_on_loopback_and_stops_completely(
    kind: str, tmp_path: Path, spark35_home: Path, request: pytest.FixtureRequest
) -> None:
    services = FACTORIES[kind](spark35_home, lambda: request.getfixturevalue("spark41_home"))
    session = SessionState.create("run", tmp_path / "state")
    supervisor = Supervisor(session, tmp_path / "logs", secrets=[SECRET])
    try:
        running = supervisor.start(services)
        assert all(r.healthy for r in running.values())
        recorded = {s.name: s for s in session.services()}
        assert set(recorded) == {s.name for s in services}
        pids = procs.marked(session.id)
        if any(r.proc for r in running.values()):
            assert pids, "the services' processes carry the session marker"
            assert all(recorded[n].alive() for n, r in running.items() if r.proc)
            listening = _listening(pids)
            assert listening, "a service with a process listens somewhere"
            assert set(listening) <= LOOPBACK, f"{kind} listens beyond loopback: {listening}"
    finally:
        supervisor.stop(grace_s=5)
    assert procs.marked(session.id) == []
    for log in (tmp_path / "logs").glob("*.log"):
        assert SECRET not in log.read_text(errors="replace")
    session.stop()
    assert not session.path.exists()


def test_a_service_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    class Broken(SqlCatalog):
        def launch(self, home: Path):  # type: ignore[no-untyped-def]
            from certify.platforms.local.services.base import Launch

            return Launch(("sh", "-c", "echo cannot start >&2; exit 7"), "nowhere", expect="sh")

    session = SessionState.create("run", tmp_path / "state")
    supervisor = Supervisor(session, tmp_path / "logs")
    from certify.errors import InfrastructureError

    with pytest.raises(
        InfrastructureError, match=r"service broken exited with code 7.*cannot start"
    ):
        supervisor.start([Broken(name="broken")])
    assert procs.marked(session.id) == []
    session.stop()
