"""Tiers: each valid cell has exactly one, the strongest whose selectors match, else the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from certify.config.models import TIERS
from certify.matrix.model import Matrix, load_matrix
from certify.matrix.space import cell_id

PLATFORM = Path(__file__).resolve().parents[2] / "matrices" / "platform.yaml"


def _holds(matrix: Matrix, tier: str, row: tuple[int, ...]) -> bool:
    return all(rule.evaluate(row) is True for rule in matrix.tier_rules(tier))


def _row(matrix: Matrix, text: str) -> tuple[int, ...]:
    from certify.matrix.space import parse_cell_id

    return tuple(matrix.space.encode(parse_cell_id(text)))


@pytest.fixture(scope="module")
def platform() -> Matrix:
    return load_matrix(PLATFORM)


def test_every_valid_platform_cell_has_exactly_one_tier(platform: Matrix) -> None:
    rows = list(platform.space.iter_valid())
    assert len(rows) > 100
    seen = set()
    for row in rows:
        tier = platform.tier_of(row)
        assert tier in TIERS
        holding = [t for t in TIERS if _holds(platform, t, row)]
        assert holding == [tier], platform.space.id_of(row)
        seen.add(tier)
    assert seen == set(TIERS)  # the real matrix uses every tier


def test_tier_rules_are_decided_on_every_full_cell(platform: Matrix) -> None:
    for row in platform.space.iter_valid():
        for tier in TIERS:
            assert all(r.evaluate(row) in (True, False) for r in platform.tier_rules(tier))


@pytest.mark.parametrize(
    ("cell", "tier"),
    [
        ("spark=3.5,catalog=hive,storage=local,gpu=none,deploy=local", "certified"),
        ("spark=4.1,catalog=iceberg-rest,storage=s3,gpu=none,deploy=kubernetes", "certified"),
        # matches the documented selector only (spark 4.0 is not certified)
        ("spark=4.0,catalog=hive,storage=local,gpu=none,deploy=local", "documented"),
        # certified excludes adls; documented takes it
        ("spark=3.5,catalog=hive,storage=adls,gpu=none,deploy=standalone", "documented"),
        # a GPU cell is never certified but documented selectors do not look at gpu
        ("spark=4.1,catalog=hive,storage=s3,gpu=nvidia,deploy=standalone", "documented"),
        # unity is excluded from documented with `!unity`: it falls to the default tier
        ("spark=4.1,catalog=unity,storage=s3,gpu=none,deploy=local", "experimental"),
    ],
)
def test_known_platform_cells(platform: Matrix, cell: str, tier: str) -> None:
    row = _row(platform, cell)
    assert platform.space.valid(row)
    assert platform.tier_of(row) == tier
    assert _holds(platform, tier, row)


def _matrix(tmp_path: Path, tiers: str, default_tier: str | None) -> Matrix:
    text = (
        "schema: certify.matrix/1\n"
        "name: tiers\n"
        "dimensions:\n"
        "  a: {values: {a0: , a1: , a2: }}\n"
        "  b: {values: {b0: , b1: }}\n"
        "constraints:\n"
        "  - exclude: {a: a2, b: b1}\n"
        "    reason: this pair does not exist\n"
        + tiers
        + (f"default_tier: {default_tier}\n" if default_tier else "")
    )
    path = tmp_path / "tiers.yaml"
    path.write_text(text, encoding="utf-8")
    return load_matrix(path)


TIERS_YAML = (
    "tiers:\n"
    "  certified:\n"
    "    cells: [{a: a0, b: b0}]\n"
    "  documented:\n"
    "    cells: [{a: a1}]\n"
    "  experimental:\n"
    "    cells: [{a: [a0, a1], b: b1}]\n"
)


def _tiers_by_id(matrix: Matrix) -> dict[str, str]:
    space = matrix.space
    out = {}
    for row in space.iter_valid():
        tier = matrix.tier_of(row)
        assert [t for t in TIERS if _holds(matrix, t, row)] == [tier]
        out[space.id_of(row)] = tier
    return out


@pytest.mark.parametrize("default", ["certified", "documented", "experimental", None])
def test_default_tier_takes_only_cells_no_selector_matches(
    tmp_path: Path, default: str | None
) -> None:
    matrix = _matrix(tmp_path, TIERS_YAML, default)
    fallback = default or "experimental"
    assert matrix.spec.default_tier == fallback
    assert _tiers_by_id(matrix) == {
        "a=a0,b=b0": "certified",
        "a=a0,b=b1": "experimental",
        "a=a1,b=b0": "documented",
        "a=a1,b=b1": "documented",  # documented and experimental match: the stronger wins
        "a=a2,b=b0": fallback,  # no selector matches it
    }


def test_default_tier_stronger_than_a_matching_tier(tmp_path: Path) -> None:
    # default certified: unmatched cells become certified, but a cell matching only a weaker
    # tier keeps that tier (the default does not swallow it)
    tiers = "tiers:\n  experimental:\n    cells: [{b: b1}]\n"
    matrix = _matrix(tmp_path, tiers, "certified")
    assert _tiers_by_id(matrix) == {
        "a=a0,b=b0": "certified",
        "a=a0,b=b1": "experimental",
        "a=a1,b=b0": "certified",
        "a=a1,b=b1": "experimental",
        "a=a2,b=b0": "certified",
    }


def test_without_tiers_every_cell_is_in_the_default(tmp_path: Path) -> None:
    matrix = _matrix(tmp_path, "", "documented")
    assert set(_tiers_by_id(matrix).values()) == {"documented"}
    for tier in ("certified", "experimental"):
        space = matrix.space.restricted(matrix.tier_rules(tier))
        assert list(space.iter_valid()) == []


def test_tier_rules_select_the_same_cells_as_tier_of(tmp_path: Path) -> None:
    matrix = _matrix(tmp_path, TIERS_YAML, "documented")
    by_id = _tiers_by_id(matrix)
    names = matrix.space.names
    for tier in TIERS:
        space = matrix.space.restricted(matrix.tier_rules(tier))
        ids = {
            cell_id(names, [space.values[d][v] for d, v in enumerate(row)])
            for row in space.iter_valid()
        }
        assert ids == {i for i, t in by_id.items() if t == tier}


def test_tier_rules_on_the_platform_agree_with_tier_of(platform: Matrix) -> None:
    by_tier: dict[str, set[tuple[int, ...]]] = {t: set() for t in TIERS}
    for row in platform.space.iter_valid():
        by_tier[platform.tier_of(row)].add(row)
    for tier in TIERS:
        space = platform.space.restricted(platform.tier_rules(tier))
        assert set(space.iter_valid()) == by_tier[tier]
