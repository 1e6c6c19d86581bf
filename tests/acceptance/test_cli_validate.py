"""`certify validate` run as a user would: exit codes, every error on stderr, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Certify = Callable[..., Any]  # the `certify` fixture of conftest.py

GOOD = """\
schema: certify.matrix/1
name: good
dimensions:
  spark:
    values: {"3.5": , "4.10": }
  catalog:
    values: {hive: , iceberg-rest: }
profiles:
  smoke:
    select: [{spark: "4.10"}]
"""

BAD = """\
schema: certify.matrix/1
name: bad
colour: red
dimensions:
  spark:
    values:
      "3.5": {pyspark: "3.5.7"}
      "3.5": {}
  catalog:
    values: {hive: }
constraints:
  - exclude: {gpu: nvidia}
    reason: unknown dimension
  - exclude: {catalog: "delta*"}
tiers:
  gold: {}
profiles:
  smoke:
    reduction: t=0
"""

BAD_LINES = [
    "{f}:3: colour: unknown key (valid: schema, name, description, dimensions, constraints, "
    "tiers, default_tier, profiles)",
    '{f}:8: dimensions.spark.values["3.5"]: duplicate key (first defined on line 7) '
    "(valid: each key once per mapping; merge or rename one of them)",
    "{f}:12: constraints[0].exclude.gpu: unknown dimension 'gpu' (valid: spark, catalog)",
    "{f}:14: constraints[1].exclude.catalog: 'delta*' matches no value of 'catalog' (valid: hive)",
    "{f}:14: constraints[1].reason: missing required key (valid: add `reason:`)",
    "{f}:16: tiers.gold: unknown value 'gold' (valid: 'certified', 'documented' or 'experimental')",
    "{f}:19: profiles.smoke.reduction: unknown reduction 't=0' (valid: full or t=N with N >= 1)",
]


def _lines(text: str) -> list[str]:
    return [row for row in text.splitlines() if row.strip()]


def test_the_project_matrix_is_valid(certify: Certify, repo: Path) -> None:
    result = certify("validate", cwd=repo)
    assert result.rc == 0, result.output
    assert "valid" in result.stdout
    assert "matrices/platform.yaml" in result.stdout
    assert result.stderr == ""


def test_default_discovery_from_root(certify: Certify, repo: Path, tmp_path: Path) -> None:
    result = certify("validate", "--root", str(repo), cwd=tmp_path)
    assert result.rc == 0, result.output
    assert "platform.yaml" in result.stdout


def test_explicit_good_file(certify: Certify, tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    result = certify("validate", "good.yaml", cwd=tmp_path)
    assert result.rc == 0, result.output
    assert "1 file(s) valid: good.yaml" in result.stdout


def test_every_error_of_a_bad_file_on_stderr(certify: Certify, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    result = certify("validate", "bad.yaml", cwd=tmp_path)
    assert result.rc == 2
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert _lines(result.stderr) == [
        *(line.format(f="bad.yaml") for line in BAD_LINES),
        f"{len(BAD_LINES)} error(s)",
    ]


def test_errors_of_several_files_at_once_sorted(certify: Certify, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    (tmp_path / "also-bad.yaml").write_text(GOOD.replace("name: good", "name: Good"), "utf-8")
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    result = certify("validate", "good.yaml", "bad.yaml", "also-bad.yaml", cwd=tmp_path)
    assert result.rc == 2
    assert "Traceback" not in result.output
    errors = _lines(result.stderr)
    assert errors[0] == (
        "also-bad.yaml:2: name: 'Good' is not allowed here "
        "(valid: text matching ^[a-z][a-z0-9_-]*$)"
    )
    assert errors[1:-1] == [line.format(f="bad.yaml") for line in BAD_LINES]
    assert errors[-1] == f"{len(BAD_LINES) + 1} error(s)"


def test_discovery_from_root_reports_bad_project_files(certify: Certify, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "matrices").mkdir(parents=True)
    (project / "matrices" / "a.yaml").write_text(GOOD, encoding="utf-8")
    (project / "matrices" / "b.yml").write_text(BAD, encoding="utf-8")
    (project / "matrices" / "notes.txt").write_text("not: [a matrix", encoding="utf-8")
    result = certify("validate", "--root", str(project), cwd=tmp_path)
    assert result.rc == 2
    assert "Traceback" not in result.output
    shown = str(project / "matrices" / "b.yml")
    assert _lines(result.stderr)[:-1] == [line.format(f=shown) for line in BAD_LINES]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "m.yaml:1: <document>: file is empty (valid: a mapping with the top-level keys)"),
        ("# just a comment\n", "m.yaml:1: <document>: file is empty"),
        ("- a\n- b\n", "m.yaml:1: <document>: top level is a list (valid: "),
        (GOOD + "  pr: {reduction: t=2\n", "m.yaml:12: <document>: YAML syntax error: "),
        (GOOD + "---\nname: again\n", "m.yaml:12: <document>: more than one YAML document"),
        (GOOD.replace("matrix/1", "matrix/9"), "m.yaml:1: schema: unsupported schema "),
    ],
    ids=["empty", "comment-only", "list", "syntax", "multi-doc", "schema"],
)
def test_broken_files_give_one_located_line(
    certify: Certify, tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    result = certify("validate", "m.yaml", cwd=tmp_path)
    assert result.rc == 2
    assert "Traceback" not in result.output
    errors = _lines(result.stderr)
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith(expected)
    assert "(valid: " in errors[0]
    assert errors[1] == "1 error(s)"


def test_unreadable_inputs_are_errors_not_tracebacks(certify: Certify, tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    (tmp_path / "folder.yaml").mkdir()
    result = certify("validate", "missing.yaml", "latin1.yaml", "folder.yaml", cwd=tmp_path)
    assert result.rc == 2
    assert "Traceback" not in result.output
    errors = _lines(result.stderr)
    assert errors[0].startswith("folder.yaml:1: <document>: cannot read file")
    assert errors[1].startswith("latin1.yaml:1: <document>: file is not UTF-8 text")
    assert errors[2] == (
        "missing.yaml:1: <document>: no such file (valid: a path to a matrix YAML file)"
    )
    assert errors[3] == "3 error(s)"


def test_no_matrix_files_is_a_usage_error(certify: Certify, tmp_path: Path) -> None:
    result = certify("validate", "--root", str(tmp_path), cwd=tmp_path)
    assert result.rc == 2
    assert "Traceback" not in result.output
    assert "no matrix files" in result.stderr
