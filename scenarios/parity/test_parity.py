"""Parity suite: the same deterministic jobs give identical rows on every cell of a run.

Which cells are compared: all cells of the same run. The jobs (aggregation, join, window,
decimal arithmetic, string functions, null handling; `fixtures/parity_jobs.py`) read only data
generated in the session, never a table or a file, so no dimension (Spark line, GPU, catalog,
storage, deploy mode) may change their answer; restricting the comparison to cells that differ
in spark or gpu only would miss, say, a Connect server that mangles decimals.

How: each cell writes its canonical sorted rows to `<run>/parity/<job>/<cell-slug>.jsonl`
before it compares, then checks them against the pure-Python expected answer and against every
other cell of the same run (same run id) already in that folder. Whichever of two cells finishes
a job second therefore compares the pair, also when runtimes run at once. The first cell of a run
has no peer yet: it is checked against the expected answer only, and every later cell is
compared with it. Run by hand (no run folder) a cell keeps its results under its own workdir
and is checked against the expected answers only. A failure names the first differing rows:
`row N: cell A has (...), cell B has (...)`.
"""

from __future__ import annotations

from typing import Any

import pytest

from certify.scenario import CellContext, cell_slug
from fixtures.parity import (
    canonical_rows,
    parity_failures,
    parity_root,
    peer_results,
    write_results,
)
from fixtures.parity_jobs import JOBS, Job, Order, orders, register_views, run_job

pytestmark = pytest.mark.parity


@pytest.fixture(scope="module")
def parity_spark(spark: Any) -> Any:
    """The cell's session with the parity views registered."""
    register_views(spark)
    return spark


@pytest.fixture(scope="module")
def python_orders() -> list[Order]:
    """The dataset in pure Python, for the expected answers."""
    return orders()


@pytest.mark.parametrize("job", JOBS, ids=[j.name for j in JOBS])
def test_job_matches_expected_and_every_other_cell(
    job: Job,
    parity_spark: Any,
    python_orders: list[Order],
    cell: CellContext,
    request: pytest.FixtureRequest,
) -> None:
    """The job's rows equal the expected answer and the rows of every other cell of the run."""
    rows = canonical_rows(run_job(parity_spark, job))
    run_id = str(request.config.getoption("certify_run_id") or "adhoc")
    root = parity_root(cell.workdir)
    # written before comparing, so a peer running at the same time sees it (see module docstring)
    write_results(root, job.name, run_id, cell.id, cell_slug(cell.id), rows)
    expected = canonical_rows(job.expected(python_orders)) if job.expected else None
    peers = peer_results(root, job.name, run_id, cell.id)
    failures = parity_failures(rows, cell.id, expected, peers)
    if failures:
        pytest.fail(f"parity job {job.name!r}:\n" + "\n".join(failures), pytrace=False)
