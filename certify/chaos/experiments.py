"""Experiment files in `chaos/`: load, read certify's extension, check, render per cell, validate.

An experiment is a Chaos Toolkit experiment (JSON or YAML). certify reads one extension of it:

    extensions:
      - name: certify
        requires: {deploy: [standalone], catalog: [hive]}   # which cells it applies to
        fault: kill-executor                                # the method activity that injects it
        criteria: {max_recovery_s: 120, zero_data_loss: true, fault_confirmed: true}

The cell reaches the experiment through configuration (`cell`: the path of a JSON file the
runner writes, by env reference) and S3 credentials through secrets (env references only).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from certify.config.selector import unmet
from certify.config.source import Unreadable, load_yaml, read_bounded
from certify.errors import ExperimentError
from certify.results.findings import JsonObject, JsonValue

Body = Mapping[str, JsonValue]  # an experiment file as parsed (Chaos Toolkit's JSON)

CELL_VAR = "CERTIFY_CHAOS_CELL"
SUFFIXES = (".json", ".yaml", ".yml")
CRITERIA = {"max_recovery_s": (int, float), "zero_data_loss": (bool,), "fault_confirmed": (bool,)}


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment and certify's reading of it."""

    name: str
    path: Path
    body: JsonObject
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)
    criteria: dict[str, JsonValue] = field(default_factory=dict)
    fault: str = ""

    def not_applicable(self, values: Mapping[str, str]) -> str | None:
        """Why the experiment does not apply to a cell of `values` (None when it does)."""
        for dim, allowed, value in unmet(self.requires, values):
            return (
                f"experiment {self.name} requires {dim} in {list(allowed)}; "
                f"the cell has {dim}={value}"
            )
        return None


def find(root: Path, name: str) -> Path:
    """The file of experiment `name` under ROOT/chaos."""
    for suffix in SUFFIXES:
        path = root / "chaos" / f"{name}{suffix}"
        if path.is_file():
            return path
    names = ", ".join(sorted(available(root))) or "none"
    raise ExperimentError(
        f"{root / 'chaos'}: no experiment {name!r} (chaos/{name}.json or .yaml); "
        f"experiments there: {names}"
    )


def available(root: Path) -> list[str]:
    """The experiment names under ROOT/chaos."""
    folder = root / "chaos"
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def load(path: Path) -> Experiment:
    """Read and check an experiment file (certify's extension included)."""
    body = _read(path)
    if not isinstance(body, dict):
        raise ExperimentError(f"{path}: an experiment is a mapping (title, method, ...)")
    problems = extension_problems(body)
    if problems:
        raise ExperimentError(f"{path}: " + "; ".join(problems))
    ext = certify_extension(body)
    requires = {k: tuple(str(x) for x in _list(v)) for k, v in _obj(ext.get("requires")).items()}
    criteria = dict(_obj(ext.get("criteria")))
    return Experiment(path.stem, path, body, requires, criteria, str(ext.get("fault", "")))


def _read(path: Path) -> object:
    """The experiment document: bounded like every configuration file (no FIFO, no bomb)."""
    if path.suffix != ".json":
        source, issues = load_yaml(path)
        if issues:
            raise ExperimentError("; ".join(i.format() for i in issues))
        return source.data
    try:
        return json.loads(read_bounded(path))
    except Unreadable as exc:
        raise ExperimentError(f"{path}: cannot read the experiment: {exc.message}") from None
    except (ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ExperimentError(f"{path}: cannot read the experiment: {why}") from None


def _obj(value: JsonValue | None) -> Body:
    return value if isinstance(value, dict) else {}


def _list(value: JsonValue | None) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def certify_extension(body: Body) -> Body:
    """The `certify` entry of `extensions` ({} when there is none)."""
    for ext in _list(body.get("extensions")):
        if isinstance(ext, dict) and ext.get("name") == "certify":
            return ext
    return {}


def extension_problems(body: Body) -> list[str]:
    """What is wrong with the certify extension, one line each with the fix."""
    ext = certify_extension(body)
    problems = []
    if not ext:
        return ["extensions: no entry named certify (add {name: certify, fault: ACTIVITY})"]
    requires = ext.get("requires") or {}
    if not isinstance(requires, dict) or not all(isinstance(v, list) for v in requires.values()):
        problems.append("extensions.certify.requires: a mapping of dimension to a list of values")
    criteria = ext.get("criteria") or {}
    for key, value in criteria.items() if isinstance(criteria, dict) else []:
        if key not in CRITERIA:
            problems.append(
                f"extensions.certify.criteria.{key}: unknown criterion "
                f"(valid: {', '.join(CRITERIA)})"
            )
        elif not isinstance(value, CRITERIA[key]) or (key == "max_recovery_s" and value is True):
            kinds = "/".join(t.__name__ for t in CRITERIA[key])
            problems.append(f"extensions.certify.criteria.{key}: {value!r} is not a {kinds}")
    fault = ext.get("fault")
    names = [a.get("name") for a in _list(body.get("method")) if isinstance(a, dict)]
    if not fault or fault not in names:
        problems.append(
            f"extensions.certify.fault: {fault!r} is not an activity of the method "
            f"(valid: {', '.join(str(n) for n in names) or 'none'})"
        )
    return problems


def render(experiment: Experiment, cell_id: str, cell_file: Path, out: Path) -> Path:
    """The experiment for one cell, written to `out` (experiment.json); returns its path."""
    body = copy.deepcopy(experiment.body)
    body["title"] = f"{body.get('title', experiment.name)} [{cell_id}]"
    tags = {str(t) for t in _list(body.get("tags"))}
    body["tags"] = [t for t in sorted({*tags, "certify", f"experiment:{experiment.name}"})]
    configuration = dict(_obj(body.get("configuration")))
    configuration["cell"] = {"type": "env", "key": CELL_VAR, "default": str(cell_file)}
    configuration["cell_id"] = cell_id
    body["configuration"] = configuration
    out.mkdir(parents=True, exist_ok=True)
    path = out / "experiment.json"
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def validate(body: Body, where: Path | str) -> None:
    """Chaos Toolkit's own validation plus certify's extension; raises ExperimentError."""
    from chaoslib.exceptions import ChaosException  # type: ignore[import-untyped]
    from chaoslib.experiment import ensure_experiment_is_valid  # type: ignore[import-untyped]

    problems = extension_problems(body) + secret_problems(body)
    # secrets resolve from the environment of the experiment's own process, checked there
    checked = {k: copy.deepcopy(v) for k, v in body.items() if k != "secrets"}
    try:
        ensure_experiment_is_valid(checked)
    except ChaosException as exc:
        problems.insert(0, f"Chaos Toolkit: {exc}")
    if problems:
        raise ExperimentError(f"{where}: " + "; ".join(problems))


def secret_problems(body: Body) -> list[str]:
    """Secrets given literally instead of by environment reference (never allowed)."""
    problems = []
    for scope, entries in _obj(body.get("secrets")).items():
        for key, value in _obj(entries).items():
            if not (isinstance(value, dict) and value.get("type") == "env" and value.get("key")):
                problems.append(
                    f"secrets.{scope}.{key}: a literal secret; use "
                    '{"type": "env", "key": "VARIABLE"} so no credential is written to a file'
                )
    return problems


def validate_all(root: Path) -> dict[str, str | None]:
    """Every experiment under ROOT/chaos: name -> None when valid, else the problem."""
    found: dict[str, str | None] = {}
    for name in available(root):
        try:
            experiment = load(find(root, name))
            validate(experiment.body, experiment.path)
            found[name] = None
        except ExperimentError as exc:
            found[name] = str(exc)
    return found
