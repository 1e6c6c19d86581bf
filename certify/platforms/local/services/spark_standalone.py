"""Spark standalone: a master and N workers started with the line's own `spark-class`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from certify.platforms.local.services.base import LOOPBACK, Launch, free_ports, http_json
from certify.platforms.sparkconf import jvm_options

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def spark_env(spark_home: Path) -> dict[str, str]:
    """Environment of every Spark daemon: its home, loopback only, modest daemon memory."""
    return {
        "SPARK_HOME": str(spark_home),
        # the web UIs bind SPARK_LOCAL_IP (all interfaces when unset)
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_DAEMON_MEMORY": "512m",
        "SPARK_DAEMON_JAVA_OPTS": jvm_options(),
    }


@dataclass
class SparkMaster:
    """The standalone master of one Spark line."""

    spark_home: Path
    name: str = "spark-master"
    timeout_s: float = 60.0
    port: int = 0
    webui: int = 0

    def launch(self, home: Path) -> Launch:
        """`spark-class ...Master --host 127.0.0.1 --port P --webui-port W`."""
        self.port, self.webui = free_ports(2)
        argv = (
            str(self.spark_home / "bin" / "spark-class"),
            MASTER_CLASS,
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--webui-port",
            str(self.webui),
        )
        return Launch(
            argv,
            f"spark://{LOOPBACK}:{self.port}",
            expect=MASTER_CLASS,
            env=spark_env(self.spark_home),
            ports={"rpc": self.port, "webui": self.webui},
            details={"webui": f"http://{LOOPBACK}:{self.webui}"},
        )

    def healthy(self, launch: Launch) -> bool:
        """The master's JSON page says ALIVE."""
        state = http_json(f"http://{LOOPBACK}:{self.webui}/json/")
        return isinstance(state, dict) and state.get("status") == "ALIVE"


@dataclass
class SparkWorker:
    """One standalone worker registered with `master`."""

    spark_home: Path
    master: SparkMaster
    index: int = 1
    cores: int = 1
    memory: str = "1g"
    timeout_s: float = 60.0
    port: int = 0
    suffix: str = ""
    opts: str = ""  # SPARK_WORKER_OPTS, e.g. the GPUs it offers (gpu=nvidia cells)

    @property
    def name(self) -> str:
        """`spark-worker-1`, `spark-worker-2`, ... (`@3.5` appended when lines share a run)."""
        return f"spark-worker-{self.index}{self.suffix}"

    def launch(self, home: Path) -> Launch:
        """`spark-class ...Worker` with its own work folder (executor logs) under `home`."""
        self.port, webui = free_ports(2)
        (home / "work").mkdir(parents=True, exist_ok=True)
        argv = (
            str(self.spark_home / "bin" / "spark-class"),
            WORKER_CLASS,
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--webui-port",
            str(webui),
            "--cores",
            str(self.cores),
            "--memory",
            self.memory,
            "--work-dir",
            str(home / "work"),
            f"spark://{LOOPBACK}:{self.master.port}",
        )
        return Launch(
            argv,
            f"{LOOPBACK}:{self.port}",
            expect=WORKER_CLASS,
            env={
                **spark_env(self.spark_home),
                **({"SPARK_WORKER_OPTS": self.opts} if self.opts else {}),
            },
            ports={"rpc": self.port, "webui": webui},
        )

    def healthy(self, launch: Launch) -> bool:
        """The master lists this worker as ALIVE."""
        state = http_json(f"http://{LOOPBACK}:{self.master.webui}/json/")
        if not isinstance(state, dict):
            return False
        return any(
            w.get("port") == self.port and w.get("state") == "ALIVE"
            for w in state.get("workers", [])
        )
