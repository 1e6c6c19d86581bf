"""Laws of verdict combination: the worst wins, so more evidence never improves a verdict."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from certify.cell import Cell
from certify.config.policy import Policy
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


# --- a suite certifies only when every test that applies to the cell ran and passed --------

SUITES = ("smoke", "etl")
passes = st.sampled_from(["passed", "flaky"])
# (status, applicable): applicable=False is a declared not-applicable (only ever a not_run)
results = st.one_of(
    st.tuples(statuses, st.just(True)),
    st.tuples(st.just("not_run"), st.booleans()),
)


def _cell() -> PlannedCell:
    return PlannedCell(Cell((("spark", "3.5"),), "certified"), "spark-3.5", SUITES, ("kill",), ())


def _rec(suite: str, i: int, status: str, applicable: bool = True) -> Record:
    if suite == "kill":  # the cell's one experiment: one record, named as the runner names it
        return Record("r", "spark=3.5", "kill", "chaos/kill", status, "experiment")
    return Record("r", "spark=3.5", suite, f"{suite}/t.py::t{i}", status, applicable=applicable)


def _verdicts(records: list[Record], policy: Policy | None = None) -> tuple[str, dict[str, str]]:
    """The cell verdict and each criterion's, with every scenario record's test collected."""
    expected = [(r.suite, r.test_id) for r in records if r.kind == "scenario"]
    result = cell_result(_cell(), records, expected, policy)
    return result.verdict, {s.criterion: s.verdict for s in result.suites}


@st.composite
def certified_cells(draw: st.DrawFn) -> list[Record]:
    """Records of a certified cell: every suite has a pass, some tests do not apply."""
    records = [_rec("kill", 0, "passed")]
    for suite in SUITES:
        done = draw(st.lists(passes, min_size=1, max_size=4))
        out_of_scope = draw(st.integers(0, 2))
        records += [_rec(suite, i, s) for i, s in enumerate(done)]
        records += [_rec(suite, 10 + i, "not_run", False) for i in range(out_of_scope)]
    return draw(st.permutations(records))


@given(certified_cells(), st.sampled_from(SUITES), st.sampled_from(["not_run", "skipped"]))
@example([_rec("kill", 0, "passed"), _rec("smoke", 0, "passed"), _rec("etl", 0, "passed")],
         "smoke", "not_run")  # fmt: skip
def test_a_not_run_or_a_skip_added_to_a_certified_suite_never_keeps_it_certified(
    records: list[Record], suite: str, added: str
) -> None:
    assert _verdicts(records)[0] == "certified"
    verdict, criteria = _verdicts([*records, _rec(suite, 99, added)])
    assert criteria[f"suite:{suite}"] == {"not_run": "not_run", "skipped": "incomplete"}[added]
    assert verdict == criteria[f"suite:{suite}"]


@given(certified_cells(), st.sampled_from(SUITES), st.integers(1, 3))
def test_tests_that_do_not_apply_stay_out_of_the_verdict(
    records: list[Record], suite: str, more: int
) -> None:
    extra = [_rec(suite, 50 + i, "not_run", False) for i in range(more)]
    assert _verdicts([*records, *extra])[0] == "certified"


@given(certified_cells(), st.integers(0, 5), st.integers(0, 5))
def test_flaky_results_count_as_far_as_the_policy_tolerates(
    records: list[Record], flaky: int, tolerated: int
) -> None:
    extra = [_rec("smoke", 60 + i, "flaky") for i in range(flaky)]
    base = sum(r.status == "flaky" for r in records)
    verdict = _verdicts([*records, *extra], Policy(flaky_tolerated=tolerated))[0]
    assert verdict == ("certified" if base + flaky <= tolerated else "degraded")
    assert _verdicts([*records, *extra])[0] == "certified"  # no limit in the policy


@st.composite
def any_cells(draw: st.DrawFn) -> list[Record]:
    """Records of any outcome, maybe with the experiment's, every test id distinct."""
    records = [_rec("kill", 0, draw(statuses))] if draw(st.booleans()) else []
    for suite in SUITES:
        found = draw(st.lists(results, min_size=0, max_size=5))
        records += [_rec(suite, i, s, a) for i, (s, a) in enumerate(found)]
    return records


@given(any_cells(), st.integers(0, 20))
@example([_rec("smoke", 0, "failed"), _rec("smoke", 1, "passed"), _rec("etl", 0, "passed")], 0)
def test_removing_a_record_never_improves_a_verdict(records: list[Record], pick: int) -> None:
    """A planned test whose record disappears is unfinished: its suite is at best incomplete.

    The one verdict a removal can move up is `failed` -> `incomplete` (the failure's evidence
    is what was removed), and that still fails closed: nothing removed can ever certify.
    """
    if not records:
        return
    i = pick % len(records)
    before, _ = _verdicts(records)
    gone = records[i]
    expected = [(r.suite, r.test_id) for r in records if r.kind == "scenario"]
    after_cell = cell_result(_cell(), records[:i] + records[i + 1 :], expected)
    after = after_cell.verdict
    assert rank(after) <= rank("incomplete")
    assert rank(after) <= rank(before) or (before, after) == ("failed", "incomplete")
    suite = "chaos:kill" if gone.kind == "experiment" else f"suite:{gone.suite}"
    assert {s.criterion: s.verdict for s in after_cell.suites}[suite] in ("failed", "incomplete")


def test_removing_the_failure_of_a_suite_with_passes_leaves_it_incomplete() -> None:
    records = [_rec("smoke", 0, "failed"), _rec("smoke", 1, "passed")]
    expected = [(r.suite, r.test_id) for r in records]
    cut = cell_result(_planned(), records[1:], expected)
    assert cut.verdict == "incomplete"
    assert "1 of 2 collected tests have no result (first: smoke/t.py::t0)" in cut.reasons[-1]


def test_a_pass_beside_a_not_run_is_not_run_with_the_reason() -> None:
    records = [
        _rec("smoke", 0, "passed"),
        Record("r", "spark=3.5", "smoke", "smoke/t.py::t1", "not_run", message="jar x missing"),
    ]
    result = cell_result(_planned(), records)
    assert result.verdict == "not_run"
    assert any("smoke/t.py::t1" in r and "jar x missing" in r for r in result.reasons)


def test_a_plain_skip_beside_passes_is_incomplete_with_the_skip_shown() -> None:
    records = [
        _rec("smoke", 0, "passed"),
        Record("r", "spark=3.5", "smoke", "smoke/t.py::t1", "skipped", message="no time today"),
    ]
    result = cell_result(_planned(), records)
    assert result.verdict == "incomplete"
    assert any("smoke/t.py::t1" in r and "no time today" in r for r in result.reasons)
    assert any("a plain skip is no evidence" in r for r in result.reasons)
