"""A Hive Metastore Thrift service from the Hive jars that ship in the pyspark wheel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from certify.platforms.local.services.base import LOOPBACK, Launch, free_port, tcp_open
from certify.platforms.sparkconf import jvm_options

MAIN_CLASS = "LoopbackMetastore"
_SOURCE = Path(__file__).parent / "java" / "LoopbackMetastore.java"

_LOG4J = """status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
logger.hms.name = org.apache.hadoop.hive.metastore
logger.hms.level = info
"""


def hive_site(properties: dict[str, str]) -> str:
    """A hive-site.xml holding `properties`."""
    rows = "".join(
        f"  <property><name>{escape(k)}</name><value>{escape(v)}</value></property>\n"
        for k, v in properties.items()
    )
    return f'<?xml version="1.0"?>\n<configuration>\n{rows}</configuration>\n'


@dataclass
class HiveMetastore:
    """`java ... HiveMetaStore -p P` on an embedded Derby database under the service's home."""

    spark_home: Path
    name: str = "hive-metastore"
    timeout_s: float = 120.0
    port: int = 0

    def launch(self, home: Path) -> Launch:
        """Write hive-site.xml and log4j2.properties, then start the metastore's JVM."""
        self.port = free_port()
        conf = home / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        warehouse = home / "warehouse"
        (conf / "hive-site.xml").write_text(
            hive_site(
                {
                    "javax.jdo.option.ConnectionURL": (
                        f"jdbc:derby:;databaseName={home / 'metastore_db'};create=true"
                    ),
                    "datanucleus.schema.autoCreateAll": "true",
                    "hive.metastore.schema.verification": "false",
                    "hive.metastore.warehouse.dir": warehouse.as_uri(),
                    "hive.metastore.event.db.notification.api.auth": "false",
                }
            )
        )
        (conf / "log4j2.properties").write_text(_LOG4J)
        argv = (
            "java",
            "-Xmx512m",
            *jvm_options().split(),
            # without it Hive's log4j setup dies on a missing com.lmax.disruptor class
            "-Dlog4j2.contextSelector=org.apache.logging.log4j.core.selector.ClassLoaderContextSelector",
            f"-Dlog4j.configurationFile={conf / 'log4j2.properties'}",
            f"-Dderby.system.home={home}",
            "-cp",
            f"{conf}:{self.spark_home / 'jars'}/*",
            # HiveMetaStore.main binds every interface; this launcher binds loopback only
            str(_SOURCE),
            LOOPBACK,
            str(self.port),
        )
        return Launch(
            argv,
            f"thrift://{LOOPBACK}:{self.port}",
            expect=MAIN_CLASS,
            ports={"thrift": self.port},
            details={"warehouse": warehouse.as_uri()},
        )

    def healthy(self, launch: Launch) -> bool:
        """The Thrift port accepts connections (it opens once the schema exists)."""
        return tcp_open(self.port)
