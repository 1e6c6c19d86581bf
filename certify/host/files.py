"""Atomic file writes: a reader (or a killed run) never sees half a file."""

from __future__ import annotations

import json
import os
from pathlib import Path


def atomic_write(path: Path, text: str) -> None:
    """Write `text` via a hidden temporary file beside `path`, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def atomic_write_json(path: Path, data: object, indent: int | None = 1) -> None:
    """`data` as JSON text at `path`, atomically (values JSON cannot hold become strings)."""
    atomic_write(path, json.dumps(data, indent=indent, default=str) + "\n")
