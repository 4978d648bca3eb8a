"""Saved searches: named queries kept in the workspace's `searches.yml`, meant to be read in a diff.

Saving and deleting are analyst changes: each is written to the audit log.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import yaml

from storewatch import audit
from storewatch.hunt.parse import QueryError, parse
from storewatch.workspace import Workspace

FILE = "searches.yml"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise QueryError(f"{name!r}: a saved search's name is 1-64 lower-case letters, digits, '_' or '-'")
    return name


def load(ws: Workspace) -> dict[str, dict]:
    """Name → {query, saved_at}, in name order."""
    path = ws.home / FILE
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    if not isinstance(doc, dict):
        return {}
    return {str(k): v for k, v in sorted(doc.items()) if isinstance(v, dict) and isinstance(v.get("query"), str)}


def get(ws: Workspace, name: str) -> dict:
    found = load(ws).get(name)
    if found is None:
        raise QueryError(f"no saved search named {name!r} (see `storewatch search list`)")
    return found


def save(ws: Workspace, name: str, query: str) -> dict:
    """Keep `query` under `name` (replacing one of the same name) once it parses and compiles."""
    from storewatch.hunt.compile import compile_query

    compile_query(parse(query))  # a search that cannot run is not saved
    searches = load(ws)
    entry = {"query": query, "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    replaced = check_name(name) in searches
    searches[name] = entry
    _write(ws, searches)
    audit.append(ws, "search.save", {"name": name, "query": query}, "saved search", "replaced" if replaced else "saved")
    return entry


def delete(ws: Workspace, name: str) -> None:
    searches = load(ws)
    if name not in searches:
        raise QueryError(f"no saved search named {name!r} (see `storewatch search list`)")
    gone = searches.pop(name)
    _write(ws, searches)
    audit.append(ws, "search.delete", {"name": name, "query": gone["query"]}, "saved search removed", "deleted")


def _write(ws: Workspace, searches: dict[str, dict]) -> None:
    path = ws.home / FILE
    tmp = path.with_suffix(".yml.tmp")
    tmp.write_text(yaml.safe_dump(searches, sort_keys=True, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)
