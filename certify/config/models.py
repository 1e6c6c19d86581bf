"""Typed models of `matrices/*.yaml`: dimensions, constraints, tiers and profiles (pydantic v2)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

MATRIX_SCHEMA = "certify.matrix/1"
TIERS: tuple[str, ...] = ("certified", "documented", "experimental")
TierName = Literal["certified", "documented", "experimental"]
TIER_NAMES: tuple[TierName, ...] = ("certified", "documented", "experimental")

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
VALUE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
STRATEGY_RE = re.compile(r"^(full|t=[1-9][0-9]*)$")
# Every cell id names every dimension, and planning walks them recursively: far above any real
# matrix (the project's has 5), far below Python's recursion limit.
MAX_DIMENSIONS = 64
# Every candidate cell is checked against every rule while planning.
MAX_CONSTRAINTS = 200
# Seeds are fed to random.Random; a fixed 32-bit range keeps them portable and printable.
MAX_SEED = 2**32 - 1


def invalid(message: str, valid: str) -> PydanticCustomError:
    """A validation error that also says what is valid (printed as `(valid: ...)`)."""
    return PydanticCustomError("certify_invalid", "{message}", {"message": message, "valid": valid})


def _value_name(name: str) -> str:
    if not VALUE_RE.match(name):
        raise invalid(
            f"value name {name!r} cannot appear in a cell id",
            "letters, digits and . _ + - (starting with a letter or digit)",
        )
    return name


def _dimension_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise invalid(
            f"dimension name {name!r} is not a lower-case identifier",
            "lower-case letters, digits, _ and - (starting with a letter)",
        )
    return name


def check_seed(seed: int) -> str | None:
    """Why `seed` is out of range (None when it is in range)."""
    if 0 <= seed <= MAX_SEED:
        return None
    return f"seed {seed} is out of range"


def _seed(seed: int) -> int:
    problem = check_seed(seed)
    if problem:
        raise invalid(problem, f"an integer from 0 to {MAX_SEED}")
    return seed


def _profile_name(name: str) -> str:
    # the name becomes a folder of the run history (.certify/history/NAME): no separators, no ..
    if not NAME_RE.match(name):
        raise invalid(
            f"profile name {name!r} is not a lower-case identifier (it names a history folder)",
            "lower-case letters, digits, _ and - (starting with a letter)",
        )
    return name


def _suite_name(name: str) -> str:
    # a suite is the folder scenarios/NAME: a name with / or .. would point elsewhere
    if not NAME_RE.match(name):
        raise invalid(
            f"{name!r} is not a suite folder name certify looks up (scenarios/NAME)",
            "lower-case letters, digits, _ and - (starting with a letter)",
        )
    return name


def _entry_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise invalid(
            f"{name!r} is not a file name certify looks up (chaos/NAME.yaml, load/NAME.py)",
            "lower-case letters, digits, _ and - (starting with a letter)",
        )
    return name


# Checked per key, so a bad name is reported at its own line even when other entries are bad too.
ValueName = Annotated[str, AfterValidator(_value_name)]
DimensionName = Annotated[str, AfterValidator(_dimension_name)]
ProfileName = Annotated[str, AfterValidator(_profile_name)]


# A selector maps dimension names to one glob or a list of globs ("4.*", "iceberg-*");
# a glob starting with "!" matches every value the rest of it does not match.
def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


Selector = dict[str, Annotated[list[str], BeforeValidator(_as_list), Field(min_length=1)]]


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# The jars certify knows how to resolve per Spark line (certify.platforms.jars); a matrix's
# `jars:` entry is one of these or a Maven coordinate group:artifact:version.
JAR_NAMES = (
    "iceberg-spark-runtime",
    "iceberg-aws-bundle",
    "hadoop-aws",
    "aws-sdk",
    "hadoop-azure",
    "sqlite-jdbc",
    "rapids-4-spark",
    "unitycatalog-spark",
)
_JAR_COORDINATE = re.compile(r"^[\w.\-]+:[\w.\-]+:[\w.\-]+$")


def _jar_names(names: list[str]) -> list[str]:
    for name in names:
        if name not in JAR_NAMES and not _JAR_COORDINATE.match(name):
            raise invalid(
                f"unknown jar {name!r}",
                f"one of {', '.join(JAR_NAMES)}, or a Maven coordinate group:artifact:version",
            )
    return names


class ValueSpec(Strict):
    """One value of a dimension, with what it needs from a runtime and platform."""

    description: str = ""
    pyspark: str | None = Field(default=None, description="exact pyspark version pin")
    scala: str | None = Field(default=None, description="Scala binary line, e.g. 2.13")
    java: list[str] = Field(default_factory=list, description="Java major versions supported")
    jars: Annotated[list[str], AfterValidator(_jar_names)] = Field(
        default_factory=list, description="jar names or Maven coordinates"
    )
    services: list[str] = Field(default_factory=list, description="platform services it starts")
    emulated: bool = Field(default=False, description="only an emulator exists for it here")
    meta: dict[str, str] = Field(default_factory=dict, description="free-form extra metadata")


class DimensionSpec(Strict):
    """An axis of the matrix and its values, in the order the author declared them."""

    description: str = ""
    values: dict[ValueName, ValueSpec | None] = Field(min_length=1)

    def spec(self, value: str) -> ValueSpec:
        """The metadata of `value` (an empty spec when the YAML gave none)."""
        return self.values.get(value) or ValueSpec()


class Constraint(Strict):
    """`exclude: SEL` forbids matching cells; `require: SEL` (with optional `when:`) demands."""

    name: str = ""
    exclude: Selector | None = None
    require: Selector | None = None
    when: Selector | None = None
    reason: str = Field(min_length=1, description="why this holds in the real world")

    @model_validator(mode="after")
    def _one_kind(self) -> Constraint:
        if (self.exclude is None) == (self.require is None):
            raise invalid(
                "give exactly one of `exclude` or `require`",
                "`exclude: SELECTOR`, or `require: SELECTOR` with an optional `when: SELECTOR`",
            )
        if self.when is not None and self.exclude is not None:
            raise invalid(
                "`when` goes with `require`",
                "`require: SELECTOR` with `when: SELECTOR`, or `exclude: SELECTOR` "
                "with every condition in its selector",
            )
        return self


class TierSpec(Strict):
    """Which cells belong to a tier: those matching any of its selectors."""

    description: str = ""
    cells: list[Selector] = Field(default_factory=list)


class RetrySpec(Strict):
    """Failures a profile may retry: regexes over the failure's error lines, and how often."""

    on: list[str] = Field(min_length=1, description="regexes; a failure matching one is retried")
    times: int = Field(default=1, ge=1, le=5)

    @field_validator("on")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise invalid(
                    f"{pattern!r} is not a regular expression: {exc}", "a Python regex"
                ) from exc
        return patterns


def _named(value: object) -> object:
    """A plain name is shorthand for `{name: NAME}` (every cell of the profile)."""
    return {"name": value} if isinstance(value, str) else value


class ChaosEntry(Strict):
    """A chaos experiment (chaos/NAME.yaml or .json) a profile runs, on the cells it selects."""

    name: Annotated[str, AfterValidator(_entry_name)] = Field(
        description="the experiment file's name without extension"
    )
    cells: list[Selector] = Field(
        default_factory=list, description="cells of the profile it runs on (all when empty)"
    )


class LoadEntry(ChaosEntry):
    """A load profile (load/NAME.py) a profile runs, optionally while a chaos experiment runs."""

    name: Annotated[str, AfterValidator(_entry_name)] = Field(
        description="the load profile's name (load/NAME.py)"
    )
    shape: Literal["ramp", "step", "spike", "soak"] | None = Field(
        default=None, description="load shape (default: the one the locustfile declares)"
    )
    during: str | None = Field(
        default=None, description="a chaos experiment to run while the load runs (load under chaos)"
    )


class ProfileSpec(Strict):
    """What a run of this profile certifies: which cells, reduced how, with which suites."""

    description: str = ""
    tiers: list[TierName] = Field(default_factory=lambda: list(TIER_NAMES), min_length=1)
    select: list[Selector] = Field(default_factory=list)
    reduction: str | dict[TierName, str] = "full"
    seed: Annotated[int, AfterValidator(_seed)] = 0
    suites: list[Annotated[str, AfterValidator(_suite_name)]] = Field(
        default_factory=lambda: ["smoke"]
    )
    chaos: list[Annotated[ChaosEntry, BeforeValidator(_named)]] = Field(default_factory=list)
    load: list[Annotated[LoadEntry, BeforeValidator(_named)]] = Field(default_factory=list)
    retry: RetrySpec | None = None

    @field_validator("chaos", "load")
    @classmethod
    def _unique(cls, entries: list[ChaosEntry]) -> list[ChaosEntry]:
        names = [e.name for e in entries]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise invalid(
                f"{', '.join(twice)} listed more than once", "each name once (merge their `cells`)"
            )
        return entries

    @field_validator("load")
    @classmethod
    def _during_is_planned(cls, entries: list[LoadEntry], info: ValidationInfo) -> list[LoadEntry]:
        if "chaos" not in info.data:
            return entries  # the chaos list has errors of its own; they are reported
        chaos = {e.name for e in info.data["chaos"]}
        for entry in entries:
            if entry.during and entry.during not in chaos:
                raise invalid(
                    f"load {entry.name!r} runs during experiment {entry.during!r}, which the "
                    "profile's `chaos` list does not name",
                    f"add {entry.during!r} to `chaos` (it then runs under this load only)",
                )
        return entries

    @field_validator("reduction")
    @classmethod
    def _strategy(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        for strategy in [value] if isinstance(value, str) else value.values():
            if not STRATEGY_RE.match(strategy):
                raise invalid(f"unknown reduction {strategy!r}", "full or t=N with N >= 1")
        return value

    def strategy_for(self, tier: str) -> str:
        """The reduction that applies to cells of `tier`."""
        if isinstance(self.reduction, str):
            return self.reduction
        return str(self.reduction.get(tier, "full"))  # type: ignore[call-overload]


class MatrixSpec(Strict):
    """A whole matrix file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: Literal["certify.matrix/1"] = Field(alias="schema")
    name: str = Field(pattern=NAME_RE.pattern)
    description: str = ""
    dimensions: dict[DimensionName, DimensionSpec] = Field(min_length=1, max_length=MAX_DIMENSIONS)
    constraints: list[Constraint] = Field(default_factory=list, max_length=MAX_CONSTRAINTS)
    tiers: dict[TierName, TierSpec] = Field(default_factory=dict)
    default_tier: TierName = "experimental"
    profiles: dict[ProfileName, ProfileSpec] = Field(default_factory=dict)
