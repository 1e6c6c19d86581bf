"""The policy's chaos criteria and SLO windows: parsed, validated with located errors, shipped."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from certify.config.policy import ChaosCriterion, Policy, load_policy, parse_policy
from certify.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
LOAD_PROFILES = ("spark-connect-sql", "catalog-metadata", "online-lookup", "object-store")

BAD = """\
schema: certify.policy/1
chaos:
  - {name: nothing, experiment: "*"}
  - {name: Bad Name, max_recovery_s: 0}
  - {name: typo, zero_data_los: true}
slo:
  - {name: p95, metric: p95_ms, max: 200, window: later}
waivers:
  - {cells: "*", criterion: "chaos-criterion:x", reason: r, owner: o, expires: 2030-01-01}
"""


def test_chaos_criteria_errors_are_located_and_say_what_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(BAD, encoding="utf-8")
    policy, _, issues = parse_policy(path)
    assert policy is None
    lines = [i.format().removeprefix(f"{path}:") for i in ConfigError(issues).issues]
    assert lines == [
        "3: chaos[0]: the criterion checks nothing (valid: max_recovery_s: SECONDS, "
        "zero_data_loss: true and/or require_fault_confirmed: true)",
        "4: chaos[1].max_recovery_s: Input should be greater than 0",
        "4: chaos[1].name: 'Bad Name' is not allowed here (valid: text matching "
        "^[a-z][a-z0-9_-]*$)",
        "5: chaos[2].zero_data_los: unknown key (valid: name, experiment, max_recovery_s, "
        "zero_data_loss, require_fault_confirmed, blocking, description)",
        "7: slo[0].window: unknown value 'later' (valid: 'run', 'before', 'during' or 'after')",
        "9: waivers[0].criterion: unknown criterion 'chaos-criterion:x' (valid: suite:NAME, "
        "chaos:NAME, chaos-criteria:NAME, load:NAME, slo:NAME (globs allowed), flaky, "
        "evidence-age or *)",
    ]


def test_chaos_criteria_are_blocking_unless_said_and_match_experiments_by_glob() -> None:
    criterion = ChaosCriterion(name="r", experiment="metastore-*", max_recovery_s=60)
    assert criterion.blocking
    assert criterion.matches("metastore-outage") and not criterion.matches("executor-loss")


def test_the_project_policy_gates_chaos_and_bounds_each_load_profile_it_names() -> None:
    policy = load_policy(ROOT / "reports" / "policy.yaml")
    [chaos] = policy.chaos
    assert (chaos.experiment, chaos.max_recovery_s, chaos.blocking) == ("*", 120, True)
    assert chaos.zero_data_loss and chaos.require_fault_confirmed
    latency = [s for s in policy.slo if s.metric.endswith("_ms")]
    # a latency SLO names real load profiles: the p95 of a Spark Connect query is not an S3 PUT's
    for slo in latency:
        assert slo.load != "*", slo.name
        assert any(fnmatch.fnmatchcase(p, slo.load) for p in LOAD_PROFILES), slo.name
        assert slo.window == "run", slo.name  # a fault window's latency is judged on its own
    bounded = {p for s in latency for p in LOAD_PROFILES if fnmatch.fnmatchcase(p, s.load)}
    assert bounded == set(LOAD_PROFILES)
    assert not any(s.metric == "recovery_s" for s in policy.slo)  # the chaos criteria do that
    assert Policy.from_json(policy.to_json()) == policy


def test_a_policy_without_chaos_criteria_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("schema: certify.policy/1\n", encoding="utf-8")
    assert load_policy(path).chaos == []
    legacy = Policy().to_json()
    legacy.pop("chaos")
    assert Policy.from_json(legacy).chaos == []
