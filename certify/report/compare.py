"""report.json against the report its own records give: every difference, named.

`certify gate` rebuilds the report from results.sqlite, plan.json and the repository's policy,
then compares it with report.json cell by cell, test by test and criterion by criterion. A
dropped record, an edited status, a flipped verdict, a changed tier or a deleted reason each
give one sentence saying where and what.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

from certify.report.jsondoc import array, obj, objs, text
from certify.results.findings import JsonObject, JsonValue

# Keys of a report a gate does not judge: history's comparison and the run section, which the
# gate checks on its own (times, digests) and the rebuilt report copies from report.json.
_SKIPPED = ("changes", "run", "schema")
_SHORT = 160


def _short(value: JsonValue) -> str:
    shown = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return shown if len(shown) <= _SHORT else shown[: _SHORT - 3] + "..."


def _keyed(entries: JsonValue, key: str, what: str) -> tuple[dict[str, JsonObject], list[str]]:
    """Entries by `key`; a key seen twice is a problem (the first entry is kept)."""
    out: dict[str, JsonObject] = {}
    items = objs(entries, what)
    names = [text(e.get(key, ""), key) for e in items]
    twice = [n for n, count in Counter(names).items() if count > 1]
    for name, entry in zip(names, items, strict=True):
        out.setdefault(name, entry)
    return out, [f"{what} {n!r} appears twice" for n in twice]


def _list_diff(where: str, claimed: JsonValue, derived: JsonValue) -> Iterator[str]:
    """Reasons deleted from or added to a list of texts."""
    have, want = array(claimed, where), array(derived, where)
    missing = [r for r in want if r not in have]
    extra = [r for r in have if r not in want]
    for reason in missing:
        yield f"{where}: a reason the records give is missing from report.json: {_short(reason)}"
    for reason in extra:
        yield f"{where}: report.json gives a reason its records do not: {_short(reason)}"
    if not missing and not extra and have != want:
        yield f"{where}: report.json lists its reasons in another order than its records give"


def _fields(where: str, claimed: JsonObject, derived: JsonObject) -> Iterator[str]:
    """Each key whose value differs (lists of reasons compared item by item)."""
    for key in dict.fromkeys([*derived, *claimed]):
        have, want = claimed.get(key), derived.get(key)
        if have == want:
            continue
        if key not in claimed:
            yield f"{where}: report.json lacks `{key}` (the records give {_short(want)})"
        elif key not in derived:
            yield f"{where}: report.json has `{key}` the records do not give ({_short(have)})"
        elif key == "reasons" and isinstance(have, list) and isinstance(want, list):
            yield from _list_diff(where, have, want)
        else:
            yield (
                f"{where}: {key} is {_short(have)} in report.json but {_short(want)} from its "
                "records"
            )


def _tests(cell_id: str, claimed: JsonValue, derived: JsonValue) -> Iterator[str]:
    have, twice = _keyed(claimed, "test_id", f"cell {cell_id}: test")
    want, _ = _keyed(derived, "test_id", "test")
    yield from twice
    for test_id, entry in want.items():
        if test_id not in have:
            yield (
                f"cell {cell_id}: report.json lacks test {test_id} (status {entry.get('status')} "
                "in results.sqlite): a record was dropped"
            )
    for test_id in have:
        if test_id not in want:
            yield (
                f"cell {cell_id}: report.json has test {test_id}, which results.sqlite lacks "
                "(a record deleted from the store, or a test added to the report)"
            )
    for test_id, entry in want.items():
        if test_id in have:
            yield from _fields(f"cell {cell_id} test {test_id}", have[test_id], entry)
    if list(have) == list(want) or set(have) != set(want):
        return
    yield f"cell {cell_id}: report.json lists its tests in another order than results.sqlite"


def _suites(cell_id: str, claimed: JsonValue, derived: JsonValue) -> Iterator[str]:
    have, twice = _keyed(claimed, "criterion", f"cell {cell_id}: criterion")
    want, _ = _keyed(derived, "criterion", "criterion")
    yield from twice
    for name, entry in want.items():
        where = f"cell {cell_id} criterion {name}"
        if name not in have:
            yield f"{where}: missing from report.json (the records give {entry.get('verdict')})"
        else:
            yield from _fields(where, have[name], entry)
    for name in have:
        if name not in want:
            yield f"cell {cell_id}: report.json has criterion {name}, which its records do not give"


def _cell(cell_id: str, claimed: JsonObject, derived: JsonObject) -> Iterator[str]:
    where = f"cell {cell_id}"
    if claimed.get("tier") != derived.get("tier"):
        yield (
            f"{where}: tier is {_short(claimed.get('tier'))} in report.json but plan.json (and "
            f"the matrix) give {_short(derived.get('tier'))}"
        )
    # the records first: a dropped or edited record is the cause of everything else
    yield from _tests(cell_id, claimed.get("tests", []), derived.get("tests", []))
    if claimed.get("verdict") != derived.get("verdict"):
        yield (
            f"{where}: verdict is {_short(claimed.get('verdict'))} in report.json but its "
            f"records give {_short(derived.get('verdict'))}"
        )
    for key in dict.fromkeys([*derived, *claimed]):
        if key in ("tier", "verdict", "tests") or claimed.get(key) == derived.get(key):
            continue
        if key == "suites":
            yield from _suites(cell_id, claimed.get("suites", []), derived.get("suites", []))
        else:
            yield from _fields(where, _only(claimed, key), _only(derived, key))


def _only(entry: JsonObject, key: str) -> JsonObject:
    return {key: entry[key]} if key in entry else {}


def _gate(claimed: JsonObject, derived: JsonObject) -> Iterator[str]:
    if claimed.get("verdict") != derived.get("verdict"):
        yield (
            f"report.json's gate says {_short(claimed.get('verdict'))} but its records give "
            f"{_short(derived.get('verdict'))}"
        )
    if claimed.get("reasons") != derived.get("reasons"):
        yield from _list_diff("gate", claimed.get("reasons", []), derived.get("reasons", []))


def differences(claimed: JsonObject, derived: JsonObject) -> list[str]:
    """Every way report.json (`claimed`) differs from the report its records give (`derived`).

    Cells are compared by id; a cell only one side holds is left to the plan checks
    (certify.report.consistency), which say which file lacks it.
    """
    problems: list[str] = []
    have = {text(obj(c, "cell")["id"], "id"): obj(c, "cell") for c in array(claimed["cells"], "")}
    for cell in objs(derived["cells"], "cells"):
        cell_id = text(cell["id"], "id")
        if cell_id in have:
            problems.extend(_cell(cell_id, have[cell_id], cell))
    order = [text(c["id"], "id") for c in objs(derived["cells"], "cells")]
    if list(have) != order and set(have) == set(order):
        problems.append("report.json lists its cells in another order than plan.json")
    problems.extend(_gate(obj(claimed["gate"], "gate"), obj(derived["gate"], "gate")))
    for key in dict.fromkeys([*derived, *claimed]):
        if key in (*_SKIPPED, "cells", "gate") or claimed.get(key) == derived.get(key):
            continue
        problems.append(
            f"report.json `{key}` is not what its records give: {_short(claimed.get(key))} "
            f"instead of {_short(derived.get(key))}"
        )
    return problems
