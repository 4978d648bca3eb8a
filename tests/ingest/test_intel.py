"""STIX bundles -> intel rows, with bundles built by the stix2 library itself."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import orjson
import stix2

from storewatch.ingest.intel import INTEL_COLUMN_NAMES, looks_like, read_bundle
from storewatch.store.schema import INTEL_COLUMNS, create_table_sql

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
T1 = datetime(2026, 12, 1, tzinfo=timezone.utc)

SKIMMER = stix2.Indicator(
    name="Skimmer C2", pattern_type="stix", valid_from=T0, valid_until=T1, confidence=80,
    indicator_types=["malicious-activity"], labels=["magecart"],
    pattern="[domain-name:value IN ('Evil-CDN.example', 'pay.bad.example')] OR [ipv4-addr:value = '203.0.113.0/24']",
)
DROPPER = stix2.Indicator(
    name="POS dropper", pattern_type="stix", valid_from=T0,
    pattern="[file:hashes.'SHA-256' = 'AB12CD34AB12CD34AB12CD34AB12CD34AB12CD34AB12CD34AB12CD34AB12CD34' "
            "OR file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']",
)
MIXED = stix2.Indicator(
    pattern_type="stix", valid_from=T0,
    pattern="[url:value = 'http://evil.example/it\\'s'] AND [email-addr:value = 'Phish@Bad.example'] "
            "AND [process:name = 'mimikatz.exe'] AND [ipv6-addr:value LIKE '2001:db8:%']",
)
REVOKED = stix2.Indicator(pattern_type="stix", valid_from=T0, revoked=True, pattern="[ipv4-addr:value = '198.51.100.7']")
SCOS = [
    stix2.IPv4Address(value="192.0.2.44"),
    stix2.DomainName(value="Phish.Example"),
    stix2.URL(value="https://phish.example/login"),
    stix2.File(name="svc.exe", hashes={"SHA-256": "EF" * 32}),
]


def bundle_bytes(*objects, extra: list[dict] = ()) -> bytes:
    raw = orjson.loads(stix2.Bundle(*objects).serialize())
    raw["objects"] = raw.get("objects", []) + list(extra)
    return orjson.dumps(raw, option=orjson.OPT_INDENT_2)


def by_value(rows: list[dict]) -> dict[str, dict]:
    return {r["value"]: r for r in rows}


def test_indicator_patterns_and_scos() -> None:
    rows, errors = read_bundle(bundle_bytes(SKIMMER, DROPPER, MIXED, REVOKED, *SCOS), "/intel/feed.json")
    assert all(tuple(r) == INTEL_COLUMN_NAMES for r in rows)
    found = by_value(rows)
    assert {v: r["ioc_type"] for v, r in found.items()} == {
        "evil-cdn.example": "domain", "pay.bad.example": "domain", "203.0.113.0/24": "ip",
        "ab12cd34" * 8: "hash", "d41d8cd98f00b204e9800998ecf8427e": "hash",
        "http://evil.example/it's": "url", "phish@bad.example": "email",
        "192.0.2.44": "ip", "phish.example": "domain", "https://phish.example/login": "url", "ef" * 32: "hash",
    }
    skim = found["evil-cdn.example"]
    assert (skim["indicator_id"], skim["name"], skim["confidence"]) == (SKIMMER.id, "Skimmer C2", 80)
    assert skim["labels"] == "malicious-activity,magecart" and skim["pattern"] == SKIMMER.pattern
    assert (skim["valid_from"], skim["valid_until"], skim["source_file"]) == (T0, T1, "/intel/feed.json")
    assert found["ab12cd34" * 8]["valid_until"] is None
    sco = found["192.0.2.44"]
    assert sco["indicator_id"] == SCOS[0].id and sco["pattern"] is None and sco["valid_from"] is None
    assert "198.51.100.7" not in found  # revoked
    assert len(errors) == 2 and all(e.startswith(MIXED.id) for e in errors)
    assert any("process:name =" in e for e in errors) and any("LIKE" in e for e in errors)


def test_rows_load_into_the_intel_table() -> None:
    rows, _ = read_bundle(bundle_bytes(SKIMMER, *SCOS), "feed.json")
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(create_table_sql("intel", INTEL_COLUMNS))
    con.executemany(f"INSERT INTO intel VALUES ({', '.join('?' * len(INTEL_COLUMNS))})", [list(r.values()) for r in rows])
    assert con.execute("SELECT count(*), count(valid_until), max(confidence) FROM intel").fetchone() == (len(rows), 3, 80)


def test_malformed_object_is_skipped_with_a_note() -> None:
    broken = {"type": "indicator", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-000000000001",
              "created": "yesterday", "modified": "2026-11-01T00:00:00Z",
              "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z", "confidence": 50,
              "pattern": "[ipv4-addr:value = '198.51.100.99']"}
    good = {**broken, "created": "2026-11-01T00:00:00Z"}
    bad_pattern = {**good, "id": "indicator--00000000-0000-4000-8000-000000000002",
                   "pattern": "[ipv4-addr:value = ]"}
    overconfident = {**good, "id": "indicator--00000000-0000-4000-8000-000000000004", "confidence": 500}
    yara = {**good, "id": "indicator--00000000-0000-4000-8000-000000000003",
            "pattern_type": "yara", "pattern": "rule x { condition: true }"}
    rows, errors = read_bundle(bundle_bytes(SKIMMER, extra=[broken, bad_pattern, yara, overconfident, "junk"]), "feed.json")
    assert {r["value"] for r in rows} == {"evil-cdn.example", "pay.bad.example", "203.0.113.0/24", "198.51.100.99"}
    assert by_value(rows)["198.51.100.99"]["confidence"] is None
    assert any(e.startswith(broken["id"]) and "skipped invalid object" in e for e in errors)
    assert any(e.startswith(bad_pattern["id"]) for e in errors)
    assert any(e.startswith(yara["id"]) and "yara" in e for e in errors)
    assert any(e.startswith(overconfident["id"]) and "out of range" in e for e in errors)
    assert any(e.startswith("?: skipped invalid object") for e in errors)  # the bare string
    assert len(errors) == 5


def test_not_json_or_not_a_bundle() -> None:
    rows, errors = read_bundle(b"{not json", "x")
    assert rows == [] and len(errors) == 1 and errors[0].startswith("invalid JSON")
    rows, errors = read_bundle(b'{"type": "report"}', "x")
    assert rows == [] and errors and errors[0].startswith("not a STIX bundle")


def test_stix20_bundle() -> None:
    indicator = stix2.v20.Indicator(labels=["malicious-activity"], valid_from=T0, pattern="[ipv4-addr:value = '192.0.2.1']")
    rows, errors = read_bundle(stix2.v20.Bundle(indicator).serialize().encode(), "old.json")
    assert [(r["value"], r["ioc_type"], r["labels"]) for r in rows] == [("192.0.2.1", "ip", "malicious-activity")]
    assert errors == []


def test_looks_like() -> None:
    assert looks_like(bundle_bytes(SKIMMER).decode())
    assert looks_like('{"id": "bundle--1", "objects": [], "type": "bundle"}')
    assert looks_like('\ufeff{\n  "type": "bundle"')
    assert not looks_like('{"type": "indicator"}')
    assert not looks_like('[{"type": "bundle"}]')
    assert not looks_like("<POSLog/>")
