"""Shards are deterministic, disjoint, complete and balanced."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import UsageError
from certify.plan.shard import cell_costs, parse_shard, split

ids = st.lists(
    st.from_regex(r"spark=[0-9]\.[0-9],catalog=[a-z]{1,6}", fullmatch=True),
    min_size=0,
    max_size=40,
    unique=True,
)


@settings(max_examples=80, deadline=None)
@given(ids, st.integers(1, 8), st.data())
def test_every_cell_lands_in_exactly_one_shard(
    cells: list[str], n: int, data: st.DataObject
) -> None:
    durations = {c: data.draw(st.floats(0, 100)) for c in cells}
    shards = split(cells, n, durations)
    assert len(shards) == n
    flat = [c for shard in shards for c in shard]
    assert sorted(flat) == sorted(cells)
    assert split(list(reversed(cells)), n, durations) == shards  # input order is irrelevant


@settings(max_examples=80, deadline=None)
@given(ids, st.integers(1, 8), st.data())
def test_shards_are_balanced(cells: list[str], n: int, data: st.DataObject) -> None:
    durations = {c: data.draw(st.floats(0.1, 100)) for c in cells}
    costs = cell_costs(cells, durations)
    loads = [sum(costs[c] for c in shard) for shard in split(cells, n, durations)]
    if cells:
        # greedy list scheduling never exceeds the average load plus the largest cell
        assert max(loads) <= sum(costs.values()) / n + max(costs.values()) + 1e-9
        # and longest-first never leaves a shard empty while another holds two cells
        if len(cells) >= n:
            assert all(loads)


def test_unknown_durations_cost_the_median_of_known_ones() -> None:
    assert cell_costs(["a", "b", "c"], {"a": 10.0, "b": 30.0}) == {"a": 10.0, "b": 30.0, "c": 20.0}
    assert cell_costs(["a"], {}) == {"a": 1.0}


def test_longest_cells_first_within_a_shard() -> None:
    shards = split(["a", "b", "c", "d"], 2, {"a": 1, "b": 9, "c": 5, "d": 4})
    assert shards == [["b", "a"], ["c", "d"]]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "1", "1/2/3", ""])
def test_bad_shard_specs_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="valid: I/N"):
        parse_shard(text)


def test_good_shard_spec() -> None:
    assert parse_shard("2/4") == (2, 4)
