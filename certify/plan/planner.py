"""Expand or reduce a matrix under a profile into a plan of cells, with checked coverage."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certify.cell import Cell
from certify.config.matrix_file import strength_problem, strength_valid
from certify.config.models import MAX_SEED, TIERS, ChaosEntry, LoadEntry, ProfileSpec, check_seed
from certify.errors import ConfigError, UsageError
from certify.matrix.coverage import check_coverage
from certify.matrix.covering import covering_array
from certify.matrix.model import Matrix, load_matrix
from certify.matrix.references import LoadCheck, reference_issues
from certify.matrix.size import size_problem
from certify.matrix.space import Space

_T_RE = re.compile(r"^t=([1-9][0-9]*)$")


@dataclass(frozen=True)
class PlannedCell:
    """A cell and what the profile runs on it."""

    cell: Cell
    runtime: str
    suites: tuple[str, ...]
    chaos: tuple[str, ...]
    load: tuple[str, ...]
    retry: str | None = None  # the profile's retry policy as JSON for the pytest plugin


@dataclass(frozen=True)
class CoverageGroup:
    """Coverage of one tier's cells under its reduction, checked independently of the generator."""

    tier: str
    strategy: str
    t: int
    required: int
    covered: int
    cells: int
    invalid: int

    @property
    def complete(self) -> bool:
        """Every required tuple covered and no invalid cell emitted."""
        return self.covered == self.required and self.invalid == 0


@dataclass(frozen=True)
class Plan:
    """Cells to certify under one profile of one matrix."""

    matrix: str
    matrix_path: str
    profile: str
    seed: int
    cells: tuple[PlannedCell, ...]
    groups: tuple[CoverageGroup, ...]
    dimensions: tuple[str, ...]

    def runtimes(self) -> dict[str, list[PlannedCell]]:
        """Cells grouped by the runtime (Python environment) that runs them."""
        out: dict[str, list[PlannedCell]] = {}
        for planned in self.cells:
            out.setdefault(planned.runtime, []).append(planned)
        return out

    def coverage(self) -> dict[str, Any]:
        """Totals over all tier groups; `t` is the weakest strength in use."""
        return {
            "t": min((g.t for g in self.groups), default=0),
            "required": sum(g.required for g in self.groups),
            "covered": sum(g.covered for g in self.groups),
            "complete": all(g.complete for g in self.groups),
            "groups": [
                {
                    "tier": g.tier,
                    "strategy": g.strategy,
                    "t": g.t,
                    "required": g.required,
                    "covered": g.covered,
                    "cells": g.cells,
                    "invalid": g.invalid,
                }
                for g in self.groups
            ],
        }

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form printed by `certify plan --format json`."""
        return {
            "schema": "certify.plan/1",
            "matrix": self.matrix,
            "matrix_path": self.matrix_path,
            "profile": self.profile,
            "seed": self.seed,
            "dimensions": list(self.dimensions),
            "cells": [
                {
                    "id": p.cell.id,
                    "values": p.cell.values,
                    "tier": p.cell.tier,
                    "runtime": p.runtime,
                    "suites": list(p.suites),
                    "chaos": list(p.chaos),
                    "load": list(p.load),
                }
                for p in self.cells
            ],
            "runtimes": {
                name: [p.cell.id for p in cells] for name, cells in self.runtimes().items()
            },
            "coverage": self.coverage(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """Inverse of `to_json` (plan.json); KeyError/TypeError/ValueError when it is not one."""
        if data.get("schema") != "certify.plan/1":
            raise ValueError(f"not a certify.plan/1 document: schema={data.get('schema')!r}")
        cells = tuple(
            PlannedCell(
                Cell(tuple((str(k), str(v)) for k, v in c["values"].items()), str(c["tier"])),
                str(c["runtime"]),
                tuple(c["suites"]),
                tuple(c["chaos"]),
                tuple(c["load"]),
            )
            for c in data["cells"]
        )
        groups = tuple(
            CoverageGroup(
                g["tier"],
                g["strategy"],
                g["t"],
                g["required"],
                g["covered"],
                g["cells"],
                g["invalid"],
            )
            for g in data["coverage"]["groups"]
        )
        return cls(
            str(data["matrix"]),
            str(data["matrix_path"]),
            str(data["profile"]),
            int(data["seed"]),
            cells,
            groups,
            tuple(data["dimensions"]),
        )


def parse_strategy(text: str, dimensions: int) -> int:
    """`full` or `t=N` as a strength; full is t = number of dimensions."""
    if text == "full":
        return dimensions
    match = _T_RE.match(text)
    if not match:
        raise UsageError(f"--strategy {text!r} is not valid (valid: full, t=1, t=2, t=3, ...)")
    problem = strength_problem(text, dimensions)
    if problem:
        raise UsageError(f"--strategy {problem} (valid: {strength_valid(dimensions)})")
    return int(match.group(1))


def _check_seed(seed: int) -> None:
    problem = check_seed(seed)
    if problem:
        raise UsageError(f"--seed: {problem} (valid: an integer from 0 to {MAX_SEED})")


def _check_size(matrix: Matrix, profile: str, tier: str, space: Space, t: int) -> None:
    """Refuse a tier too large to plan before anything is expanded."""
    found = size_problem(space, t)
    if found is not None:
        raise UsageError(
            f"{matrix.path}: profile {profile!r}, tier {tier}: {found[0]} (valid: {found[1]})"
        )


def _runtime(matrix: Matrix, values: Mapping[str, str]) -> str:
    spark = values.get("spark")
    if spark is None:
        return "default"
    return f"spark-{spark}"


def build_plan(
    matrix: Matrix, profile_name: str, strategy: str | None = None, seed: int | None = None
) -> Plan:
    """Plan `profile_name`: per tier, full or t-wise cells, then coverage checked per tier."""
    profile = matrix.spec.profiles.get(profile_name)
    if profile is None:
        known = ", ".join(sorted(matrix.spec.profiles)) or "none defined"
        raise UsageError(f"{matrix.path}: no profile {profile_name!r} (valid: {known})")
    if seed is not None:
        _check_seed(seed)
    seed = profile.seed if seed is None else seed
    cells: list[PlannedCell] = []
    groups: list[CoverageGroup] = []
    for tier in [t for t in TIERS if t in profile.tiers]:
        space = matrix.space.restricted(matrix.profile_rules(profile, tier))
        if space.complete(space.blank()) is None:
            continue
        chosen = strategy or profile.strategy_for(tier)
        t = parse_strategy(chosen, len(space.names))
        _check_size(matrix, profile_name, tier, space, t)
        rows = list(space.iter_valid()) if t == len(space.names) else covering_array(space, t, seed)
        coverage = check_coverage(space, rows, t)
        groups.append(
            CoverageGroup(
                tier,
                chosen,
                t,
                coverage.required,
                coverage.covered,
                len(rows),
                len(coverage.invalid_rows),
            )
        )
        cells.extend(_planned(matrix, profile, tier, rows))
    return Plan(
        matrix.name,
        str(matrix.path),
        profile_name,
        seed,
        tuple(cells),
        tuple(groups),
        matrix.space.names,
    )


def _entries(
    matrix: Matrix, entries: Sequence[ChaosEntry | LoadEntry], row: Sequence[int]
) -> tuple[str, ...]:
    """Names of the experiments or load profiles whose cell selectors match the cell."""
    return tuple(e.name for e in entries if not e.cells or matrix.selector(e.cells).evaluate(row))


def _planned(
    matrix: Matrix, profile: ProfileSpec, tier: str, rows: Sequence[Sequence[int]]
) -> list[PlannedCell]:
    out = []
    for row in rows:
        values = matrix.space.decode(row)
        cell = Cell(tuple(values.items()), tier)
        out.append(
            PlannedCell(
                cell,
                _runtime(matrix, values),
                tuple(profile.suites),
                _entries(matrix, profile.chaos, row),
                _entries(matrix, profile.load, row),
                profile.retry.model_dump_json() if profile.retry else None,
            )
        )
    return out


def find_profile(
    root: Path,
    profile: str,
    matrix_path: Path | None,
    check_load: LoadCheck | None = None,
    project: Path | None = None,
) -> Matrix:
    """The matrix to plan `profile` from: the given file, or the one project matrix defining it.

    The profile's suites, experiments and load profiles must exist under `project` (default:
    `root`; ConfigError naming each one that does not, at its line); `check_load` also reads
    each locustfile.
    """
    chosen = _owner(root, profile, matrix_path)
    if chosen.source is not None and profile in chosen.spec.profiles:
        where = (project or root).absolute()  # messages name the folders looked in
        issues = reference_issues(chosen.spec, chosen.source, where, [profile], check_load)
        if issues:
            raise ConfigError(issues)
    return chosen


def _owner(root: Path, profile: str, matrix_path: Path | None) -> Matrix:
    from certify.matrix.model import matrix_files

    if matrix_path is not None:
        return load_matrix(matrix_path)
    files = matrix_files(root)
    if not files:
        raise UsageError(f"no matrix files under {root / 'matrices'} (pass --matrix FILE)")
    matrices, problems = [], []
    for path in files:
        try:
            matrices.append(load_matrix(path))
        except ConfigError as exc:
            problems.extend(exc.issues)
    owners = [m for m in matrices if profile in m.spec.profiles]
    if len(owners) == 1:
        return owners[0]
    if problems and not owners:
        raise ConfigError(problems)
    if owners:
        names = ", ".join(str(m.path) for m in owners)
        raise UsageError(
            f"profile {profile!r} is defined in several matrices ({names}); "
            "choose one with --matrix FILE"
        )
    known = sorted({p for m in matrices for p in m.spec.profiles})
    raise UsageError(
        f"no matrix under {root / 'matrices'} defines profile {profile!r} "
        f"(valid: {', '.join(known) or 'none defined'})"
    )
