"""The run's scheduler: slots, batches per runtime, longest first, JVM keys next to each other."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.cli.options import parse_workers
from certify.errors import UsageError
from certify.run.schedule import BATCH_START_S, MAX_DRIVERS_VAR, Unit, plan_batches, slots_for


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
def test_every_cell_runs_once_in_a_batch_of_its_runtime(
    spec: list[tuple[str, str]], slots: int, seconds: list[float]
) -> None:
    units = _units(spec)
    durations = {u.cell_id: s for u, s in zip(units, seconds, strict=False)}
    batches = plan_batches(units, slots, durations)
    placed = [c for b in batches for c in b.cells]
    assert sorted(placed) == sorted(u.cell_id for u in units)
    runtime = {u.cell_id: u.runtime for u in units}
    key = {u.cell_id: u.jvm_key for u in units}
    for batch in batches:
        assert {runtime[c] for c in batch.cells} == {batch.runtime}
        # a JVM key appears in one run of neighbours: its cells share one driver JVM
        keys = [key[c] for c in batch.cells]
        runs = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
        assert len(runs) == len(set(runs)), keys


@settings(max_examples=200, deadline=None)
@given(spec=units_strategy, slots=st.integers(1, 6))
def test_every_slot_gets_work_when_there_are_enough_cells(
    spec: list[tuple[str, str]], slots: int
) -> None:
    """No slot idles while cells wait, and no batch is empty."""
    units = _units(spec)
    batches = plan_batches(units, slots, {})
    assert all(b.cells for b in batches)
    assert len(batches) >= min(slots, len(units))


def test_one_runtime_two_slots_make_two_balanced_batches() -> None:
    units = _units([("3.5", "")] * 4)
    durations = {"cell-0": 100.0, "cell-1": 90.0, "cell-2": 20.0, "cell-3": 10.0}
    batches = plan_batches(units, 2, durations)
    assert [sorted(b.cells) for b in batches] == [["cell-0", "cell-3"], ["cell-1", "cell-2"]]
    assert [b.estimate_s for b in batches] == [110.0 + BATCH_START_S, 110.0 + BATCH_START_S]


def test_longest_cells_start_first_across_runtimes() -> None:
    units = _units([("3.5", ""), ("4.1", ""), ("4.1", ""), ("3.5", "")])
    durations = {"cell-0": 5.0, "cell-1": 300.0, "cell-2": 250.0, "cell-3": 10.0}
    batches = plan_batches(units, 2, durations)
    # the two long 4.1 cells take a slot each at once; the short 3.5 cells follow in one batch
    assert [b.cells[0] for b in batches[:2]] == ["cell-1", "cell-2"]
    assert [b.runtime for b in batches] == ["4.1", "4.1", "3.5"]
    assert sorted(batches[2].cells) == ["cell-0", "cell-3"]


def test_a_cell_without_a_duration_costs_the_median_of_the_known() -> None:
    units = _units([("3.5", "")] * 3)
    batches = plan_batches(units, 3, {"cell-0": 10.0, "cell-1": 30.0})
    assert sorted(b.estimate_s for b in batches) == [
        10.0 + BATCH_START_S,
        20.0 + BATCH_START_S,
        30.0 + BATCH_START_S,
    ]


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
