"""Reading a .tar.gz strictly, in one pass, without extracting anything.

Python's tarfile stops at the tar end-of-archive marker, so the rest of the gzip stream (the
tar's zero padding, the deflate tail, the CRC32 and length trailer) is never decompressed nor
checked; it skips the padding after each member's data unread; it ignores unknown pax keys and
the bytes of the checksum field after its NUL; and it takes an unreadable header after the
first for the end of the archive. A byte flipped in any of those places was reported intact.
This reader decompresses every byte to the end of the gzip member (zlib checks CRC32 and length
there), insists that padding and everything after the end marker is zeros and that nothing
follows the gzip member, parses pax records exactly, and hashes the raw file as it reads it.

What no reader can see: the gzip header's mtime/name/OS fields and a few redundant bits of the
deflate stream change no decompressed byte. Only the sha256 of the whole file covers those,
which is why a signed attestation digests the archive itself (certify.report.attest).
"""

from __future__ import annotations

import hashlib
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

BLOCK = 512
_CHUNK = 1 << 16
_ZERO = bytes(BLOCK)
# tarfile's type letters: what a member may be, named for the message that rejects it
_KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "contiguous file",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.DIRTYPE: "directory",
    tarfile.FIFOTYPE: "fifo",
}
_NO_DATA = frozenset({tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE})
_PAX_KEYS = {"path", "linkpath", "size", "mtime", "uid", "gid", "uname", "gname"}
_MAX_PAX = 1 << 20


class Damaged(Exception):
    """The archive cannot be read further; the message says where and why."""


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile archive (a decompression bomb, a million members) finite."""

    uncompressed: int = 4 << 30
    members: int = 200_000


@dataclass(frozen=True)
class Entry:
    """One member's header: its name, what it is and how many bytes of data follow."""

    name: str
    kind: str  # "file", "symlink", "hardlink", "directory", ... or "type 'X'"
    size: int
    target: str = ""  # a link's target

    @property
    def is_file(self) -> bool:
        """A plain file (the only kind of member a bundle may hold)."""
        return self.kind == "file"


class Inflated:
    """The decompressed bytes of one gzip member, read exactly, with the raw file's sha256."""

    def __init__(self, raw: IO[bytes], limits: Limits) -> None:
        self._raw = raw
        self._limit = limits.uncompressed
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)  # gzip framing, trailer checked
        self._buf = bytearray()
        self._sha = hashlib.sha256()
        self._raw_done = False
        self.total = 0

    def _feed(self) -> None:
        data = self._z.unconsumed_tail
        if not data and not self._raw_done:
            data = self._raw.read(_CHUNK)
            self._sha.update(data)
            self._raw_done = not data
        try:  # with no input left this still flushes what zlib holds back
            out = self._z.decompress(data, _CHUNK)
        except zlib.error as exc:
            raise Damaged(f"the compressed stream is damaged ({exc})") from None
        if not out and not data and not self._z.eof:
            raise Damaged("the file ends inside the compressed stream (truncated)")
        self.total += len(out)
        if self.total > self._limit:
            raise Damaged(f"it expands beyond {self._limit} bytes (a decompression bomb?)")
        self._buf += out

    def read(self, n: int) -> bytes:
        """Exactly `n` bytes; Damaged when the stream ends first."""
        while len(self._buf) < n:
            if self._z.eof:
                raise Damaged("the tar stream ends inside a member (truncated)")
            self._feed()
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def rest_is_zeros(self) -> bool:
        """Read to the end of the gzip member; True when every byte left was zero."""
        zeros = True
        while True:
            zeros = zeros and self._buf.count(0) == len(self._buf)
            self._buf.clear()
            if self._z.eof:
                return zeros
            self._feed()

    def trailing(self) -> int:
        """How many bytes follow the gzip member in the file (0 for a certify bundle)."""
        extra = len(self._z.unused_data)
        while not self._raw_done and (data := self._raw.read(_CHUNK)):
            self._sha.update(data)
            extra += len(data)
        self._raw_done = True
        return extra

    def sha256(self) -> str:
        """The sha256 of the whole raw file (the rest of it is read first)."""
        while not self._raw_done and (data := self._raw.read(_CHUNK)):
            self._sha.update(data)
        self._raw_done = True
        return self._sha.hexdigest()


def _pax(data: bytes) -> dict[str, str]:
    """Pax records `LEN KEY=VALUE\\n`, each length exact, only keys tarfile writes."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos, pos + 20)
        digits = data[pos:space] if space > pos else b""
        if not digits.isdigit():
            raise Damaged("a pax header record has no length")
        end = pos + int(digits)
        if end > len(data) or end <= space + 1 or data[end - 1 : end] != b"\n":
            raise Damaged("a pax header record's length does not match its bytes")
        key, eq, value = data[space + 1 : end - 1].partition(b"=")
        name = key.decode("ascii", "replace")
        if not eq or name not in _PAX_KEYS:
            raise Damaged(f"a pax header holds {name!r}, not a key certify writes")
        records[name] = value.decode("utf-8", "surrogateescape")
        pos = end
    return records


def _header(block: bytes) -> tarfile.TarInfo:
    try:
        info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except (tarfile.HeaderError, ValueError, OverflowError) as exc:
        raise Damaged(f"a member header is damaged ({exc})") from None
    # the checksum covers every byte but its own field, whose form tarfile writes exactly
    if block[148:156] != b"%06o\x00 " % info.chksum:
        raise Damaged("a member header's checksum field is damaged")
    return info


def _padding(stream: Inflated, size: int, what: str) -> None:
    pad = -size % BLOCK
    if pad and any(stream.read(pad)):
        raise Damaged(f"{what}: the padding after its data is not zeros (damaged)")


def _pax_member(stream: Inflated, info: tarfile.TarInfo) -> dict[str, str]:
    if info.size > _MAX_PAX:
        raise Damaged(f"a pax header of {info.size} bytes (certify writes a few)")
    data = stream.read(info.size)
    _padding(stream, info.size, "a pax header")
    return _pax(data)


def _entry(info: tarfile.TarInfo, pax: dict[str, str]) -> Entry:
    name = pax.get("path", info.name)
    kind = _KINDS.get(info.type, f"type {info.type.decode('latin-1')!r}")
    size = info.size
    if "size" in pax:
        if not pax["size"].isdigit():
            raise Damaged(f"{name}: a pax size that is not a number")
        size = int(pax["size"])
    if info.type in _NO_DATA:  # tarfile reads no data for these, whatever the size field says
        size = 0
    return Entry(name, kind, size, pax.get("linkpath", info.linkname))


def members(stream: Inflated, limits: Limits) -> Iterator[Entry]:
    """Each member's entry; its data must be read with `data` before the next is asked for."""
    count = 0
    pax: dict[str, str] | None = None  # the extended header that applies to the next member
    while True:
        block = stream.read(BLOCK)
        if block == _ZERO:
            if pax is not None:
                raise Damaged("a pax header is followed by the end of the archive")
            return
        info = _header(block)
        if info.type == tarfile.XHDTYPE:
            if pax is not None:
                raise Damaged("two pax headers in a row")
            pax = _pax_member(stream, info)
            continue
        count += 1
        if count > limits.members:
            raise Damaged(f"more than {limits.members} members")
        yield _entry(info, pax or {})
        pax = None


def data(stream: Inflated, entry: Entry) -> Iterator[bytes]:
    """The member's data in chunks, then its padding checked; must be read to the end."""
    left = entry.size
    while left:
        chunk = stream.read(min(left, _CHUNK))
        left -= len(chunk)
        yield chunk
    _padding(stream, entry.size, entry.name)
