"""Load and validate one matrix file: structure (pydantic), then meaning (names, globs, cells)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from certify.config.errors import issues_from
from certify.config.models import MATRIX_SCHEMA, MatrixSpec
from certify.config.selector import glob_matches
from certify.config.source import KeyPath, Source, load_yaml
from certify.errors import ConfigError, Issue


def parse_matrix(path: Path) -> tuple[MatrixSpec | None, Source, list[Issue]]:
    """Parse `path` into a MatrixSpec, returning every issue found (spec is None if unusable)."""
    source, issues = load_yaml(path)
    if issues and source.data is None:
        return None, source, issues
    if not isinstance(source.data, dict):
        kind = "a list" if isinstance(source.data, list) else "a single value"
        issues.append(
            source.issue(
                (),
                f"top level is {kind}",
                "a mapping with keys schema, name, dimensions, constraints, tiers, profiles",
            )
        )
        return None, source, issues
    if "schema" in source.data and source.data["schema"] != MATRIX_SCHEMA:
        issues.append(
            source.issue(
                ("schema",), f"unsupported schema {source.data['schema']!r}", MATRIX_SCHEMA
            )
        )
        return None, source, issues
    issues.extend(selector_issues(source))
    try:
        spec = MatrixSpec.model_validate(source.data)
    except ValidationError as exc:
        return None, source, issues + issues_from(MatrixSpec, source, exc)
    issues.extend(_semantic_issues(spec, source))
    return (None if issues else spec), source, issues


def load_matrix_spec(path: Path) -> tuple[MatrixSpec, Source]:
    """Parse `path` or raise ConfigError with every issue in it."""
    spec, source, issues = parse_matrix(path)
    if issues or spec is None:
        raise ConfigError(issues)
    return spec, source


def strength_problem(strategy: str, dimensions: int) -> str | None:
    """Why `t=N` cannot apply to a matrix of `dimensions` dimensions (None when it can)."""
    if not strategy.startswith("t="):
        return None
    t = int(strategy.removeprefix("t="))
    if t <= dimensions:
        return None
    return f"{strategy} is more than the {dimensions} dimension(s) of the matrix"


def strength_valid(dimensions: int) -> str:
    """The strategies valid for a matrix of `dimensions` dimensions."""
    return f"full, or t=N with 1 <= N <= {dimensions}"


def _strength_issues(spec: MatrixSpec, source: Source) -> Iterator[Issue]:
    count = len(spec.dimensions)
    for name, profile in spec.profiles.items():
        reduction = profile.reduction
        placed: list[tuple[KeyPath, str]] = (
            [(("profiles", name, "reduction"), reduction)]
            if isinstance(reduction, str)
            else [(("profiles", name, "reduction", t), r) for t, r in reduction.items()]
        )
        for where, strategy in placed:
            problem = strength_problem(strategy, count)
            if problem:
                yield source.issue(where, problem, strength_valid(count))


def _semantic_issues(spec: MatrixSpec, source: Source) -> list[Issue]:
    issues: list[Issue] = list(_strength_issues(spec, source))
    for name, profile in spec.profiles.items():
        if isinstance(profile.reduction, dict):
            for tier in profile.reduction:
                if tier not in profile.tiers:
                    issues.append(
                        source.issue(
                            ("profiles", name, "reduction", tier),
                            f"tier {tier!r} has a reduction but the profile does not run it",
                            ", ".join(profile.tiers),
                        )
                    )
    return issues


def _raw_dimensions(data: dict[str, Any]) -> dict[str, list[str]] | None:
    dims = data.get("dimensions")
    if not isinstance(dims, dict):
        return None
    out = {}
    for name, spec in dims.items():
        values = spec.get("values") if isinstance(spec, dict) else None
        out[name] = list(values) if isinstance(values, dict) else []
    return out


def _raw_selectors(data: dict[str, Any]) -> Iterator[tuple[KeyPath, Any]]:
    """Every selector in the raw document, so they are checked even when other keys are bad."""
    constraints = data.get("constraints")
    for i, rule in enumerate(constraints if isinstance(constraints, list) else []):
        for key in ("exclude", "require", "when"):
            if isinstance(rule, dict) and key in rule:
                yield ("constraints", i, key), rule[key]
    for section, key in (("tiers", "cells"), ("profiles", "select")):
        entries = data.get(section)
        for name, entry in entries.items() if isinstance(entries, dict) else []:
            selectors = entry.get(key) if isinstance(entry, dict) else None
            for i, selector in enumerate(selectors if isinstance(selectors, list) else []):
                yield (section, name, key, i), selector
    profiles = data.get("profiles")
    for name, entry in profiles.items() if isinstance(profiles, dict) else []:
        for key in ("chaos", "load"):
            listed = entry.get(key) if isinstance(entry, dict) else None
            for i, item in enumerate(listed if isinstance(listed, list) else []):
                cells = item.get("cells") if isinstance(item, dict) else None
                for j, selector in enumerate(cells if isinstance(cells, list) else []):
                    yield ("profiles", name, key, i, "cells", j), selector


def selector_issues(source: Source) -> list[Issue]:
    """Selectors naming unknown dimensions or globs that match no value, from the raw data."""
    dims = _raw_dimensions(source.data)
    if dims is None:
        return []
    issues = []
    for path, selector in _raw_selectors(source.data):
        if not isinstance(selector, dict):
            continue  # the model check reports the wrong type
        if not selector:
            issues.append(
                source.issue(
                    path, "empty selector matches every cell", "at least one dimension: glob"
                )
            )
        for dim, globs in selector.items():
            issues.extend(_glob_issues(source, (*path, dim), dim, globs, dims))
    return issues


def _glob_issues(
    source: Source, path: KeyPath, dim: str, globs: Any, dims: dict[str, list[str]]
) -> Iterator[Issue]:
    if dim not in dims:
        yield source.issue(path, f"unknown dimension {dim!r}", ", ".join(dims))
        return
    values = dims[dim]
    items = [globs] if isinstance(globs, str) else globs if isinstance(globs, list) else []
    valid = ", ".join(values)
    typo = False
    for i, glob in enumerate(items):
        if not isinstance(glob, str):
            continue
        target = glob.removeprefix("!")
        if not any(glob_matches(v, [target]) for v in values):
            typo = True
            where = path if isinstance(globs, str) else (*path, i)
            what = f"{glob!r} matches no value of {dim!r}"
            if glob != target:  # `!x` where x matches nothing: it excludes nothing, a typo
                what = f"{glob!r} excludes nothing: {target!r} matches no value of {dim!r}"
            yield source.issue(where, what, valid)
    texts = [g for g in items if isinstance(g, str)]
    if not typo and texts and not any(glob_matches(v, texts) for v in values):
        shown = ", ".join(map(repr, texts))
        verb = "matches" if len(texts) == 1 else "together match"
        yield source.issue(path, f"{shown} {verb} no value of {dim!r}", valid)
