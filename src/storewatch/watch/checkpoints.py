"""Where `watch` stopped in every file it follows, kept in the store so that a restart resumes there.

A file is known by its identity, the device and inode, plus a fingerprint of its first bytes (up to
`HEAD_BYTES` of what was read): a file renamed by rotation is the same file, while an inode reused by a
new file, or a file truncated and written again (copy-truncate), is not. A checkpoint says how far the
file was read and stored (`offset`, the number of the line there) and, for a file read whole, the size
and modification time it had when it was read.

A record's id depends on how many identical records came before it in the file (see
`storewatch.ingest.engine`), so a file's numbering outlives the process: the 64-bit hashes of its records,
appended to `<workspace>/watch/<device>-<inode>.seen` and made durable *before* the checkpoint that
counts them commits. A checkpoint therefore never counts a hash the file lacks; hashes written after the
last commit are cut off when the file is loaded.

The checkpoints commit in the transaction that writes the pass's accounting; events are Parquet segments
renamed into place just before it. A crash between the two leaves events stored beyond the checkpoint:
the next run reads them again and the store drops them as duplicates by their ids. No line is lost or
stored twice either way.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from storewatch.store import db
from storewatch.workspace import Workspace

HEAD_BYTES = 1024
FOLDER = "watch"
TABLE = """CREATE TABLE IF NOT EXISTS watch_files (
    dev UBIGINT, inode UBIGINT, path VARCHAR, kind VARCHAR, "offset" BIGINT, line_no BIGINT,
    head_len INTEGER, head_md5 VARCHAR, size BIGINT, mtime DOUBLE, hashes BIGINT, updated TIMESTAMPTZ,
    PRIMARY KEY (dev, inode))"""
_COLUMNS = ("dev", "inode", "path", "kind", "offset", "line_no", "head_len", "head_md5", "size", "mtime", "hashes")
MERGE_CHUNKS = 8  # a file's numbering is kept as this many sorted arrays at most (merged beyond)


@dataclass
class Checkpoint:
    """One followed file: its identity and how far it was read and committed. `kind` is "tail" (read
    line by line as it grows), "whole" (read whole whenever it changed: compressed, documents, files of
    no line format) or "" (not decided: nothing complete to sniff yet)."""

    dev: int
    inode: int
    path: str
    kind: str = ""
    offset: int = 0
    line_no: int = 1
    head_len: int = 0
    head_md5: str = ""
    size: int = -1
    mtime: float = 0.0
    hashes: int = 0
    seen: list[np.ndarray] | None = field(default=None, repr=False)  # the numbering, loaded when first read

    @property
    def key(self) -> tuple[int, int]:
        return self.dev, self.inode

    def row(self) -> tuple:
        return tuple(getattr(self, c) for c in _COLUMNS)


def head_digest(path: Path, length: int) -> str | None:
    """The fingerprint of a file's first `length` bytes, or None when it has fewer now."""
    with open(path, "rb") as fh:
        data = fh.read(length)
    return hashlib.md5(data).hexdigest() if len(data) == length else None


def load(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, int], Checkpoint]:
    con.execute(TABLE)
    rows = con.execute(f"SELECT {', '.join(map(_quoted, _COLUMNS))} FROM watch_files").fetchall()
    return {(r[0], r[1]): Checkpoint(*r) for r in rows}


def numbering(ws: Workspace, cp: Checkpoint) -> list[np.ndarray]:
    """The file's record hashes the checkpoint counts (the rest of the file, written by a pass that did
    not commit, is cut off), as one sorted array; none when the file is missing or short."""
    path = _seen_path(ws, cp)
    if not cp.hashes:
        path.unlink(missing_ok=True)
        return []
    if not path.exists() or path.stat().st_size < cp.hashes * 8:  # (removed with a file restarted just
        return []  # before a crash, which restarts again; or lost)
    with open(path, "r+b") as fh:
        fh.truncate(cp.hashes * 8)
        return [np.sort(np.fromfile(fh, np.uint64, cp.hashes))]


def extend_numbering(ws: Workspace, cp: Checkpoint, new: list[np.ndarray]) -> None:
    """Append the hashes a pass added to the file's numbering, durably; the checkpoint counts them when it
    commits. Keeps the in-memory numbering to a few sorted arrays."""
    added = np.concatenate(new) if new else np.empty(0, np.uint64)
    if len(added):
        path = _seen_path(ws, cp)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as fh:
            if fh.tell() != cp.hashes * 8:  # what an interrupted pass appended
                fh.truncate(cp.hashes * 8)
            fh.write(added.astype(np.uint64).tobytes())
            fh.flush()
            os.fsync(fh.fileno())
    cp.hashes += len(added)
    if cp.seen is not None and len(cp.seen) > MERGE_CHUNKS:
        cp.seen[:] = [np.sort(np.concatenate(cp.seen))]


def forget_numbering(ws: Workspace, cp: Checkpoint) -> None:
    """A file that is no longer the one checkpointed (truncated, its inode reused) starts afresh."""
    _seen_path(ws, cp).unlink(missing_ok=True)
    cp.hashes, cp.seen = 0, []


def save(con: duckdb.DuckDBPyConnection, checkpoints: list[Checkpoint]) -> None:
    """Write checkpoints (inside the caller's transaction)."""
    if not checkpoints:
        return
    table = pa.table({c: [cp.row()[i] for cp in checkpoints] for i, c in enumerate(_COLUMNS)})
    with db.registered(con, _checkpoints=table):
        con.execute(f"INSERT OR REPLACE INTO watch_files SELECT {', '.join(map(_quoted, _COLUMNS))}, now() "
                    "FROM _checkpoints")


def drop(con: duckdb.DuckDBPyConnection, gone: list[Checkpoint]) -> None:
    """Forget files that no longer exist (inside the caller's transaction; `forget_numbering` after it)."""
    for cp in gone:
        con.execute("DELETE FROM watch_files WHERE dev = ? AND inode = ?", list(cp.key))


def _seen_path(ws: Workspace, cp: Checkpoint) -> Path:
    return ws.home / FOLDER / f"{cp.dev}-{cp.inode}.seen"


def _quoted(name: str) -> str:
    return f'"{name}"'
