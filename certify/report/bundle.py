"""Evidence bundles: a run folder as a tarball with a manifest of sha256 sums and provenance.

`MANIFEST.json` (certify.bundle/1) is the first member; it lists every other member with its
size and sha256, and carries the run's provenance and gate. Verification never extracts:
members are hashed as they are read, and anything not a plain file is itself a finding.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from certify.errors import UnusableReport, UsageError
from certify.report.jsondoc import integer, obj, objs, text
from certify.report.readback import read_report
from certify.results.findings import JsonObject

BUNDLE_SCHEMA = "certify.bundle/1"
MANIFEST = "MANIFEST.json"
# Scratch space of the cells (Spark warehouses, Derby metastores): not evidence, often large.
_SKIP_DIRS = ("work",)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class _Member:
    """One file of the bundle as the manifest lists it."""

    path: str
    size: int
    sha256: str

    def to_json(self) -> JsonObject:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: JsonObject) -> _Member:
        return cls(
            text(data["path"], "path"),
            integer(data["size"], "size"),
            text(data["sha256"], "sha256"),
        )


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _evidence_files(run_dir: Path, skip: Path | None) -> Iterator[Path]:
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir)
        if rel.parts[0] in _SKIP_DIRS or path.name.startswith(".") or not path.is_file():
            continue
        if path.is_symlink() or (skip is not None and path.resolve() == skip.resolve()):
            continue
        yield path


def create_bundle(run_dir: Path, dest: Path | None = None) -> tuple[Path, str]:
    """Write `dest` (default: RUN_DIR.tar.gz beside it); returns it and the manifest's sha256."""
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: not a run folder")
    doc = read_report(run_dir)  # only a run with a valid report is evidence worth bundling
    dest = dest or run_dir.with_name(run_dir.name + ".tar.gz")
    files = []
    for path in _evidence_files(run_dir, dest):
        with path.open("rb") as stream:
            files.append(
                _Member(path.relative_to(run_dir).as_posix(), path.stat().st_size, _sha256(stream))
            )
    gate = obj(doc["gate"], "gate")
    manifest: JsonObject = {
        "schema": BUNDLE_SCHEMA,
        "run": doc["run"],
        "gate": {"verdict": gate["verdict"], "reasons": gate["reasons"]},
        "files": [f.to_json() for f in files],
    }
    body = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    tmp = dest.with_name(f".{dest.name}.tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(body))
        for entry in files:
            tar.add(run_dir / entry.path, arcname=entry.path, recursive=False)
    tmp.replace(dest)
    return dest, hashlib.sha256(body).hexdigest()


def _manifest(tar: tarfile.TarFile, bundle: Path) -> tuple[JsonObject, str]:
    try:
        member = tar.getmember(MANIFEST)
        stream = tar.extractfile(member)
        body = stream.read() if stream else b""
        manifest = json.loads(body)
    except (KeyError, ValueError) as exc:
        raise UnusableReport(
            f"{bundle}: no readable {MANIFEST} ({exc}): not a certify bundle"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("schema") != BUNDLE_SCHEMA:
        raise UnusableReport(f"{bundle}: {MANIFEST} is not a {BUNDLE_SCHEMA} manifest")
    return manifest, hashlib.sha256(body).hexdigest()


def _check_members(
    tar: tarfile.TarFile, listed: dict[str, _Member]
) -> tuple[list[str], dict[str, bytes]]:
    problems: list[str] = []
    seen: set[str] = set()
    report: dict[str, bytes] = {}
    for member in tar:
        name = member.name
        if name == MANIFEST:
            continue
        if not member.isfile():
            problems.append(f"{name}: not a plain file (a link or device) in the bundle")
            continue
        if name in seen:
            problems.append(f"{name}: appears twice in the bundle")
        seen.add(name)
        entry = listed.get(name)
        if entry is None:
            problems.append(f"{name}: not in the manifest (added after bundling)")
            continue
        stream = tar.extractfile(member)
        if stream is None:
            problems.append(f"{name}: unreadable member")
            continue
        if name == "report.json":  # kept to compare its provenance with the manifest's
            report[name] = stream.read()
            digest = hashlib.sha256(report[name]).hexdigest()
        else:
            digest = _sha256(stream)
        if digest != entry.sha256 or member.size != entry.size:
            problems.append(f"{name}: sha256 or size differs from the manifest (modified)")
    problems += [
        f"{name}: in the manifest but missing from the bundle"
        for name in listed
        if name not in seen
    ]
    return problems, report


def verify_bundle(bundle: Path, manifest_sha256: str | None = None) -> list[str]:
    """Every problem found in `bundle` (empty when it is intact); UnusableReport if unreadable."""
    try:
        tar = tarfile.open(bundle, "r:*")  # noqa: SIM115 (closed by the `with tar` below)
    except (OSError, tarfile.TarError) as exc:
        raise UnusableReport(f"{bundle}: not a readable tarball: {exc}") from None
    try:
        with tar:
            manifest, digest = _manifest(tar, bundle)
            try:
                files = objs(manifest.get("files", []), "files")
                listed = {m.path: m for m in map(_Member.from_json, files)}
            except (KeyError, TypeError) as exc:
                raise UnusableReport(
                    f"{bundle}: {MANIFEST} lists a malformed file: {exc}"
                ) from None
            problems, report = _check_members(tar, listed)
    except (tarfile.TarError, OSError, EOFError) as exc:
        return [f"{bundle}: damaged archive: {exc}"]
    if manifest_sha256 and digest != manifest_sha256.lower():
        problems.insert(0, f"{MANIFEST}: sha256 {digest} is not the expected {manifest_sha256}")
    if "report.json" not in listed:
        problems.append("report.json: the bundle holds no report")
    elif "report.json" in report:
        try:
            run = json.loads(report["report.json"]).get("run")
        except ValueError:
            run = None
        if run != manifest.get("run"):
            problems.append("report.json: its run and provenance differ from the manifest's")
    return problems
