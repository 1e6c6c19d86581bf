"""SLO thresholds of a load profile and their verdicts, with locust's rounding taken into account.

Locust rounds each response time before it keeps it (`locust.stats` round_response_time, about
two significant digits): below 100 ms to the millisecond, then to 10 ms, 100 ms and 1 s. Rounding
is monotonic, so a reported percentile is the rounded value of the true percentile, and the true
value lies within `rounding_bound(reported)` of it. A `max` latency SLO is met when the true
value may be within bounds: reported - bound <= threshold. Error rate and throughput are counts,
never rounded.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

from certify.results.findings import SloResult

SLO_VAR = "CERTIFY_LOAD_SLO"
# metric -> "max" (the measured value must not exceed the threshold) or "min"
METRICS: dict[str, str] = {
    "p50_ms": "max",
    "p95_ms": "max",
    "p99_ms": "max",
    "error_rate": "max",
    "rps": "min",
}
_LATENCY = ("p50_ms", "p95_ms", "p99_ms")


def locust_round(ms: float) -> int:
    """Locust 2.x's rounding of one response time (its round_response_time)."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return int(round(ms, -1))
    if ms < 10000:
        return int(round(ms, -2))
    return int(round(ms, -3))


def rounding_bound(reported_ms: float) -> float:
    """The largest distance between a reported (rounded) response time and any true value."""
    if reported_ms < 100:
        return 0.5
    if reported_ms < 1000:
        return 5.0
    if reported_ms < 10000:
        return 50.0
    return 500.0


def check_slo(slo: Mapping[str, object], where: str) -> dict[str, float]:
    """A validated {metric: threshold}; ValueError naming `where`, the key and the valid ones."""
    out: dict[str, float] = {}
    for key, value in slo.items():
        if key not in METRICS:
            raise ValueError(f"{where}: unknown SLO metric {key!r} (valid: {', '.join(METRICS)})")
        threshold = _threshold(value)
        if threshold is None:
            raise ValueError(f"{where}: SLO {key} must be a finite number >= 0, got {value!r}")
        out[key] = threshold
    return out


def _threshold(value: object) -> float | None:
    """`value` as a finite threshold >= 0, else None.

    NaN compares false with everything, so a NaN threshold would never be missed; infinity
    (`1e999` in a locustfile) would never be missed either.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        return None
    return number if math.isfinite(number) and number >= 0 else None


def resolve(
    declared: Mapping[str, Mapping[str, object]],
    values: Mapping[str, str],
    override: Mapping[str, object] | None = None,
    where: str = "SLO",
) -> dict[str, float]:
    """The SLO for a cell: `declared["*"]`, then each matching `dim=glob` entry, then `override`.

    `declared` maps a selector (`*`, or `dim=pattern[,dim=pattern]`) to thresholds, so SLOs can
    differ per kind of cell.
    """
    out: dict[str, float] = {}
    for selector, thresholds in declared.items():
        if _matches(selector, values):
            out.update(check_slo(thresholds, f"{where}[{selector!r}]"))
    if override:
        out.update(check_slo(override, f"{where} override ({SLO_VAR})"))
    return out


def _matches(selector: str, values: Mapping[str, str]) -> bool:
    if selector.strip() == "*":
        return True
    for part in selector.split(","):
        dim, _, pattern = part.partition("=")
        if not fnmatch.fnmatchcase(values.get(dim.strip(), ""), pattern.strip()):
            return False
    return True


def override_from_env(environ: Mapping[str, str] | None = None) -> dict[str, float]:
    """Thresholds from CERTIFY_LOAD_SLO: inline JSON (`{"p95_ms": 1}`) or a JSON file's path."""
    text = (os.environ if environ is None else environ).get(SLO_VAR, "").strip()
    if not text:
        return {}
    source = "inline JSON"
    if not text.startswith("{"):
        source = text
        try:
            text = Path(text).read_text()
        except OSError as exc:
            raise ValueError(f"{SLO_VAR}={source}: cannot read the SLO file ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(
            f"{SLO_VAR} ({source}): not JSON ({exc}); give e.g. '{{\"p95_ms\": 200}}'"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(f"{SLO_VAR} ({source}): must be a JSON object of metric -> threshold")
    return check_slo(data, f"{SLO_VAR} ({source})")


def met(metric: str, threshold: float, measured: float) -> bool:
    """Whether `measured` meets the SLO, counting a rounded latency met if it may be in bounds."""
    if METRICS[metric] == "min":
        return measured >= threshold
    if metric in _LATENCY:
        return measured - rounding_bound(measured) <= threshold
    return measured <= threshold


def evaluate(slo: Mapping[str, float], metrics: Mapping[str, float]) -> list[SloResult]:
    """One result per threshold: metric, op, threshold, measured, met, note."""
    return [_judge(metric, threshold, metrics.get(metric)) for metric, threshold in slo.items()]


def _judge(metric: str, threshold: float, measured: float | None) -> SloResult:
    op = METRICS[metric]
    if measured is None:
        return SloResult(metric, op, threshold, None, False, "not measured (fail closed)")
    if metric in _LATENCY:
        bound = rounding_bound(measured)
        note = (
            f"rounding: locust keeps response times to ~2 significant digits, so the true "
            f"value is within +/-{bound:g} ms of {measured:g}; met when {measured:g} - "
            f"{bound:g} <= {threshold:g}"
        )
    else:
        note = "rounding: none (counted exactly from requests and failures)"
    return SloResult(metric, op, threshold, measured, met(metric, threshold, measured), note)
