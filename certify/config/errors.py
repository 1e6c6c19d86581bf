"""Translate pydantic validation errors into located, actionable `Issue`s."""

from __future__ import annotations

import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from certify.config.source import KeyPath, Source
from certify.errors import Issue

_VALID_BY_TYPE = {
    "dict_type": "a mapping of key: value",
    "list_type": "a list",
    "string_type": "a string",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "float_parsing": "a number",
    "model_type": "a mapping of key: value",
    "model_attributes_type": "a mapping of key: value",
}


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (Optional and unions flattened, Annotated off)."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [t for arg in get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _model_at(root: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The model class that validates the mapping found at `path`, if one does."""
    current: list[Any] = [root]
    for part in path:
        following: list[Any] = []
        for candidate in current:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                field = _field(candidate, str(part))
                if field is not None:
                    following.extend(_unwrap(field))
            elif get_origin(candidate) in (list, dict):
                following.extend(_unwrap(get_args(candidate)[-1]))
        current = following
    models = [c for c in current if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if models else None


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _data_path(data: Any, loc: tuple[int | str, ...], missing: bool = False) -> KeyPath:
    """Keep only the parts of a pydantic `loc` that exist in the data (drop union tags).

    A `missing` error's last part is the absent key and is kept, though the data lacks it.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if part == "[key]":
            continue  # pydantic's marker for "the key itself is wrong"
        if isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
            path.append(str(part))
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            path.append(part)
        elif missing and i == len(loc) - 1:
            path.append(part)  # a missing key: name it even though the data lacks it
    return tuple(path)


def _describe(root: type[BaseModel], source: Source, err: ErrorDetails, path: KeyPath) -> Issue:
    kind = err["type"]
    message = err["msg"].removeprefix("Value error, ")
    valid = _VALID_BY_TYPE.get(kind, "")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _model_at(root, path[:-1])
        message = "unknown key"
        valid = ", ".join(_keys(model)) if model else ""
    elif kind == "missing":
        model = _model_at(root, path[:-1])
        message = "missing required key"
        valid = f"add `{path[-1]}:`" if path else ""
    elif kind in ("literal_error", "enum"):
        message = f"unknown value {err['input']!r}"
        valid = str(ctx.get("expected", ""))
    elif kind == "string_too_short":
        message = "must not be empty"
        valid = "a non-empty text"
    elif kind == "too_short":
        valid = f"at least {ctx.get('min_length', 1)} item(s)"
    elif kind == "too_long":
        given = err["input"]
        count = len(given) if isinstance(given, list | dict) else "too many"
        message = f"{count} items, more than certify takes here"
        valid = f"at most {ctx.get('max_length')} item(s)"
    elif kind == "string_pattern_mismatch":
        message = f"{err['input']!r} is not allowed here"
        valid = f"text matching {ctx.get('pattern')}"
    elif "valid" in ctx:  # raised by our own validators (models.invalid)
        valid = str(ctx["valid"])
    elif valid and "input" in err:
        message = f"got {type(err['input']).__name__} {err['input']!r}"
    return source.issue(path, message, valid)


def issues_from(root: type[BaseModel], source: Source, exc: ValidationError) -> list[Issue]:
    """Every error of `exc` as an Issue located in `source`, without duplicates."""
    errors = exc.errors()
    paths = [_data_path(source.data, e["loc"], e["type"] == "missing") for e in errors]
    seen: dict[tuple[int, str], Issue] = {}
    for err, path in zip(errors, paths, strict=True):
        if err["type"] in _VALID_BY_TYPE and any(p[: len(path)] == path != p for p in paths):
            continue  # a union branch wanting another type, where a branch that took it went deeper
        issue = _describe(root, source, err, path)
        previous = seen.get((issue.line, issue.key))
        if previous is not None and previous != issue:
            # a union value failed every branch: say so once, with each branch's wish
            message = previous.message
            if issue.message != message:
                message = f"{message}; or {issue.message}"
            valid = " / ".join(dict.fromkeys(v for v in (previous.valid, issue.valid) if v))
            issue = Issue(issue.file, issue.line, issue.key, message, valid)
        seen[(issue.line, issue.key)] = issue
    return list(seen.values())
