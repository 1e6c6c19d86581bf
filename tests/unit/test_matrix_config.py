"""Matrix file validation: every error located by file, line and key path, with what is valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from certify.errors import ConfigError, Issue
from certify.matrix.model import load_matrix, validate_files

BASE = """\
schema: certify.matrix/1
name: demo
dimensions:
  spark:
    description: Spark line
    values:
      "3.5": {pyspark: "3.5.7", scala: 2.12, java: [11, 17]}
      4.10: {pyspark: "4.1.0", scala: 2.13, emulated: true}
  catalog:
    values:
      hive:
      iceberg-rest: {jars: [iceberg-spark-runtime], services: [iceberg-rest]}
      iceberg-sql:
constraints:
  - name: no-rest-on-old-spark
    exclude: {spark: "3.5", catalog: iceberg-rest}
    reason: not shipped
  - require: {spark: "4.*"}
    when: {catalog: iceberg-sql}
    reason: needs 4
tiers:
  certified:
    description: supported
    cells:
      - {spark: "4.*", catalog: [hive, "iceberg-*"]}
  documented:
    cells:
      - {catalog: "!iceberg-sql"}
default_tier: experimental
profiles:
  smoke:
    tiers: [certified]
    select:
      - {spark: "4.10", catalog: hive}
    reduction: full
    suites: [smoke]
  pr:
    tiers: [certified, documented]
    reduction: {certified: full, documented: t=2}
    seed: 7
"""

TOP_KEYS = "schema, name, description, dimensions, constraints, tiers, default_tier, profiles"
TIER_NAMES = "'certified', 'documented' or 'experimental'"


def edit(old: str, new: str, text: str = BASE) -> str:
    """`text` with the one occurrence of `old` replaced by `new`."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the `nth` line containing `needle`."""
    hits = [i for i, row in enumerate(text.splitlines(), 1) if needle in row]
    assert len(hits) >= nth, needle
    return hits[nth - 1]


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors(*paths: Path) -> list[str]:
    """Every issue of `paths`, formatted and in the order the CLI prints them."""
    return [i.format() for i in ConfigError(validate_files(list(paths))).issues]


def check(tmp_path: Path, text: str) -> tuple[str, list[str]]:
    path = write(tmp_path, text)
    return str(path), errors(path)


# -- a valid file -------------------------------------------------------------------------------


def test_base_matrix_is_valid(tmp_path: Path) -> None:
    assert validate_files([write(tmp_path, BASE)]) == []


def test_version_like_values_keep_their_text(tmp_path: Path) -> None:
    matrix = load_matrix(write(tmp_path, BASE))
    spark = matrix.spec.dimensions["spark"]
    assert list(spark.values) == ["3.5", "4.10"]  # never 3.5 / 4.1 floats
    assert spark.spec("3.5").scala == "2.12"
    assert spark.spec("4.10").scala == "2.13"
    assert spark.spec("3.5").java == ["11", "17"]
    assert spark.spec("4.10").pyspark == "4.1.0"
    assert spark.spec("4.10").emulated is True
    assert matrix.spec.profiles["pr"].seed == 7
    assert matrix.space.values[0] == ("3.5", "4.10")
    assert matrix.spec.profiles["smoke"].select[0]["spark"] == ["4.10"]


def test_value_without_metadata_gets_an_empty_spec(tmp_path: Path) -> None:
    matrix = load_matrix(write(tmp_path, BASE))
    assert matrix.value_spec("catalog", "hive").jars == []
    assert matrix.value_spec("catalog", "iceberg-rest").services == ["iceberg-rest"]


# -- the document as a whole --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "  \n\n", "# nothing here\n# at all\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:1: <document>: file is empty (valid: a mapping with the top-level keys)"
    ]


@pytest.mark.parametrize(
    ("text", "kind"), [("- a\n- b\n", "a list"), ("hello\n", "a single value")]
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:1: <document>: top level is {kind} (valid: a mapping with keys schema, name, "
        "dimensions, constraints, tiers, profiles)"
    ]


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = edit("    reason: not shipped\n", "    reason: not shipped\n   oops: [\n")
    path, errs = check(tmp_path, text)
    assert len(errs) == 1
    assert errs[0].startswith(f"{path}:{line(text, 'oops')}: <document>: YAML syntax error: ")
    assert "(valid: " in errs[0]


def test_multi_document_file(tmp_path: Path) -> None:
    text = BASE + "---\nname: other\n"
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'name: other')}: <document>: more than one YAML document in the file"
        " (valid: exactly one document per file)"
    ]


@pytest.mark.parametrize("schema", ["certify.matrix/2", "matrix/1", "1"])
def test_unsupported_schema(tmp_path: Path, schema: str) -> None:
    path, errs = check(tmp_path, edit("schema: certify.matrix/1", f"schema: {schema}"))
    assert errs == [f"{path}:1: schema: unsupported schema {schema!r} (valid: certify.matrix/1)"]


def test_missing_schema(tmp_path: Path) -> None:
    path, errs = check(tmp_path, edit("schema: certify.matrix/1\n", ""))
    assert errs == [f"{path}:1: schema: missing required key (valid: add `schema:`)"]


def test_nonexistent_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert errors(path) == [
        f"{path}:1: <document>: no such file (valid: a path to a matrix YAML file)"
    ]


# -- duplicate and unknown keys -----------------------------------------------------------------


def test_duplicate_keys_top_and_nested(tmp_path: Path) -> None:
    text = edit("      hive:\n", "      hive:\n      hive: {jars: [x]}\n")
    text = edit("default_tier: experimental\n", "default_tier: experimental\nname: again\n", text)
    path, errs = check(tmp_path, text)
    valid = "(valid: each key once per mapping; merge or rename one of them)"
    assert errs == [
        f"{path}:{line(text, 'hive:', 2)}: dimensions.catalog.values.hive: duplicate key "
        f"(first defined on line {line(text, 'hive:')}) {valid}",
        f"{path}:{line(text, 'name: again')}: name: duplicate key (first defined on line 2) "
        f"{valid}",
    ]


UNKNOWN_KEYS = [
    # (where, old, new, key path, needle on the offending line, valid keys)
    ("top", "name: demo\n", "name: demo\ncolour: red\n", "colour", "colour:", TOP_KEYS),
    (
        "dimension",
        "    description: Spark line\n",
        "    description: Spark line\n    valuez: {}\n",
        "dimensions.spark.valuez",
        "valuez",
        "description, values",
    ),
    (
        "value metadata",
        '"3.5": {pyspark: "3.5.7",',
        '"3.5": {pyspark: "3.5.7", scalaa: x,',
        'dimensions.spark.values["3.5"].scalaa',
        "scalaa",
        "description, pyspark, scala, java, jars, services, emulated, meta",
    ),
    (
        "constraint",
        "    reason: needs 4\n",
        "    reason: needs 4\n    because: x\n",
        "constraints[1].because",
        "because",
        "name, exclude, require, when, reason",
    ),
    (
        "tier",
        "    description: supported\n",
        "    description: supported\n    cell: []\n",
        "tiers.certified.cell",
        "cell: []",
        "description, cells",
    ),
    (
        "profile",
        "    seed: 7\n",
        "    seed: 7\n    tier: [certified]\n",
        "profiles.pr.tier",
        "tier: [",
        "description, tiers, select, reduction, seed, suites, chaos, load, retry",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "key", "needle", "valid"),
    [case[1:] for case in UNKNOWN_KEYS],
    ids=[case[0] for case in UNKNOWN_KEYS],
)
def test_unknown_key(tmp_path: Path, old: str, new: str, key: str, needle: str, valid: str) -> None:
    text = edit(old, new)
    path, errs = check(tmp_path, text)
    assert errs == [f"{path}:{line(text, needle)}: {key}: unknown key (valid: {valid})"]


# -- wrong types --------------------------------------------------------------------------------

WRONG_TYPES = [
    # (old, new, needle, key path, message, valid)
    (
        "java: [11, 17]",
        "java: 11",
        "java: 11",
        'dimensions.spark.values["3.5"].java',
        "got str '11'",
        "a list",
    ),
    (
        "emulated: true",
        "emulated: maybe",
        "maybe",
        'dimensions.spark.values["4.10"].emulated',
        "got str 'maybe'",
        "true or false",
    ),
    ("seed: 7", "seed: seven", "seven", "profiles.pr.seed", "got str 'seven'", "an integer"),
    ("name: demo", "name: [demo]", "name: [", "name", "got list ['demo']", "a string"),
    (
        "suites: [smoke]",
        "suites: smoke",
        "suites: smoke",
        "profiles.smoke.suites",
        "got str 'smoke'",
        "a list",
    ),
    (
        '    cells:\n      - {catalog: "!iceberg-sql"}\n',
        "    cells: {catalog: hive}\n",
        "cells: {",
        "tiers.documented.cells",
        "got dict {'catalog': 'hive'}",
        "a list",
    ),
]


@pytest.mark.parametrize(("old", "new", "needle", "key", "message", "valid"), WRONG_TYPES)
def test_wrong_type(
    tmp_path: Path, old: str, new: str, needle: str, key: str, message: str, valid: str
) -> None:
    text = edit(old, new)
    path, errs = check(tmp_path, text)
    assert errs == [f"{path}:{line(text, needle)}: {key}: {message} (valid: {valid})"]


def test_dimension_given_as_a_list(tmp_path: Path) -> None:
    text = edit(
        "  catalog:\n    values:\n      hive:\n      iceberg-rest: {jars: [iceberg-spark-runtime], "
        "services: [iceberg-rest]}\n      iceberg-sql:\n",
        "  catalog: [hive]\n",
    )
    text = text.replace(", catalog: iceberg-rest}", "}").replace(", catalog: hive}", "}")
    text = edit("    when: {catalog: iceberg-sql}\n", "", text)
    text = edit(', catalog: [hive, "iceberg-*"]}', "}", text)
    text = edit('      - {catalog: "!iceberg-sql"}\n', "      - {spark: '3.5'}\n", text)
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'catalog: [hive]')}: dimensions.catalog: got list ['hive'] "
        "(valid: a mapping of key: value)"
    ]


def test_empty_reason_and_missing_reason(tmp_path: Path) -> None:
    text = edit("    reason: not shipped\n", "    reason: ''\n")
    text = edit("    reason: needs 4\n", "", text)
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'reason:')}: constraints[0].reason: must not be empty "
        "(valid: a non-empty text)",
        f"{path}:{line(text, '- require:')}: constraints[1].reason: missing required key "
        "(valid: add `reason:`)",
    ]


# -- tier names and reductions ------------------------------------------------------------------


def test_unknown_tier_names_everywhere(tmp_path: Path) -> None:
    text = edit("  documented:\n", "  gold:\n")
    text = edit("default_tier: experimental", "default_tier: platinum", text)
    text = edit("    tiers: [certified, documented]", "    tiers: [certified, bronze]", text)
    text = edit("{certified: full, documented: t=2}", "{certified: full, silver: t=2}", text)
    path, errs = check(tmp_path, text)
    valid = f"(valid: {TIER_NAMES})"
    assert errs == [
        f"{path}:{line(text, 'gold:')}: tiers.gold: unknown value 'gold' {valid}",
        f"{path}:{line(text, 'platinum')}: default_tier: unknown value 'platinum' {valid}",
        f"{path}:{line(text, 'bronze')}: profiles.pr.tiers[1]: unknown value 'bronze' {valid}",
        f"{path}:{line(text, 'silver')}: profiles.pr.reduction.silver: unknown value 'silver' "
        f"{valid}",
    ]


@pytest.mark.parametrize("bad", ["t=0", "pairwise", "t=2x", "T=2", "t=", "t=-1", "'2'", "fulll"])
def test_bad_reduction_string(tmp_path: Path, bad: str) -> None:
    text = edit("    reduction: full\n", f"    reduction: {bad}\n")
    path, errs = check(tmp_path, text)
    shown = bad.strip("'")
    assert errs == [
        f"{path}:{line(text, 'reduction: ' + bad)}: profiles.smoke.reduction: unknown reduction "
        f"{shown!r} (valid: full or t=N with N >= 1)"
    ]


def test_bad_reduction_in_a_per_tier_mapping(tmp_path: Path) -> None:
    text = edit("{certified: full, documented: t=2}", "{certified: pairwise, documented: t=2}")
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'pairwise')}: profiles.pr.reduction: unknown reduction 'pairwise' "
        "(valid: full or t=N with N >= 1)"
    ]


def test_reduction_of_neither_accepted_type_says_both_once(tmp_path: Path) -> None:
    text = edit("    reduction: full\n", "    reduction: [full]\n")
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'reduction: [full]')}: profiles.smoke.reduction: got list ['full'] "
        "(valid: a string / a mapping of key: value)"
    ]


def test_reduction_for_a_tier_the_profile_does_not_run(tmp_path: Path) -> None:
    text = edit("    tiers: [certified, documented]", "    tiers: [certified]")
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'documented: t=2')}: profiles.pr.reduction.documented: tier "
        "'documented' has a reduction but the profile does not run it (valid: certified)"
    ]


# -- constraints --------------------------------------------------------------------------------

KIND_VALID = "`exclude: SELECTOR`, or `require: SELECTOR` with an optional `when: SELECTOR`"


def test_constraint_with_both_exclude_and_require(tmp_path: Path) -> None:
    text = edit(
        "    reason: not shipped\n", "    require: {spark: '4.*'}\n    reason: not shipped\n"
    )
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'name: no-rest')}: constraints[0]: give exactly one of `exclude` or "
        f"`require` (valid: {KIND_VALID})"
    ]


def test_constraint_with_neither_exclude_nor_require(tmp_path: Path) -> None:
    text = edit('  - require: {spark: "4.*"}\n    when:', "  - when:")
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, '- when:')}: constraints[1]: give exactly one of `exclude` or "
        f"`require` (valid: {KIND_VALID})"
    ]


def test_when_with_exclude(tmp_path: Path) -> None:
    text = edit("    reason: not shipped\n", "    when: {spark: '3.5'}\n    reason: not shipped\n")
    path, errs = check(tmp_path, text)
    assert len(errs) == 1
    assert errs[0].startswith(
        f"{path}:{line(text, 'name: no-rest')}: constraints[0]: `when` goes with `require`"
    )
    assert "(valid: " in errs[0]


# -- selectors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            'exclude: {spark: "3.5", catalog: iceberg-rest}',
            'exclude: {spark: "3.5", gpu: nvidia}',
            "constraints[0].exclude.gpu",
        ),
        ('require: {spark: "4.*"}', 'require: {gpu: "n*"}', "constraints[1].require.gpu"),
        ("when: {catalog: iceberg-sql}", "when: {gpu: nvidia}", "constraints[1].when.gpu"),
        ('- {catalog: "!iceberg-sql"}', '- {gpu: "!nvidia"}', "tiers.documented.cells[0].gpu"),
        (
            '- {spark: "4.10", catalog: hive}',
            '- {spark: "4.10", gpu: none}',
            "profiles.smoke.select[0].gpu",
        ),
    ],
)
def test_selector_with_unknown_dimension(tmp_path: Path, old: str, new: str, key: str) -> None:
    text = edit(old, new)
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'gpu')}: {key}: unknown dimension 'gpu' (valid: spark, catalog)"
    ]


def test_glob_matching_no_value(tmp_path: Path) -> None:
    text = edit(
        'exclude: {spark: "3.5", catalog: iceberg-rest}',
        'exclude: {spark: "3.5", catalog: iceberg-rst}',
    )
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'iceberg-rst')}: constraints[0].exclude.catalog: 'iceberg-rst' "
        "matches no value of 'catalog' (valid: hive, iceberg-rest, iceberg-sql)"
    ]


def test_glob_matching_no_value_inside_a_list_names_its_index(tmp_path: Path) -> None:
    text = edit('catalog: [hive, "iceberg-*"]', 'catalog: [hive, "delta-*"]')
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'delta-*')}: tiers.certified.cells[0].catalog[1]: 'delta-*' "
        "matches no value of 'catalog' (valid: hive, iceberg-rest, iceberg-sql)"
    ]


def test_negated_glob_of_nothing_is_reported(tmp_path: Path) -> None:
    # `!iceberg-sq` excludes nothing: the author meant `!iceberg-sql`
    text = edit('{catalog: "!iceberg-sql"}', '{catalog: "!iceberg-sq"}')
    path, errs = check(tmp_path, text)
    assert len(errs) == 1
    head = f"{path}:{line(text, '!iceberg-sq')}: tiers.documented.cells[0].catalog: "
    assert errs[0].startswith(head)
    assert "'iceberg-sq'" in errs[0]
    assert errs[0].endswith("(valid: hive, iceberg-rest, iceberg-sql)")


@pytest.mark.parametrize("globs", ['"!*"', '[hive, "!hive"]', '["!hive", "!iceberg-*"]'])
def test_globs_that_together_leave_no_value_are_reported(tmp_path: Path, globs: str) -> None:
    text = edit('{catalog: "!iceberg-sql"}', f"{{catalog: {globs}}}")
    path, errs = check(tmp_path, text)
    assert len(errs) == 1
    assert errs[0].startswith(f"{path}:{line(text, globs)}: tiers.documented.cells[0].catalog: ")
    assert "no value of 'catalog'" in errs[0]
    assert errs[0].endswith("(valid: hive, iceberg-rest, iceberg-sql)")


def test_empty_selector_is_reported(tmp_path: Path) -> None:
    text = edit('- {catalog: "!iceberg-sql"}', "- {}")
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, '- {}')}: tiers.documented.cells[0]: empty selector matches every "
        "cell (valid: at least one dimension: glob)"
    ]


# -- names --------------------------------------------------------------------------------------


def test_value_name_that_cannot_appear_in_a_cell_id(tmp_path: Path) -> None:
    text = edit("      iceberg-sql:\n", "      iceberg-sql:\n      delta,lake:\n")
    path, errs = check(tmp_path, text)
    assert len(errs) == 1, errs
    assert errs[0].startswith(
        f"{path}:{line(text, 'delta,lake')}: dimensions.catalog.values.delta,lake: "
    )
    assert "(valid: " in errs[0]


def test_bad_dimension_name_is_reported_with_other_dimension_errors(tmp_path: Path) -> None:
    text = edit("  catalog:\n", "  Catalog:\n")
    text = text.replace("catalog:", "Catalog:")
    text = edit(
        "    description: Spark line\n", "    description: Spark line\n    colour: x\n", text
    )
    path, errs = check(tmp_path, text)
    assert len(errs) == 2, errs
    assert errs[0].startswith(f"{path}:{line(text, 'colour')}: dimensions.spark.colour: unknown")
    assert errs[1].startswith(f"{path}:{line(text, '  Catalog:')}: dimensions.Catalog: ")
    assert "(valid: " in errs[1]


def test_matrix_name_pattern(tmp_path: Path) -> None:
    path, errs = check(tmp_path, edit("name: demo", "name: Demo Matrix"))
    assert errs == [
        f"{path}:2: name: 'Demo Matrix' is not allowed here (valid: text matching "
        "^[a-z][a-z0-9_-]*$)"
    ]


# -- meaning: constraints and profiles that leave nothing ---------------------------------------


def test_constraints_that_exclude_every_cell(tmp_path: Path) -> None:
    text = edit(
        '  - require: {spark: "4.*"}\n    when: {catalog: iceberg-sql}\n',
        '  - require: {spark: "4.*", catalog: "iceberg-*"}\n',
    )
    text = edit(
        "    reason: not shipped\n",
        "    reason: not shipped\n  - exclude: {catalog: iceberg-sql}\n    reason: x\n",
        text,
    )
    text = edit(
        "  - exclude: {catalog: iceberg-sql}\n",
        '  - exclude: {catalog: "iceberg-*", spark: "4.*"}\n',
        text,
    )
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, 'constraints:')}: constraints: the constraints exclude every cell "
        "(valid: loosen an exclude or require rule)"
    ]


def test_profile_that_selects_no_valid_cell(tmp_path: Path) -> None:
    # 3.5 with iceberg-rest is excluded, and certified cells are spark 4.* only
    text = edit('- {spark: "4.10", catalog: hive}', '- {spark: "3.5", catalog: iceberg-rest}')
    path, errs = check(tmp_path, text)
    assert errs == [
        f"{path}:{line(text, '  smoke:')}: profiles.smoke: the profile selects no valid cell "
        "(valid: tiers and select that match at least one cell)"
    ]


# -- every error at once ------------------------------------------------------------------------

MANY = """\
schema: certify.matrix/1
name: demo
colour: red
dimensions:
  spark:
    values:
      "3.5": {pyspark: "3.5.7", scalaa: "2.12"}
      "3.5": {}
  catalog:
    values: {hive: , iceberg-rest: }
constraints:
  - exclude: {spark: "3.5"}
    require: {catalog: hive}
    reason: both
  - exclude: {gpu: nvidia}
    reason: unknown dimension
  - exclude: {catalog: "delta*"}
    reason: no such catalog
tiers:
  gold:
    cells: []
profiles:
  smoke:
    tiers: [certified]
    reduction: t=0
    seed: abc
"""


def test_every_error_of_a_file_at_once_sorted_and_once(tmp_path: Path) -> None:
    path = write(tmp_path, MANY, "many.yaml")
    issues = ConfigError(validate_files([path])).issues
    found = [(i.line, i.key) for i in issues]
    assert found == [
        (3, "colour"),
        (7, 'dimensions.spark.values["3.5"].scalaa'),
        (8, 'dimensions.spark.values["3.5"]'),  # duplicate key
        (12, "constraints[0]"),
        (15, "constraints[1].exclude.gpu"),
        (17, "constraints[2].exclude.catalog"),
        (20, "tiers.gold"),
        (25, "profiles.smoke.reduction"),
        (26, "profiles.smoke.seed"),
    ]
    assert len({i.format() for i in issues}) == len(issues)
    assert all(i.file == str(path) for i in issues)
    assert all(i.valid for i in issues), [i.format() for i in issues if not i.valid]


def test_every_error_of_several_files_sorted_by_file_then_line(tmp_path: Path) -> None:
    first = write(tmp_path, MANY, "b.yaml")
    second = write(tmp_path, edit("seed: 7", "seed: x"), "a.yaml")
    third = write(tmp_path, BASE, "c.yaml")
    missing = tmp_path / "0-missing.yaml"
    issues = ConfigError(validate_files([first, second, third, missing])).issues
    files = [i.file for i in issues]
    assert files == sorted(files)
    assert files.count(str(first)) == 9
    assert files.count(str(second)) == 1
    assert str(third) not in files
    assert files[0] == str(missing)
    keys = [(i.file, i.line, i.key) for i in issues]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_config_error_message_lists_every_issue() -> None:
    issues = [Issue("b.yaml", 2, "x", "bad", "good"), Issue("a.yaml", 9, "", "worse")]
    exc = ConfigError(issues)
    assert str(exc).splitlines() == [
        "a.yaml:9: <document>: worse",
        "b.yaml:2: x: bad (valid: good)",
    ]
    assert exc.exit_code == 2


# -- chaos experiments and load profiles of a profile ------------------------------------------

CHAOS = """\
    suites: [smoke]
    chaos: [executor-loss, {name: metastore-outage, cells: [{catalog: hive}]}, connect-restart]
    load:
      - object-store
      - {name: spark-connect-sql, shape: spike, during: connect-restart, cells: [{spark: "4.*"}]}
"""


def test_chaos_and_load_entries_plan_per_cell(tmp_path: Path) -> None:
    from certify.plan import build_plan

    text = edit("    suites: [smoke]\n", CHAOS)
    matrix = load_matrix(write(tmp_path, text))
    entries = matrix.spec.profiles["smoke"].load
    assert [(e.name, e.shape, e.during) for e in entries] == [
        ("object-store", None, None),
        ("spark-connect-sql", "spike", "connect-restart"),
    ]
    plan = build_plan(matrix, "smoke")
    [cell] = plan.cells
    assert cell.chaos == ("executor-loss", "metastore-outage", "connect-restart")
    assert cell.load == ("object-store", "spark-connect-sql")
    text = edit("cells: [{catalog: hive}]", "cells: [{catalog: iceberg-rest}]", text)
    text = edit('cells: [{spark: "4.*"}]', 'cells: [{spark: "3.*"}]', text)
    [cell] = build_plan(load_matrix(write(tmp_path, text)), "smoke").cells
    assert cell.chaos == ("executor-loss", "connect-restart")
    assert cell.load == ("object-store",)


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        (
            "{name: metastore-outage, cells: [{catalog: hive}]}",
            "{name: metastore-outage, cells: [{gpu: none}]}",
            "profiles.smoke.chaos[1].cells[0].gpu",
            "unknown dimension 'gpu' (valid: spark, catalog)",
        ),
        (
            "chaos: [executor-loss,",
            "chaos: [connect-restart,",
            "profiles.smoke.chaos",
            "connect-restart listed more than once (valid: each name once (merge their `cells`))",
        ),
        (
            "during: connect-restart",
            "during: driver-restart",
            "profiles.smoke.load",
            "load 'spark-connect-sql' runs during experiment 'driver-restart', which the "
            "profile's `chaos` list does not name (valid: add 'driver-restart' to `chaos` (it "
            "then runs under this load only))",
        ),
        (
            "      - object-store\n",
            "      - Object Store\n",
            "profiles.smoke.load[0]",
            "'Object Store' is not a file name certify looks up (chaos/NAME.yaml, load/NAME.py) "
            "(valid: lower-case letters, digits, _ and - (starting with a letter))",
        ),
        (
            "shape: spike",
            "shape: burst",
            "profiles.smoke.load[1].shape",
            "",
        ),
    ],
)
def test_bad_chaos_and_load_entries(
    tmp_path: Path, old: str, new: str, key: str, message: str
) -> None:
    text = edit(old, new, edit("    suites: [smoke]\n", CHAOS))
    path, errs = check(tmp_path, text)
    assert len(errs) == 1, errs
    assert errs[0].startswith(f"{path}:"), errs
    assert f": {key}: " in errs[0], errs
    assert errs[0].endswith(message), errs
