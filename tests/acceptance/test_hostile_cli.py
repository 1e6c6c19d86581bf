"""Hostile input to the `certify` commands, as a user would give it: exit 2, a clear message
naming the file, the key and the fix, never a traceback and never a hang.

Nothing here starts a JVM or a service: every case is refused before a cell would start.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from certify.config.source import MAX_BYTES, MAX_DEPTH, MAX_NODES

Certify = Callable[..., Any]  # the `certify` fixture of conftest.py

LAUGHS = "l0: &l0 [lol, lol, lol]\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10)
)
HUGE = 10 * (MAX_BYTES // 10 + 1)  # bytes of a comment-only file just over the bound
MATRIX = """\
schema: certify.matrix/1
name: hostile
dimensions:
  spark: {values: {"3.5": , "4.10": }}
  catalog: {values: {hive: , iceberg: }}
profiles:
  smoke: {select: [{spark: "3.5", catalog: hive}]}
"""
REFERENCES = (
    MATRIX
    + """\
  nightly:
    suites: [smoke, nosuch]
    chaos: [gone]
    load: [missing, unbounded]
"""
)


def _lines(text: str) -> list[str]:
    return [row for row in text.splitlines() if row.strip()]


def _refused(result: Any) -> list[str]:
    """The error lines of a refused command (exit 2, no traceback, nothing on stdout)."""
    assert result.rc == 2, result.output
    assert "Traceback" not in result.output
    return _lines(result.stderr)


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    """One file (or not-a-file) of each hostile kind, all named *.yaml."""
    made = {
        "laughs.yaml": LAUGHS,
        "recursive.yaml": "schema: certify.matrix/1\nname: x\ndimensions: &d {a: *d}\n",
        "deep.yaml": "dimensions: " + "[" * 10_000 + "]" * 10_000 + "\n",
    }
    paths = {}
    for name, text in made.items():
        paths[name] = tmp_path / name
        paths[name].write_text(text, encoding="utf-8")
    paths["latin.yaml"] = tmp_path / "latin.yaml"
    paths["latin.yaml"].write_bytes(b"name: caf\xe9\n")
    paths["huge.yaml"] = tmp_path / "huge.yaml"
    paths["huge.yaml"].write_bytes(b"# padding\n" * (HUGE // 10))
    paths["fifo.yaml"] = tmp_path / "fifo.yaml"
    os.mkfifo(paths["fifo.yaml"])
    paths["dir.yaml"] = tmp_path / "dir.yaml"
    paths["dir.yaml"].mkdir()
    paths["missing.yaml"] = tmp_path / "missing.yaml"
    return paths


EXPECTED = {
    "laughs.yaml": f":6: l5: the document expands to more than {MAX_NODES} values",
    "recursive.yaml": ":3: dimensions: recursive alias: the value contains itself",
    "deep.yaml": f":1: <document>: nested deeper than {MAX_DEPTH} levels",
    "latin.yaml": ":1: <document>: file is not UTF-8 text",
    "huge.yaml": f":1: <document>: file is {HUGE} bytes, more than the {MAX_BYTES} certify reads",
    "fifo.yaml": ":1: <document>: cannot read file: it is a FIFO (named pipe)",
    "dir.yaml": ":1: <document>: cannot read file: it is a directory",
    "missing.yaml": ":1: <document>: no such file",
}


def test_validate_reports_every_hostile_file_at_once(
    certify: Certify, tmp_path: Path, hostile: dict[str, Path]
) -> None:
    started = time.monotonic()
    result = certify("validate", *sorted(hostile), cwd=tmp_path, timeout=60)
    assert time.monotonic() - started < 60
    errors = _refused(result)
    assert result.stdout == ""
    assert errors[-1] == f"{len(hostile)} error(s)"
    for name, expected in EXPECTED.items():
        [line] = [e for e in errors if e.startswith(name + ":")]
        assert line.startswith(name + expected), line
        assert "(valid: " in line, line


@pytest.mark.parametrize("name", ["fifo.yaml", "laughs.yaml", "deep.yaml"])
def test_plan_refuses_a_hostile_matrix(
    certify: Certify, tmp_path: Path, hostile: dict[str, Path], name: str
) -> None:
    result = certify("plan", "--profile", "smoke", "--matrix", name, cwd=tmp_path, timeout=60)
    errors = _refused(result)
    assert errors[0].startswith(name + EXPECTED[name]), errors


def test_run_refuses_a_policy_bomb_and_a_fifo_policy_before_any_cell(
    certify: Certify, tmp_path: Path, hostile: dict[str, Path]
) -> None:
    (tmp_path / "matrices").mkdir()
    (tmp_path / "matrices" / "m.yaml").write_text(MATRIX, encoding="utf-8")
    bomb = tmp_path / "policy.yaml"
    bomb.write_text("schema: certify.policy/1\n" + LAUGHS, encoding="utf-8")
    out = tmp_path / "out"
    args = ("run", "--profile", "smoke", "--root", str(tmp_path), "--out", str(out))
    errors = _refused(certify(*args, "--policy", str(bomb), cwd=tmp_path, timeout=60))
    assert errors[0].startswith(f"{bomb}:7: l5: the document expands to more than")
    errors = _refused(certify(*args, "--policy", "fifo.yaml", cwd=tmp_path, timeout=60))
    assert "fifo.yaml" in errors[0]
    assert not out.exists()  # refused before the run folder was made


def test_gate_refuses_a_policy_bomb(certify: Certify, tmp_path: Path) -> None:
    bomb = tmp_path / "policy.yaml"
    bomb.write_text("schema: certify.policy/1\n" + LAUGHS, encoding="utf-8")
    report = tmp_path / "report.json"
    report.write_text("{}", encoding="utf-8")
    errors = _refused(certify("gate", str(report), "--policy", str(bomb), cwd=tmp_path))
    assert any(e.startswith(f"{bomb}:7: l5: the document expands") for e in errors), errors


def test_validate_catches_names_the_project_lacks_and_a_broken_locustfile(
    certify: Certify, tmp_path: Path
) -> None:
    (tmp_path / "matrices").mkdir()
    matrix = tmp_path / "matrices" / "m.yaml"
    matrix.write_text(REFERENCES, encoding="utf-8")
    (tmp_path / "scenarios" / "smoke").mkdir(parents=True)
    (tmp_path / "chaos").mkdir()
    (tmp_path / "chaos" / "real.json").write_text("{}", encoding="utf-8")
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "unbounded.py").write_text('SLO = {"*": {"p95_ms": 1e999}}\n')
    shown = "matrices/m.yaml"
    expected = [
        f"{shown}:9: profiles.nightly.suites[1]: suite 'nosuch' does not exist (no "
        f"{tmp_path}/scenarios/nosuch) (valid: smoke)",
        f"{shown}:10: profiles.nightly.chaos[0]: chaos experiment 'gone' does not exist (no "
        f"{tmp_path}/chaos/gone.json or {tmp_path}/chaos/gone.yaml or "
        f"{tmp_path}/chaos/gone.yml) (valid: real)",
        f"{shown}:11: profiles.nightly.load[0]: load profile 'missing' does not exist (no "
        f"{tmp_path}/load/missing.py) (valid: unbounded)",
        f"{shown}:11: profiles.nightly.load[1]: load profile 'unbounded': SLO['*']: SLO p95_ms "
        f"must be a finite number >= 0, got inf (valid: fix the declarations in "
        f"{tmp_path}/load/unbounded.py)",
        "4 error(s)",
    ]
    assert _refused(certify("validate", cwd=tmp_path)) == expected
    # plan and run check the profile they plan, before anything runs
    errors = _refused(certify("plan", "--profile", "nightly", cwd=tmp_path))
    assert errors == expected
    out = tmp_path / "run"
    errors = _refused(certify("run", "--profile", "nightly", "--out", str(out), cwd=tmp_path))
    assert errors == [e.replace(shown, str(matrix), 1) for e in expected]  # run resolves --root
    assert not out.exists()
    plan = certify("plan", "--profile", "smoke", "--format", "json", cwd=tmp_path)
    assert plan.rc == 0, plan.output  # the other profile of the same matrix still plans


def test_plans_too_large_and_strengths_beyond_the_dimensions(
    certify: Certify, tmp_path: Path
) -> None:
    dims = "\n".join(
        f"  d{i}: {{values: {{{', '.join(f'v{j}: ' for j in range(10))}}}}}" for i in range(8)
    )
    big = tmp_path / "big.yaml"
    big.write_text(
        f"schema: certify.matrix/1\nname: big\ndimensions:\n{dims}\nprofiles:\n"
        "  pr: {reduction: t=2}\n  all: {}\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    errors = _refused(certify("plan", "--profile", "pr", "--matrix", str(big), cwd=tmp_path))
    assert time.monotonic() - started < 60
    assert errors[0].startswith(
        f"{big}:14: profiles.all.reduction: tier experimental under full: the full expansion "
        "has more "
        f"than 10000 valid cells (of 100000000 = 10 x 10 x 10 x 10 x 10 x 10 x 10 x 10 "
        "combinations)"
    ), errors
    assert "(valid: a covering array instead of the full expansion (`reduction: t=2`" in errors[0]
    big.write_text(big.read_text().replace("  all: {}\n", ""), encoding="utf-8")
    args = ("plan", "--profile", "pr", "--matrix", str(big))
    errors = _refused(certify(*args, "--strategy", "full", cwd=tmp_path))
    assert "the full expansion has more than 10000 valid cells" in errors[0]
    errors = _refused(certify(*args, "--strategy", "t=9", cwd=tmp_path))
    assert errors == [
        "certify: --strategy t=9 is more than the 8 dimension(s) of the matrix "
        "(valid: full, or t=N with 1 <= N <= 8)"
    ]
    errors = _refused(certify(*args, "--strategy", "t=6", cwd=tmp_path))
    assert "t=6 must cover 28000000 value tuples" in errors[0] and "lower t" in errors[0]
    errors = _refused(certify(*args, "--seed", "4294967296", cwd=tmp_path))
    assert errors == [
        "certify: --seed: seed 4294967296 is out of range (valid: an integer from 0 to 4294967295)"
    ]


def test_run_out_onto_a_file_or_into_a_missing_folder(certify: Certify, tmp_path: Path) -> None:
    (tmp_path / "matrices").mkdir()
    (tmp_path / "matrices" / "m.yaml").write_text(MATRIX, encoding="utf-8")
    kept = tmp_path / "notes.txt"
    kept.write_text("keep", encoding="utf-8")
    errors = _refused(certify("run", "--profile", "smoke", "--out", str(kept), cwd=tmp_path))
    assert errors == [
        f"certify: --out {kept} is an existing file, not a run folder (valid: a new folder, or "
        "the folder of an earlier run to replace)"
    ]
    assert kept.read_text() == "keep"
    missing = tmp_path / "typo" / "run"
    errors = _refused(certify("run", "--profile", "smoke", "--out", str(missing), cwd=tmp_path))
    assert errors[0].startswith(f"certify: --out {missing}: the folder it would be created in")
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("profile", ["../x", "/abs", "a/b"])
def test_profile_names_that_are_paths(certify: Certify, tmp_path: Path, profile: str) -> None:
    (tmp_path / "matrices").mkdir()
    (tmp_path / "matrices" / "m.yaml").write_text(
        MATRIX + f'  "{profile}": {{}}\n', encoding="utf-8"
    )
    errors = _refused(certify("validate", cwd=tmp_path))
    assert errors[0].startswith("matrices/m.yaml:8: profiles")
    assert "would" not in errors[0] and "names a history folder" in errors[0]
    errors = _refused(certify("run", "--profile", profile, "--out", "o", cwd=tmp_path))
    assert "names a history folder" in errors[0]
    assert not (tmp_path / "o").exists() and not (tmp_path / "x").exists()
