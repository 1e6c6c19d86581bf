"""The shape rules of STYLE.md, checked on certify/ itself (issue 11's acceptance).

- no function over 60 lines (its body, from the first statement to the last);
- no parameter list over 6 (self/cls not counted), except the CLI commands' option lists;
- fewer than 60 `dict[str, Any]` / `Mapping[str, Any]` annotations in all of certify/: typed
  models, frozen dataclasses and the JsonObject alias say what a value holds.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "certify"
MAX_LINES, MAX_PARAMS, MAX_ANY = 60, 6, 60
_ANY = re.compile(r"\b(?:dict|Mapping|MutableMapping)\[str,\s*Any\]")


def _functions() -> list[tuple[Path, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((path, node))
    return found


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return [a for a in every if a.arg not in ("self", "cls")]


def _is_cli_command(path: Path, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A typer command: in certify/cli, every parameter an Annotated option or argument."""
    if path.parent.name != "cli":
        return False
    annotations = [ast.unparse(a.annotation) for a in _params(node) if a.annotation is not None]
    return bool(annotations) and all(
        "typer.Option" in a or "typer.Argument" in a or a.startswith("opt.") for a in annotations
    )


def test_no_function_is_over_60_lines() -> None:
    long = [
        f"{p.relative_to(PACKAGE.parent)}:{n.lineno} {n.name} ({lines})"
        for p, n in _functions()
        if (lines := (n.end_lineno or n.lineno) - n.body[0].lineno + 1) > MAX_LINES
    ]
    assert long == []


def test_no_parameter_list_is_over_6_except_cli_commands() -> None:
    many = [
        f"{p.relative_to(PACKAGE.parent)}:{n.lineno} {n.name} ({len(_params(n))})"
        for p, n in _functions()
        if len(_params(n)) > MAX_PARAMS and not _is_cli_command(p, n)
    ]
    assert many == []


def test_fewer_than_60_untyped_mappings() -> None:
    counts = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in sorted(PACKAGE.rglob("*.py"))
        if (n := len(_ANY.findall(p.read_text())))
    }
    assert sum(counts.values()) < MAX_ANY, counts
