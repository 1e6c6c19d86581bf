"""One selector, one meaning: scenarios, experiments, load profiles and the matrix agree.

A selector is `{dimension: glob | [globs]}` with `!glob` negating. Scenarios read it from
`@pytest.mark.requires`, chaos experiments from their `certify.requires`, load profiles from
`REQUIRES` and the matrix from constraints and profile selectors; all go through
`certify.config.selector`, and this property test holds them to the same answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certify.chaos.experiments import Experiment
from certify.config.selector import glob_matches, unmet
from certify.load.profile import LoadProfile
from certify.matrix.constraints import compile_selector
from certify.pytest.plugin import unmet_requirements

DIMS = ("spark", "catalog", "deploy")
VALUES = {
    "spark": ("3.5", "4.0", "4.1"),
    "catalog": ("hive", "iceberg-hive", "iceberg-rest"),
    "deploy": ("local", "standalone", "connect"),
}
_GLOBS = ["*", "3.*", "4.*", "4.1", "hive", "iceberg-*", "*-rest", "local", "conn*", "s?andalone"]
globs = st.lists(
    st.builds(lambda neg, g: ("!" if neg else "") + g, st.booleans(), st.sampled_from(_GLOBS)),
    min_size=1,
    max_size=3,
)
selectors = st.dictionaries(st.sampled_from(DIMS), globs, max_size=3)
cells = st.fixed_dictionaries({d: st.sampled_from(VALUES[d]) for d in DIMS})


def _matrix_says(selector: dict[str, list[str]], cell: dict[str, str]) -> bool:
    match = compile_selector(selector, list(DIMS), [list(VALUES[d]) for d in DIMS])
    return bool(match.evaluate([VALUES[d].index(cell[d]) for d in DIMS]))


@given(selectors, cells)
def test_scenarios_experiments_loads_and_the_matrix_agree(
    selector: dict[str, list[str]], cell: dict[str, str]
) -> None:
    requires = {k: tuple(v) for k, v in selector.items()}
    scenario = not unmet_requirements([pytest.mark.requires(**selector).mark], cell)
    experiment = Experiment("x", Path("chaos/x.json"), {}, requires=requires)
    load = LoadProfile("y", Path("load/y.py"), requires=requires)
    applies = {
        "scenario": scenario,
        "experiment": experiment.not_applicable(cell) is None,
        "load": load.inapplicable(cell) is None,
        "matrix": _matrix_says(selector, cell),
        "selector": not unmet(selector, cell),
    }
    assert len(set(applies.values())) == 1, applies


@given(st.sampled_from(_GLOBS), st.sampled_from([v for vs in VALUES.values() for v in vs]))
def test_a_negated_glob_is_the_complement(glob: str, value: str) -> None:
    assert glob_matches(value, ["!" + glob]) is not glob_matches(value, [glob])


def test_a_cell_without_the_dimension_never_meets_a_requirement() -> None:
    assert unmet({"gpu": ["!nvidia"]}, {"spark": "3.5"}) == [("gpu", ("!nvidia",), None)]
