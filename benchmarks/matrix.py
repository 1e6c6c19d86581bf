"""Covering-array benchmark: our reduction against the issue's targets, PICT and covertable.

Run as `python benchmarks/matrix.py`. Prints one labelled figure per line.
"""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from certify.matrix.constraints import Predicate, compile_selector, exclude_rule, require_rule
from certify.matrix.coverage import Coverage, check_coverage
from certify.matrix.covering import covering_array
from certify.matrix.space import Space

T = TypeVar("T")

TARGET = {2: 17, 3: 65}  # hard requirements of the issue
PICT = {2: 18, 3: 65}  # PICT's published figures for the reference model
TIME_TARGET_S = 1.0
COVERTABLE_SA_MS = 2000  # covertable's simulated-annealing post-pass budget (wall clock)

REFERENCE: dict[str, tuple[str, ...]] = {
    "spark": ("3.3", "3.4", "4.0", "4.1"),
    "scala": ("2.12", "2.13"),
    "java": ("11", "17", "21"),
    "catalog": ("hive", "glue", "unity", "nessie"),
    "storage": ("s3", "hdfs", "gcs"),
    "gpu": ("on", "off"),
    "deploy": ("client", "cluster"),
    "k8s": ("1.29", "1.30", "1.31"),
}


def reference_space() -> Space:
    """4x2x3x4x3x2x2x3 with: spark 4.* requires scala 2.13, spark 4.* requires java != 11."""
    names, values = tuple(REFERENCE), tuple(REFERENCE.values())
    spark4 = compile_selector({"spark": ["4.*"]}, names, values)
    rules = (
        require_rule(compile_selector({"scala": ["2.13"]}, names, values), when=spark4),
        require_rule(compile_selector({"java": ["!11"]}, names, values), when=spark4),
    )
    return Space(names, values, rules)


def twenty_dim_space() -> Space:
    """20 dims of 2-5 values (6.0e9 cells) with 3 exclude and 3 require rules, as config would."""
    sizes = [4, 3, 5, 2, 3, 4, 2, 5, 3, 2, 4, 3, 2, 5, 3, 4, 2, 3, 2, 4]
    names = tuple(f"d{i:02d}" for i in range(len(sizes)))
    values = tuple(tuple(f"v{j}" for j in range(n)) for n in sizes)

    def sel(spec: dict[str, list[str]]) -> Any:
        return compile_selector(spec, names, values)

    rules: tuple[Predicate, ...] = (
        exclude_rule(sel({"d00": ["v0"], "d01": ["v1"]})),
        exclude_rule(sel({"d02": ["v3", "v4"], "d05": ["v0"], "d07": ["!v2"]})),
        exclude_rule(sel({"d13": ["v4"], "d15": ["v3"]})),
        require_rule(sel({"d03": ["v1"]}), when=sel({"d00": ["v3"]})),
        require_rule(sel({"d08": ["v0", "v1"]}), when=sel({"d10": ["v2", "v3"]})),
        require_rule(sel({"d19": ["!v0"]}), when=sel({"d01": ["v2"], "d06": ["v1"]})),
    )
    return Space(names, values, rules)


def describe(cov: Coverage) -> str:
    return (
        f"{cov.covered}/{cov.required} tuples ({cov.ratio:.1%}), "
        f"{len(cov.invalid_rows)} invalid rows, complete={cov.complete}"
    )


def ours(space: Space) -> None:
    for t in (2, 3):
        rows, took = timed(covering_array, space, t)
        cov = check_coverage(space, rows, t)
        print(f"ours t={t} rows: {len(rows)}")
        print(f"ours t={t} coverage: {describe(cov)}")
        print(f"ours t={t} time: {took:.3f} s")
        print(f"ours t={t} vs target {TARGET[t]}: {len(rows) / TARGET[t]:.2f}x")
        print(f"ours t={t} vs PICT {PICT[t]}: {len(rows) / PICT[t]:.2f}x")


def _covertable_constraints() -> dict[str, Any]:
    """Our two rules in covertable's terms: declarative (3.x) or a pre_filter (older)."""
    from covertable import make

    if "constraints" in inspect.signature(make).parameters:
        spark3 = {"operator": "in", "left": "spark", "values": ["3.3", "3.4"]}
        return {
            "constraints": [
                {
                    "operator": "or",
                    "conditions": [spark3, {"operator": "eq", "left": "scala", "value": "2.13"}],
                },
                {
                    "operator": "or",
                    "conditions": [spark3, {"operator": "ne", "left": "java", "value": "11"}],
                },
            ]
        }

    def pre_filter(row: dict[str, str]) -> bool:
        if not row.get("spark", "").startswith("4."):
            return True
        return row.get("scala", "2.13") == "2.13" and row.get("java", "17") != "11"

    return {"pre_filter": pre_filter}


def _encode(space: Space, rows: Sequence[dict[str, str]]) -> list[list[int]]:
    return [[space.values[d].index(row[n]) for d, n in enumerate(space.names)] for row in rows]


def covertable_figures(space: Space) -> None:
    """covertable: its defaults, then the best of a tolerance/salt sweep plus its SA pass."""
    try:
        import covertable
        from covertable import make
    except ImportError:
        print("covertable: not importable, skipped")
        return
    version = getattr(covertable, "__version__", None) or _dist_version("covertable")
    print(f"covertable version: {version}")
    factors = {n: list(v) for n, v in zip(space.names, space.values, strict=True)}
    extra = _covertable_constraints()
    print(f"covertable constraints via: {next(iter(extra))}")
    for t in (2, 3):
        rows, took = timed(make, factors, strength=t, **extra)
        _print_covertable(space, f"covertable t={t} default", rows, t, took)
        best: tuple[int, int, str] | None = None
        for tolerance in range(4):
            for salt in ("", "a", "b", "c"):
                n = len(make(factors, strength=t, tolerance=tolerance, salt=salt, **extra))
                if best is None or n < best[0]:
                    best = (n, tolerance, salt)
        assert best is not None
        _, tolerance, salt = best
        label = f"covertable t={t} best sweep (tolerance={tolerance}, salt={salt!r})"
        rows, took = timed(make, factors, strength=t, tolerance=tolerance, salt=salt, **extra)
        _print_covertable(space, label, rows, t, took)
        optimised, took = timed(_covertable_optimise, factors, t, tolerance, salt, extra)
        if optimised is not None:
            label = f"covertable t={t} best + optimize({COVERTABLE_SA_MS} ms)"
            _print_covertable(space, label, optimised, t, took)


def _covertable_optimise(
    factors: dict[str, list[str]], t: int, tolerance: int, salt: str, extra: dict[str, Any]
) -> list[dict[str, str]] | None:
    try:
        from covertable.main import Controller
    except ImportError:
        return None
    if not hasattr(Controller, "optimize"):
        return None
    ctrl = Controller(factors, strength=t, tolerance=tolerance, salt=salt, **extra)
    rows: list[dict[str, str]] = ctrl.optimize(ctrl.make(), {"budget_ms": COVERTABLE_SA_MS})
    return rows


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def _print_covertable(
    space: Space, label: str, rows: Sequence[dict[str, str]], t: int, took: float
) -> None:
    cov = check_coverage(space, _encode(space, rows), t)
    print(f"{label} rows: {len(rows)}")
    print(f"{label} coverage: {describe(cov)}")
    print(f"{label} time: {took:.3f} s")


def timed(job: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    start = time.perf_counter()
    result = job(*args, **kwargs)
    return result, time.perf_counter() - start


def median_seconds(job: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def twenty_dims() -> None:
    # A fresh Space per run: the memo inside Space must not carry over between runs.
    took = median_seconds(lambda: covering_array(twenty_dim_space(), 2))
    space = twenty_dim_space()
    rows = covering_array(space, 2)
    print(f"20-dim model cells (unconstrained): {space.total}")
    print(f"20-dim t=2 rows: {len(rows)}")
    print(f"20-dim t=2 coverage: {describe(check_coverage(space, rows, 2))}")
    print(f"20-dim expand+reduce t=2 time (median of 5): {took:.3f} s")
    print(f"20-dim time vs {TIME_TARGET_S:.0f} s target: {took / TIME_TARGET_S:.2f}x")


def main() -> None:
    space = reference_space()
    print(f"reference model cells (unconstrained): {space.total}")
    ours(space)
    covertable_figures(reference_space())
    twenty_dims()
    full = covering_array(reference_space(), len(space.names))
    print(f"reference full expansion (valid cells): {len(full)} (expected 2304)")


if __name__ == "__main__":
    main()
