"""Hostile input to every reader of user files: one located issue or usage error, never a hang.

YAML bombs (recursive and exponentially expanding aliases), nesting thousands deep, FIFOs,
folders, huge and non-UTF-8 files, plans too large to expand, strengths beyond the dimensions,
seeds out of range, profile names that would leave the history folder, SLO thresholds that are
NaN or infinite, and profile entries naming suites, experiments or load profiles that do not
exist. Each case runs under a wall-clock alarm: a hang fails the test instead of the suite.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.cli.run_cmd import cell_durations, check_out
from certify.cli.validate_cmd import locustfile_problem
from certify.config.policy import load_policy, parse_policy
from certify.config.source import MAX_BYTES, MAX_DEPTH, MAX_NODES, load_yaml
from certify.errors import ConfigError, ProfileError, UsageError
from certify.load.profile import read_profile
from certify.load.slo import check_slo, override_from_env
from certify.matrix.model import load_matrix, validate_files
from certify.matrix.size import MAX_CELLS, MAX_TUPLES, tuple_count
from certify.matrix.space import Space
from certify.plan import build_plan, find_profile
from certify.report.history import History

# -- bombs ----------------------------------------------------------------------------------------

LAUGHS = "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" if i else "l0: &l0 [lol, lol, lol]\n"
    for i in range(10)
)  # 3 * 9**9 (about a billion) strings once every alias is expanded

BOMBS = {
    "recursive-sequence": ("a: &x [*x]\n", "recursive alias"),
    "recursive-mapping": ("a: &x {b: {c: *x}}\n", "recursive alias"),
    "billion-laughs": (LAUGHS, f"expands to more than {MAX_NODES} values"),
    "deep-flow": ("a: " + "[" * 5000 + "]" * 5000 + "\n", f"nested deeper than {MAX_DEPTH}"),
    "deep-block": (
        "".join(" " * i + f"k{i}:\n" for i in range(1000)) + " " * 1000 + "v\n",
        f"nested deeper than {MAX_DEPTH}",
    ),
    "deep-by-aliases": (
        # each anchor 40 deep, each nesting the previous one: deep only once expanded
        "".join(
            f"a{i}: &a{i} " + "[" * 40 + (f"*a{i - 1}" if i else "x") + "]" * 40 + "\n"
            for i in range(30)
        ),
        f"nested deeper than {MAX_DEPTH} levels (counting what aliases bring in)",
    ),
    "wide": ("[" + ", ".join(["x"] * (MAX_NODES + 10)) + "]\n", f"more than {MAX_NODES} values"),
}


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """Fail any test of this module that runs for more than 30 s instead of hanging."""

    def _stop(signum: int, frame: object) -> None:
        raise TimeoutError("hung: a reader blocked or a bound did not hold")

    old = signal.signal(signal.SIGALRM, _stop)
    signal.alarm(30)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "needle"), BOMBS.values(), ids=list(BOMBS))
def test_yaml_bombs_are_one_located_issue_quickly(tmp_path: Path, text: str, needle: str) -> None:
    path = _write(tmp_path / "bomb.yaml", text)
    started = time.monotonic()
    source, issues = load_yaml(path)
    assert time.monotonic() - started < 10
    assert source.data is None
    assert len(issues) == 1, issues
    issue = issues[0]
    assert issue.file == str(path) and issue.line >= 1
    assert needle in issue.message
    assert issue.valid  # every error says what is valid


def test_a_bomb_under_a_key_names_that_key_and_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.yaml", "name: x\n" + LAUGHS)
    _, [issue] = load_yaml(path)
    # l9 would expand past the bound (l8 alone is 3 * 9**8); the issue names the top-level key
    assert issue.key.startswith("l")
    assert issue.line == int(issue.key[1:]) + 2


def test_aliases_within_bounds_still_work(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.yaml", "base: &b {java: [11, 17]}\nx: *b\ny: [*b, *b]\n")
    source, issues = load_yaml(path)
    assert issues == []
    assert source.data == {
        "base": {"java": ["11", "17"]},
        "x": {"java": ["11", "17"]},
        "y": [{"java": ["11", "17"]}, {"java": ["11", "17"]}],
    }


def test_nesting_up_to_the_bound_is_accepted(tmp_path: Path) -> None:
    depth = MAX_DEPTH - 1
    path = _write(tmp_path / "m.yaml", "a: " + "[" * depth + "x" + "]" * depth + "\n")
    source, issues = load_yaml(path)
    assert issues == []
    node = source.data["a"]
    for _ in range(depth - 1):
        node = node[0]
    assert node == ["x"]  # x sits MAX_DEPTH keys deep: a, then depth list indices
    path = _write(tmp_path / "m.yaml", "a: " + "[" * MAX_DEPTH + "x" + "]" * MAX_DEPTH + "\n")
    _, [issue] = load_yaml(path)
    assert issue.message == f"nested deeper than {MAX_DEPTH} levels"


def test_duplicate_anchor_names_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.yaml", "a: &x 1\nb: &x 2\n")
    _, [issue] = load_yaml(path)
    assert issue.line == 2
    assert "duplicate anchor 'x'" in issue.message and "line 1" in issue.message


# -- paths that are not files ---------------------------------------------------------------------


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _reader_unblocker(path: Path) -> threading.Timer:
    """Open the FIFO for writing after 5 s, so a reader that blocked wakes (and the test fails)."""

    def unblock() -> None:
        # fails when no reader blocked on it (the expected case) or there is no FIFO at all
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    timer = threading.Timer(5, unblock)
    timer.daemon = True
    timer.start()
    return timer


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: _fifo(p), "FIFO"),
        (lambda p: p.mkdir() or p, "directory"),
        (lambda p: p, "no such file"),
        (lambda p: p.write_bytes(b"name: caf\xe9\n") and p, "not UTF-8"),
        (lambda p: p.write_bytes(b"#" * (MAX_BYTES + 1)) and p, f"more than the {MAX_BYTES}"),
    ],
    ids=["fifo", "directory", "missing", "latin-1", "huge"],
)
def test_paths_that_cannot_be_read_are_issues_without_blocking(
    tmp_path: Path, make: object, needle: str
) -> None:
    path = make(tmp_path / "m.yaml")  # type: ignore[operator]
    timer = _reader_unblocker(path)
    started = time.monotonic()
    try:
        for load in (load_yaml, parse_policy):
            issues = load(path)[-1]
            assert len(issues) == 1, issues
            assert needle in issues[0].message
            assert issues[0].valid
        with pytest.raises(ConfigError, match=needle):
            load_matrix(path)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 4  # well before the unblocker would have helped


def test_validate_files_does_not_block_on_a_fifo(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path / "policy.yaml")  # validate sniffs a file's schema before parsing it
    timer = _reader_unblocker(fifo)
    try:
        fifo_issue, folder_issue = validate_files([fifo, tmp_path])
    finally:
        timer.cancel()
    assert (fifo_issue.file, fifo_issue.line) == (str(fifo), 1)
    assert "FIFO" in fifo_issue.message
    assert "directory" in folder_issue.message


def test_policy_loader_refuses_bombs_and_fifos(tmp_path: Path) -> None:
    bomb = _write(tmp_path / "p.yaml", "schema: certify.policy/1\n" + LAUGHS)
    with pytest.raises(ConfigError, match=f"more than {MAX_NODES} values") as exc:
        load_policy(bomb)
    assert exc.value.exit_code == 2
    fifo = _fifo(tmp_path / "fifo.yaml")
    timer = _reader_unblocker(fifo)
    try:
        with pytest.raises(ConfigError):
            load_policy(fifo)
    finally:
        timer.cancel()


def test_durations_from_a_fifo_or_a_folder_are_usage_errors(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path / "report.json")
    timer = _reader_unblocker(fifo)
    try:
        with pytest.raises(UsageError, match="FIFO"):
            cell_durations(fifo)
    finally:
        timer.cancel()
    with pytest.raises(UsageError, match="no such file"):
        cell_durations(tmp_path / "nope")
    _write(tmp_path / "run" / "report.json", "[1, 2]")
    with pytest.raises(UsageError, match="not a readable certify report"):
        cell_durations(tmp_path / "run")


# -- plans too large, strengths and seeds ---------------------------------------------------------

BIG = """\
schema: certify.matrix/1
name: big
dimensions:
{dims}
profiles:
  wide: {{reduction: {reduction}}}
  narrow:
    reduction: full
    select: [{{{narrow}}}]
"""


def _big(tmp_path: Path, dims: int, values: int, reduction: str = "full") -> Path:
    body = "\n".join(
        f"  d{i}: {{values: {{{', '.join(f'v{j}: ' for j in range(values))}}}}}"
        for i in range(dims)
    )
    narrow = ", ".join(f"d{i}: v0" for i in range(min(dims, 5)))  # all but dims - 5 fixed
    return _write(tmp_path / "big.yaml", BIG.format(dims=body, reduction=reduction, narrow=narrow))


def test_a_full_expansion_too_large_is_refused_before_expanding(tmp_path: Path) -> None:
    path = _big(tmp_path, 8, 10)  # 10**8 cells
    started = time.monotonic()
    with pytest.raises(ConfigError) as exc:
        load_matrix(path)
    assert time.monotonic() - started < 10
    [issue] = exc.value.issues
    assert (issue.key, issue.line) == ("profiles.wide.reduction", 13)
    assert "100000000" in issue.message and "10 x 10 x 10" in issue.message
    assert f"at most {MAX_CELLS} cells" in issue.message
    for fix in ("t=2", "select", "constraints"):
        assert fix in issue.valid


def test_a_select_that_cuts_the_product_down_is_planned(tmp_path: Path) -> None:
    # 10**7 combinations; the narrow profile selects 100 of them: counted, then expanded
    matrix = load_matrix(_big(tmp_path, 7, 10, "t=2"))
    plan = build_plan(matrix, "narrow")
    assert len(plan.cells) == 100
    assert plan.groups[0].complete


def test_a_strategy_override_too_large_is_a_usage_error(tmp_path: Path) -> None:
    matrix = load_matrix(_big(tmp_path, 6, 10, "t=2"))
    with pytest.raises(UsageError, match=r"more than 10000 valid cells.*valid: .*t=2"):
        build_plan(matrix, "wide", strategy="full")
    assert tuple_count((10,) * 6, 5) > MAX_TUPLES
    with pytest.raises(UsageError, match=r"t=5 must cover 600000 value tuples.*lower t"):
        build_plan(matrix, "wide", strategy="t=5")


def test_t_beyond_the_dimensions_is_located_in_the_file(tmp_path: Path) -> None:
    text = _big(tmp_path, 3, 2, "{experimental: t=4}").read_text()
    with pytest.raises(ConfigError) as exc:
        load_matrix(_write(tmp_path / "t.yaml", text))
    [issue] = exc.value.issues
    assert issue.key == "profiles.wide.reduction.experimental"
    assert issue.message == "t=4 is more than the 3 dimension(s) of the matrix"
    assert issue.valid == "full, or t=N with 1 <= N <= 3"


def test_t_beyond_the_dimensions_on_the_command_line(tmp_path: Path) -> None:
    matrix = load_matrix(_big(tmp_path, 3, 2, "t=2"))
    with pytest.raises(UsageError, match=r"--strategy t=9 is more than the 3 dimension"):
        build_plan(matrix, "wide", strategy="t=9")
    assert len(build_plan(matrix, "wide", strategy="t=3").cells) == 8  # t = dims is full


@pytest.mark.parametrize("seed", ["-1", "4294967296", "9" * 50])
def test_seeds_out_of_range(tmp_path: Path, seed: str) -> None:
    text = _big(tmp_path, 3, 2, "t=2").read_text().replace("  wide: {", f"  wide: {{seed: {seed}, ")
    with pytest.raises(ConfigError) as exc:
        load_matrix(_write(tmp_path / "s.yaml", text))
    [issue] = exc.value.issues
    assert issue.key == "profiles.wide.seed"
    matrix = load_matrix(_big(tmp_path, 3, 2, "t=2"))
    with pytest.raises(UsageError, match=r"--seed: seed .* is out of range"):
        build_plan(matrix, "wide", seed=int(seed))


def test_the_largest_seed_is_fine(tmp_path: Path) -> None:
    matrix = load_matrix(_big(tmp_path, 3, 2, "t=2"))
    assert build_plan(matrix, "wide", seed=2**32 - 1).seed == 2**32 - 1


@settings(max_examples=60, deadline=2000)
@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=5),
    banned=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), max_size=3),
    limit=st.integers(0, 40),
)
def test_count_valid_agrees_with_brute_force(
    sizes: list[int], banned: list[tuple[int, int]], limit: int
) -> None:
    from certify.matrix.constraints import Match, exclude_rule

    names = tuple(f"d{i}" for i in range(len(sizes)))
    values = tuple(tuple(f"v{j}" for j in range(n)) for n in sizes)
    rules = tuple(exclude_rule(Match(((d, frozenset([v])),))) for d, v in banned if d < len(sizes))
    space = Space(names, values, rules)
    valid = sum(space.valid(row) for row in product(*(range(n) for n in sizes)))
    assert space.count_valid(limit, 10**6) == min(valid, limit + 1)
    assert tuple_count(tuple(sizes), 2) == sum(
        sizes[a] * sizes[b] for a in range(len(sizes)) for b in range(a + 1, len(sizes))
    )
    assert space.count_valid(10**6, 0) in (None, 0)  # no budget: nothing counted


# -- profile names and the history folder ---------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", "a\\b", ".hidden", "Pr", ""])
def test_profile_names_that_are_not_one_folder_are_refused(tmp_path: Path, name: str) -> None:
    text = _big(tmp_path, 2, 2, "t=2").read_text().replace("  wide:", f'  "{name}":')
    with pytest.raises(ConfigError) as exc:
        load_matrix(_write(tmp_path / "n.yaml", text))
    [issue] = exc.value.issues
    assert "history folder" in issue.message
    assert issue.valid.startswith("lower-case letters")


@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", "..", ".", "", "c:x", "a\\b"])
def test_history_refuses_a_profile_name_outside_its_folder(tmp_path: Path, name: str) -> None:
    history = History(tmp_path / "history")
    doc = {"run": {"id": "r1", "profile": name, "started": "2026-01-01T00:00:00Z"}}
    with pytest.raises(UsageError, match="would write outside the history folder") as exc:
        history.add(doc)  # type: ignore[arg-type]
    assert exc.value.exit_code == 2
    with pytest.raises(UsageError):
        history.previous(name, "r1", 4)
    assert list(tmp_path.rglob("*.json")) == []  # nothing written anywhere


# -- SLO thresholds -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), -1, 10**400, "5"])
def test_slo_thresholds_must_be_finite_numbers(value: object) -> None:
    with pytest.raises(ValueError, match=r"where: SLO p95_ms must be a finite number >= 0"):
        check_slo({"p95_ms": value}, "where")


@pytest.mark.parametrize("text", ['{"p95_ms": NaN}', '{"rps": Infinity}', '{"rps": -Infinity}'])
def test_slo_override_rejects_json_nan_and_infinity(text: str) -> None:
    with pytest.raises(ValueError, match="must be a finite number"):
        override_from_env({"CERTIFY_LOAD_SLO": text})


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('SLO = {"*": {"p95_ms": 1e999}}', "SLO['*']: SLO p95_ms must be a finite number >= 0"),
        ('SLO = {"*": {"rps": -1}}', "SLO rps must be a finite number >= 0, got -1"),
        ('USERS = "nan"', "USERS must be a finite number, not 'nan'"),
        ('SECONDS = "inf"', "SECONDS must be a finite number, not 'inf'"),
        ("SLO = " + "+".join(["1"] * 100_000), "cannot read the locustfile"),
    ],
    ids=["inf", "negative", "nan-users", "inf-seconds", "deep-expression"],
)
def test_locustfile_thresholds_are_checked(tmp_path: Path, body: str, needle: str) -> None:
    path = _write(tmp_path / "load" / "bad.py", body + "\n")
    with pytest.raises(ProfileError, match="^" + re.escape(str(path))) as exc:
        read_profile(tmp_path, "bad")
    assert needle in str(exc.value)
    assert needle in (locustfile_problem(path) or "")


# -- entries naming what the project lacks --------------------------------------------------------

PROJECT = """\
schema: certify.matrix/1
name: proj
dimensions:
  spark: {values: {"3.5": }}
profiles:
  smoke: {}
  night:
    suites: [smoke, nosuch]
    chaos: [gone, {name: here}]
    load:
      - {name: missing-load}
      - {name: broken}
      - fine
"""


def _project(tmp_path: Path) -> Path:
    (tmp_path / "scenarios" / "smoke").mkdir(parents=True)
    (tmp_path / "scenarios" / "etl").mkdir()
    _write(tmp_path / "chaos" / "here.json", "{}")
    _write(tmp_path / "load" / "fine.py", 'SLO = {"*": {"p95_ms": 200}}\n')
    _write(tmp_path / "load" / "broken.py", 'SLO = {"*": {"p95_ms": 1e999}}\n')
    _write(tmp_path / "load" / "_shared.py", "")
    return _write(tmp_path / "matrices" / "proj.yaml", PROJECT)


def test_validate_names_every_entry_the_project_lacks(tmp_path: Path) -> None:
    path = _project(tmp_path)
    found = [
        (i.line, i.key, i.message, i.valid)
        for i in ConfigError(validate_files([path], None, locustfile_problem)).issues
    ]
    assert found == [
        (
            8,
            "profiles.night.suites[1]",
            f"suite 'nosuch' does not exist (no {tmp_path}/scenarios/nosuch)",
            "etl, smoke",
        ),
        (
            9,
            "profiles.night.chaos[0]",
            f"chaos experiment 'gone' does not exist (no {tmp_path}/chaos/gone.json or "
            f"{tmp_path}/chaos/gone.yaml or {tmp_path}/chaos/gone.yml)",
            "here",
        ),
        (
            11,
            "profiles.night.load[0].name",
            f"load profile 'missing-load' does not exist (no {tmp_path}/load/missing-load.py)",
            "broken, fine",
        ),
        (
            12,
            "profiles.night.load[1].name",
            "load profile 'broken': SLO['*']: SLO p95_ms must be a finite number >= 0, got inf",
            f"fix the declarations in {tmp_path}/load/broken.py",
        ),
    ]


def test_plan_and_run_check_only_the_profile_they_plan(tmp_path: Path) -> None:
    _project(tmp_path)
    assert find_profile(tmp_path, "smoke", None).name == "proj"  # night's entries do not matter
    with pytest.raises(ConfigError) as exc:
        find_profile(tmp_path, "night", None, locustfile_problem)
    assert [i.key for i in exc.value.issues] == [
        "profiles.night.suites[1]",
        "profiles.night.chaos[0]",
        "profiles.night.load[0].name",
        "profiles.night.load[1].name",
    ]


def test_a_matrix_outside_a_project_is_checked_against_the_root_given(tmp_path: Path) -> None:
    _project(tmp_path)
    elsewhere = _write(tmp_path / "elsewhere" / "m.yaml", PROJECT)
    assert validate_files([elsewhere]) == []  # no project known: names are not looked up
    assert len(validate_files([elsewhere], tmp_path)) == 3  # no locustfile check asked for
    other = tmp_path / "other"
    other.mkdir()
    issues = validate_files([elsewhere], other)
    assert len(issues) == 7  # smoke is named too, and nothing is there
    assert {i.valid for i in issues} == {
        f"none yet under {other}/scenarios",
        f"none yet under {other}/chaos",
        f"none yet under {other}/load",
    }


def test_suite_names_cannot_leave_the_scenarios_folder(tmp_path: Path) -> None:
    text = PROJECT.replace("[smoke, nosuch]", '[smoke, "../../etc"]')
    with pytest.raises(ConfigError) as exc:
        load_matrix(_write(tmp_path / "m.yaml", text))
    [issue] = exc.value.issues
    assert issue.key == "profiles.night.suites[1]"
    assert "scenarios/NAME" in issue.message


# -- --out ----------------------------------------------------------------------------------------


def test_out_onto_an_existing_file_or_into_a_missing_folder(tmp_path: Path) -> None:
    existing = _write(tmp_path / "report.txt", "keep me")
    with pytest.raises(UsageError, match="is an existing file, not a run folder"):
        check_out(existing, "--out")
    with pytest.raises(UsageError, match="is an existing file"):
        check_out(existing, "--out", parents=True)
    assert existing.read_text() == "keep me"
    missing = tmp_path / "no" / "such" / "run"
    with pytest.raises(UsageError, match=r"the folder it would be created in, .*no/such, does"):
        check_out(missing, "--out")
    assert not (tmp_path / "no").exists()
    # a default may create its parents
    assert check_out(missing, "", parents=True) == missing.resolve()
    assert check_out(tmp_path / "new", "--out") == (tmp_path / "new").resolve()
    assert check_out(tmp_path, "--out") == tmp_path.resolve()  # an earlier run's folder: reused


def test_too_many_dimensions_or_constraints_are_refused(tmp_path: Path) -> None:
    from certify.config.models import MAX_CONSTRAINTS, MAX_DIMENSIONS

    many = _big(tmp_path, MAX_DIMENSIONS + 1, 1, "t=2")  # 1 cell, but walked 65 levels deep
    with pytest.raises(ConfigError) as exc:
        load_matrix(many)
    [issue] = exc.value.issues
    assert (issue.key, issue.line) == ("dimensions", 3)
    assert issue.message == f"{MAX_DIMENSIONS + 1} items, more than certify takes here"
    assert issue.valid == f"at most {MAX_DIMENSIONS} item(s)"
    rules = "".join(
        f"  - {{exclude: {{d0: v{i % 2}, d1: v{i % 3}}}, reason: r}}\n"
        for i in range(MAX_CONSTRAINTS + 1)
    )
    text = (
        _big(tmp_path, 3, 4, "t=2")
        .read_text()
        .replace("profiles:", f"constraints:\n{rules}profiles:")
    )
    with pytest.raises(ConfigError) as exc:
        load_matrix(_write(tmp_path / "c.yaml", text))
    assert [i.key for i in exc.value.issues] == ["constraints"]


def test_plan_of_another_projects_matrix_looks_names_up_in_that_project(tmp_path: Path) -> None:
    from certify.matrix.references import project_root

    matrix = _project(tmp_path / "a")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    project = project_root(matrix, elsewhere)
    assert project == (tmp_path / "a").absolute()
    text = matrix.read_text().replace("[smoke, nosuch]", "[smoke, etl]").replace("gone, ", "")
    matrix.write_text(text.replace("      - {name: missing-load}\n      - {name: broken}\n", ""))
    assert find_profile(elsewhere, "night", matrix, locustfile_problem, project).name == "proj"
    with pytest.raises(ConfigError):  # a run looks suites up under its --root
        find_profile(elsewhere, "night", matrix, locustfile_problem)


def test_a_relative_out_inside_the_current_folder_gets_its_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`certify run --out runs/smoke` on a fresh clone (no runs/ yet) works: the README's own."""
    monkeypatch.chdir(tmp_path)
    assert check_out(Path("runs/smoke"), "--out") == (tmp_path / "runs" / "smoke").resolve()
    with pytest.raises(UsageError, match="does not exist"):
        check_out(Path("../elsewhere/no/such"), "--out")  # outside the current folder: a typo?
