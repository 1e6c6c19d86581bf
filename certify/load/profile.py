"""A load profile's declarations, read from its locustfile without importing it.

Importing a locustfile imports locust, which monkey-patches the interpreter; certify reads the
module-level literals instead (`ast.literal_eval`):

    PROFILE = "object-store"            # the profile's name (the file is load/<PROFILE>.py)
    TARGET = "s3.s3"                    # option path of the endpoint under load (--host)
    REQUIRES = {"storage": ["s3"]}      # cell values it applies to (globs); absent: every cell
    SHAPE = "ramp"                      # default shape (CERTIFY_LOAD_SHAPE overrides)
    USERS = 4                           # users at the shape's peak (bounded)
    SECONDS = 60                        # default duration (CERTIFY_LOAD_SECONDS overrides)
    SLO = {"*": {"p95_ms": 200}, "storage=s3": {...}}  # thresholds per kind of cell
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from certify.config.selector import unmet
from certify.config.source import Unreadable, read_bounded
from certify.errors import ProfileError
from certify.load.shapes import SHAPES, bounded, check_shape
from certify.load.slo import check_slo

_NAMES = ("PROFILE", "TARGET", "REQUIRES", "SHAPE", "USERS", "SECONDS", "SLO")


@dataclass(frozen=True)
class LoadProfile:
    """What a locustfile declares: its shape, bounds, target endpoint, applicability and SLOs."""

    name: str
    path: Path
    target: str = ""
    requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    shape: str = "ramp"
    users: int = 4
    seconds: float = 60.0
    slo: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def inapplicable(self, values: Mapping[str, str]) -> str | None:
        """Why the profile does not apply to a cell of `values`, or None."""
        for dim, patterns, have in unmet(self.requires, values):
            wanted = ", ".join(patterns)
            return f"load profile {self.name} needs {dim} in [{wanted}] (cell: {have or '-'})"
        return None

    def endpoint(self, options: Mapping[str, object]) -> str | None:
        """The endpoint under load, from the cell's options (`TARGET` path), or None."""
        node: object = options
        for part in self.target.split(".") if self.target else []:
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, str) and node else None


def profile_path(root: Path, name: str) -> Path:
    """load/<name>.py under the project root."""
    return root / "load" / f"{name}.py"


def _literals(path: Path) -> dict[str, object]:
    try:
        tree = ast.parse(read_bounded(path), str(path))
    except Unreadable as exc:
        raise ProfileError(f"{path}: {exc.message} ({exc.valid})") from None
    except (SyntaxError, RecursionError, MemoryError) as exc:  # nesting beyond the parser
        why = str(exc) or "nested too deeply"
        raise ProfileError(f"{path}: cannot read the locustfile ({why})") from None
    found: dict[str, object] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and target.id in _NAMES and value is not None:
                try:
                    found[target.id] = ast.literal_eval(value)
                except (ValueError, TypeError, RecursionError, MemoryError):
                    raise ProfileError(
                        f"{path}:{node.lineno}: {target.id} must be a literal (a str, number, "
                        "list or dict), not an expression"
                    ) from None
    return found


def _mapping(value: object, what: str) -> dict[str, object]:
    """`value` as a dict with str keys; TypeError naming `what` when it is not a dict."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict, not {value!r}")
    return {str(k): v for k, v in value.items()}


def _declared_map(path: Path, found: Mapping[str, object], name: str) -> dict[str, object]:
    try:
        return _mapping(found.get(name, {}), name)
    except TypeError as exc:
        raise ProfileError(f"{path}: {exc}") from None


def _declared_number(path: Path, found: Mapping[str, object], name: str, default: float) -> float:
    value = found.get(name, default)
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        number = float(value)
        if not math.isfinite(number):  # int(nan) and int(inf) fail; inf seconds never ends
            raise ValueError
        return number
    except (ValueError, OverflowError):
        raise ProfileError(f"{path}: {name} must be a finite number, not {value!r}") from None


def read_profile(root: Path, name: str) -> LoadProfile:
    """The declarations of load/<name>.py; ProfileError if it is missing or malformed."""
    path = profile_path(root, name)
    if not path.is_file():
        raise ProfileError(
            f"{path}: load profile {name!r} has no locustfile; create load/{name}.py or fix the "
            "profile's `load:` entry"
        )
    found = _literals(path)
    try:
        shape = check_shape(str(found.get("SHAPE", "ramp")))
    except ValueError as exc:
        raise ProfileError(f"{path}: {exc} (valid shapes: {', '.join(SHAPES)})") from None
    try:
        slo = {
            str(sel): check_slo(_mapping(th, f"SLO[{sel!r}]"), f"SLO[{sel!r}]")
            for sel, th in _mapping(found.get("SLO", {}), "SLO").items()
        }
    except (ValueError, TypeError) as exc:
        raise ProfileError(f"{path}: {exc}") from None
    requires = {
        k: tuple(str(v) for v in (vs if isinstance(vs, list | tuple) else [vs]))
        for k, vs in _declared_map(path, found, "REQUIRES").items()
    }
    users, seconds = bounded(
        int(_declared_number(path, found, "USERS", 4)),
        _declared_number(path, found, "SECONDS", 60),
    )
    return LoadProfile(
        name=str(found.get("PROFILE", name)),
        path=path,
        target=str(found.get("TARGET", "")),
        requires=requires,
        shape=shape,
        users=users,
        seconds=seconds,
        slo=slo,
    )
