"""The run's scheduler: slots, lanes per runtime, longest first, JVM keys next to each other."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.cli.options import parse_workers
from certify.errors import UsageError
from certify.run.schedule import MAX_DRIVERS_VAR, Unit, estimates, plan_lanes, slots_for


def _units(spec: list[tuple[str, str]]) -> list[Unit]:
    return [Unit(f"cell-{i}", runtime, key) for i, (runtime, key) in enumerate(spec)]


units_strategy = st.lists(
    st.tuples(st.sampled_from(["3.5", "4.0", "4.1"]), st.sampled_from(["", "jars-a", "jars-b"])),
    min_size=1,
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(
    spec=units_strategy,
    slots=st.integers(1, 6),
    seconds=st.lists(st.floats(1, 500), min_size=30, max_size=30),
)
def test_every_cell_is_in_the_lanes_of_its_runtime_once_each(
    spec: list[tuple[str, str]], slots: int, seconds: list[float]
) -> None:
    units = _units(spec)
    durations = {u.cell_id: s for u, s in zip(units, seconds, strict=False)}
    lanes = plan_lanes(units, slots, durations)
    runtime = {u.cell_id: u.runtime for u in units}
    key = {u.cell_id: u.jvm_key for u in units}
    for name in set(runtime.values()):
        mine = [lane for lane in lanes if lane.runtime == name]
        cells = sorted(c for c, r in runtime.items() if r == name)
        # every lane of a runtime is offered all its cells, in one claim order
        assert all(sorted(lane.cells) == cells for lane in mine)
        assert len({tuple(lane.cells) for lane in mine}) == 1
        # never more lanes than cells or slots
        assert 1 <= len(mine) <= min(len(cells), slots)
        # a JVM key is one run of neighbours: a lane restarts its JVM once per key at most
        keys = [key[c] for c in mine[0].cells]
        runs = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
        assert len(runs) == len(set(runs)), keys


@settings(max_examples=200, deadline=None)
@given(spec=units_strategy, slots=st.integers(1, 6))
def test_the_first_round_starts_every_runtime(spec: list[tuple[str, str]], slots: int) -> None:
    """Every runtime gets a lane in the first round, the one with most work first."""
    units = _units(spec)
    lanes = plan_lanes(units, slots, {})
    runtimes = {u.runtime for u in units}
    first_round = [lane.runtime for lane in lanes[: len(runtimes)]]
    assert sorted(first_round) == sorted(runtimes)
    work = [lane.work_s for lane in lanes[: len(runtimes)]]
    assert work == sorted(work, reverse=True)


def test_cells_are_claimed_longest_first_inside_a_jvm_key_group() -> None:
    units = [
        Unit("a", "3.5", "k1"),
        Unit("b", "3.5", "k2"),
        Unit("c", "3.5", "k1"),
        Unit("d", "3.5", "k2"),
    ]
    durations = {"a": 10.0, "b": 100.0, "c": 30.0, "d": 5.0}
    [first, second] = plan_lanes(units, 2, durations)
    # k2 has the most work (105 s): its cells first, longest first; then k1's
    assert first.cells == second.cells == ["b", "d", "c", "a"]


def test_lanes_go_round_robin_with_the_most_work_first() -> None:
    units = _units([("3.5", ""), ("4.1", ""), ("4.1", ""), ("4.1", ""), ("3.5", "")])
    durations = {"cell-0": 5.0, "cell-1": 300.0, "cell-2": 250.0, "cell-3": 20.0, "cell-4": 9.0}
    lanes = plan_lanes(units, 2, durations)
    # 4.1 has 570 s of work, 3.5 has 14 s: 4.1 and 3.5 start at once; when 3.5 is done, its slot
    # starts 4.1's second lane, which claims what 4.1's first lane has not
    assert [lane.runtime for lane in lanes] == ["4.1", "3.5", "4.1", "3.5"]
    assert lanes[0].cells == ["cell-1", "cell-2", "cell-3"]


def test_a_cell_without_a_duration_costs_the_median_of_the_known() -> None:
    units = _units([("3.5", "")] * 3)
    assert estimates(units, {"cell-0": 10.0, "cell-1": 30.0}) == {
        "cell-0": 10.0,
        "cell-1": 30.0,
        "cell-2": 20.0,
    }


def test_slots_are_the_total_of_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert slots_for(3, 10) == 3
    assert slots_for(8, 2) == 2  # never more slots than cells
    monkeypatch.setenv(MAX_DRIVERS_VAR, "1")
    assert slots_for(None, 10) == 1  # auto, capped
    monkeypatch.delenv(MAX_DRIVERS_VAR)
    assert 1 <= slots_for(None, 10) <= 10


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", ""])
def test_n_must_be_a_whole_number_or_auto(value: str) -> None:
    with pytest.raises(UsageError, match="valid: a whole number from 1, or auto"):
        parse_workers(value)


def test_n_auto_is_the_machines_choice() -> None:
    assert parse_workers("auto") is None and parse_workers(None) is None
    assert parse_workers("3") == 3
