"""The model registry: every trained baseline or model is a version kept in the workspace, never overwritten.

`<workspace>/models/<model>/<n>/` holds the artefacts (a Parquet reference table, a joblib model) and
`manifest.json`: training window, feature list, parameters, metrics, the hash of the training data and of
each artefact, when it was made and its status. One version of a model is `current` (what detection uses),
later ones wait as `candidate` until they are promoted, earlier ones are `retired` and can be restored
(rollback). A version id is `<model>@<n>` (`outliers.host@3`). Every change of status is audited.

The folder has the workspace's trust (like the store): artefact hashes in the manifest catch a damaged or
swapped file before it is loaded.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import orjson

from storewatch import audit
from storewatch.workspace import Workspace

MODELS_DIR = "models"
MANIFEST = "manifest.json"
STATUSES = ("candidate", "current", "retired")


class ModelError(ValueError):
    """A version that does not exist, a damaged artefact, or a change the registry refuses."""


def root(ws: Workspace) -> Path:
    return ws.home / MODELS_DIR


def version_id(model: str, number: int) -> str:
    return f"{model}@{number}"


def parse_id(vid: str) -> tuple[str, int]:
    model, sep, number = vid.rpartition("@")
    if not sep or not model or not number.isdigit():
        raise ModelError(f"a version id looks like outliers.host@3, not {vid!r}")
    return model, int(number)


def folder(ws: Workspace, vid: str) -> Path:
    model, number = parse_id(vid)
    return root(ws) / model / str(number)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def _locked(ws: Workspace) -> Iterator[None]:
    """One registry change at a time (a `watch` retrain and an analyst's promote may meet)."""
    root(ws).mkdir(parents=True, exist_ok=True)
    fd = os.open(root(ws) / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_json(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    os.replace(tmp, path)


def manifest(ws: Workspace, vid: str) -> dict:
    path = folder(ws, vid) / MANIFEST
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ModelError(f"no model version {vid!r}: see `storewatch models list`") from None
    except orjson.JSONDecodeError as exc:
        raise ModelError(f"{path} is damaged: {exc}") from None


def versions(ws: Workspace, model: str | None = None) -> list[dict]:
    """Every version's manifest (optionally of one model), by model then version number."""
    out = []
    if not root(ws).exists():
        return out
    for mdir in sorted(p for p in root(ws).iterdir() if p.is_dir() and (model is None or p.name == model)):
        for vdir in sorted((p for p in mdir.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)):
            if (vdir / MANIFEST).exists():
                out.append(manifest(ws, version_id(mdir.name, int(vdir.name))))
    return out


def current(ws: Workspace, model: str) -> dict | None:
    return next((m for m in versions(ws, model) if m["status"] == "current"), None)


def artefact(ws: Workspace, doc: dict, name: str) -> Path:
    """Path of one of a version's artefacts, after checking it is the file that was trained."""
    path = folder(ws, doc["id"]) / name
    expected = doc.get("files", {}).get(name)
    if expected is None or not path.exists() or sha256_file(path) != expected:
        raise ModelError(f"{doc['id']}: artefact {name} is missing or not the one trained (hash mismatch)")
    return path


def create(ws: Workspace, model: str, doc: dict, write: dict[str, Callable[[Path], None]]) -> dict:
    """Save a new version as a candidate: `write` maps artefact names to functions writing that path."""
    with _locked(ws):
        mdir = root(ws) / model
        mdir.mkdir(parents=True, exist_ok=True)
        number = 1 + max((int(p.name) for p in mdir.iterdir() if p.name.isdigit()), default=0)
        vdir = mdir / str(number)
        vdir.mkdir()
        files = {}
        for name, writer in write.items():
            writer(vdir / name)
            files[name] = sha256_file(vdir / name)
        doc = {**doc, "id": version_id(model, number), "model": model, "version": number,
               "created": now_iso(), "status": "candidate", "files": files, "history": []}
        _write_json(vdir / MANIFEST, doc)
    audit.append(ws, "models.train", {"version": doc["id"], "data_hash": doc.get("data_hash")},
                 doc.get("trigger", "retrain"), "candidate saved")
    return doc


def _set_status(ws: Workspace, doc: dict, status: str, why: str, actor: str) -> dict:
    doc = {**doc, "status": status,
           "history": [*doc.get("history", []), {"at": now_iso(), "status": status, "actor": actor, "why": why}]}
    _write_json(folder(ws, doc["id"]) / MANIFEST, doc)
    return doc


def note(ws: Workspace, vid: str, key: str, value: object) -> dict:
    """Record something learned about a version after it was saved (its evaluation) in its manifest."""
    with _locked(ws):
        doc = {**manifest(ws, vid), key: value}
        _write_json(folder(ws, vid) / MANIFEST, doc)
    return doc


def promote(ws: Workspace, vid: str, why: str = "analyst promoted it", actor: str | None = None,
            action: str = "models.promote") -> dict:
    """Make a version current; the version it replaces is retired (and can be restored)."""
    actor = actor or audit.default_actor()
    with _locked(ws):
        doc = manifest(ws, vid)
        if doc["status"] == "current":
            raise ModelError(f"{vid} is already current")
        previous = next((m for m in versions(ws, doc["model"]) if m["status"] == "current"), None)
        if previous:
            _set_status(ws, previous, "retired", f"replaced by {vid}", actor)
        doc = _set_status(ws, doc, "current", why, actor)
    audit.append(ws, action, {"version": vid, "replaced": previous["id"] if previous else None},
                 why, "current", actor=actor)
    return doc


def rollback(ws: Workspace, vid: str, why: str = "analyst restored an earlier version", actor: str | None = None) -> dict:
    """Restore an earlier (retired) version as current: after a peak season, or when a retrain went wrong."""
    doc = manifest(ws, vid)
    if doc["status"] != "retired":
        raise ModelError(f"{vid} is {doc['status']}: rollback restores a retired version (promote a candidate)")
    return promote(ws, vid, why, actor, action="models.rollback")
