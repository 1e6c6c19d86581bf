"""Maven resolution: a generated POM per jar set, `mvn` with a pinned maven-dependency-plugin.

`mvn` is the ordinary client, so whatever mirror the user's `settings.xml` names (Artifactory,
Nexus) is honoured, which Ivy (`spark.jars.packages`) is not. Checksum failures are fatal
(`-C`). The local repository lives in certify's cache, so a warm cache needs no network and
two runs read the same files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

# Maven 3.8.7 binds maven-dependency-plugin 2.8 by default, which lacks the options used here
# (outputAbsoluteArtifactFilename with scopes, the module-info suffixes it prints are parsed)
PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
SETTINGS_VAR = "CERTIFY_MAVEN_SETTINGS"
TIMEOUT_S = 1800.0


class MavenError(Exception):
    """A resolution failed: `line` is mvn's own error line, `fix` what to do about it."""

    def __init__(self, line: str, fix: str) -> None:
        self.line, self.fix = line, fix
        super().__init__(f"{line}; {fix}")


class SettingsError(MavenError):
    """$CERTIFY_MAVEN_SETTINGS names no readable settings file: bad input, not a cell's fault."""


@dataclass(frozen=True)
class Dep:
    """One dependency of a jar set: `group:artifact:version`, and what to leave out of it."""

    coordinate: str
    exclusions: tuple[str, ...] = ()  # "group:artifact"

    def xml(self) -> str:
        group, artifact, version = self.coordinate.split(":")[:3]
        excl = "".join(
            f"<exclusion><groupId>{escape(g)}</groupId><artifactId>{escape(a)}</artifactId>"
            "</exclusion>"
            for g, a in (e.split(":", 1) for e in self.exclusions)
        )
        return (
            f"<dependency><groupId>{escape(group)}</groupId>"
            f"<artifactId>{escape(artifact)}</artifactId><version>{escape(version)}</version>"
            + (f"<exclusions>{excl}</exclusions>" if excl else "")
            + "</dependency>"
        )


@dataclass(frozen=True)
class Artifact:
    """One resolved file: its coordinate, scope, path in the local repository, repository id."""

    coordinate: str
    scope: str
    path: Path
    repository: str

    @property
    def artifact_id(self) -> str:
        return self.coordinate.split(":")[1]


def pom(deps: tuple[Dep, ...], name: str) -> str:
    """A POM whose dependencies are the set's (packaging pom: nothing is built)."""
    body = "".join(d.xml() for d in deps)
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0">'
        "<modelVersion>4.0.0</modelVersion><groupId>certify.jars</groupId>"
        f"<artifactId>{escape(name)}</artifactId><version>0</version><packaging>pom</packaging>"
        f"<dependencies>{body}</dependencies></project>\n"
    )


def settings_file() -> Path | None:
    """The settings file named by $CERTIFY_MAVEN_SETTINGS, checked to parse (else MavenError)."""
    given = os.environ.get(SETTINGS_VAR)
    if not given:
        return None
    path = Path(given)
    fix = f"point ${SETTINGS_VAR} at a readable Maven settings.xml, or unset it"
    if not path.is_file():
        raise SettingsError(f"${SETTINGS_VAR}={given}: no such file", fix)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise SettingsError(f"${SETTINGS_VAR}={given} does not parse as XML ({exc})", fix) from exc
    if root.tag.rsplit("}", 1)[-1] != "settings":
        raise SettingsError(f"${SETTINGS_VAR}={given}: root element is not <settings>", fix)
    return path


def resolve(deps: tuple[Dep, ...], repo: Path, name: str) -> list[Artifact]:
    """Resolve `deps` with their runtime dependencies into the local repository `repo`."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MavenError(
            "mvn not found on PATH",
            "install Maven (apt-get install -y maven), or fill a folder with "
            "`certify jars sync --to DIR` on a machine that has it and set $CERTIFY_JARS_DIR",
        )
    settings = settings_file()
    repo.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pom-", dir=repo.parent) as work:
        folder = Path(work)
        (folder / "pom.xml").write_text(pom(deps, name))
        listing = folder / "resolved.txt"
        # -C: a checksum mismatch fails; -U: a failure cached by an earlier try is tried again
        argv = [mvn, "-B", "-q", "-C", "-U", "-Dstyle.color=never", "-f", str(folder / "pom.xml")]
        argv.append(f"-Dmaven.repo.local={repo}")
        if settings is not None:
            argv += ["-s", str(settings)]
        argv += [f"{PLUGIN}:list", f"-DoutputFile={listing}", "-DincludeScope=runtime"]
        argv += ["-DoutputAbsoluteArtifactFilename=true", "-DappendOutput=false"]
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise MavenError(
                f"mvn did not finish in {TIMEOUT_S:.0f} s",
                "check the network path to your Maven repository (mirror in settings.xml)",
            ) from exc
        if proc.returncode != 0 or not listing.is_file():
            raise MavenError(error_line(proc.stdout + proc.stderr), _fix(proc.stdout))
        return parse_listing(listing.read_text(), repo)


def error_line(output: str) -> str:
    """The line of mvn's output that says what failed (its first [ERROR] with content)."""
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    errors = [ln.strip() for ln in output.splitlines() if ln.strip().startswith("[ERROR]")]
    errors = [e for e in errors if len(e) > len("[ERROR] ") + 3]
    for line in errors:
        if "Could not" in line or "Failed" in line or "checksum" in line.lower():
            return _short(line)
    tail = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return _short(errors[0] if errors else (tail[-1] if tail else "mvn failed with no output"))


def _short(line: str, limit: int = 600) -> str:
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _fix(output: str) -> str:
    if "checksum" in output.lower():
        return (
            "a download did not match its published checksum: retry, and if it persists ask "
            "whoever runs your Maven mirror"
        )
    if any(s in output for s in ("Could not find artifact", "could not be resolved", "not found")):
        return (
            "check the coordinate in the matrix (`jars:`) or certify/platforms/jars.py, and that "
            "your repository (settings.xml mirror) serves it"
        )
    return "check network access to your Maven repository (settings.xml mirror) and retry"


_LINE = re.compile(
    r"^\s*(\S+?):(\S+?):(\S+?):(?:(\S+?):)?(\S+?):(compile|runtime):(/\S.*?)(?:\s+--\s.*)?$"
)


def parse_listing(text: str, repo: Path) -> list[Artifact]:
    """The artifacts of `dependency:list` output with absolute file names."""
    found: list[Artifact] = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        group, artifact, kind, classifier, version, scope, path = match.groups()
        if kind != "jar":
            continue
        coordinate = f"{group}:{artifact}:{version}" + (f":{classifier}" if classifier else "")
        file = Path(path.strip())
        found.append(Artifact(coordinate, scope, file, _repository(file)))
    return found


def _repository(path: Path) -> str:
    """The id of the remote repository a file came from (Maven's `_remote.repositories`)."""
    marker = path.parent / "_remote.repositories"
    try:
        for line in marker.read_text().splitlines():
            if line.startswith(path.name + ">"):
                return line.split(">", 1)[1].rstrip("=") or "local"
    except OSError:
        pass
    return "unknown"
