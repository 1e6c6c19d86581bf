"""What `certify gate` checks before it decides anything: the evidence is whole, fresh and one run.

Each check returns the problems it found, one sentence each, naming the file, the cell, the
record and what was found; an empty list means the check passed. None of them trusts the report:
they compare its run times with the clock, its plan with plan.json, and the results store with
both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from certify.plan import Plan
from certify.report.jsondoc import array, obj, objs, text
from certify.results import Record
from certify.results.findings import JsonObject, JsonValue
from certify.results.store import StoreSnapshot

# Clocks of CI machines differ a little: a time this far ahead of ours is not yet "the future".
SKEW = timedelta(minutes=5)


def parse_time(value: JsonValue) -> datetime | None:
    """An ISO-8601 time as an aware UTC datetime (None when it is not one)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def run_times(run: JsonObject, now: datetime) -> tuple[list[str], datetime | None]:
    """Problems with the run's own start and finish times, and when it finished."""
    problems: list[str] = []
    times: dict[str, datetime] = {}
    for key in ("started", "finished"):
        when = parse_time(run.get(key))
        if when is None:
            problems.append(f"report.json run.{key} is missing or not a time ({run.get(key)!r})")
            continue
        times[key] = when
        if when > now + SKEW:
            problems.append(
                f"report.json run.{key} {run[key]} is in the future (the clock says "
                f"{now.isoformat(timespec='seconds')}): the evidence is not from a real run"
            )
    started, finished = times.get("started"), times.get("finished")
    if started and finished and finished < started:
        problems.append(
            f"report.json says the run finished ({run['finished']}) before it started "
            f"({run['started']})"
        )
    took = run.get("duration_s")
    if started and finished and isinstance(took, int | float) and not isinstance(took, bool):
        between = (finished - started).total_seconds()
        if abs(between - took) > 1.0 and not (between < 0 and took == 0):
            problems.append(
                f"report.json run.duration_s is {took:g} s, but the run started {run['started']} "
                f"and finished {run['finished']} ({between:g} s apart)"
            )
    return problems, finished


def record_times(records: Sequence[Record], run: JsonObject, now: datetime) -> list[str]:
    """Records dated in the future, finished before they started, or outside their run."""
    problems: list[str] = []
    run_started, run_finished = parse_time(run.get("started")), parse_time(run.get("finished"))
    # a resumed run keeps the records of its first attempt, made before this attempt started
    resumed = bool(run.get("resumed")) or bool(run.get("shards"))
    for record in records:
        name = f"record {record.test_id} of cell {record.cell_id}"
        started, finished = parse_time(record.started), parse_time(record.finished)
        if finished is None or (record.started and started is None):
            problems.append(
                f"{name}: no readable start/finish time ({record.started!r}, {record.finished!r})"
            )
            continue
        if finished > now + SKEW:
            problems.append(f"{name} is dated in the future (finished {record.finished})")
        if started is not None and finished < started:
            problems.append(
                f"{name} finished ({record.finished}) before it started ({record.started})"
            )
        if run_finished is not None and finished > run_finished + SKEW:
            problems.append(
                f"{name} finished ({record.finished}) after its run did ({run['finished']})"
            )
        if not resumed and run_started and started and started < run_started - SKEW:
            problems.append(
                f"{name} started ({record.started}) before its run did ({run['started']})"
            )
    return problems


def evidence_age(
    records: Sequence[Record], finished: datetime | None, limit: float | None, now: datetime
) -> list[str]:
    """The oldest evidence against the policy's maximum age for the run's profile."""
    if limit is None:
        return []
    times = [t for r in records if (t := parse_time(r.finished)) is not None]
    oldest = min(times, default=finished)
    if oldest is None:
        return []
    days = (now - oldest).total_seconds() / 86400.0
    if days <= limit:
        return []
    return [
        f"the evidence is {days:.1f} days old (oldest record finished "
        f"{oldest.isoformat(timespec='seconds')}); the policy allows {limit:g} days for this "
        "profile: re-run to certify"
    ]


def _twice(ids: Sequence[str], where: str) -> list[str]:
    return [f"{where} lists cell {i} {n} times" for i, n in Counter(ids).items() if n > 1]


def plan_against_report(plan: Plan, doc: JsonObject) -> list[str]:
    """Every planned cell in report.json exactly once, and nothing the plan did not plan."""
    planned = [p.cell.id for p in plan.cells]
    reported = [text(obj(c, "cell")["id"], "cell.id") for c in array(doc["cells"], "cells")]
    problems = _twice(planned, "plan.json") + _twice(reported, "report.json")
    problems += [
        f"planned cell {i} (plan.json) is missing from report.json"
        for i in dict.fromkeys(planned)
        if i not in reported
    ]
    problems += [
        f"report.json holds cell {i}, which plan.json does not plan"
        for i in dict.fromkeys(reported)
        if i not in planned
    ]
    section = obj(doc["plan"], "plan")
    for key, value in (("profile", plan.profile), ("matrix", plan.matrix), ("seed", plan.seed)):
        if section.get(key) != value:
            problems.append(
                f"report.json plan.{key} is {section.get(key)!r}, plan.json says {value!r}"
            )
    run = obj(doc["run"], "run")
    for key, value in (("profile", plan.profile), ("matrix", plan.matrix)):
        if run.get(key) != value:
            problems.append(f"report.json run.{key} is {run.get(key)!r}, plan.json says {value!r}")
    return problems


def shard_ids(run: JsonObject) -> tuple[list[str], list[str]]:
    """The run ids whose records the report is made of, and problems with that list."""
    shards = run.get("shards")
    if shards is None:
        return [text(run["id"], "run.id")], []
    ids = [text(s, "run.shards") for s in array(shards, "run.shards")]
    problems = [
        f"run {i} is merged {n} times into this report (run.shards): two copies of one run"
        for i, n in Counter(ids).items()
        if n > 1
    ]
    return list(dict.fromkeys(ids)), problems


def store_against_plan(snapshot: StoreSnapshot, plan: Plan, runs: Sequence[str]) -> list[str]:
    """The store holds this report's runs only, each once, and records of planned cells only."""
    problems = list(snapshot.problems)
    held = Counter(r.run_id for r in snapshot.records)
    problems += [
        f"{snapshot.path.name} holds {n} record(s) of run {run_id}, which this report is not "
        f"(it is {', '.join(runs)})"
        for run_id, n in held.items()
        if run_id not in runs
    ]
    problems += [f"{snapshot.path.name} holds no record of run {r}" for r in runs if r not in held]
    planned = {p.cell.id: {*p.suites, *p.chaos, *p.load} for p in plan.cells}
    strays: dict[str, str] = {}
    unasked: dict[tuple[str, str], str] = {}
    for record in snapshot.records:
        if record.run_id not in runs:
            continue
        if record.cell_id not in planned:
            strays.setdefault(record.cell_id, record.test_id)
        elif record.suite not in planned[record.cell_id]:
            unasked.setdefault((record.cell_id, record.suite), record.test_id)
    problems += [
        f"{snapshot.path.name} holds records of cell {cell}, which plan.json does not plan "
        f"(first: {test})"
        for cell, test in strays.items()
    ]
    # evidence the plan does not ask for is ignored by the verdicts: a plan edited to drop a
    # failing suite would otherwise hide its records
    problems += [
        f"{snapshot.path.name} holds records of {suite} on cell {cell}, which plan.json does not "
        f"plan for it (first: {test})"
        for (cell, suite), test in unasked.items()
    ]
    return problems + _copies(snapshot.records, runs)


def _copies(records: Sequence[Record], runs: Sequence[str]) -> list[str]:
    """The same record (cell, test, times) under two run ids: a run merged with its copy."""
    seen: dict[tuple[str, str, str, str], str] = {}
    pairs: dict[tuple[str, str], int] = {}
    for record in records:
        if record.run_id not in runs:
            continue
        key = (record.cell_id, record.test_id, record.started, record.finished)
        first = seen.setdefault(key, record.run_id)
        if first != record.run_id:
            pair = (first, record.run_id)
            pairs[pair] = pairs.get(pair, 0) + 1
    return [
        f"runs {a} and {b} hold {n} identical record(s) (same cell, test and times): two copies "
        "of one run were merged"
        for (a, b), n in pairs.items()
    ]


def report_cells(doc: JsonObject) -> dict[str, JsonObject]:
    """report.json's cells by id (the first of a duplicated id; duplicates are a problem)."""
    cells: dict[str, JsonObject] = {}
    for cell in objs(doc["cells"], "cells"):
        cells.setdefault(text(cell["id"], "cell.id"), cell)
    return cells
