"""Every name a cell makes in a service it shares with other cells (and other runs).

Cells of a run share one metastore, one object store and one SQL catalog; runs may share a
platform (`certify platform up`, a remote cluster). So each name a cell creates there derives
from (run id, cell id): unique per cell and run, the same again for a resumed run (it keeps its
run id). Scenarios get these names from fixtures (`database`), never spell them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "certify_"  # every cell database starts so (the interop suite looks them up by it)
DIGEST_CHARS = 16  # 64 bits of sha256: collisions among a platform's cells are not a concern
ADHOC_SCOPE = "adhoc"  # the scope of a cell run by hand (pytest's default --certify-run-id)
KEEP_VAR = "CERTIFY_KEEP"  # "1": leave what cells made in shared services (`certify run --keep`)


def database_name(run_id: str, cell_id: str) -> str:
    """The cell's private database / namespace in run `run_id`: `certify_` + a short digest.

    Lower-case letters and digits after a letter: a valid Hive database, Iceberg REST / SQL
    namespace and S3 key segment.
    """
    # JSON keeps the pair unambiguous ("a,b" + "c" is not "a" + "b,c")
    key = json.dumps([run_id, cell_id], ensure_ascii=True)
    return PREFIX + hashlib.sha256(key.encode()).hexdigest()[:DIGEST_CHARS]


def run_database_name(run_id: str) -> str:
    """The one database the cells of run `run_id` share on purpose (cross-line interop tables).

    No cell drops it: a later cell of another Spark line reads what an earlier one wrote there.
    It lives as long as the run's metastore (the local platform's ends with the run).
    """
    return PREFIX + "run_" + hashlib.sha256(run_id.encode()).hexdigest()[:DIGEST_CHARS]


def keep_requested(env: Mapping[str, str] | None = None) -> bool:
    """Whether cells must leave what they made in shared services (`KEEP_VAR` is "1")."""
    return (os.environ if env is None else env).get(KEEP_VAR, "") == "1"


@dataclass(frozen=True)
class CellNames:
    """The names of everything one cell makes in shared services, all from its database name."""

    database: str

    @classmethod
    def of(cls, run_id: str, cell_id: str) -> CellNames:
        """The names of cell `cell_id` in run `run_id`."""
        return cls(database_name(run_id, cell_id))

    @property
    def s3_prefix(self) -> str:
        """The key prefix (with its `/`) every object of the cell lives under, in any bucket."""
        return f"{self.database}/"

    def s3_key(self, *parts: str) -> str:
        """A key under the cell's prefix: `s3_key("smoke", "a.bin")` is `<database>/smoke/a.bin`."""
        return self.s3_prefix + "/".join(p.strip("/") for p in parts)

    @property
    def sql_warehouse_prefix(self) -> str:
        """The key prefix of the cell's SQL-catalog warehouse in an object store."""
        return self.s3_key("sql")

    def table(self, name: str) -> str:
        """`database.name`: a table of the cell's database."""
        return f"{self.database}.{name}"
