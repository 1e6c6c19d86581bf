"""Fuzzing the matrix and policy readers: random YAML-ish text and random structures.

Whatever a file holds, `certify validate`, `plan` and `run` answer with ConfigError or
UsageError (one clean message each, exit 2), never another exception and never a hang: each
example has a deadline, sizes are bounded, and a wall-clock alarm stops a test that would hang.
The policy loader (certify.config.policy) is exercised read-only, through its public API.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.config.policy import load_policy, parse_policy
from certify.errors import CertifyError, ConfigError, Issue, UsageError
from certify.matrix.model import load_matrix, validate_files
from certify.plan import build_plan, find_profile

FUZZ = settings(
    max_examples=120,
    deadline=4000,  # generous: the machine is shared; a hang is caught by the alarm below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples on every run: a failure reproduces
)

# Pieces YAML gives meaning to, and words the matrix and policy models know.
# fmt: off
TOKENS = [
    ": ", ":", "- ", "-", "? ", "[", "]", "{", "}", ",", "&a", "&b", "*a", "*b", "!!str ",
    "!!map ", "!!binary ", "!tag ", "|", ">", "'", '"', "#", "---", "...", "%YAML 1.1", "<<: ",
    "\t", "  ", "    ", "\n", "\n  ", "\n    ", "\n- ", "~", "null", "true", "no", "0x1F",
    "1e999", ".nan", ".inf", "-1", "4.10", "3.5", "007", "9" * 30, "\\u0000", "\x00", "\x85",
    "\u2028", "\ufeff", "é", "schema", "certify.matrix/1", "certify.policy/1", "name",
    "dimensions", "values", "constraints", "exclude", "require", "when", "reason", "tiers",
    "cells", "certified", "documented", "experimental", "default_tier", "profiles", "select",
    "reduction", "t=2", "t=99", "full", "seed", "suites", "chaos", "load", "shape", "during",
    "retry", "on", "times", "spark", "catalog", "hive", "!hive", "*", "4.*", "slo", "metric",
    "max", "min", "p95_ms", "waivers", "blocking_tiers", "pass_verdicts", "expires",
]
MATRIX_KEYS = [
    "schema", "name", "description", "dimensions", "values", "constraints", "exclude",
    "require", "when", "reason", "tiers", "cells", "default_tier", "profiles", "select",
    "reduction", "seed", "suites", "chaos", "load", "shape", "during", "retry", "on", "times",
    "pyspark", "java", "jars", "meta", "spark", "catalog", "certified", "documented",
    "experimental", "smoke", "pr", "3.5", "4.10", "hive", "iceberg", "../x", "", "x y",
]
POLICY_KEYS = [
    "schema", "description", "blocking_tiers", "pass_verdicts", "require_complete_coverage",
    "max_reasons_per_cell", "tiers", "suites", "optional", "slo", "name", "load", "metric",
    "max", "min", "blocking", "window", "chaos", "experiment", "max_recovery_s",
    "zero_data_loss", "require_fault_confirmed", "flaky_tolerated", "max_evidence_age_days",
    "evidence_age_by_profile", "waivers", "cells", "criterion", "reason", "owner", "expires",
    "certified", "documented", "experimental", "source", "",
]
WORDS = [
    "", "*", "!x", "t=2", "t=0", "t=99", "full", "4.*", "3.5", "hive", "2026-01-01",
    "certify.matrix/1", "certify.policy/1", "p95_ms", "certified", "[", "a" * 300,
]
# fmt: on
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=12),
)


def _tree(keys: list[str]) -> st.SearchStrategy[object]:
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), inner, max_size=5),
        ),
        max_leaves=30,
    )


GOOD_MATRIX: dict[str, object] = {
    "schema": "certify.matrix/1",
    "name": "fuzz",
    "dimensions": {
        "spark": {"values": {"3.5": {"pyspark": "3.5.7"}, "4.10": None}},
        "catalog": {"values": {"hive": None, "iceberg": {"jars": ["iceberg-spark-runtime"]}}},
        "gpu": {"values": {"none": None, "nvidia": None}},
    },
    "constraints": [{"exclude": {"spark": "3.5", "catalog": "iceberg"}, "reason": "r"}],
    "tiers": {"certified": {"cells": [{"catalog": "hive"}]}},
    "profiles": {
        "smoke": {"tiers": ["certified"], "select": [{"spark": "4.*"}]},
        "pr": {"reduction": {"experimental": "t=2"}, "seed": 3, "suites": ["smoke"]},
    },
}
GOOD_POLICY: dict[str, object] = {
    "schema": "certify.policy/1",
    "blocking_tiers": ["certified"],
    "pass_verdicts": ["certified", "waived"],
    "tiers": {"certified": {"suites": ["smoke"], "optional": ["load:*"]}},
    "slo": [{"name": "p95", "load": "*", "metric": "p95_ms", "max": 200}],
    "waivers": [
        {
            "cells": "spark=4.10,*",
            "criterion": "suite:smoke",
            "reason": "r",
            "owner": "o",
            "expires": "2030-01-01",
        }
    ],
}


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A test that runs for 10 minutes hangs somewhere: fail it instead of the whole run."""

    def _stop(signum: int, frame: object) -> None:
        raise TimeoutError("hung: a bound did not hold")

    old = signal.signal(signal.SIGALRM, _stop)
    signal.alarm(600)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _clean(issues: list[Issue]) -> None:
    """Every issue is one located line that says what is wrong."""
    for issue in issues:
        assert issue.file and issue.line >= 1 and issue.message, issue
        assert "Traceback" not in issue.format()


def _exercise_matrix(path: Path, root: Path) -> None:
    """Every matrix reader on `path`: only certify's user-facing errors may come out."""
    _clean(validate_files([path], root))
    try:
        matrix = load_matrix(path)
    except ConfigError as exc:
        assert exc.exit_code == 2 and exc.issues
        _clean(exc.issues)
        return
    for profile in list(matrix.spec.profiles)[:3]:
        try:
            find_profile(root, profile, path)
            plan = build_plan(matrix, profile)
        except (ConfigError, UsageError) as exc:
            assert exc.exit_code == 2 and str(exc)
            continue
        assert all(p.cell.id for p in plan.cells)
        json.dumps(plan.to_json())


def _exercise_policy(path: Path) -> None:
    _clean(parse_policy(path)[2])
    try:
        load_policy(path)
    except ConfigError as exc:
        assert exc.exit_code == 2 and exc.issues
        _clean(exc.issues)


def _text(draw: st.DrawFn) -> str:
    return "".join(draw(st.lists(st.sampled_from(TOKENS) | st.text(max_size=3), max_size=60)))


@FUZZ
@given(data=st.data())
def test_yaml_ish_text_never_escapes_as_another_exception(
    tmp_path: Path, data: st.DataObject
) -> None:
    text = _text(data.draw)
    for head in ("", "schema: certify.matrix/1\n", "schema: certify.policy/1\n"):
        path = tmp_path / "m.yaml"
        path.write_text(head + text, encoding="utf-8", errors="surrogatepass")
        _exercise_matrix(path, tmp_path)
        _exercise_policy(path)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_another_exception(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(raw)
    _exercise_matrix(path, tmp_path)
    _exercise_policy(path)


def _anchored(draw: st.DrawFn, depth: int, anchors: list[str]) -> str:
    """YAML flow text with anchors and aliases: to earlier, still open or unknown anchors.

    An alias to an open anchor is a recursive document; aliases to anchors holding aliases
    expand exponentially; deep nesting comes from depth and from aliases nesting each other.
    """
    choice = draw(st.integers(0, 9)) if depth < 10 else 0
    if choice <= 2:
        return draw(st.sampled_from(WORDS[1:11]))
    if choice == 3:
        return "*" + draw(st.sampled_from([*anchors, "nowhere"] if anchors else ["nowhere"]))
    anchor = ""
    if draw(st.booleans()):
        name = f"a{len(anchors)}"
        anchors.append(name)  # open from here on: an alias inside it is recursive
        anchor = f"&{name} "
    count = draw(st.integers(0, 6))
    items = [_anchored(draw, depth + 1, anchors) for _ in range(count)]
    if choice <= 6:
        return anchor + "[" + ", ".join(items) + "]"
    keys = draw(st.lists(st.sampled_from(MATRIX_KEYS[:30]), min_size=count, max_size=count))
    pairs = zip(keys, items, strict=True)
    return anchor + "{" + ", ".join(f"{k or 'k'}: {v}" for k, v in pairs) + "}"


@settings(FUZZ, max_examples=60)  # each example may expand to the node bound: fewer of them
@given(data=st.data())
def test_anchors_aliases_and_nesting_never_escape_or_hang(
    tmp_path: Path, data: st.DataObject
) -> None:
    anchors: list[str] = []
    body = _anchored(data.draw, 0, anchors)
    top = data.draw(st.sampled_from(["dimensions", "profiles", "constraints", "slo", "tiers"]))
    for head in ("schema: certify.matrix/1\nname: x\n", "schema: certify.policy/1\n"):
        path = tmp_path / "matrices" / "m.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"{head}{top}: {body}\n", encoding="utf-8")
        _exercise_matrix(path, tmp_path)
        _exercise_policy(path)


def _mutated(draw: st.DrawFn, base: dict[str, object], keys: list[str]) -> object:
    """`base` with a few subtrees replaced, dropped or added at random."""
    doc = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 4))):
        node: object = doc
        for _ in range(draw(st.integers(0, 4))):
            children = list(node.items()) if isinstance(node, dict) else []
            children += list(enumerate(node)) if isinstance(node, list) else []
            if not children:
                break
            node = draw(st.sampled_from(children))[1]
        if isinstance(node, dict):
            key = draw(st.sampled_from(sorted(node) + keys))
            if draw(st.booleans()) and key in node:
                del node[key]
            else:
                node[key] = draw(_tree(keys))
        elif isinstance(node, list):
            node.append(draw(_tree(keys)))
    return doc


def _dump(doc: object) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@FUZZ
@given(data=st.data())
def test_random_structures_as_matrices(tmp_path: Path, data: st.DataObject) -> None:
    doc = data.draw(_tree(MATRIX_KEYS)) if data.draw(st.booleans()) else None
    if doc is None:
        doc = _mutated(data.draw, GOOD_MATRIX, MATRIX_KEYS)
    path = tmp_path / "matrices" / "m.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(_dump(doc), encoding="utf-8")
    _exercise_matrix(path, tmp_path)


@FUZZ
@given(data=st.data())
def test_random_structures_as_policies(tmp_path: Path, data: st.DataObject) -> None:
    doc = data.draw(_tree(POLICY_KEYS)) if data.draw(st.booleans()) else None
    if doc is None:
        doc = _mutated(data.draw, GOOD_POLICY, POLICY_KEYS)
    if isinstance(doc, dict) and data.draw(st.booleans()):
        doc["schema"] = "certify.policy/1"
    path = tmp_path / "policy.yaml"
    path.write_text(_dump(doc), encoding="utf-8")
    _exercise_policy(path)
    _clean(validate_files([path]))


def test_the_unmutated_documents_are_valid(tmp_path: Path) -> None:
    # the mutations start from valid documents, so they probe past the first check
    (tmp_path / "scenarios" / "smoke").mkdir(parents=True)
    path = tmp_path / "matrices" / "m.yaml"
    path.parent.mkdir()
    path.write_text(_dump(GOOD_MATRIX), encoding="utf-8")
    assert validate_files([path], tmp_path) == []
    assert len(build_plan(load_matrix(path), "pr").cells) >= 4
    policy = tmp_path / "policy.yaml"
    policy.write_text(_dump(GOOD_POLICY), encoding="utf-8")
    assert load_policy(policy).blocking_tiers == ["certified"]


def test_only_user_facing_errors_are_allowed() -> None:
    # what the fuzzers let through: exit 2 errors with a message, nothing wider
    assert issubclass(ConfigError, CertifyError) and ConfigError([]).exit_code == 2
    assert UsageError("x").exit_code == 2
