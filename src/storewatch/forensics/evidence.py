"""Evidence bundles: an incident, its alerts, its timeline and its raw events, sealed with SHA-256.

A bundle is a folder:

    incident.json  alerts.json  timeline.json  events.parquet  events.jsonl  [indicators.stix.json]
    manifest.json   every other file with its size and SHA-256, the hash of that list, tool, version, time
    SHA256SUMS      `sha256sum -c` format, every file including manifest.json

`verify` recomputes everything and reports any file modified, missing or added, and any disagreement
between the manifest and SHA256SUMS. Someone able to rewrite all three consistently defeats any in-band
check, so `export` also records the manifest's SHA-256 in the workspace's append-only audit log and
returns it: compare it out of band (`storewatch verify-evidence DIR --expect SHA256`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Optional

import orjson

from storewatch import __version__, audit
from storewatch.forensics import stix as stix_bundle
from storewatch.forensics.timeline import trace
from storewatch.store import reader
from storewatch.workspace import Workspace

FORMAT = "storewatch-evidence/1"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
STIX_FILE = "indicators.stix.json"
CHUNK = 1 << 20


class EvidenceError(Exception):
    """The bundle cannot be written where asked."""


@dataclass(frozen=True)
class Exported:
    path: Path
    manifest_sha256: str
    files: list[dict]
    events: int
    indicators: Optional[int]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sums_text(entries: list[dict]) -> str:
    """`sha256sum` lines, sorted by path: the form SHA256SUMS uses and files_sha256 hashes."""
    return "".join(f"{e['sha256']}  {e['path']}\n" for e in sorted(entries, key=lambda e: e["path"]))


def _files(bundle: Path) -> list[str]:
    return sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file() or p.is_symlink())


def _write_json(path: Path, data: object) -> None:
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                                  default=str) + b"\n")


def _prepare(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EvidenceError(f"{out} exists and is not an empty folder; choose a new one so nothing gets mixed in")
    out.mkdir(parents=True, exist_ok=True)


def export(ws: Workspace, incident_id: str, out: Path, stix: bool = False) -> Path:
    """Write the bundle for an incident into `out` (new or empty) and return its path (see `export_bundle`)."""
    return export_bundle(ws, incident_id, out, stix).path


def export_bundle(ws: Workspace, incident_id: str, out: Path, stix: bool = False) -> Exported:
    """Write the bundle; raises timeline.UnknownIncident before writing anything when the id matches nothing."""
    out = Path(out)
    with reader.opened(ws) as con, trace(con, incident_id) as t:
        _prepare(out)
        incident = {k: v for k, v in t.incident.items() if k != "alert_details"}
        _write_json(out / "incident.json", incident)
        _write_json(out / "alerts.json", t.incident["alert_details"])
        _write_json(out / "timeline.json", t.timeline(limit=None))
        events = t.copy_events(out / "events.parquet", "PARQUET")
        t.copy_events(out / "events.jsonl", "JSON")
        indicators = stix_bundle.write(t.incident, out / STIX_FILE) if stix else None
    entries = [{"path": rel, "bytes": (out / rel).stat().st_size, "sha256": sha256_file(out / rel)}
               for rel in _files(out)]
    manifest = {
        "format": FORMAT, "tool": "storewatch", "version": __version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "incident_id": incident["id"], "events": events, "stix_indicators": indicators,
        "files": entries, "files_sha256": hashlib.sha256(_sums_text(entries).encode()).hexdigest(),
    }
    _write_json(out / MANIFEST, manifest)
    digest = sha256_file(out / MANIFEST)
    (out / SUMS).write_text(_sums_text(entries + [{"path": MANIFEST, "sha256": digest}]), encoding="utf-8")
    audit.append(ws, "evidence.export", {"incident": incident["id"], "bundle": str(out.resolve()),
                                         "manifest_sha256": digest, "files": len(entries), "events": events,
                                         "stix_indicators": indicators},
                 why=f"evidence bundle for incident {incident['id']}", result="written")
    return Exported(out, digest, entries, events, indicators)


def _read_sums(path: Path) -> tuple[dict[str, str], list[str]]:
    sums, problems = {}, []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            problems.append(f"{SUMS}: line {n} is not '<sha256>  <file>'")
            continue
        sums[name] = digest
    return sums, problems


def _unsafe(rel: str) -> bool:
    p = PurePosixPath(rel)
    return p.is_absolute() or ".." in p.parts or rel in ("", ".")


def verify(bundle_dir: Path, expected_manifest_sha256: Optional[str] = None) -> list[str]:
    """Problems with a bundle: files modified, missing or added, a manifest that disagrees; empty = intact."""
    bundle = Path(bundle_dir)
    if not bundle.is_dir():
        return [f"{bundle}: not a folder"]
    if not (bundle / MANIFEST).is_file():
        return [f"missing: {MANIFEST} (nothing to verify against)"]
    try:
        manifest = orjson.loads((bundle / MANIFEST).read_bytes())
        entries = [{"path": str(e["path"]), "bytes": int(e["bytes"]), "sha256": str(e["sha256"])}
                   for e in manifest["files"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return [f"modified: {MANIFEST} (not a readable manifest)"]
    problems: list[str] = []
    manifest_sha = sha256_file(bundle / MANIFEST)
    if expected_manifest_sha256 and manifest_sha != expected_manifest_sha256.lower():
        problems.append(f"modified: {MANIFEST} (SHA-256 {manifest_sha} is not the expected {expected_manifest_sha256})")
    if manifest.get("files_sha256") != hashlib.sha256(_sums_text(entries).encode()).hexdigest():
        problems.append(f"modified: {MANIFEST} (its file list does not match its files_sha256)")
    problems += _check_sums(bundle, entries, manifest_sha)
    for e in entries:
        if _unsafe(e["path"]):
            problems.append(f"modified: {MANIFEST} (unsafe path {e['path']!r})")
            continue
        path = bundle / e["path"]
        if not path.is_file():
            problems.append(f"missing: {e['path']}")
        elif path.stat().st_size != e["bytes"] or sha256_file(path) != e["sha256"]:
            problems.append(f"modified: {e['path']} (size or SHA-256 differs from the manifest)")
    listed = {e["path"] for e in entries} | {MANIFEST, SUMS}
    problems += [f"added: {rel} (not in the manifest)" for rel in _files(bundle) if rel not in listed]
    return problems


def _check_sums(bundle: Path, entries: list[dict], manifest_sha: str) -> list[str]:
    """SHA256SUMS must list exactly the manifest's files with the same hashes, plus the manifest itself."""
    if not (bundle / SUMS).is_file():
        return [f"missing: {SUMS}"]
    sums, problems = _read_sums(bundle / SUMS)
    if sums.get(MANIFEST) != manifest_sha:
        problems.append(f"modified: {MANIFEST} (its SHA-256 does not match {SUMS})")
    expected = {e["path"]: e["sha256"] for e in entries}
    for name in sorted(set(sums) - {MANIFEST} | set(expected)):
        if sums.get(name) != expected.get(name):
            problems.append(f"modified: {SUMS} (entry for {name} disagrees with the manifest)")
    return problems
