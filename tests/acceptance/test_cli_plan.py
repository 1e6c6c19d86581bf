"""`certify plan` run as a user would: the JSON contract, coverage, determinism, errors."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from certify.matrix.model import Matrix, load_matrix

Certify = Callable[..., Any]  # the `certify` fixture of conftest.py
SMOKE_CELL = "spark=3.5,catalog=hive,storage=local,gpu=none,deploy=local"


def _plan(certify: Certify, *args: str) -> dict[str, Any]:
    result = certify("plan", *args, "--format", "json")
    assert result.rc == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def platform(repo: Path) -> Matrix:
    return load_matrix(repo / "matrices" / "platform.yaml")


@pytest.fixture(scope="module")
def pr_plan(certify: Certify) -> dict[str, Any]:
    return _plan(certify, "--profile", "pr")


def _certified_rows(matrix: Matrix) -> list[tuple[int, ...]]:
    return [r for r in matrix.space.iter_valid() if matrix.tier_of(r) == "certified"]


def _pairs(rows: list[tuple[int, ...]]) -> set[tuple[int, int, int, int]]:
    return {
        (a, row[a], b, row[b])
        for row in rows
        for a, b in itertools.combinations(range(len(row)), 2)
    }


def test_json_contract(pr_plan: dict[str, Any], platform: Matrix) -> None:
    names = list(platform.space.names)
    assert pr_plan["profile"] == "pr"
    assert pr_plan["cells"]
    for cell in pr_plan["cells"]:
        assert {"id", "values", "tier"} <= set(cell)
        assert list(cell["values"]) == names
        assert cell["id"] == ",".join(f"{n}={cell['values'][n]}" for n in names)
        assert cell["tier"] == "certified"
    coverage = pr_plan["coverage"]
    assert {"t", "required", "covered"} <= set(coverage)
    assert coverage["t"] == 2
    assert coverage["required"] > 0
    assert coverage["covered"] == coverage["required"]
    assert coverage["complete"] is True
    ids = [c["id"] for c in pr_plan["cells"]]
    assert len(set(ids)) == len(ids)


def test_pr_cells_are_valid_certified_and_cover_every_pair(
    pr_plan: dict[str, Any], platform: Matrix
) -> None:
    """Coverage checked here by brute force, independently of the generator and its checker."""
    space = platform.space
    rows = [tuple(space.encode(c["values"])) for c in pr_plan["cells"]]
    for row in rows:
        assert space.valid(row)
        assert platform.tier_of(row) == "certified"
    required = _pairs(_certified_rows(platform))
    assert _pairs(rows) == required  # every pair a certified cell has, and no other
    assert pr_plan["coverage"]["required"] == len(required)
    # a covering array is smaller than the full set of certified cells
    assert len(rows) < len(_certified_rows(platform))


def test_full_strategy_gives_every_certified_valid_cell(certify: Certify, platform: Matrix) -> None:
    plan = _plan(certify, "--profile", "pr", "--strategy", "full")
    expected = {platform.space.id_of(r) for r in _certified_rows(platform)}
    ids = [c["id"] for c in plan["cells"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    assert plan["coverage"]["complete"] is True
    assert plan["coverage"]["t"] == len(platform.space.names)


def test_t2_is_deterministic_for_a_seed(certify: Certify) -> None:
    first = _plan(certify, "--profile", "pr", "--strategy", "t=2", "--seed", "7")
    second = _plan(certify, "--profile", "pr", "--strategy", "t=2", "--seed", "7")
    assert first["seed"] == 7
    assert [c["id"] for c in first["cells"]] == [c["id"] for c in second["cells"]]
    assert first == second


def test_smoke_is_exactly_one_cell(certify: Certify) -> None:
    plan = _plan(certify, "--profile", "smoke")
    assert [c["id"] for c in plan["cells"]] == [SMOKE_CELL]
    assert plan["cells"][0]["values"] == {
        "spark": "3.5",
        "catalog": "hive",
        "storage": "local",
        "gpu": "none",
        "deploy": "local",
    }
    assert plan["cells"][0]["tier"] == "certified"
    assert plan["coverage"]["complete"] is True


def test_explicit_matrix_from_another_folder(certify: Certify, repo: Path, tmp_path: Path) -> None:
    matrix = str(repo / "matrices" / "platform.yaml")
    result = certify(
        "plan", "--profile", "smoke", "--matrix", matrix, "--format", "json", cwd=tmp_path
    )
    assert result.rc == 0, result.output
    assert [c["id"] for c in json.loads(result.stdout)["cells"]] == [SMOKE_CELL]


def test_unknown_profile_names_the_valid_ones(certify: Certify) -> None:
    result = certify("plan", "--profile", "nope")
    assert result.rc == 2
    assert "Traceback" not in result.output
    assert "nope" in result.stderr
    for name in ("smoke", "pr", "nightly", "release"):
        assert name in result.stderr


@pytest.mark.parametrize("strategy", ["t=0", "pairs", "t=2x"])
def test_bad_strategy_is_a_usage_error(certify: Certify, strategy: str) -> None:
    result = certify("plan", "--profile", "pr", "--strategy", strategy)
    assert result.rc == 2
    assert "Traceback" not in result.output
    assert repr(strategy) in result.stderr
    assert "valid: full, t=1" in result.stderr


def test_invalid_matrix_exits_2_with_located_errors(certify: Certify, tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("schema: certify.matrix/1\nname: x\ndimensions: {}\n", encoding="utf-8")
    result = certify("plan", "--profile", "pr", "--matrix", str(bad), cwd=tmp_path)
    assert result.rc == 2
    assert "Traceback" not in result.output
    assert f"{bad}:3: dimensions: " in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["plan"],  # --profile is required
        ["plan", "--profile", "pr", "--format", "xml"],
        ["plan", "--profile", "pr", "--seed", "many"],
        ["plan", "--profile", "pr", "--no-such-option"],
    ],
    ids=["missing-profile", "bad-format", "bad-seed", "unknown-option"],
)
def test_usage_errors_exit_2_without_traceback(certify: Certify, args: list[str]) -> None:
    result = certify(*args)
    assert "Traceback" not in result.output
    assert result.rc == 2


def test_table_shows_every_cell_and_the_coverage(certify: Certify, pr_plan: dict[str, Any]) -> None:
    result = certify("plan", "--profile", "pr")
    assert result.rc == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "certified" in line and "│" in line]
    assert len(rows) == len(pr_plan["cells"])
    for row, cell in zip(rows, pr_plan["cells"], strict=True):
        cells = [part.strip() for part in row.split("│")]
        for value in cell["values"].values():
            assert value in cells, (value, row)  # whole values, never cut short
    coverage = pr_plan["coverage"]
    line = (
        f"certified: t=2 -> {len(pr_plan['cells'])} cells; t=2 coverage "
        f"{coverage['covered']}/{coverage['required']} tuples (100.0%), 0 invalid cells: "
        "complete"
    )
    assert line in result.stdout.splitlines()
