"""Point-in-time suite: as-of joins give the latest value at or before each event time.

Semantics (ties, nulls, gaps) are documented in `fixtures/pit.py` and checked against its
pure-Python oracle; a failure names the first differing events.
"""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.pit import first_differences, generate, oracle, spark_asof

pytestmark = pytest.mark.pit


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_asof_join_matches_the_oracle(spark: Any, seed: int) -> None:
    """Every event gets exactly the oracle's value."""
    events, features = generate(seed)
    expected = oracle(events, features)
    actual = spark_asof(spark, events, features)
    diffs = first_differences(expected, actual)
    assert not diffs, "as-of join differs from the oracle:\n" + "\n".join(diffs)


def test_ties_nulls_and_gaps_follow_the_documented_rules(spark: Any) -> None:
    """Hand-made edge cases: a tie goes to the later write, a null never hides a value."""
    events = [(0, 1, 10), (1, 1, 5), (2, 2, 10), (3, None, 10), (4, 3, 10)]
    features = [
        (1, 5, 0, 1.0),  # at 5
        (1, 10, 1, 2.0),  # tie at 10 ...
        (1, 10, 2, 3.0),  # ... written later: wins
        (1, 11, 3, 9.0),  # after the event: never used
        (2, 4, 0, 4.0),
        (2, 8, 1, None),  # a null at 8 does not hide the 4.0 at 4
    ]
    expected = {0: 3.0, 1: 1.0, 2: 4.0, 3: None, 4: None}
    assert oracle(events, features) == expected
    assert spark_asof(spark, events, features) == expected
