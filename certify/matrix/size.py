"""How big a plan would be, known before it is built: refuse what cannot be planned in time.

A full expansion costs its cells (and the coverage check the product of the dimension sizes); a
t-wise array costs the t-tuples it must cover. Both are counted from the dimension sizes first,
and cells are counted (bounded) only when the product alone is too large, so a matrix that
would take hours or all the memory is refused in well under a second with the way to reduce it.
"""

from __future__ import annotations

from certify.matrix.space import Space

MAX_CELLS = 10_000  # cells of one tier's full expansion
MAX_TUPLES = 100_000  # t-tuples one tier's covering array must cover
COUNT_BUDGET = 2_000_000  # rule checks spent counting the valid cells of a large product
REDUCE = (
    "a covering array instead of the full expansion (`reduction: t=2` in the profile, or "
    "--strategy t=2), a narrower `select:`, or `constraints:` that exclude cells"
)
LOWER_T = "a lower t (`reduction: t=2` or --strategy t=2), or fewer values per dimension"


def tuple_count(sizes: tuple[int, ...], t: int) -> int:
    """How many t-tuples of values the dimensions have: the t-th elementary symmetric sum."""
    sums = [1] + [0] * t  # sums[k]: the k-tuples over the dimensions seen so far
    for size in sizes:
        for k in range(t, 0, -1):
            sums[k] += sums[k - 1] * size
    return sums[t]


def strength(strategy: str, dimensions: int) -> int:
    """The t of a valid strategy: `full` is t = the number of dimensions."""
    return dimensions if strategy == "full" else int(strategy.removeprefix("t="))


def _sizes(space: Space) -> str:
    return " x ".join(str(n) for n in space.sizes)


def size_problem(space: Space, t: int) -> tuple[str, str] | None:
    """What makes planning `space` at strength `t` too large, and how to reduce it (or None)."""
    if t >= len(space.names):
        total = space.total
        if total <= MAX_CELLS:
            return None
        counted = space.count_valid(MAX_CELLS, COUNT_BUDGET)
        if counted is not None and counted <= MAX_CELLS:
            return None
        found = (
            f"more than {MAX_CELLS} valid cells"
            if counted is not None
            else f"up to {total} cells, too many to count"
        )
        return (
            f"the full expansion has {found} (of {total} = {_sizes(space)} combinations); "
            f"certify plans at most {MAX_CELLS} cells per tier",
            REDUCE,
        )
    tuples = tuple_count(space.sizes, t)
    if tuples <= MAX_TUPLES:
        return None
    return (
        f"t={t} must cover {tuples} value tuples over {len(space.names)} dimensions "
        f"({_sizes(space)} values); certify covers at most {MAX_TUPLES} per tier",
        LOWER_T,
    )
