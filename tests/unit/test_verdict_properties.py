"""Laws of verdict combination: the worst wins, so more evidence never improves a verdict."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from certify.cell import Cell
from certify.plan import PlannedCell
from certify.report.aggregate import cell_result
from certify.report.verdict import VERDICTS, rank, status_rank, worst
from certify.results import Record

verdicts = st.sampled_from(VERDICTS)
# unknown verdicts and statuses must behave like the worst (fail closed)
any_verdict = st.one_of(verdicts, st.text(min_size=1, max_size=8))
statuses = st.one_of(
    st.sampled_from(["passed", "failed", "error", "skipped", "not_run", "flaky"]),
    st.text(min_size=1, max_size=8),
)


def test_the_ordering_is_the_documented_one() -> None:
    assert VERDICTS == ("failed", "incomplete", "not_run", "degraded", "waived", "certified")


@given(st.lists(any_verdict), st.lists(any_verdict))
def test_worst_is_monotone(a: list[str], b: list[str]) -> None:
    # adding verdicts can only keep or worsen the combination
    if a:
        assert rank(worst(a + b)) <= rank(worst(a))
    assert rank(worst(a + b)) <= rank(worst(b)) or not b


@given(st.lists(any_verdict, min_size=1))
def test_worst_is_order_free_and_idempotent(a: list[str]) -> None:
    assert worst(a) == worst(list(reversed(a))) == worst(a + a)
    assert worst([worst(a[: len(a) // 2] or a), worst(a[len(a) // 2 :] or a)]) == worst(a)


@given(st.text(min_size=1).filter(lambda v: v not in VERDICTS), st.lists(verdicts))
def test_an_unknown_verdict_counts_as_failed(unknown: str, others: list[str]) -> None:
    assert worst([unknown, *others]) == "failed"


def test_nothing_to_combine_is_incomplete() -> None:
    assert worst([]) == "incomplete"


def _planned() -> PlannedCell:
    return PlannedCell(Cell((("spark", "3.5"),), "certified"), "spark-3.5", ("smoke",), (), ())


def _record(i: int, status: str) -> Record:
    return Record("r", "spark=3.5", "smoke", f"smoke/test.py::t{i}", status)


@given(st.lists(statuses, min_size=1, max_size=6), statuses)
@example(["skipped"], "not_run")
@example(["not_run"], "skipped")
@example(["flaky", "skipped"], "not_run")
def test_a_worse_record_never_improves_a_cell(existing: list[str], added: str) -> None:
    """Replacing a test's result by a worse one can only keep or worsen the cell verdict."""
    before = [_record(i, s) for i, s in enumerate(existing)]
    target = 0
    if status_rank(added) > status_rank(existing[target]):
        return  # not worse: nothing to check
    after = [_record(0, added), *before[1:]]
    assert rank(cell_result(_planned(), after).verdict) <= rank(
        cell_result(_planned(), before).verdict
    )


@given(st.lists(statuses, min_size=1, max_size=6), st.sampled_from(["failed", "error", "bogus"]))
def test_a_failing_record_always_fails_the_cell(existing: list[str], bad: str) -> None:
    records = [_record(i, s) for i, s in enumerate(existing)] + [_record(99, bad)]
    assert cell_result(_planned(), records).verdict == "failed"
