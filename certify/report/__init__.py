"""Reports: aggregate records into verdicts under a policy, decide the gate, render every output."""

from certify.config.policy import Policy, load_policy
from certify.report.aggregate import aggregate, build_cells, cell_result
from certify.report.finalize import Decision, assemble, finalize, publish
from certify.report.gate import evaluate_gate
from certify.report.history import Changes, History
from certify.report.model import REPORT_SCHEMA, CellResult, Gate, Report, RunInputs, SuiteResult
from certify.report.verdict import VERDICTS, worst
from certify.report.writers import write_all

__all__ = [
    "REPORT_SCHEMA",
    "VERDICTS",
    "CellResult",
    "Changes",
    "Decision",
    "Gate",
    "History",
    "Policy",
    "Report",
    "RunInputs",
    "SuiteResult",
    "aggregate",
    "assemble",
    "build_cells",
    "cell_result",
    "evaluate_gate",
    "finalize",
    "load_policy",
    "publish",
    "schema",
    "worst",
    "write_all",
]


def schema() -> dict[str, object]:
    """The JSON Schema of report.json shipped with the package."""
    import json
    from importlib import resources

    text = resources.files("certify").joinpath("schemas/report.schema.json").read_text("utf-8")
    loaded: dict[str, object] = json.loads(text)
    return loaded
