"""STIX bundles -> intel rows, with bundles built by the stix2 library itself."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

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
    assert "198.51.100.7" not in found  # revoked: a note, never a row to match
    assert errors.pop(next(i for i, e in enumerate(errors) if e.startswith(REVOKED.id))) == (
        f"{REVOKED.id}: revoked by its producer, not matched")
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
    assert any(e.startswith(broken["id"]) and "read without strict validation" in e for e in errors)
    assert any(e.startswith(bad_pattern["id"]) for e in errors)
    assert any(e.startswith(yara["id"]) and "yara" in e for e in errors)
    assert any(e.startswith(overconfident["id"]) and "out of range" in e for e in errors)
    assert any(e.startswith("?: skipped invalid object") for e in errors)  # the bare string
    assert any(e.startswith(bad_pattern["id"]) and "unreadable pattern" in e for e in errors)
    assert len(errors) == 6  # bad_pattern: refused by stix2, then its pattern unreadable


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


def test_ids_that_are_not_uuid4_and_objects_stix2_refuses_are_kept_as_given() -> None:
    """Real feeds publish UUIDv1/v5 or non-RFC-4122 ids; one such object must not cost the others."""
    base = {"type": "indicator", "spec_version": "2.1", "created": "2026-11-01T00:00:00Z",
            "modified": "2026-11-01T00:00:00Z", "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z"}
    odd = [{**base, "id": "indicator--b3b6b540-d838-11e2-853b-005056c00008", "pattern": "[ipv4-addr:value = '192.0.2.10']"},
           {**base, "id": "indicator--86957b24-f250-e857-a1ed-ab53a7ddd38b", "pattern": "[domain-name:value = 'odd.example']"},
           {**base, "id": "indicator--not-a-uuid", "pattern": "[url:value = 'http://odd.example/x']"}]
    rows, errors = read_bundle(bundle_bytes(SKIMMER, extra=odd), "feed.json")
    found = by_value(rows)
    assert found["192.0.2.10"]["indicator_id"] == odd[0]["id"]
    assert found["odd.example"]["indicator_id"] == odd[1]["id"]
    assert found["http://odd.example/x"]["indicator_id"] == "indicator--not-a-uuid"
    assert found["evil-cdn.example"]["indicator_id"] == SKIMMER.id  # the valid one still parsed by stix2
    assert found["192.0.2.10"]["valid_from"] == T0
    assert [e.split(":")[0] for e in errors] == ["indicator--not-a-uuid"] and "strict validation" in errors[0]


def test_issubset_names_a_network_and_email_senders_count() -> None:
    ind = stix2.Indicator(pattern_type="stix", valid_from=T0,
                          pattern="[ipv4-addr:value ISSUBSET '198.51.100.0/24'] OR [email-message:from_ref.value = 'Boss@Bad.example']"
                                  " OR [ipv4-addr:value != '192.0.2.1']")
    rows, errors = read_bundle(bundle_bytes(ind), "feed.json")
    assert {(r["ioc_type"], r["value"]) for r in rows} == {("ip", "198.51.100.0/24"), ("email", "boss@bad.example")}
    assert len(errors) == 1 and "!=" in errors[0]


# --- real bundles (tests/data/real/intel, see SOURCES.md) ----------------------------------------------

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "intel"


def _real(name: str) -> tuple[dict[str, dict], list[str], dict]:
    data = (REAL / name).read_bytes()
    rows, errors = read_bundle(data, name)
    return by_value(rows), errors, orjson.loads(data)


def _raw_indicators(raw: dict) -> dict[str, dict]:
    return {o["id"]: o for o in raw["objects"] if o.get("type") == "indicator"}


def test_real_apt1_2018_with_uuid1_ids_reads_every_indicator() -> None:
    """The OASIS APT1 example as published in 2018: a 2.1 draft (no pattern_type) with two UUIDv1 indicator ids."""
    found, errors, raw = _real("apt1-2018-uuid1.json")
    indicators = _raw_indicators(raw)
    assert len(indicators) == 12
    cidr = found["223.166.0.0/15"]
    assert indicators[cidr["indicator_id"]]["pattern"] == "[ipv4-addr:value = '223.166.0.0/15']"
    md5 = found["001dd76872d80801692ff942308c64e6"]
    assert md5["ioc_type"] == "hash" and "file:hashes.md5" in md5["pattern"]
    # every indicator yields rows except the two x509 ones (certificate fields are not matchable)
    with_rows = {r["indicator_id"] for r in found.values()}
    x509 = {i for i, o in indicators.items() if "x509-certificate" in o["pattern"]}
    assert x509 == {"indicator--b3b6b540-d838-11e2-853b-005056c00008", "indicator--b3b7035e-d838-11e2-8d38-005056c00008"}
    assert with_rows | x509 >= {i for i, o in indicators.items() if o["pattern"].startswith("[")} - x509
    assert {r["indicator_id"] for r in found.values() if r["ioc_type"] == "ip"} and not any(e.startswith("?") for e in errors)
    assert all("x509-certificate" in e or "read without strict validation" in e for e in errors)


def test_real_apt1_current_and_poisonivy() -> None:
    found, errors, raw = _real("apt1.json")
    assert {"223.166.0.0/15", "58.246.0.0/15", "112.64.0.0/15", "139.226.0.0/15", "hugesoft.org"} <= set(found)
    assert all("x509-certificate" in e for e in errors)
    found, errors, raw = _real("poisonivy.json")
    patterns = [o["pattern"] for o in _raw_indicators(raw).values()]
    ips = {v for p in patterns for v in re.findall(r"ipv4-addr:value = '([^']+)'", p)}
    domains = {v.lower() for p in patterns for v in re.findall(r"domain-name:value = '([^']+)'", p)}
    assert ips and domains
    assert ips <= set(found) and domains <= set(found)
    assert all("file:name" in e for e in errors)  # file names are not matched (see docs/sources/intel.md)


def test_real_c2_bundle_hash_and_ip() -> None:
    found, errors, raw = _real("indicators-for-C2-with-COA.json")
    assert errors == []
    sha = found["ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"]
    assert sha["ioc_type"] == "hash" and sha["indicator_id"] == "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade"
    assert found["10.0.0.0"]["ioc_type"] == "ip"
    found, errors, raw = _real("infrastructure.json")
    scos = {o["value"] for o in raw["objects"] if o["type"] in ("ipv4-addr", "domain-name")}
    assert scos and scos == set(found)


def test_real_misp_exports() -> None:
    """MISP's own STIX exports (misp-stix test data): hash triples ANDed with a file name, e-mail senders,
    resolves_to_refs addresses; the 2.0 export's relationships carry UUIDv5 ids stix2 refuses."""
    found, errors, raw = _real("misp_test_objects_collection_stix21.json")
    file_ind = _raw_indicators(raw)["indicator--5e384ae7-672c-4250-9cda-3b4da964451a"]
    for algo, value in re.findall(r"file:hashes\.'?([\w-]+)'? = '([0-9a-f]+)'", file_ind["pattern"]):
        assert found[value]["ioc_type"] == "hash", algo
    assert {r["indicator_id"] for r in found.values() if r["ioc_type"] == "hash"} >= {file_ind["id"]}
    assert found["donald.duck@disney.com"]["ioc_type"] == "email"
    assert found["149.13.33.14"]["ioc_type"] == "ip" and found["circl.lu"]["ioc_type"] == "domain"
    assert errors == [f"{file_ind['id']}: ignored comparison file:name = (not a matchable observable)"]

    found, errors, raw = _real("misp_test_attributes_collection_stix20.json")
    assert {(r["ioc_type"], r["value"]) for r in found.values()} == {("domain", "circl.lu"), ("ip", "149.13.33.14")}
    refused = [e for e in errors if "strict validation" in e]
    assert refused and all(e.startswith("relationship--") for e in refused)


def test_taxii_envelope() -> None:
    """What a TAXII 2.1 collection's objects endpoint returns (saved by feed pullers): no bundle around the objects."""
    objects = orjson.loads(bundle_bytes(SKIMMER, DROPPER))["objects"]
    data = orjson.dumps({"more": False, "next": "2", "objects": objects})
    assert looks_like(data.decode())
    rows, errors = read_bundle(data, "taxii.json")
    assert {r["value"] for r in rows} >= {"evil-cdn.example", "203.0.113.0/24", "d41d8cd98f00b204e9800998ecf8427e"}
    assert errors == []
    assert not looks_like('{"more": false, "objects": [{"name": "x"}]}')


def test_a_single_indicator_or_observable_object(run, query, tmp_path: Path) -> None:
    """One STIX object on its own, as OpenCTI and MISP export a single indicator or observable: read like a
    bundle of one; a revoked one is accounted for as a note, never matched."""
    (tmp_path / "indicator.json").write_text(SKIMMER.serialize(pretty=True))
    (tmp_path / "observable.json").write_text(SCOS[0].serialize())
    (tmp_path / "revoked.json").write_text(REVOKED.serialize(pretty=True))
    report = run(tmp_path / "indicator.json", tmp_path / "observable.json", tmp_path / "revoked.json")
    got = {Path(f.source_file).name: (f.source_format, f.read, f.stored, f.quarantined) for f in report.files}
    assert got == {"indicator.json": ("stix", 3, 3, 0), "observable.json": ("stix", 1, 1, 0), "revoked.json": ("stix", 1, 0, 1)}
    rows = query("SELECT value, ioc_type, indicator_id FROM intel ORDER BY value")
    assert [(r["value"], r["ioc_type"]) for r in rows] == [
        ("192.0.2.44", "ip"), ("203.0.113.0/24", "ip"), ("evil-cdn.example", "domain"), ("pay.bad.example", "domain")]
    [note] = query("SELECT reason FROM quarantine")
    assert note["reason"] == f"{REVOKED.id}: revoked by its producer, not matched"
    # a JSON object that merely mentions an indicator id, or whose type is another, is no STIX object
    assert not looks_like('{"type": "report", "object_refs": ["indicator--86d9fae0-300e-54a8-9b7e-041e303406ad"]}')
    assert not looks_like('{"alert": {"id": "indicator--86d9fae0-300e-54a8-9b7e-041e303406ad"}, "type": "alert"}')
