"""Load YAML into plain data while remembering the line of every key and reporting duplicates.

Scalars are kept as the text the author wrote (``4.10`` stays ``"4.10"``, never the float 4.1);
pydantic's lax mode turns them into ints or bools where a model asks for one.

Every file certify reads as configuration is untrusted input: a path that is not a regular file
(a FIFO would block the reader for ever), a file over `MAX_BYTES`, nesting deeper than
`MAX_DEPTH`, a recursive alias or aliases expanding past `MAX_NODES` values (a "billion laughs"
document) each become one located issue instead of a hang, a MemoryError or a RecursionError.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from certify.errors import Issue

KeyPath = tuple[str | int, ...]

# Bounds far above any real matrix or policy (the project's own are a few KiB, 6 levels deep).
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000

_NULL_TAG = "tag:yaml.org,2002:null"
_SYNTAX = "YAML with consistent space indentation, `key: value` pairs, closed quotes and brackets"
_FILE = "a path to a regular YAML file"


class Unreadable(Exception):
    """A path that cannot be read as a configuration file; says why and what to give instead."""

    def __init__(self, message: str, valid: str = _FILE) -> None:
        super().__init__(message)
        self.message = message
        self.valid = valid

    def issue(self, path: Path) -> Issue:
        """This problem as an issue at the start of `path`."""
        return Issue(str(path), 1, "", self.message, self.valid)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file"


def _check_stat(info: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable(f"cannot read file: it is {_kind(info.st_mode)}, not a regular file")
    if info.st_size > limit:
        raise Unreadable(
            f"file is {info.st_size} bytes, more than the {limit} certify reads",
            f"a file under {limit // 1024} KiB (split it, or remove generated content)",
        )


def read_bounded(path: Path, limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of the regular file `path`, at most `limit` bytes; Unreadable otherwise.

    Never blocks: the file is opened non-blocking and checked to be regular before it is read,
    so a FIFO, socket or device is refused instead of waited on.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise Unreadable("cannot read file: no such file") from None
    except IsADirectoryError:
        raise Unreadable("cannot read file: it is a directory, not a regular file") from None
    except OSError as exc:
        raise Unreadable(f"cannot read file: {exc.strerror or exc}") from None
    try:
        _check_stat(os.fstat(fd), limit)
        data = os.read(fd, limit + 1)
    except OSError as exc:
        raise Unreadable(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # grew since fstat
        raise Unreadable(f"file is more than the {limit} bytes certify reads")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"file is not UTF-8 text ({exc.reason})", "a UTF-8 text file") from None


class _Limit(Exception):
    """The document breaks a bound; carries the issue that says which."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


class _Bound(Exception):
    """The composer stopped at a bound: what was found, what is valid, and where."""

    def __init__(self, message: str, valid: str, mark: yaml.Mark) -> None:
        super().__init__(message)
        self.message = message
        self.valid = valid
        self.line = mark.line + 1


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader with nesting depth and node count bounded while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        self._depth += 1
        self._nodes += 1
        if self._depth > MAX_DEPTH + 1:  # the document's own node is no level: as the walker
            raise _Bound(
                f"nested deeper than {MAX_DEPTH} levels",
                f"at most {MAX_DEPTH} levels of mappings and lists",
                mark,
            )
        if self._nodes > MAX_NODES:
            raise _Bound(
                f"more than {MAX_NODES} values in the document",
                "a smaller document (split it into several files)",
                mark,
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


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
    """Turns composed nodes into plain data, expanding aliases within the document's bounds."""

    def __init__(self, source: Source, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        self._open: set[int] = set()  # ids of the nodes being walked: an alias to one is a cycle
        self._visits = 0

    def walk(self, node: yaml.Node, path: KeyPath) -> Any:
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        self._visits += 1
        if self._visits > MAX_NODES:
            raise _Limit(
                self._at(
                    node,
                    path,
                    f"the document expands to more than {MAX_NODES} values (aliases repeating "
                    "aliases?)",
                    "a smaller document: every use of an alias counts its whole anchor again",
                )
            )
        if len(path) > MAX_DEPTH:
            raise _Limit(
                self._at(
                    node,
                    path,
                    f"nested deeper than {MAX_DEPTH} levels (counting what aliases bring in)",
                    f"at most {MAX_DEPTH} levels of mappings and lists",
                )
            )
        if isinstance(node, yaml.ScalarNode):
            return None if node.tag == _NULL_TAG else node.value
        if id(node) in self._open:
            raise _Limit(
                self._at(
                    node,
                    path,
                    "recursive alias: the value contains itself",
                    "aliases (*name) only to anchors (&name) whose value has ended",
                )
            )
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        finally:
            self._open.discard(id(node))

    def _at(self, node: yaml.Node, path: KeyPath, message: str, valid: str) -> Issue:
        if len(path) > 1:  # name the top-level key whose value does it, not a path 60 deep
            return self.source.issue(path[:1], message, valid)
        return Issue(self.source.name, node.start_mark.line + 1, format_key(path), message, valid)

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
    """Parse one YAML file; returns the source and every issue found (syntax, duplicates, empty).

    Hostile input (see the module docstring) is an issue too, never an exception or a hang.
    """
    source = Source(path=path, data=None)
    try:
        text = read_bounded(path)
    except Unreadable as exc:
        return source, [exc.issue(path)]
    try:
        docs = _compose(text)
    except _Bound as exc:
        return source, [Issue(str(path), exc.line, "", exc.message, exc.valid)]
    except yaml.MarkedYAMLError as exc:
        return source, [_syntax_issue(path, exc)]
    except yaml.YAMLError as exc:
        return source, [Issue(str(path), 1, "", f"YAML error: {exc}", _SYNTAX)]
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
    try:
        source.data = _Walker(source, issues).walk(docs[0], ())
    except _Limit as exc:
        source.data = None
        return source, [exc.issue]
    return source, issues


def _compose(text: str) -> list[yaml.Node]:
    """The documents of `text` as node graphs, with the loader's bounds enforced."""
    loader = _BoundedLoader(text)
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                docs.append(node)
        return docs
    finally:
        loader.dispose()


def _syntax_issue(path: Path, exc: yaml.MarkedYAMLError) -> Issue:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    problem = exc.problem or str(exc)
    if isinstance(exc, yaml.composer.ComposerError) and exc.context and exc.context_mark:
        # a duplicate anchor: say where the first one is
        problem = f"{exc.context} on line {exc.context_mark.line + 1}; {problem} here"
    return Issue(str(path), line, "", f"YAML syntax error: {problem}", _SYNTAX)
