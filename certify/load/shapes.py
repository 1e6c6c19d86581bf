"""Load shapes as pure schedules: how many users at each second of a bounded run.

The locustfiles' LoadTestShape classes (load/_shared.py) call `target` from their `tick()`;
keeping the schedule here lets it be tested without importing locust.
"""

from __future__ import annotations

import math
from pathlib import Path

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


HOLD_VAR = "CERTIFY_LOAD_HOLD_FILE"


def hold_over(path: str, now: float) -> bool:
    """Whether a held run may end: its hold file names an epoch second that has passed.

    Under a fault (load under chaos) nobody knows in advance how long the fault and the recovery
    take. The run keeps its last stage past the shape's duration until the runner writes, into
    the hold file, when the after-fault window ends.
    """
    try:
        until = float(Path(path).read_text(encoding="utf-8").strip() or "inf")
    except (OSError, ValueError):
        return False
    return until <= now


def held_target(
    shape: str, elapsed: float, users: int, seconds: float, hold_file: str | None, now: float
) -> tuple[int, float] | None:
    """`target`, except that with a hold file the last stage lasts until the file says so."""
    scheduled = target(shape, elapsed, users, seconds)
    if scheduled is not None or not hold_file:
        return scheduled
    if hold_over(hold_file, now) or elapsed >= MAX_SECONDS:
        return None
    _, seconds = bounded(users, seconds)
    return target(shape, seconds - 1e-6, users, seconds)


def schedule(shape: str, users: int, seconds: float, step_s: float = 1.0) -> list[int]:
    """The user count at every `step_s` of a run: the tick() sequence, for tests and docs."""
    out: list[int] = []
    elapsed = 0.0
    while (now := target(shape, elapsed, users, seconds)) is not None:
        out.append(now[0])
        elapsed += step_s
    return out
