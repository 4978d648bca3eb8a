"""Zip archives: each member is read as a file of its own, named `archive.zip!member/path`.

Exports of Windows event logs, attack recordings and vendors' bulk downloads arrive zipped. A member
behaves like a file on disk for everything downstream (sniffing, compression inside it, the record ids
that make re-reading add nothing), so the archive is expanded into members before reading starts; a
member that cannot be read (encrypted, a nested archive, an unsupported compression) is reported by name.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Iterable, NamedTuple


class _Stat(NamedTuple):
    st_size: int
    st_mtime: float


@dataclass(frozen=True)
class ZipMember:
    """One member of a zip archive, with the few file operations ingest uses (`exists`, `is_file`, `stat`)."""

    archive: Path
    name: str
    size: int
    mtime: float
    problem: str | None = None  # why the member cannot be read, if it cannot

    def __str__(self) -> str:
        return f"{self.archive.resolve()}!{self.name}" if self.name else str(self.archive.resolve())

    def exists(self) -> bool:
        return True

    def is_file(self) -> bool:
        return self.problem is None

    def stat(self) -> _Stat:
        return _Stat(self.size, self.mtime)

    def open(self) -> BinaryIO:
        archive = zipfile.ZipFile(self.archive)
        try:
            member = archive.open(self.name)
        except BaseException:
            archive.close()
            raise
        return Closing(member, archive)


class Closing:
    """A stream that closes other objects with it (a member's archive, a decompressor's source)."""

    def __init__(self, stream: BinaryIO, *others):
        self._stream, self._others = stream, others

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def __enter__(self) -> "Closing":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stream.close()
        for other in self._others:
            other.close()


def is_zip(path: Path) -> bool:
    """A zip archive by its magic number (a file's name says nothing)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False


def members(path: Path) -> list[ZipMember]:
    """The archive's files in name order; directories are skipped, unreadable members say why."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = sorted((i for i in archive.infolist() if not i.is_dir()), key=lambda i: i.filename)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return [ZipMember(path, "", 0, 0.0, f"damaged zip archive: {exc}")]
    out = []
    for info in infos:
        base = os.path.basename(info.filename)
        if not base or base.startswith(".") or "__MACOSX/" in info.filename:
            continue  # hidden files, as when reading a folder; macOS resource forks
        problem = None
        if info.flag_bits & 0x1:
            problem = "encrypted zip member: not read"
        elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            problem = f"zip member compressed with method {info.compress_type}: not supported"
        mtime = datetime(*info.date_time).timestamp() if info.date_time[0] >= 1980 else 0.0
        out.append(ZipMember(path, info.filename, info.file_size, mtime, problem))
    return out


def expand_archives(files: Iterable[Path]) -> list[Path | ZipMember]:
    """Files with every zip archive replaced by its members."""
    out: list[Path | ZipMember] = []
    for path in files:
        out.extend(members(path) if isinstance(path, Path) and path.is_file() and is_zip(path) else [path])
    return out
