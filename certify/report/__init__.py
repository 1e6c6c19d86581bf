"""Reports: aggregate records into verdicts, decide the gate, render every output."""

from certify.report.gate import Policy, evaluate_gate
from certify.report.model import REPORT_SCHEMA, CellResult, Gate, Report, build_cells
from certify.report.verdict import VERDICTS, worst
from certify.report.writers import write_all

__all__ = [
    "REPORT_SCHEMA",
    "VERDICTS",
    "CellResult",
    "Gate",
    "Policy",
    "Report",
    "build_cells",
    "evaluate_gate",
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
