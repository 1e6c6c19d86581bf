"""The experiment's own process: `python -m certify.chaos.subproc EXPERIMENT.json JOURNAL.json`.

chaoslib's `run_experiment` installs signal handlers and so needs a main thread; it runs here,
always with the `always` rollback strategy (rollbacks also after a failed or interrupted run),
and the journal is written whatever happens. Exit code 0 when a journal was written.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

SETTINGS = {"runtime": {"rollbacks": {"strategy": "always"}}}


def main(argv: list[str]) -> int:
    """Run one experiment file and write its journal."""
    from chaoslib.experiment import run_experiment  # type: ignore[import-untyped]
    from chaoslib.types import Strategy  # type: ignore[import-untyped]

    experiment_path, journal_path = Path(argv[0]), Path(argv[1])
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s"
    )
    experiment = json.loads(experiment_path.read_text())
    journal = run_experiment(experiment, settings=SETTINGS, strategy=Strategy.DEFAULT)
    tmp = journal_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(journal, indent=2, default=str) + "\n")
    tmp.replace(journal_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
