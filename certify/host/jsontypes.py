"""JSON as parsed at an edge (YAML, journals, locust's files, report.json): typed, not `Any`."""

from __future__ import annotations

from typing import Union

JsonValue = Union[None, bool, int, float, str, list["JsonValue"], dict[str, "JsonValue"]]  # noqa: UP007
JsonObject = dict[str, JsonValue]
