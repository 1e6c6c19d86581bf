"""Join the shards of one run into one report.

Shards must share profile, matrix and seed. A cell reported by several shards keeps every test;
where two shards disagree on the same test of the same cell, the worse status is kept (never an
error: a re-run shard must not hide a failure) and the kept record's message says so. Cells the
shards' plan.json lists but no shard reported end `incomplete` (fail closed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from certify.errors import UnusableReport, UsageError
from certify.plan import Plan, PlannedCell
from certify.report.readback import Evidence, load_evidence, planned_cell
from certify.report.verdict import status_rank
from certify.results import Record
from certify.results.findings import JsonObject


def _same_run(shards: Sequence[Evidence]) -> None:
    first = shards[0].plan
    for shard in shards[1:]:
        for what in ("profile", "matrix", "seed"):
            if getattr(shard.plan, what) != getattr(first, what):
                raise UsageError(
                    f"{shard.path} is not a shard of the same run as {shards[0].path}: "
                    f"{what} {getattr(shard.plan, what)!r} != {getattr(first, what)!r}"
                )


def _planned_cells(shards: Sequence[Evidence]) -> list[PlannedCell]:
    """Cells in plan order: every shard's cells, then cells only a shard's plan.json lists."""
    cells: dict[str, PlannedCell] = {}
    for shard in shards:
        for planned in shard.plan.cells:
            known = cells.setdefault(planned.cell.id, planned)
            if (known.cell.tier, known.suites, known.chaos, known.load) != (
                planned.cell.tier,
                planned.suites,
                planned.chaos,
                planned.load,
            ):
                raise UsageError(
                    f"{shard.path}: cell {planned.cell.id} is planned differently than in "
                    f"another shard (tier, suites, chaos or load): not shards of one plan"
                )
    for shard in shards:
        for planned in _plan_file_cells(shard.path.parent / "plan.json"):
            cells.setdefault(planned.cell.id, planned)
    return list(cells.values())


def _plan_file_cells(path: Path) -> list[PlannedCell]:
    if not path.is_file():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [planned_cell(c, c) for c in doc["cells"]]  # plan.json lists suites per cell
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnusableReport(f"{path}: unreadable plan of a shard: {exc}") from None


def _records(shards: Sequence[Evidence]) -> list[Record]:
    kept: dict[tuple[str, str], Record] = {}
    seen_in: dict[tuple[str, str], list[str]] = {}
    for shard in shards:
        for record in shard.records:
            key = (record.cell_id, record.test_id)
            seen_in.setdefault(key, []).append(f"{record.status} in {shard.run['id']}")
            old = kept.get(key)
            if old is None or status_rank(record.status) < status_rank(old.status):
                kept[key] = record
    out = []
    for key, record in kept.items():
        statuses = {s.split(" in ")[0] for s in seen_in[key]}
        if len(statuses) > 1:
            note = f"merge: shards disagree ({', '.join(seen_in[key])}); the worse is kept"
            record = replace(record, message=f"{note}\n{record.message}".strip())
        out.append(record)
    return out


def _run(shards: Sequence[Evidence]) -> JsonObject:
    runs = [s.run for s in shards]
    first = runs[0]
    run: JsonObject = {
        "id": "merged-" + str(first["id"]),
        "profile": first["profile"],
        "matrix": first["matrix"],
        "platform": ",".join(dict.fromkeys(str(r.get("platform", "")) for r in runs)),
        "started": min(str(r["started"]) for r in runs),
        "finished": max(str(r["finished"]) for r in runs),
        "argv": [],
        "interrupted": any(bool(r.get("interrupted")) for r in runs),
        "provenance": first["provenance"],
        "shards": [str(r["id"]) for r in runs],
    }
    why = [f"{r['id']}: {r['interrupted_reason']}" for r in runs if r.get("interrupted_reason")]
    if why:
        run["interrupted_reason"] = "interrupted (" + "; ".join(why) + ")"
    errors = [str(r["evidence_error"]) for r in runs if r.get("evidence_error")]
    if errors:
        run["evidence_error"] = "; ".join(errors)
    return run


def merge_shards(paths: Sequence[Path]) -> Evidence:
    """The evidence of all shards as one run (raises UsageError for shards of different runs)."""
    if not paths:
        raise UsageError("certify report merge needs at least one run folder or report.json")
    shards = [load_evidence(p) for p in paths]
    _same_run(shards)
    cells = _planned_cells(shards)
    first = shards[0]
    plan = Plan(
        first.plan.matrix,
        first.plan.matrix_path,
        first.plan.profile,
        first.plan.seed,
        tuple(cells),
        first.plan.groups,
        first.plan.dimensions,
    )
    expected: dict[str, list[tuple[str, str]]] = {}
    for shard in shards:
        for cell_id, pairs in shard.expected.items():
            expected.setdefault(cell_id, []).extend(p for p in pairs if p not in expected[cell_id])
    doc = dict(first.doc)
    return Evidence(first.path, doc, _run(shards), plan, _records(shards), expected)
