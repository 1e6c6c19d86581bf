"""Join the shards of one run into one report.

Shards must share profile, matrix and seed. A cell reported by several shards keeps every test;
where two shards disagree on the same test of the same cell, the worse status is kept (never an
error: a re-run shard must not hide a failure) and the kept record's message says so. Cells the
shards' plan.json lists but no shard reported end `incomplete` (fail closed). The same shard, or
the same run id, given twice is refused: counted twice it would outvote nothing but still hide
that a shard is missing.

The merged folder is evidence a gate can re-derive like any run folder: `write_evidence` puts every
shard's records (under their own run ids) and expectations into OUT/results.sqlite and the
full plan into OUT/plan.json, and the merged run section names the shards and carries the
matrix and policy digests they agree on.

Every shard's attestation (the attestation.intoto.jsonl that `certify report bundle --sign` left
in its folder, and those a merged shard kept) is copied into OUT/attestations/ and listed in the
merged run section with its sha256, so that bundling the merged folder keeps them as evidence.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from certify.errors import UnusableReport, UsageError
from certify.plan import Plan, PlannedCell
from certify.report.bundle import RUN_ATTESTATION, unsafe_name
from certify.report.jsondoc import objs, text
from certify.report.readback import Evidence, load_evidence, planned_cell, report_path
from certify.report.verdict import status_rank
from certify.results import Record
from certify.results.findings import JsonObject, JsonValue

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
_KEPT = "attestations"


def _distinct_paths(paths: Sequence[Path]) -> None:
    seen: dict[Path, Path] = {}
    for path in paths:
        key = report_path(path).resolve()
        if key in seen:
            raise UsageError(
                f"{path}: given twice (the same report as {seen[key]}); name each shard once"
            )
        seen[key] = path


def _run_ids(shard: Evidence) -> list[str]:
    """The runs a shard holds: its own id, or the ids of the shards a merged shard joined."""
    shards = shard.run.get("shards")
    return [str(s) for s in shards] if isinstance(shards, list) else [str(shard.run["id"])]


def _distinct_runs(shards: Sequence[Evidence]) -> None:
    owner: dict[str, Path] = {}
    for shard in shards:
        for run_id in _run_ids(shard):
            if run_id in owner:
                raise UsageError(
                    f"{shard.path}: run {run_id} is also in {owner[run_id]}: the same shard "
                    "given twice (or a copy of it); merge each shard once"
                )
            owner[run_id] = shard.path


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
    order: dict[str, int] = {}
    for shard in shards:
        for planned in _plan_file_cells(shard.path.parent / "plan.json"):
            cells.setdefault(planned.cell.id, planned)
            order.setdefault(planned.cell.id, len(order))
    # the plan's own order (plan.json), as an unsharded run of the same plan lists them
    ranked = sorted(cells.values(), key=lambda p: order.get(p.cell.id, len(order)))
    return ranked


def _plan_file_cells(path: Path) -> list[PlannedCell]:
    if not path.is_file():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [planned_cell(c, c) for c in doc["cells"]]  # plan.json lists suites per cell
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnusableReport(f"{path}: unreadable plan of a shard: {exc}") from None


def join_records(runs: Sequence[tuple[str, Sequence[Record]]]) -> list[Record]:
    """The records of several runs (run id, records) as one: the rule of a shard merge.

    Where runs disagree on a test of a cell, the worse result is kept and its message says so;
    the gate re-derives a merged report with this same function (certify.report.rederive).
    """
    kept: dict[tuple[str, str], Record] = {}
    seen_in: dict[tuple[str, str], list[str]] = {}
    for run_id, records in runs:
        for record in records:
            key = (record.cell_id, record.test_id)
            seen_in.setdefault(key, []).append(f"{record.status} in {run_id}")
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


def _records(shards: Sequence[Evidence]) -> list[Record]:
    return join_records([(str(s.run["id"]), s.records) for s in shards])


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
        "shards": [i for s in shards for i in _run_ids(s)],
    }
    for digest in ("matrix_sha256", "policy_sha256"):
        values = {r.get(digest) for r in runs}
        if len(values) > 1:
            raise UsageError(
                f"the shards were run under different {digest.split('_')[0]} files ({digest} "
                "differs): merge shards of one run only"
            )
        if None not in values:
            run[digest] = values.pop()
    why = [f"{r['id']}: {r['interrupted_reason']}" for r in runs if r.get("interrupted_reason")]
    if why:
        run["interrupted_reason"] = "interrupted (" + "; ".join(why) + ")"
    errors = [str(r["evidence_error"]) for r in runs if r.get("evidence_error")]
    if errors:
        run["evidence_error"] = "; ".join(errors)
    return run


def _attestations(shard: Evidence, index: int) -> list[tuple[Path, str]]:
    """(source, name in OUT) of a shard's attestation and of those a merged shard kept."""
    folder = shard.path.parent
    run_id = str(shard.run["id"])
    found = []
    if (folder / RUN_ATTESTATION).is_file():
        name = run_id if _SAFE_ID.fullmatch(run_id) else f"shard-{index}"
        found.append((folder / RUN_ATTESTATION, f"{_KEPT}/{name}.intoto.jsonl"))
    try:
        kept = objs(shard.run.get(_KEPT, []), f"run.{_KEPT}")
        files = [text(entry["file"], "file") for entry in kept]
    except (KeyError, TypeError) as exc:
        raise UnusableReport(f"{shard.path}: run.{_KEPT} is malformed ({exc})") from None
    for file in files:
        if unsafe_name(file) or not file.startswith(f"{_KEPT}/"):
            raise UnusableReport(f"{shard.path}: run.{_KEPT} names {file!r}, not a kept file")
        found.append((folder / file, file))
    return found


def _keep_attestations(shards: Sequence[Evidence], out: Path | None) -> list[JsonObject]:
    """Copy every shard's attestations into OUT/attestations/; list them for the run section."""
    listed: list[JsonObject] = []
    for index, shard in enumerate(shards):
        for source, name in _attestations(shard, index):
            try:
                body = source.read_bytes()
            except OSError as exc:
                raise UnusableReport(
                    f"{source}: cannot read a shard's attestation: {exc}"
                ) from None
            if any(entry["file"] == name for entry in listed):
                raise UsageError(f"{source}: a second attestation named {name}; merge each once")
            if out is not None:
                (out / _KEPT).mkdir(parents=True, exist_ok=True)
                (out / name).write_bytes(body)
            digest = hashlib.sha256(body).hexdigest()
            listed.append({"shard": str(shard.run["id"]), "file": name, "sha256": digest})
    return listed


def merge_shards(paths: Sequence[Path], out: Path | None = None) -> Evidence:
    """The evidence of all shards as one run (raises UsageError for shards of different runs).

    With `out`, every shard's attestation is copied into OUT/attestations/ (see the module).
    """
    if not paths:
        raise UsageError("certify report merge needs at least one run folder or report.json")
    _distinct_paths(paths)
    shards = [load_evidence(p) for p in paths]
    _distinct_runs(shards)
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
    run = _run(shards)
    attestations = _keep_attestations(shards, out)
    if attestations:
        run[_KEPT] = list[JsonValue](attestations)
    return Evidence(first.path, doc, run, plan, _records(shards), expected)


def write_evidence(paths: Sequence[Path], out: Path) -> None:
    """OUT/results.sqlite with every shard's records and expectations, and OUT/plan.json.

    A shard given as a bare report.json contributes nothing here: the merged folder then lacks
    its records and a gate of it fails closed, saying so.
    """
    from certify.results import RecordStore

    out.mkdir(parents=True, exist_ok=True)
    target = out / "results.sqlite"
    for stale in out.glob("results.sqlite*"):
        stale.unlink()
    merged = RecordStore(target)
    for path in paths:
        folder = report_path(path).parent
        if (folder / "plan.json").is_file() and not (out / "plan.json").exists():
            (out / "plan.json").write_bytes((folder / "plan.json").read_bytes())
        if not (folder / "results.sqlite").is_file():
            continue
        shard = RecordStore(folder / "results.sqlite")
        for record in shard.records():
            merged.add(record)
        for run_id in sorted({r.run_id for r in shard.records()}):
            for cell_id, tests in shard.expected(run_id).items():
                merged.expect(run_id, cell_id, list(tests))
