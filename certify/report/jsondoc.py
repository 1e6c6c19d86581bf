"""Reading JSON documents back (report.json, plan.json, history entries) once they are parsed.

Each helper narrows one value to the type it must have and hands it back unchanged (an int
stays an int, so that a report read back renders the same bytes); a value of another type
raises TypeError, which the readers turn into "unusable report" the way they do a missing key.
"""

from __future__ import annotations

from certify.results.findings import JsonObject, JsonValue


def obj(value: JsonValue, what: str) -> JsonObject:
    """`value` as a JSON object."""
    if not isinstance(value, dict):
        raise TypeError(f"{what}: not an object ({type(value).__name__})")
    return value


def objs(value: JsonValue, what: str) -> list[JsonObject]:
    """`value` as a list of JSON objects."""
    return [obj(item, what) for item in array(value, what)]


def array(value: JsonValue, what: str) -> list[JsonValue]:
    """`value` as a JSON array."""
    if not isinstance(value, list):
        raise TypeError(f"{what}: not an array ({type(value).__name__})")
    return value


def text(value: JsonValue, what: str) -> str:
    """`value` as a string."""
    if not isinstance(value, str):
        raise TypeError(f"{what}: not a string ({type(value).__name__})")
    return value


def texts(value: JsonValue, what: str) -> list[str]:
    """`value` as a list of strings."""
    return [text(item, what) for item in array(value, what)]


def number(value: JsonValue, what: str) -> float:
    """`value` as a number (an int is kept as it is)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what}: not a number ({type(value).__name__})")
    return value


def integer(value: JsonValue, what: str) -> int:
    """`value` as an integer."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}: not an integer ({type(value).__name__})")
    return value
