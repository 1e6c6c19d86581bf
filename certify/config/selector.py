"""The one selector language: globs over dimension values, with `!` negation.

Scenarios (`@pytest.mark.requires`), chaos experiments (`certify.requires`), load profiles
(`REQUIRES`), profile `select`/`cells` entries and matrix constraints all match a cell through
these two functions, so one selector means the same thing in every file.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence


def glob_matches(value: str, globs: Sequence[str]) -> bool:
    """True if `value` matches a positive glob (or none is given) and no `!`-negated glob."""
    positive = [g for g in globs if not g.startswith("!")]
    negative = [g[1:] for g in globs if g.startswith("!")]
    if positive and not any(fnmatch.fnmatchcase(value, g) for g in positive):
        return False
    return not any(fnmatch.fnmatchcase(value, g) for g in negative)


def unmet(
    requires: Mapping[str, str | Sequence[str]], values: Mapping[str, str]
) -> list[tuple[str, tuple[str, ...], str | None]]:
    """The (dimension, globs, the cell's value) of every requirement `values` does not meet.

    A dimension the cell lacks never meets a requirement, not even a purely negative one.
    """
    misses = []
    for dim, globs in requires.items():
        wanted = (globs,) if isinstance(globs, str) else tuple(globs)
        have = values.get(dim)
        if have is None or not glob_matches(have, wanted):
            misses.append((dim, wanted, have))
    return misses
