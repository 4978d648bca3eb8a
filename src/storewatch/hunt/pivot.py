"""From an entity (an incident's IP, user, host...) to the hunting query that finds its events."""

from __future__ import annotations

from storewatch.hunt.parse import QueryError
from storewatch.store.schema import entity_columns


def quoted(value: str) -> str:
    """`value` as a query phrase: matched literally, whatever it holds."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def entity_query(etype: str, value: str) -> str:
    """`src_ip:"v" OR dst_ip:"v"` for an IP, `user_name:"v"` for a user: every column holding that type."""
    columns = [col for col, kind in entity_columns().items() if kind == etype]
    if not columns:
        known = sorted(set(entity_columns().values()))
        raise QueryError(f"no event column holds entities of type {etype!r} (types: {', '.join(known)})")
    return " OR ".join(f"{col}:{quoted(value)}" for col in columns)
