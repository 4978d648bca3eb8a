"""An incident's indicators as a STIX 2.1 bundle, for sharing with other teams, ISACs or a TIP.

Only what others can match on is shared: external IP addresses, domains, URLs and file hashes named by the
incident. Accounts, e-mails, cards and internal addresses stay home. Ids are derived from the incident and
the pattern (UUIDv5), so exporting the same incident twice yields the same ids and a receiver de-duplicates.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Optional

import stix2

from storewatch.forensics.findings import is_external

# Namespace of storewatch's deterministic STIX ids.
NAMESPACE = uuid.UUID("5b0f3c1e-8d0c-4c53-9d54-6f3f8c2b7a10")
HASH_ALGORITHMS = {32: "MD5", 40: "SHA-1", 64: "SHA-256"}


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern(etype: str, value: str) -> Optional[str]:
    """The STIX pattern matching one entity, or None when it is not shareable."""
    if etype == "ip" and is_external(value):
        return f"[{'ipv6-addr' if ':' in value else 'ipv4-addr'}:value = {_literal(value)}]"
    if etype == "domain":
        return f"[domain-name:value = {_literal(value.lower())}]"
    if etype == "url":
        return f"[url:value = {_literal(value)}]"
    if etype == "hash" and len(value) in HASH_ALGORITHMS:
        return f"[file:hashes.'{HASH_ALGORITHMS[len(value)]}' = {_literal(value.lower())}]"
    return None


def _sid(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join(parts))}"


def build(incident: Mapping) -> Optional[stix2.Bundle]:
    """Identity + one Indicator per shareable entity + a Report referencing them; None when nothing is shareable."""
    identity = stix2.Identity(id=_sid("identity", "storewatch"), name="storewatch", identity_class="system",
                              description="Security analytics for retailers; produced this bundle from an incident.")
    ref = [{"source_name": "storewatch", "external_id": incident["id"]}]
    valid_from = datetime.fromisoformat(incident["first_seen"].replace("Z", "+00:00"))
    indicators = []
    for e in incident["entities"]:
        pat = pattern(e["type"], str(e["value"]))
        if pat is None:
            continue
        indicators.append(stix2.Indicator(
            id=_sid("indicator", incident["id"], pat), name=f"{e['type']} {e['value']}", pattern=pat,
            pattern_type="stix", valid_from=valid_from, indicator_types=["malicious-activity"],
            description=f"Seen in storewatch incident {incident['id']}: {incident['title']}",
            created_by_ref=identity.id, external_references=ref))
    if not indicators:
        return None
    report = stix2.Report(
        id=_sid("report", incident["id"]), name=incident["title"], description=incident["summary"],
        published=datetime.now(timezone.utc), report_types=["threat-report"], created_by_ref=identity.id,
        object_refs=[i.id for i in indicators], external_references=ref)
    return stix2.Bundle(objects=[identity, *indicators, report])


def write(incident: Mapping, path: Path) -> int:
    """Write the bundle (validated by parsing it back) and return the number of indicators; 0 writes nothing."""
    bundle = build(incident)
    if bundle is None:
        return 0
    text = bundle.serialize(pretty=True)
    parsed = stix2.parse(text, allow_custom=False)
    count = sum(1 for o in parsed.objects if o.type == "indicator")
    path.write_text(text + "\n", encoding="utf-8")
    return count
