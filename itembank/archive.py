"""Reading zip archives (QTI packages, .xlsx workbooks) with bounded memory and time.

An uploaded archive is checked before anything is decompressed, and every member is counted
while it is read:

1. the end-of-central-directory record (read by hand, before ``zipfile`` builds one object per
   member) gives the number of members and the size of the directory: more than
   ``max_members`` is refused;
2. the declared sizes: a member larger than ``max_member_bytes``, a total larger than
   ``max_total_bytes``, or a member above 1 MiB compressed more than ``max_ratio`` times, is
   refused;
3. reading decompresses in 64 KiB chunks and stops at the first byte over the member's or the
   archive's budget, whatever the header claimed.

Workbooks are scanned the same way once more (``check_workbook``): the number of shared
strings, rows and cells is counted while decompressing, so that a small file that would keep
the spreadsheet reader busy for minutes (millions of empty rows or strings) is refused in a
fraction of a second.

A refusal is :class:`ArchiveLimitError` (422) naming the member and the limit. Memory held at
once: one member (at most ``max_member_bytes``) plus a 64 KiB chunk.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from itembank.errors import ValidationError
from itembank.i18n import Message

CHUNK = 64 * 1024
RATIO_FLOOR = 2**20  # small members compress very well legitimately (a run of spaces)


class ArchiveLimitError(ValidationError):
    """An archive was refused before or while it was decompressed."""

    code = "archive_refused"


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    max_members: int
    max_member_bytes: int
    max_total_bytes: int
    max_ratio: float = 100.0


# A QTI package of 10,000 items with pictures stays far below these.
QTI_LIMITS = ArchiveLimits(max_members=50_000, max_member_bytes=20 * 2**20, max_total_bytes=512 * 2**20)
# An .xlsx of 10,000 items is about 25 MiB of XML; pictures may sit beside it.
XLSX_LIMITS = ArchiveLimits(max_members=2_000, max_member_bytes=64 * 2**20, max_total_bytes=256 * 2**20)


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    """What a workbook may hold: 10,000 items use about a tenth of each."""

    max_shared_strings: int = 300_000
    max_rows: int = 100_000
    max_cells: int = 1_000_000


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f}"


def member_count(data: bytes, source: str) -> int:
    """The number of members the end-of-central-directory record announces (zip64 too)."""
    tail = data[-(22 + 65535):]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ArchiveLimitError(Message("{source}: not a zip archive (no central directory); save the file again",
                                        source=source), field="file")
    total = struct.unpack("<H", tail[at + 10:at + 12])[0]
    if total == 0xFFFF:  # zip64: the locator precedes the record
        loc = tail.rfind(b"PK\x06\x07", 0, at)
        if loc >= 0:
            offset = struct.unpack("<Q", tail[loc + 8:loc + 16])[0]
            record = data[offset:offset + 56]
            if record[:4] == b"PK\x06\x06" and len(record) >= 40:
                total = struct.unpack("<Q", record[32:40])[0]
    return total


class SafeZip:
    """A zip archive read within ``limits`` (see the module docstring)."""

    def __init__(self, data: bytes, *, limits: ArchiveLimits, source: str) -> None:
        self.source = source
        self.limits = limits
        n = member_count(data, source)
        if n > limits.max_members:
            raise ArchiveLimitError(Message(
                "{source}: the archive has {n} members, more than the {limit} accepted; split it",
                source=source, n=n, limit=limits.max_members), field="file")
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError, struct.error) as exc:
            raise ArchiveLimitError(Message("{source}: not a readable zip archive ({reason})", source=source,
                                            reason=str(exc)), field="file") from exc
        infos = self.zf.infolist()
        if len(infos) > limits.max_members:
            raise ArchiveLimitError(Message(
                "{source}: the archive has {n} members, more than the {limit} accepted; split it",
                source=source, n=len(infos), limit=limits.max_members), field="file")
        total = 0
        for info in infos:
            self._check_declared(info)
            total += info.file_size
        if total > limits.max_total_bytes:
            raise ArchiveLimitError(Message(
                "{source}: the archive would unpack to {size} MiB, more than the {limit} MiB accepted; split it",
                source=source, size=_mib(total), limit=_mib(limits.max_total_bytes)), field="file")
        self.budget = limits.max_total_bytes
        self.names = {i.filename for i in infos}

    def _check_declared(self, info: zipfile.ZipInfo) -> None:
        lim = self.limits
        if info.file_size > lim.max_member_bytes:
            raise ArchiveLimitError(Message(
                "{source}: member {member} would unpack to {size} MiB, more than the {limit} MiB accepted",
                source=self.source, member=info.filename, size=_mib(info.file_size),
                limit=_mib(lim.max_member_bytes)), field="file")
        if info.file_size > RATIO_FLOOR and info.file_size > lim.max_ratio * max(info.compress_size, 1):
            raise ArchiveLimitError(Message(
                "{source}: member {member} is compressed {ratio:.0f} times (more than {limit:.0f}): refused as a "
                "decompression bomb", source=self.source, member=info.filename,
                ratio=info.file_size / max(info.compress_size, 1), limit=lim.max_ratio), field="file")

    def namelist(self) -> list[str]:
        return self.zf.namelist()

    def chunks(self, name: str) -> Iterator[bytes]:
        """The member's bytes in chunks, stopped at the first byte over its budget."""
        info = self.zf.getinfo(name)
        self._check_declared(info)
        cap = min(self.limits.max_member_bytes, self.budget)
        seen = 0
        try:
            with self.zf.open(info) as f:
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    seen += len(chunk)
                    if seen > cap:
                        raise ArchiveLimitError(Message(
                            "{source}: member {member} unpacks to more than {limit} MiB (its header said {declared} "
                            "MiB); refused as a decompression bomb", source=self.source, member=name,
                            limit=_mib(cap), declared=_mib(info.file_size)), field="file")
                    yield chunk
        except ArchiveLimitError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
            raise ArchiveLimitError(Message("{source}: member {member} is damaged ({reason})", source=self.source,
                                            member=name, reason=str(exc)), field="file") from exc
        finally:
            self.budget -= seen

    def read(self, name: str) -> bytes:
        return b"".join(self.chunks(name))

    def close(self) -> None:
        self.zf.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _too_many(tag: bytes, source: str, limit: int) -> Message:
    if tag == b"si":
        return Message("{source}: the workbook holds more than {limit} distinct texts (shared strings); a bank's "
                       "import holds far fewer — split the file", source=source, limit=limit)
    if tag == b"row":
        return Message("{source}: the workbook has more than {limit} rows; delete the empty rows at the end of the "
                       "sheets or split the file", source=source, limit=limit)
    return Message("{source}: the workbook has more than {limit} cells; delete the unused rows and columns or split "
                   "the file", source=source, limit=limit)


_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(si|row|c)[\s/>]")


def check_workbook(data: bytes, *, source: str, limits: ArchiveLimits = XLSX_LIMITS,
                   counts: WorkbookLimits = WorkbookLimits()) -> None:
    """Refuse an .xlsx whose unpacking or reading would be out of bounds (see the module
    docstring); the spreadsheet reader runs only on a workbook that passed."""
    if not data.startswith(b"PK"):
        return  # not a zip at all: the workbook reader says so in its own words
    totals = {b"si": 0, b"row": 0, b"c": 0}
    caps = {b"si": counts.max_shared_strings, b"row": counts.max_rows, b"c": counts.max_cells}
    with SafeZip(data, limits=limits, source=source) as z:
        for name in z.namelist():
            if not name.endswith(".xml") or not (name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml"):
                for _ in z.chunks(name):  # counted against the budget all the same
                    pass
                continue
            carry = b""
            for chunk in z.chunks(name):
                buf = carry + chunk
                # a tag cut by the chunk boundary is counted with the next chunk
                cut = max(0, len(buf) - 64)
                last = buf.rfind(b"<", cut)
                end = last if last >= 0 else len(buf)
                for m in _TAG.finditer(buf, 0, end):
                    tag = m.group(1)
                    totals[tag] += 1
                    if totals[tag] > caps[tag]:
                        raise ArchiveLimitError(_too_many(tag, source, caps[tag]), field="file")
                carry = buf[end:]


__all__ = ["ArchiveLimitError", "ArchiveLimits", "QTI_LIMITS", "SafeZip", "WorkbookLimits", "XLSX_LIMITS",
           "check_workbook", "member_count"]
