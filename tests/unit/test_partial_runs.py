"""Chaos-only and load-only runs: the plan reduced to one kind, the policy asking for only it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from certify.config.policy import load_policy
from certify.errors import UsageError
from certify.matrix.model import load_matrix
from certify.plan import Plan, build_plan
from certify.run.partial import only, policy_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build_plan(load_matrix(ROOT / "matrices" / "platform.yaml"), "nightly-chaos")


def test_a_chaos_run_keeps_only_experiments(plan: Plan) -> None:
    reduced = only(plan, "chaos")
    assert reduced.cells and all(not p.suites and not p.load for p in reduced.cells)
    assert {n for p in reduced.cells for n in p.chaos} >= {"executor-loss", "object-store-outage"}
    one = only(plan, "chaos", "worker-loss")
    assert {p.chaos for p in one.cells} == {("worker-loss",)}


def test_a_load_run_keeps_only_load_profiles(plan: Plan) -> None:
    reduced = only(plan, "load", "object-store")
    assert [p.load for p in reduced.cells] == [("object-store",)] * len(reduced.cells)
    assert all(not p.suites and not p.chaos for p in reduced.cells)


def test_nothing_to_run_names_what_the_profile_plans(plan: Plan) -> None:
    with pytest.raises(UsageError, match=r"plans no experiment 'nope' on any cell \(its chaos: "):
        only(plan, "chaos", "nope")
    smoke = build_plan(load_matrix(ROOT / "matrices" / "platform.yaml"), "smoke")
    with pytest.raises(UsageError, match=r"plans no `load:` entries on any cell .*none"):
        only(smoke, "load")


def test_the_policy_asks_each_tier_for_that_kind_only(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "reports" / "policy.yaml").read_text())
    data["tiers"]["certified"].update(suites=["smoke"], chaos=["executor-loss"], load=["x"])
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    policy = load_policy(path)
    need = policy_for(policy, "chaos").tiers["certified"]
    assert (need.suites, need.chaos, need.load) == ([], ["executor-loss"], [])
    need = policy_for(policy, "load").tiers["certified"]
    assert (need.suites, need.chaos, need.load) == ([], [], ["x"])
    assert policy.tiers["certified"].suites == ["smoke"]  # the original is untouched
