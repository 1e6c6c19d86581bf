"""YAML loading: key lines, duplicate keys, empty and multi-document files, scalars as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from certify.config.source import Source, format_key, load_yaml


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _load(tmp_path: Path, text: str) -> tuple[Source, list[str]]:
    source, issues = load_yaml(_write(tmp_path, text))
    return source, [i.format() for i in issues]


def test_every_key_remembers_its_line(tmp_path: Path) -> None:
    source, issues = _load(
        tmp_path,
        "# a comment\n"
        "name: demo\n"
        "dimensions:\n"
        "  spark:\n"
        "    values:\n"
        '      "3.5": {pyspark: "3.5.7"}\n'
        "\n"
        "      4.10:\n"
        "        jars: [a, b]\n",
    )
    assert issues == []
    assert source.lines[("name",)] == 2
    assert source.lines[("dimensions",)] == 3
    assert source.lines[("dimensions", "spark", "values")] == 5
    assert source.lines[("dimensions", "spark", "values", "3.5")] == 6
    assert source.lines[("dimensions", "spark", "values", "3.5", "pyspark")] == 6
    assert source.lines[("dimensions", "spark", "values", "4.10")] == 8
    assert source.lines[("dimensions", "spark", "values", "4.10", "jars", 1)] == 9


def test_line_of_falls_back_to_the_longest_known_prefix(tmp_path: Path) -> None:
    source, _ = _load(tmp_path, "a: 1\nb:\n  c: 2\n")
    assert source.line_of(("b", "c")) == 3
    assert source.line_of(("b", "missing", "deeper")) == 2
    assert source.line_of(("nowhere",)) == 1


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("4.10", "4.10"),
        ("3.5", "3.5"),
        ("4.0", "4.0"),
        ("2.12", "2.12"),
        ("011", "011"),
        ("1e3", "1e3"),
        ("true", "true"),
        ('"4.10"', "4.10"),
    ],
)
def test_scalars_keep_the_text_the_author_wrote(tmp_path: Path, written: str, kept: str) -> None:
    source, issues = _load(tmp_path, f"v: {written}\nlist: [{written}]\n{written}: key\n")
    assert issues == []
    assert source.data["v"] == kept
    assert source.data["list"] == [kept]
    assert source.data[kept] == "key"


def test_null_values_become_none(tmp_path: Path) -> None:
    source, _ = _load(tmp_path, "a:\nb: null\nc: ~\nd: ''\n")
    assert source.data == {"a": None, "b": None, "c": None, "d": ""}


def test_duplicate_keys_are_reported_at_every_level_with_the_first_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "name: a\n"  # 1
        "dims:\n"  # 2
        "  spark:\n"  # 3
        "    values:\n"  # 4
        "      x: 1\n"  # 5
        "      x: 2\n"  # 6
        "  spark: {}\n"  # 7
        "name: b\n",  # 8
    )
    source, issues = load_yaml(path)
    valid = "(valid: each key once per mapping; merge or rename one of them)"
    assert sorted((i.line, i.format()) for i in issues) == [
        (6, f"{path}:6: dims.spark.values.x: duplicate key (first defined on line 5) {valid}"),
        (7, f"{path}:7: dims.spark: duplicate key (first defined on line 3) {valid}"),
        (8, f"{path}:8: name: duplicate key (first defined on line 1) {valid}"),
    ]
    # the first definition wins; the data is still usable for further checks
    assert source.data["name"] == "a"
    assert source.data["dims"]["spark"]["values"] == {"x": "1"}


def test_duplicate_key_in_a_mapping_inside_a_list(tmp_path: Path) -> None:
    path = _write(tmp_path, "rules:\n  - a: 1\n    b: 2\n  - a: 1\n    a: 3\n")
    _, issues = load_yaml(path)
    assert [(i.line, i.key) for i in issues] == [(5, "rules[1].a")]
    assert "first defined on line 4" in issues[0].message


@pytest.mark.parametrize(
    "text", ["", "\n\n", "   \n  \n", "# only a comment\n\n# another\n", "  # indented\n"]
)
def test_empty_whitespace_or_comment_only_file(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    source, issues = load_yaml(path)
    assert source.data is None
    assert [i.format() for i in issues] == [
        f"{path}:1: <document>: file is empty (valid: a mapping with the top-level keys)"
    ]


def test_syntax_error_names_the_line_and_what_is_valid(tmp_path: Path) -> None:
    path = _write(tmp_path, "a: 1\nb:\n  c: 2\n   d: 3\n")
    source, issues = load_yaml(path)
    assert source.data is None
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.file, issue.line, issue.key) == (str(path), 4, "")
    assert issue.message == "YAML syntax error: mapping values are not allowed here"
    assert issue.valid  # the contract: every error says what is valid
    assert issue.format().startswith(f"{path}:4: <document>: YAML syntax error: ")
    assert issue.format().endswith(f" (valid: {issue.valid})")


def test_unclosed_bracket_is_a_syntax_error_at_the_end(tmp_path: Path) -> None:
    path = _write(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    _, issues = load_yaml(path)
    assert len(issues) == 1
    assert issues[0].message.startswith("YAML syntax error:")
    assert issues[0].line == 3


def test_more_than_one_document(tmp_path: Path) -> None:
    path = _write(tmp_path, "a: 1\nb: 2\n---\nc: 3\n")
    source, issues = load_yaml(path)
    assert [i.format() for i in issues] == [
        f"{path}:4: <document>: more than one YAML document in the file "
        "(valid: exactly one document per file)"
    ]
    assert source.data == {"a": "1", "b": "2"}  # the first document is still checked


def test_a_leading_document_marker_is_one_document(tmp_path: Path) -> None:
    source, issues = _load(tmp_path, "---\na: 1\n")
    assert issues == []
    assert source.data == {"a": "1"}
    assert source.lines[("a",)] == 2


def test_missing_file_is_an_issue_not_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    source, issues = load_yaml(path)
    assert source.data is None
    assert len(issues) == 1
    assert (issues[0].file, issues[0].line) == (str(path), 1)
    assert issues[0].message.startswith("cannot read file")


def test_non_utf8_file_is_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    _, issues = load_yaml(path)
    assert len(issues) == 1
    assert issues[0].message.startswith("file is not UTF-8 text")


def test_non_scalar_key_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "top:\n  ? [a, b]\n  : 1\n  ok: 2\n")
    source, issues = load_yaml(path)
    assert [(i.line, i.key) for i in issues] == [(2, "top")]
    assert "plain value" in issues[0].message
    assert source.data == {"top": {"ok": "2"}}


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("name",), "name"),
        (("profiles", "pr", "tiers", 0), "profiles.pr.tiers[0]"),
        (("constraints", 2, "exclude", "spark"), "constraints[2].exclude.spark"),
        (("dimensions", "spark", "values", "3.5"), 'dimensions.spark.values["3.5"]'),
        (("a", "x y"), 'a["x y"]'),
    ],
)
def test_format_key(path: tuple[str | int, ...], text: str) -> None:
    assert format_key(path) == text
