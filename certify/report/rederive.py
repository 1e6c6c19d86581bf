"""`certify gate`'s decision: re-derived from the raw evidence, never read from the report.

A run folder (or an unpacked bundle) holds report.json, plan.json and results.sqlite. The gate
rebuilds the report from the records, plan.json and the repository's policy and matrix, and
passes only when

- the policy embedded in report.json is the repository's (by digest) and the matrix is the one
  the run recorded (by digest), and plan.json is the plan that matrix gives the profile;
- report.json holds every planned cell once and nothing else, and says exactly what its
  records give (cells, tests, criteria, verdicts, reasons, the gate);
- the store holds this run's records only, each once, of planned cells, and its times are
  sane (nothing in the future, nothing finished before it started) and fresh enough;
- and the rebuilt report's own gate passes today.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from certify.config.policy import Policy, policy_digest
from certify.errors import UnusableReport
from certify.plan import Plan
from certify.report.compare import differences
from certify.report.consistency import (
    evidence_age,
    plan_against_report,
    record_times,
    run_times,
    shard_ids,
    store_against_plan,
)
from certify.report.finalize import assemble
from certify.report.jsondoc import obj
from certify.report.merge import join_records
from certify.report.model import RunInputs
from certify.report.readback import read_report
from certify.report.replan import matrix_problems
from certify.results import Record
from certify.results.findings import JsonObject
from certify.results.store import StoreSnapshot, read_snapshot

_EVIDENCE = ("results.sqlite", "plan.json")


@dataclass(frozen=True)
class Rules:
    """What a run is judged by, all from the repository and none from the artifact."""

    policy: Policy
    root: Path  # the project whose matrices/ hold the run's matrix
    now: datetime
    matrix: Path | None = None  # the matrix file, when not the one under root defining the profile


@dataclass(frozen=True)
class Judgement:
    """The gate's decision: every reason it fails (none when it passes)."""

    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """True when nothing was found."""
        return not self.reasons


def read_plan(path: Path) -> Plan:
    """plan.json as a Plan; UnusableReport (exit 2) when it is not one."""
    try:
        return Plan.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        raise UnusableReport(f"{path}: cannot read the plan: {exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnusableReport(f"{path}: not a certify.plan/1 document ({exc!r})") from None


def judge(report: Path, rules: Rules) -> Judgement:
    """Decide the gate of `report`'s run from its records (see the module doc)."""
    folder = report.parent
    for path in (report, *(folder / name for name in _EVIDENCE)):
        if path.exists() and not path.is_file():  # a FIFO would block its read for ever
            raise UnusableReport(f"{path}: not a regular file")
    doc = read_report(report)
    missing = [name for name in _EVIDENCE if not (folder / name).exists()]
    if missing:
        return Judgement(
            (
                f"{folder}: no {' or '.join(missing)} beside report.json: a report alone is not "
                "evidence, its verdicts cannot be re-derived from records (gate the run folder "
                "or its bundle)",
            )
        )
    plan = read_plan(folder / "plan.json")
    snapshot = read_snapshot(folder / "results.sqlite")
    try:
        return Judgement(tuple(_problems(doc, plan, snapshot, rules)))
    except (KeyError, TypeError, ValueError) as exc:
        raise UnusableReport(f"{report}: cannot be judged: {exc!r}") from None


def is_bundle(path: Path) -> bool:
    """True when `path` is a gzip file (an evidence bundle) rather than a report.json."""
    if path.name.endswith((".tar.gz", ".tgz")):
        return True
    try:
        with path.open("rb") as stream:
            return stream.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def judge_bundle(bundle: Path, rules: Rules, key: str | None = None) -> Judgement:
    """Judge the run inside an evidence bundle, after checking the bundle (and its signature).

    With `key` (a public key file or `env:NAME`), the bundle's attestation must verify with it
    (certify.report.attest); without, only the manifest's checksums are checked. Either way the
    members judged are the very bytes that were checked: nothing is read from the file twice.
    """
    keep = ("report.json", "plan.json", "results.sqlite", "results.sqlite-wal")
    if key is not None:
        from certify.report.attest import verify

        verification = verify(bundle, key, keep=keep)
        problems, members = verification.problems, verification.members
    else:
        from certify.report.bundle import check_bundle

        check = check_bundle(bundle, keep)
        problems, members = check.problems, check.members
    if "report.json" not in members:
        return Judgement((*problems, f"{bundle}: holds no readable report.json: nothing to judge"))
    with tempfile.TemporaryDirectory(prefix="certify-gate-") as tmp:
        for name in keep:
            if name in members:
                (Path(tmp) / name).write_bytes(members[name])
        judged = judge(Path(tmp) / "report.json", rules)
    return Judgement((*problems, *judged.reasons))


def _problems(doc: JsonObject, plan: Plan, snapshot: StoreSnapshot, rules: Rules) -> list[str]:
    policy, now = rules.policy, rules.now
    run = obj(doc["run"], "run")
    runs, problems = shard_ids(run)
    times, finished = run_times(run, now)
    problems += times
    problems += policy_problems(doc, policy)
    problems += matrix_problems(run, plan, rules.root, rules.matrix)
    problems += plan_against_report(plan, doc)
    problems += store_against_plan(snapshot, plan, runs)
    records = _records(snapshot, runs)
    expected: dict[str, list[tuple[str, str]]] = {}
    for run_id in runs:
        for cell_id, pairs in snapshot.expected.get(run_id, {}).items():
            kept = expected.setdefault(cell_id, [])
            kept.extend(p for p in pairs if p not in kept)
    problems += record_times(records, run, now)
    limit = policy.evidence_age_days(plan.profile)
    problems += evidence_age(records, finished, limit, now)
    inputs = RunInputs(run, plan, records, expected)
    # report.json was decided when the run finished: rebuilt then, it must be the same document
    then = assemble(inputs, policy, None, finished or now)
    problems += differences(doc, then.to_json())
    # and the release is decided today, under the limit of the run's own profile
    today = assemble(inputs, policy.model_copy(update={"max_evidence_age_days": limit}), None, now)
    return problems + list(today.gate.reasons)


def _records(snapshot: StoreSnapshot, runs: Sequence[str]) -> list[Record]:
    """The records the report is made of: one run's, or its shards' joined as a merge joins them.

    Where shards disagree on a test, the worse result is kept and says so
    (the one rule of certify.report.merge.join_records).
    """
    if len(runs) == 1:
        return snapshot.of_run(runs[0])
    return join_records([(run_id, snapshot.of_run(run_id)) for run_id in runs])


def policy_problems(doc: JsonObject, policy: Policy) -> list[str]:
    """The policy embedded in report.json is the repository's, compared by digest only."""
    embedded = obj(doc["gate"], "gate").get("policy")
    if not isinstance(embedded, dict) or not embedded:
        return [
            "report.json embeds no policy (gate.policy): there is no telling which rules "
            f"decided it; re-render it under {policy.source} or re-run"
        ]
    found, wanted = policy_digest(embedded), policy.digest()
    if found == wanted:
        return []
    return [
        f"the policy embedded in report.json (sha256 {found[:16]}) is not the repository's "
        f"policy {policy.source} (sha256 {wanted[:16]}): the report was decided under other "
        "rules; re-render it with `certify report RUN_DIR --policy FILE` or re-run"
    ]
