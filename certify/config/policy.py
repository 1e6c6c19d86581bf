"""The release policy (`reports/policy.yaml`): what each tier must prove, SLOs, waivers.

Validated like the matrices: every problem at once, as `file:line: key.path: what (valid: ...)`.
The defaults of `Policy()` are the built-in policy used when a project has no policy file: every
suite, experiment and load profile the profile plans is required, cells of the `certified` tier
block the release.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from certify.config.errors import issues_from
from certify.config.models import TIER_NAMES, Strict, TierName, invalid
from certify.config.source import Source, load_yaml
from certify.errors import ConfigError, Issue
from certify.results.findings import JsonObject, JsonValue

POLICY_SCHEMA = "certify.policy/1"
# A criterion names what a cell must prove: one suite, experiment, load profile, SLO or the
# policy's chaos criteria on one experiment (globs allowed after the colon), flaky results, or
# the age of the evidence.
CRITERION_RE = re.compile(
    r"^((suite|chaos|chaos-criteria|load|slo):[A-Za-z0-9_.*?\[\]!-]+|flaky|evidence-age|\*)$"
)
_CRITERIA = (
    "suite:NAME, chaos:NAME, chaos-criteria:NAME, load:NAME, slo:NAME (globs allowed), flaky, "
    "evidence-age or *"
)
# pass_verdicts can never hold failed, incomplete or not_run: missing or bad evidence (fail closed).
PassVerdict = Literal["certified", "waived", "degraded"]
_BLOCKING: tuple[TierName, ...] = ("certified",)
_PASSING: tuple[PassVerdict, ...] = ("certified", "waived")
Metric = Literal[
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "error_rate",
    "throughput_rps",
    "rps",
    "recovery_s",
    "throughput_recovery_s",
    "availability",
]
METRICS: tuple[str, ...] = get_args(Metric)
# Which figures of a load record an SLO reads: None (the default) the whole run of every matching
# record; `run` the whole run of records that ran without a fault; `before`, `during`, `after`
# that window of records that ran under a chaos experiment.
Window = Literal["run", "before", "during", "after"]


_NOT_FINITE = (".nan", ".inf")  # YAML's spellings, kept as text by the loader


def _no_yaml_infinity(value: object) -> object:
    if isinstance(value, str) and value.strip().lower().lstrip("+-") in _NOT_FINITE:
        raise invalid(f"{value} is not a finite number", "a finite number, e.g. 200 or 0.5")
    return value


def _finite(value: float | None) -> float | None:
    """A threshold must be a real number: NaN compares false with everything, so it never fails."""
    if value is not None and not math.isfinite(value):
        raise invalid(f"{value} is not a finite number", "a finite number, e.g. 200 or 0.5")
    return value


def _positive_days(value: float) -> float:
    _finite(value)
    if value <= 0:
        raise invalid(f"{value:g} days allows no evidence at all", "a number of days above 0")
    return value


Days = Annotated[float, BeforeValidator(_no_yaml_infinity), AfterValidator(_positive_days)]
_AGES: TypeAdapter[dict[str, Days]] = TypeAdapter(dict[str, Days])


class TierRequirement(Strict):
    """Evidence a tier's cells must carry besides everything the profile plans for them."""

    suites: list[str] = Field(default_factory=list)
    chaos: list[str] = Field(default_factory=list)
    load: list[str] = Field(default_factory=list)
    optional: list[str] = Field(
        default_factory=list, description="criteria (globs) whose miss only degrades the cell"
    )

    @field_validator("optional")
    @classmethod
    def _criteria(cls, value: list[str]) -> list[str]:
        for criterion in value:
            if not CRITERION_RE.match(criterion):
                raise invalid(f"unknown criterion {criterion!r}", _CRITERIA)
        return value

    def is_optional(self, criterion: str) -> bool:
        """True when a miss of `criterion` only degrades the cell."""
        return any(fnmatch.fnmatchcase(criterion, pattern) for pattern in self.optional)


class SloCriterion(Strict):
    """A threshold on one metric of matching load or chaos records."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    load: str = Field(default="*", description="load profile or experiment name glob")
    metric: Metric
    max: float | None = None
    min: float | None = None
    blocking: bool = Field(default=False, description="a miss fails the cell, else degrades it")
    window: Window | None = Field(
        default=None,
        description="run: only loads without a fault; before/during/after: that window of loads "
        "under chaos; absent: the whole run of every matching record",
    )
    description: str = ""

    _yaml_bounds = field_validator("max", "min", mode="before")(_no_yaml_infinity)
    _finite_bounds = field_validator("max", "min")(_finite)

    @model_validator(mode="after")
    def _bounded(self) -> SloCriterion:
        if self.max is None and self.min is None:
            raise invalid("give `max:` or `min:` (or both)", "max: NUMBER and/or min: NUMBER")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise invalid(
                f"min: {self.min:g} is above max: {self.max:g}, so no measurement can meet both",
                "min <= max (or only one of them)",
            )
        return self

    def missed(self, value: float) -> bool:
        """True when `value` breaks a bound."""
        return (self.max is not None and value > self.max) or (
            self.min is not None and value < self.min
        )

    def bounds(self) -> str:
        """The bounds as text, e.g. `<= 200`."""
        parts = [f">= {self.min:g}"] if self.min is not None else []
        return " and ".join([*parts, *([f"<= {self.max:g}"] if self.max is not None else [])])


class ChaosCriterion(Strict):
    """What every matching chaos experiment must show: recovery time, no data lost, a real fault."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    experiment: str = Field(default="*", min_length=1, description="experiment name glob")
    max_recovery_s: float | None = Field(
        default=None, gt=0, description="seconds from the fault to the steady state regained"
    )
    zero_data_loss: bool = Field(
        default=False, description="the tables the workload wrote are intact after the fault"
    )
    require_fault_confirmed: bool = Field(
        default=False, description="the fault really happened (the target died, latency was there)"
    )
    # a chaos criterion guards data and availability: it fails the cell unless said otherwise
    blocking: bool = Field(default=True, description="a miss fails the cell, else degrades it")
    description: str = ""

    _yaml_recovery = field_validator("max_recovery_s", mode="before")(_no_yaml_infinity)
    _finite_recovery = field_validator("max_recovery_s")(_finite)

    @model_validator(mode="after")
    def _checks_something(self) -> ChaosCriterion:
        if (
            self.max_recovery_s is None
            and not self.zero_data_loss
            and not self.require_fault_confirmed
        ):
            raise invalid(
                "the criterion checks nothing",
                "max_recovery_s: SECONDS, zero_data_loss: true and/or "
                "require_fault_confirmed: true",
            )
        return self

    def matches(self, experiment: str) -> bool:
        """True when this criterion applies to the experiment named `experiment`."""
        return fnmatch.fnmatchcase(experiment, self.experiment)


class Waiver(Strict):
    """A known gap accepted until its expiry date, by a named owner, for a stated reason."""

    cells: str = Field(min_length=1, description="glob over cell ids, e.g. 'spark=4.1,*'")
    criterion: str = Field(description=_CRITERIA)
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: date

    @field_validator("criterion")
    @classmethod
    def _criterion(cls, value: str) -> str:
        if not CRITERION_RE.match(value):
            raise invalid(f"unknown criterion {value!r}", _CRITERIA)
        return value

    @field_validator("cells")
    @classmethod
    def _cells(cls, value: str) -> str:
        if value != "*" and "=" not in value:
            raise invalid(
                f"cell pattern {value!r} names no dimension",
                "a glob over cell ids such as 'spark=4.1,*' or '*catalog=glue*', or '*'",
            )
        return value

    def covers(self, cell_id: str, criterion: str) -> bool:
        """True when this waiver's patterns match the cell and criterion."""
        return fnmatch.fnmatchcase(cell_id, self.cells) and fnmatch.fnmatchcase(
            criterion, self.criterion
        )

    def active(self, today: date) -> bool:
        """A waiver waives up to and including its expiry date."""
        return today <= self.expires

    def label(self) -> str:
        """How reasons and reports name this waiver."""
        return f"waiver {self.criterion} on {self.cells} (owner {self.owner})"


class Policy(Strict):
    """What the release gate demands (the validated form of `reports/policy.yaml`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: Literal["certify.policy/1"] = Field(default="certify.policy/1", alias="schema")
    description: str = ""
    blocking_tiers: list[TierName] = Field(default_factory=lambda: list(_BLOCKING))
    pass_verdicts: list[PassVerdict] = Field(default_factory=lambda: list(_PASSING))
    require_complete_coverage: bool = True
    max_reasons_per_cell: int = Field(default=5, ge=1)
    tiers: dict[TierName, TierRequirement] = Field(default_factory=dict)
    slo: list[SloCriterion] = Field(default_factory=list)
    chaos: list[ChaosCriterion] = Field(
        default_factory=list, description="criteria every matching chaos experiment must meet"
    )
    flaky_tolerated: int | None = Field(
        default=None, ge=0, description="flaky results tolerated per cell (no limit if absent)"
    )
    # days, or per profile: {default: 30, release: 7}; `max_evidence_age_days` keeps the
    # default (what every cell's evidence-age criterion reads), the rest goes to the mapping
    max_evidence_age_days: Days | None = None
    evidence_age_by_profile: dict[str, Days] = Field(default_factory=dict, exclude=True)
    waivers: list[Waiver] = Field(default_factory=list)
    source: str = Field(default="built-in", exclude=True)

    @model_validator(mode="wrap")
    @classmethod
    def _ages_per_profile(cls, data: object, handler: ModelWrapValidatorHandler[Policy]) -> Policy:
        """`max_evidence_age_days: {default: 30, release: 7}` as the default plus a mapping."""
        ages = data.get("max_evidence_age_days") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(ages, dict):
            return handler(data)
        errors: list[InitErrorDetails] = []
        try:
            parsed = _AGES.validate_python(ages)
        except ValidationError as exc:
            errors.extend(_located(exc, ("max_evidence_age_days",)))
            parsed = {}
        rest = {k: v for k, v in parsed.items() if k != "default"}
        body = {**data, "max_evidence_age_days": parsed.get("default")}
        try:
            policy = handler({**body, "evidence_age_by_profile": rest})
        except ValidationError as exc:
            errors.extend(_located(exc, ()))
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return policy

    def evidence_age_days(self, profile: str) -> float | None:
        """The maximum age of evidence a run of `profile` may pass on (None: no limit)."""
        return self.evidence_age_by_profile.get(profile, self.max_evidence_age_days)

    def digest(self) -> str:
        """sha256 of the canonical JSON form (what report.json embeds, its source left out)."""
        return policy_digest(self.to_json())

    @field_validator("pass_verdicts")
    @classmethod
    def _certified_passes(cls, value: list[str]) -> list[str]:
        if "certified" not in value:
            raise invalid("`certified` must pass the gate", "a list holding certified")
        return value

    def requirement(self, tier: str) -> TierRequirement:
        """What `tier` must prove (nothing beyond the plan when the policy says nothing)."""
        return self.tiers.get(tier, TierRequirement())  # type: ignore[call-overload, no-any-return]

    def to_json(self) -> JsonObject:
        """The JSON form embedded in report.json (and read back by `certify gate`)."""
        data: JsonObject = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        if self.evidence_age_by_profile:  # the mapping form, as the file wrote it
            ages: JsonObject = dict(self.evidence_age_by_profile)
            if self.max_evidence_age_days is not None:
                ages = {"default": self.max_evidence_age_days, **ages}
            data["max_evidence_age_days"] = ages
        data["source"] = self.source
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Policy:
        """Inverse of `to_json`; raises pydantic's ValidationError on a bad document."""
        body = {k: v for k, v in data.items() if k != "source"}
        policy = cls.model_validate(body)
        return policy.model_copy(update={"source": str(data.get("source", "report.json"))})


def _located(exc: ValidationError, prefix: tuple[str, ...]) -> list[InitErrorDetails]:
    """The errors of `exc` again, their locations under `prefix` (messages kept as they were)."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(
                e["type"], "{message}", {**e.get("ctx", {}), "message": e["msg"]}
            ),
            loc=(*prefix, *e["loc"]),
            input=e["input"],
        )
        for e in exc.errors()
    ]


def policy_digest(data: Mapping[str, JsonValue]) -> str:
    """sha256 of a policy's JSON form in canonical form (sorted keys, no spaces, no `source`).

    `certify gate` compares the policy embedded in a report with the repository's by this
    digest: where the policy was read from is not part of what it demands.
    """
    body = {k: v for k, v in data.items() if k != "source"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_policy(path: Path) -> tuple[Policy | None, Source, list[Issue]]:
    """Parse and validate a policy file; returns every issue (the policy is None if any)."""
    source, issues = load_yaml(path)
    if issues and source.data is None:
        return None, source, issues
    if not isinstance(source.data, dict):
        issues.append(
            source.issue(
                (), "top level is not a mapping", f"a mapping with schema: {POLICY_SCHEMA}"
            )
        )
        return None, source, issues
    if source.data.get("schema") != POLICY_SCHEMA:
        issues.append(
            source.issue(
                ("schema",),
                f"unsupported schema {source.data.get('schema')!r}"
                if "schema" in source.data
                else "missing required key",
                POLICY_SCHEMA,
            )
        )
        return None, source, issues
    if "source" in source.data:
        issues.append(source.issue(("source",), "unknown key", "remove it"))
    try:
        policy = Policy.model_validate(source.data)
    except ValidationError as exc:
        return None, source, issues + issues_from(Policy, source, exc)
    if issues:
        return None, source, issues
    return policy.model_copy(update={"source": str(path)}), source, []


def load_policy(path: Path) -> Policy:
    """The validated policy of `path`; raises ConfigError (exit 2) with every issue."""
    if not path.is_file():
        raise ConfigError(
            [
                Issue(
                    str(path),
                    1,
                    "",
                    "no such policy file",
                    f"a YAML file with schema: {POLICY_SCHEMA}",
                )
            ]
        )
    policy, _, issues = parse_policy(path)
    if policy is None:
        raise ConfigError(issues)
    return policy


def is_policy_file(path: Path) -> bool:
    """True when `path` declares `schema: certify.policy/1` (so `certify validate` checks it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^schema:\s*[\"']?certify\.policy/1[\"']?\s*(#.*)?$", text, re.M) is not None


def default_policy_path(root: Path) -> Path:
    """Where a project keeps its release policy."""
    return root / "reports" / "policy.yaml"


def resolve_policy(root: Path, path: Path | None) -> Policy:
    """The policy given, else the project's `reports/policy.yaml`, else the built-in one."""
    if path is not None:
        return load_policy(path)
    default = default_policy_path(root)
    return load_policy(default) if default.exists() else Policy()


__all__ = [
    "METRICS",
    "POLICY_SCHEMA",
    "TIER_NAMES",
    "ChaosCriterion",
    "Policy",
    "SloCriterion",
    "TierRequirement",
    "Waiver",
    "default_policy_path",
    "is_policy_file",
    "load_policy",
    "parse_policy",
    "policy_digest",
    "resolve_policy",
]
