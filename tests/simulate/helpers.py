"""Reading simulator output back: raw text of every file (gz transparently), labels."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

LEDGERS = {"labels.jsonl", "benign.jsonl", "pans.txt", "README.txt"}


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def data_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and p.name not in LEDGERS)


def all_text(out: Path) -> str:
    return "\n".join(read_text(p) for p in data_files(out))


def labels(out: Path, name: str = "labels.jsonl") -> list[dict]:
    return [json.loads(line) for line in (out / name).read_text().splitlines() if line.strip()]
