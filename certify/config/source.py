"""Load YAML into plain data while remembering the line of every key and reporting duplicates.

Scalars are kept as the text the author wrote (``4.10`` stays ``"4.10"``, never the float 4.1);
pydantic's lax mode turns them into ints or bools where a model asks for one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from certify.errors import Issue

KeyPath = tuple[str | int, ...]

_NULL_TAG = "tag:yaml.org,2002:null"
_SYNTAX = "YAML with consistent space indentation, `key: value` pairs, closed quotes and brackets"


def format_key(path: KeyPath) -> str:
    """Render a key path as `a.b[2].c`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "." in part or " " in part:
            out += f'["{part}"]'
        else:
            out += f".{part}" if out else part
    return out


@dataclass
class Source:
    """One parsed YAML document: its data and the line (1-based) where each key path starts."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file name as shown in messages."""
        return str(self.path)

    def line_of(self, path: KeyPath) -> int:
        """Line of the longest known prefix of `path` (the document start if none)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1

    def issue(self, path: KeyPath, message: str, valid: str = "") -> Issue:
        """An issue located at `path` in this file."""
        return Issue(self.name, self.line_of(path), format_key(path), message, valid)


class _Walker:
    def __init__(self, source: Source, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues

    def walk(self, node: yaml.Node, path: KeyPath) -> Any:
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.tag == _NULL_TAG:
            return None
        return node.value

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(
                    Issue(
                        self.source.name,
                        key_node.start_mark.line + 1,
                        format_key(path),
                        "a key must be a plain value, not a list or mapping",
                        "a plain key such as `name:`",
                    )
                )
                continue
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in out:
                key_path: KeyPath = (*path, key)
                first = self.source.lines[key_path]
                self.issues.append(
                    Issue(
                        self.source.name,
                        line,
                        format_key((*path, key)),
                        f"duplicate key (first defined on line {first})",
                        "each key once per mapping; merge or rename one of them",
                    )
                )
                continue
            key_path = (*path, key)
            self.source.lines[key_path] = line
            out[key] = self.walk(value_node, (*path, key))
        return out


def load_yaml(path: Path) -> tuple[Source, list[Issue]]:
    """Parse one YAML file; returns the source and every issue found (syntax, duplicates, empty)."""
    source = Source(path=path, data=None)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return source, [Issue(str(path), 1, "", f"cannot read file: {exc.strerror or exc}")]
    except UnicodeDecodeError as exc:
        return source, [Issue(str(path), 1, "", f"file is not UTF-8 text ({exc.reason})")]
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or str(exc)
        return source, [Issue(str(path), line, "", f"YAML syntax error: {problem}", _SYNTAX)]
    except yaml.YAMLError as exc:
        return source, [Issue(str(path), 1, "", f"YAML error: {exc}")]
    docs = [n for n in nodes if n is not None]
    if not docs:
        return source, [
            Issue(str(path), 1, "", "file is empty", "a mapping with the top-level keys")
        ]
    issues: list[Issue] = []
    if len(docs) > 1:
        line = docs[1].start_mark.line + 1
        issues.append(
            Issue(
                str(path),
                line,
                "",
                "more than one YAML document in the file",
                "exactly one document per file",
            )
        )
    source.data = _Walker(source, issues).walk(docs[0], ())
    return source, issues
