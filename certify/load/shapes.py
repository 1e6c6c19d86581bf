"""Load shapes as pure schedules: how many users at each second of a bounded run.

The locustfiles' LoadTestShape classes (load/_shared.py) call `target` from their `tick()`;
keeping the schedule here lets it be tested without importing locust.
"""

from __future__ import annotations

import math

SHAPES: tuple[str, ...] = ("ramp", "step", "spike", "soak")
MAX_USERS = 50  # a generator on this machine's cores; more would measure the generator
MAX_SECONDS = 3600.0


def check_shape(shape: str) -> str:
    """`shape` if it is a known shape, else ValueError naming the valid ones."""
    if shape not in SHAPES:
        raise ValueError(
            f"unknown load shape {shape!r} (valid: {', '.join(SHAPES)}); set CERTIFY_LOAD_SHAPE "
            "or the profile's `shape:` to one of them"
        )
    return shape


def bounded(users: int, seconds: float) -> tuple[int, float]:
    """Users and duration clamped to what a run may use (at least one user for one second)."""
    return max(1, min(int(users), MAX_USERS)), max(1.0, min(float(seconds), MAX_SECONDS))


def target(shape: str, elapsed: float, users: int, seconds: float) -> tuple[int, float] | None:
    """(user count, spawn rate per second) at `elapsed` seconds, or None once the run is over.

    - ramp: from 1 user up to `users` over the first half, then hold;
    - step: `users` in four equal steps, each held a quarter of the run;
    - spike: a quarter of `users`, all of them in the middle fifth, then a quarter again;
    - soak: every user for the whole run.
    """
    check_shape(shape)
    users, seconds = bounded(users, seconds)
    if elapsed >= seconds:
        return None
    fraction = elapsed / seconds
    base = max(1, users // 4)
    if shape == "ramp":
        count = 1 + math.floor((users - 1) * min(1.0, fraction * 2))
    elif shape == "step":
        count = max(1, math.ceil(users * (math.floor(fraction * 4) + 1) / 4))
    elif shape == "spike":
        count = users if 0.4 <= fraction < 0.6 else base
    else:
        count = users
    # spawn fast enough to reach the count within a second (spikes must be sharp)
    return count, float(max(1, users))


def schedule(shape: str, users: int, seconds: float, step_s: float = 1.0) -> list[int]:
    """The user count at every `step_s` of a run: the tick() sequence, for tests and docs."""
    out: list[int] = []
    elapsed = 0.0
    while (now := target(shape, elapsed, users, seconds)) is not None:
        out.append(now[0])
        elapsed += step_s
    return out
