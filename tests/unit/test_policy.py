"""reports/policy.yaml: parsed into the typed Policy, every error located like the matrices'."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from certify.config.policy import (
    Policy,
    Waiver,
    is_policy_file,
    load_policy,
    parse_policy,
    policy_digest,
    resolve_policy,
)
from certify.errors import ConfigError
from certify.matrix.model import validate_files

ROOT = Path(__file__).resolve().parents[2]

BAD = """\
schema: certify.policy/1
blocking_tiers: [certified, gold]
pass_verdicts: [certified, failed]
tiers:
  certified: {suites: smoke, colour: red}
slo:
  - {name: p95, metric: p96_ms, max: 200}
  - {name: nobound, metric: p95_ms}
waivers:
  - cells: "spark=4.1,*"
    criterion: "suit:smoke"
    reason: flaky
    owner: me
    expires: 2025-13-01
  - cells: "anything"
    criterion: "suite:smoke"
    reason: ""
    expires: 2025-01-01
"""


def test_the_project_policy_is_valid() -> None:
    policy = load_policy(ROOT / "reports" / "policy.yaml")
    assert policy.blocking_tiers == ["certified"]
    assert "smoke" in policy.requirement("certified").suites
    assert policy.source.endswith("reports/policy.yaml")
    assert is_policy_file(ROOT / "reports" / "policy.yaml")
    assert not is_policy_file(ROOT / "matrices" / "platform.yaml")


def test_every_error_is_reported_with_file_line_and_valid_choices(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(BAD, encoding="utf-8")
    policy, _, issues = parse_policy(path)
    assert policy is None
    lines = [i.format().removeprefix(f"{path}:") for i in ConfigError(issues).issues]
    assert lines == [
        "2: blocking_tiers[1]: unknown value 'gold' "
        "(valid: 'certified', 'documented' or 'experimental')",
        "3: pass_verdicts[1]: unknown value 'failed' (valid: 'certified', 'waived' or 'degraded')",
        "5: tiers.certified.colour: unknown key (valid: suites, chaos, load, optional)",
        "5: tiers.certified.suites: got str 'smoke' (valid: a list)",
        "7: slo[0].metric: unknown value 'p96_ms' (valid: 'p50_ms', 'p95_ms', 'p99_ms', "
        "'error_rate', 'throughput_rps', 'rps', 'recovery_s', 'throughput_recovery_s' or "
        "'availability')",
        "8: slo[1]: give `max:` or `min:` (or both) (valid: max: NUMBER and/or min: NUMBER)",
        "11: waivers[0].criterion: unknown criterion 'suit:smoke' (valid: suite:NAME, chaos:NAME, "
        "chaos-criteria:NAME, load:NAME, slo:NAME (globs allowed), flaky, evidence-age or *)",
        "14: waivers[0].expires: Input should be a valid date or datetime, month value is "
        "outside expected range of 1-12",
        "15: waivers[1].cells: cell pattern 'anything' names no dimension (valid: a glob over "
        "cell ids such as 'spark=4.1,*' or '*catalog=glue*', or '*')",
        "15: waivers[1].owner: missing required key (valid: add `owner:`)",
        "17: waivers[1].reason: must not be empty (valid: a non-empty text)",
    ]


def test_validate_files_checks_a_policy_by_its_schema_key(tmp_path: Path) -> None:
    path = tmp_path / "anything.yaml"
    path.write_text(BAD, encoding="utf-8")
    assert len(validate_files([path])) == 11
    assert validate_files([ROOT / "reports" / "policy.yaml"]) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema: certify.policy/2\n", "schema: unsupported schema 'certify.policy/2'"),
        ("blocking_tiers: [certified]\n", "schema: missing required key"),
        ("- a\n", "top level is not a mapping"),
        ("schema: certify.policy/1\npass_verdicts: [waived]\n", "`certified` must pass the gate"),
    ],
)
def test_documents_that_are_not_policies(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_policy(path)
    assert message in str(err.value)


def test_a_missing_policy_file_is_an_error_but_no_file_means_the_built_in_one(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="no such policy file"):
        resolve_policy(tmp_path, tmp_path / "nope.yaml")
    assert resolve_policy(tmp_path, None) == Policy()


def test_waivers_match_cells_and_criteria_by_glob_and_expire_after_their_date() -> None:
    waiver = Waiver(
        cells="spark=4.1,*", criterion="suite:*", reason="r", owner="o", expires=date(2030, 1, 31)
    )
    assert waiver.covers("spark=4.1,catalog=hive", "suite:smoke")
    assert not waiver.covers("spark=3.5,catalog=hive", "suite:smoke")
    assert not waiver.covers("spark=4.1,catalog=hive", "chaos:kill")
    assert waiver.active(date(2030, 1, 31)) and not waiver.active(date(2030, 2, 1))


def test_the_policy_round_trips_through_report_json() -> None:
    policy = load_policy(ROOT / "reports" / "policy.yaml")
    assert Policy.from_json(policy.to_json()) == policy


NOT_FINITE = """\
schema: certify.policy/1
slo:
  - {name: a, metric: p95_ms, max: nan}
  - {name: b, metric: p95_ms, max: .inf}
  - {name: c, metric: p95_ms, min: -inf}
  - {name: d, metric: p95_ms, min: 10, max: 5}
chaos:
  - {name: e, max_recovery_s: .nan}
max_evidence_age_days: {default: inf, release: 0}
"""


def test_thresholds_that_no_measurement_can_miss_or_meet_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(NOT_FINITE, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_policy(path)
    assert err.value.exit_code == 2
    finite = "(valid: a finite number, e.g. 200 or 0.5)"
    assert [i.format().removeprefix(f"{path}:") for i in err.value.issues] == [
        f"3: slo[0].max: nan is not a finite number {finite}",
        f"4: slo[1].max: .inf is not a finite number {finite}",
        f"5: slo[2].min: -inf is not a finite number {finite}",
        "6: slo[3]: min: 10 is above max: 5, so no measurement can meet both "
        "(valid: min <= max (or only one of them))",
        f"8: chaos[0].max_recovery_s: .nan is not a finite number {finite}",
        f"9: max_evidence_age_days.default: inf is not a finite number {finite}",
        "9: max_evidence_age_days.release: 0 days allows no evidence at all "
        "(valid: a number of days above 0)",
    ]


def test_the_maximum_evidence_age_is_a_number_or_one_per_profile(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "schema: certify.policy/1\nmax_evidence_age_days: {default: 30, release: 7}\n", "utf-8"
    )
    policy = load_policy(path)
    assert policy.max_evidence_age_days == 30  # what every cell's evidence-age criterion reads
    assert (policy.evidence_age_days("release"), policy.evidence_age_days("nightly")) == (7, 30)
    assert policy.to_json()["max_evidence_age_days"] == {"default": 30, "release": 7}
    assert Policy.from_json(policy.to_json()) == policy
    only = Policy.model_validate({"max_evidence_age_days": {"release": 7}})
    assert (only.evidence_age_days("release"), only.evidence_age_days("pr")) == (7, None)
    assert Policy(max_evidence_age_days=3).evidence_age_days("release") == 3
    project = load_policy(ROOT / "reports" / "policy.yaml")
    assert project.evidence_age_days("release") < project.evidence_age_days("smoke")  # type: ignore[operator]


def test_a_policy_digest_covers_what_it_demands_not_where_it_was_read_from() -> None:
    policy = load_policy(ROOT / "reports" / "policy.yaml")
    moved = policy.model_copy(update={"source": "elsewhere/policy.yaml"})
    assert moved.digest() == policy.digest() == policy_digest(policy.to_json())
    assert len(policy.digest()) == 64
    wider = policy.model_copy(update={"blocking_tiers": []})
    assert wider.digest() != policy.digest()
    assert Policy().digest() != policy.digest()
