"""A loaded matrix: its spec, the constrained space of cells, and the tier of each cell."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from certify.config.matrix_file import parse_matrix
from certify.config.models import TIERS, MatrixSpec, ProfileSpec, Selector, ValueSpec
from certify.config.policy import is_policy_file, parse_policy
from certify.config.source import KeyPath, Source, Unreadable, read_bounded
from certify.errors import ConfigError, Issue
from certify.matrix.constraints import (
    FALSE,
    AllOf,
    AnyOf,
    Not,
    Predicate,
    compile_selector,
    exclude_rule,
    require_rule,
)
from certify.matrix.references import LoadCheck, project_root, reference_issues
from certify.matrix.size import size_problem, strength
from certify.matrix.space import Space


@dataclass(frozen=True)
class Matrix:
    """A validated matrix file ready for planning."""

    spec: MatrixSpec
    path: Path
    space: Space
    # where each key of the file is, to locate problems found after loading (names, sizes)
    source: Source | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_spec(cls, spec: MatrixSpec, path: Path, source: Source | None = None) -> Matrix:
        """Compile the spec's constraints into a Space."""
        names = tuple(spec.dimensions)
        values = tuple(tuple(d.values) for d in spec.dimensions.values())
        rules: list[Predicate] = []
        for rule in spec.constraints:
            if rule.exclude is not None:
                rules.append(exclude_rule(compile_selector(rule.exclude, names, values)))
            else:
                assert rule.require is not None
                when = compile_selector(rule.when, names, values) if rule.when else None
                rules.append(require_rule(compile_selector(rule.require, names, values), when))
        return cls(spec, path, Space(names, values, tuple(rules)), source)

    @property
    def name(self) -> str:
        """The matrix's declared name."""
        return self.spec.name

    def selector(self, selectors: Sequence[Selector]) -> Predicate:
        """A predicate true for cells matching any of `selectors` (false if there are none)."""
        space = self.space
        parts = [compile_selector(s, space.names, space.values) for s in selectors]
        return AnyOf(tuple(parts)) if parts else FALSE

    def tier_rules(self, tier: str) -> list[Predicate]:
        """Rules that hold exactly for the cells whose tier is `tier`.

        A cell belongs to the strongest tier whose selectors match it; cells matching no tier
        belong to the default tier.
        """
        order = list(TIERS)
        stronger = order[: order.index(tier)]
        rules: list[Predicate] = [Not(self.selector(self._cells(t))) for t in stronger]
        own = self.selector(self._cells(tier))
        if tier == self.spec.default_tier:
            weaker = order[order.index(tier) + 1 :]
            own = AnyOf((own, AllOf(tuple(Not(self.selector(self._cells(t))) for t in weaker))))
        rules.append(own)
        return rules

    def profile_rules(self, profile: ProfileSpec, tier: str) -> list[Predicate]:
        """Rules selecting the cells of `tier` that `profile` runs."""
        rules = self.tier_rules(tier)
        if profile.select:
            rules.append(self.selector(profile.select))
        return rules

    def tier_of(self, row: Sequence[int]) -> str:
        """The tier of a complete cell."""
        for tier in TIERS:
            if self.selector(self._cells(tier)).evaluate(row):
                return tier
        return self.spec.default_tier

    def _cells(self, tier: str) -> list[Selector]:
        spec = self.spec.tiers.get(tier)  # type: ignore[call-overload]
        return list(spec.cells) if spec is not None else []

    def value_spec(self, dimension: str, value: str) -> ValueSpec:
        """Metadata of one value of one dimension."""
        return self.spec.dimensions[dimension].spec(value)


def _space_issues(matrix: Matrix, source: Source) -> list[Issue]:
    if matrix.space.complete(matrix.space.blank()) is None:
        return [
            source.issue(
                ("constraints",),
                "the constraints exclude every cell",
                "loosen an exclude or require rule",
            )
        ]
    issues = []
    for name, profile in matrix.spec.profiles.items():
        spaces: dict[str, Space] = {
            t: matrix.space.restricted(matrix.profile_rules(profile, t)) for t in profile.tiers
        }
        if all(s.complete(s.blank()) is None for s in spaces.values()):
            issues.append(
                source.issue(
                    ("profiles", name),
                    "the profile selects no valid cell",
                    "tiers and select that match at least one cell",
                )
            )
        issues.extend(_size_issues(source, name, profile, spaces))
    return issues


def _size_issues(
    source: Source, name: str, profile: ProfileSpec, spaces: Mapping[str, Space]
) -> Iterator[Issue]:
    """A tier of the profile too large to plan under its reduction, refused before expanding."""
    for tier, space in spaces.items():
        if space.complete(space.blank()) is None:
            continue
        strategy = profile.strategy_for(tier)
        found = size_problem(space, strength(strategy, len(space.names)))
        if found is None:
            continue
        where: KeyPath = ("profiles", name, "reduction")
        if isinstance(profile.reduction, dict) and tier in profile.reduction:
            where = (*where, tier)
        yield source.issue(where, f"tier {tier} under {strategy}: {found[0]}", found[1])


def load_matrix(path: Path) -> Matrix:
    """Load, validate and compile a matrix file; raises ConfigError with every issue."""
    spec, source, issues = parse_matrix(path)
    if spec is None or issues:
        raise ConfigError(issues)
    matrix = Matrix.from_spec(spec, path, source)
    issues = _space_issues(matrix, source)
    if issues:
        raise ConfigError(issues)
    return matrix


def matrix_files(root: Path) -> list[Path]:
    """The matrix files of a project: `matrices/*.yaml` and `*.yml`, sorted."""
    folder = root / "matrices"
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def validate_files(
    paths: Sequence[Path],
    root: Path | None = None,
    check_load: LoadCheck | None = None,
) -> list[Issue]:
    """Every issue in every file, matrix or policy (a missing file is an issue too).

    A matrix's suites, experiments and load profiles must exist in its project: the folder
    holding `matrices/` for a file there, else `root` (not checked when neither applies);
    `check_load` returns what is wrong inside an existing locustfile, if anything.
    """
    issues: list[Issue] = []
    for path in paths:
        if not path.exists():
            issues.append(Issue(str(path), 1, "", "no such file", "a path to a matrix YAML file"))
            continue
        try:
            read_bounded(path)  # before sniffing its schema: a FIFO must not block the sniffer
        except Unreadable as exc:
            issues.append(exc.issue(path))
            continue
        if is_policy_file(path):  # `schema: certify.policy/1`: the release policy
            issues.extend(parse_policy(path)[2])
            continue
        try:
            matrix = load_matrix(path)
        except ConfigError as exc:
            issues.extend(exc.issues)
            continue
        project = project_root(path, root)
        if project is not None:
            assert matrix.source is not None  # load_matrix keeps it
            issues.extend(reference_issues(matrix.spec, matrix.source, project, None, check_load))
    return issues
