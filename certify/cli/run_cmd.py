"""`certify run`: certify every cell of a profile and exit with the gate's verdict."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import certify.cli.options as opt
from certify.cell import KEEP_VAR
from certify.cli.validate_cmd import locustfile_problem
from certify.config.policy import resolve_policy
from certify.config.source import Unreadable, read_bounded
from certify.errors import InfrastructureError, Interrupted, UsageError
from certify.matrix.model import Matrix
from certify.plan import Plan, build_plan, find_profile
from certify.plan.shard import parse_shard, split
from certify.platforms import get_platform
from certify.report import Report
from certify.run.partial import Kind, only, policy_for
from certify.run.resume import RunSpec
from certify.run.runner import RunOptions, execute

DEFAULT_OUT = Path("runs/latest")
MAX_REPORT_BYTES = 512 * 1024 * 1024  # a report.json read for its durations


def run(
    profile: Annotated[
        str | None, typer.Option(help="Profile to run (smoke, pr, nightly, release)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Run folder for the report and evidence (default: runs/latest); an existing "
            "folder is reused, a new one is created inside an existing folder"
        ),
    ] = None,
    platform: opt.Platform = "local",
    matrix: opt.Matrix = None,
    strategy: opt.Strategy = None,
    seed: opt.Seed = None,
    no_gate: opt.NoGate = False,
    root: opt.Root = Path("."),
    policy: opt.Policy = None,
    history: opt.History = None,
    resume: opt.Resume = None,
    shard: opt.Shard = None,
    durations: opt.Durations = None,
    workers: opt.Workers = None,
    keep: opt.Keep = False,
) -> None:
    """Run the profile's scenarios on every planned cell, write the report, exit with the gate."""
    keep_cells(keep)
    root = root.resolve()
    previous = None
    if resume is None:  # the default may create runs/; a folder the user names needs a parent
        out = (
            check_out(out, "--out") if out is not None else check_out(DEFAULT_OUT, "", parents=True)
        )
    else:
        # the run's own choices win: the same plan, so finished cells stay valid evidence
        previous = RunSpec.read(resume)
        out, profile, strategy, seed = resume, previous.profile, previous.strategy, previous.seed
        matrix, shard = Path(previous.matrix), previous.shard
        durations = Path(previous.durations) if previous.durations else None
    if profile is None:
        raise UsageError("give --profile NAME (or --resume DIR to continue a run)")
    chosen = find_profile(root, profile, matrix, locustfile_problem)
    full = build_plan(chosen, profile, strategy, seed)
    plan = shard_of(full, shard, durations) if shard else full
    spec = RunSpec(
        id="",
        profile=profile,
        matrix=str(chosen.path.resolve()),
        strategy=strategy,
        seed=full.seed,
        platform=platform,
        shard=shard,
        durations=str(durations.resolve()) if durations else None,
    )
    history_dir = (history or root / ".certify" / "history").resolve()
    options = RunOptions(
        out=out.resolve(),
        root=root,
        platform=get_platform(platform),
        argv=tuple(sys.argv),
        policy=resolve_policy(root, policy),
        history=history_dir,
        resume=previous,
        spec=spec,
        workers=opt.parse_workers(workers),
        durations=_durations(durations, history_dir, profile),
    )
    execute_and_gate(chosen, plan, options, no_gate, full)


def keep_cells(keep: bool) -> None:
    """`--keep`: every child of the run (pytest, chaos workloads, locust) inherits `KEEP_VAR`.

    The children's environments all start from this process's, so setting it here reaches them
    all (`CERTIFY_KEEP=1` in certify's own environment does the same).
    """
    if keep:
        os.environ[KEEP_VAR] = "1"


def execute_and_gate(
    matrix: Matrix, plan: Plan, options: RunOptions, no_gate: bool, full: Plan | None = None
) -> None:
    """Run `plan`, print the summary, and exit 1 when the gate fails (unless `no_gate`)."""
    try:
        report = execute(matrix, plan, options, full)
    except Interrupted as exc:
        raise InfrastructureError(f"{exc}; partial report in {options.out}") from exc
    print_summary(report, options.out, Console(highlight=False, soft_wrap=True))
    if not report.gate.passed and not no_gate:
        raise typer.Exit(1)


@dataclass(frozen=True)
class KindRun:
    """`certify chaos run` / `certify load run`: one kind of a profile's entries (or `name`)."""

    kind: Kind
    name: str | None
    profile: str
    matrix: Path | None
    out: Path
    root: Path
    platform: str = "local"
    policy: Path | None = None
    load_shape: str | None = None
    load_seconds: float | None = None


def run_one_kind(request: KindRun, no_gate: bool) -> None:
    """Run the profile's entries of one kind only on its cells, report, exit with the gate."""
    root = request.root.resolve()
    out = check_out(request.out, "--out", parents=True)  # its default may need runs/ created
    chosen = find_profile(root, request.profile, request.matrix, locustfile_problem)
    options = RunOptions(
        out=out,
        root=root,
        platform=get_platform(request.platform),
        argv=tuple(sys.argv),
        policy=policy_for(resolve_policy(root, request.policy), request.kind),
        load_shape=request.load_shape,
        load_seconds=request.load_seconds,
    )
    plan = only(build_plan(chosen, request.profile), request.kind, request.name)
    execute_and_gate(chosen, plan, options, no_gate)


def check_out(out: Path, option: str, *, parents: bool = False) -> Path:
    """`out` resolved when a run folder can be written there; UsageError (exit 2) when not.

    An existing file is never replaced by a run folder, and an absolute folder the user names
    (or one outside the current folder) must sit in an existing one: a typo in a parent would
    otherwise scatter runs into new folders. A relative folder inside the current folder, as
    `--out runs/smoke` on a fresh clone, gets its parents created; so does a default
    (`parents`, such as runs/latest).
    """
    named = f"{option} {out}" if option else str(out)
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"{named} is an existing file, not a run folder (valid: a new folder, or the folder "
            "of an earlier run to replace)"
        )
    resolved = out.resolve()
    inside = not out.is_absolute() and resolved.is_relative_to(Path.cwd().resolve())
    if not (parents or inside) and not resolved.exists() and not resolved.parent.is_dir():
        raise UsageError(
            f"{named}: the folder it would be created in, {resolved.parent}, does not exist "
            f"(valid: create {resolved.parent} first, or give a folder inside an existing one)"
        )
    return resolved


def shard_of(plan: Plan, shard: str, durations: Path | None) -> Plan:
    """The plan restricted to one shard's cells, balanced by a previous run's durations."""
    index, count = parse_shard(shard)
    costs = cell_durations(durations) if durations else {}
    ids = split([p.cell.id for p in plan.cells], count, costs)[index - 1]
    by_id = {p.cell.id: p for p in plan.cells}
    return replace(plan, cells=tuple(by_id[i] for i in ids))


def _durations(given: Path | None, history: Path, profile: str) -> dict[str, float]:
    """Seconds per cell for ordering: `--durations`, else the last kept run of the profile."""
    if given is not None:
        return cell_durations(given)
    from certify.report.history import History

    return History(history).durations(profile)


def cell_durations(path: Path) -> dict[str, float]:
    """Seconds each cell took in a previous report (a report.json or the run folder)."""
    report = path / "report.json" if path.is_dir() else path
    try:
        data = json.loads(read_bounded(report, MAX_REPORT_BYTES))  # a FIFO must not block
        return {
            c["id"]: sum(float(t.get("duration_s", 0)) for t in c.get("tests", []))
            for c in data["cells"]
        }
    except Unreadable as exc:
        raise UsageError(f"--durations {path}: {exc.message} (valid: {exc.valid})") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UsageError(
            f"--durations {path}: not a readable certify report ({exc}); pass a report.json "
            "of a previous run or leave it out"
        ) from None


def print_summary(report: Report, out: Path, console: Console) -> None:
    """A few lines: cells by verdict, the gate and its reasons, where the report is."""
    summary = report.summary()
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(summary["verdicts"].items()))
    tests = ", ".join(f"{n} {s}" for s, n in sorted(summary["tests"].items()))
    console.print(f"{summary['cells']} cell(s): {verdicts or 'none'}; tests: {tests or 'none'}")
    for cell in report.cells:
        console.print(f"  {cell.verdict:<10} {cell.id}", markup=False)
    colour = "green" if report.gate.passed else "red"
    console.print(f"gate: [{colour}]{report.gate.verdict.upper()}[/]")
    for reason in report.gate.reasons:
        console.print(f"  - {reason}", markup=False)
    console.print(f"report: {out / 'report.json'}", markup=False)
