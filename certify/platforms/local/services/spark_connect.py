"""The Spark Connect server of a Spark 4 line, configured for the catalog of its cells."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from certify.platforms.local.services.base import LOOPBACK, Launch, free_port, tcp_open
from certify.platforms.local.services.spark_standalone import spark_env
from certify.platforms.sparkconf import jvm_options

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


@dataclass
class SparkConnect:
    """`spark-submit --class SparkConnectServer` in local mode, gRPC on loopback."""

    spark_home: Path
    conf: Mapping[str, str] = field(default_factory=dict)
    name: str = "spark-connect"
    timeout_s: float = 120.0
    env: Mapping[str, str] = field(default_factory=dict)  # e.g. the Glue client's identity
    port: int = 0

    def launch(self, home: Path) -> Launch:
        """The server's command; its catalog settings are static, so they go here."""
        self.port = free_port()
        conf = {
            "spark.connect.grpc.binding.port": str(self.port),
            # without this the gRPC server binds every interface
            "spark.connect.grpc.binding.address": LOOPBACK,
            "spark.ui.enabled": "false",
            "spark.driver.host": LOOPBACK,
            "spark.driver.bindAddress": LOOPBACK,
            **self.conf,
        }
        argv = [str(self.spark_home / "bin" / "spark-submit"), "--master", "local[2]"]
        argv += ["--driver-memory", "1g", "--name", "certify-spark-connect"]
        if jvm_options():
            argv += ["--driver-java-options", jvm_options()]
        jars = conf.pop("spark.jars", "")
        if jars:  # files resolved by certify (never coordinates for Ivy to fetch)
            argv += ["--jars", jars]
        for key, value in conf.items():
            argv += ["--conf", f"{key}={value}"]
        argv += ["--class", SERVER_CLASS, "spark-internal"]
        return Launch(
            tuple(argv),
            f"sc://{LOOPBACK}:{self.port}",
            expect=SERVER_CLASS,
            env={**spark_env(self.spark_home), **self.env},
            ports={"grpc": self.port},
        )

    def healthy(self, launch: Launch) -> bool:
        """The gRPC port accepts connections."""
        return tcp_open(self.port)
