"""Evidence bundles: complete, verifiable with sha256sum's format, and any tampering is detected."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import orjson
import pytest
import stix2

from storewatch import audit
from storewatch.forensics import stix
from storewatch.forensics.evidence import EvidenceError, export, export_bundle, verify
from storewatch.forensics.timeline import UnknownIncident
from storewatch.ingest.privacy import card_network
from tests.forensics.conftest import at

BUNDLE_FILES = {"incident.json", "alerts.json", "timeline.json", "events.parquet", "events.jsonl",
                "indicators.stix.json", "manifest.json", "SHA256SUMS"}


def _scalar(sql: str):
    with duckdb.connect() as con:
        return con.execute(sql).fetchone()[0]


@pytest.fixture(scope="module")
def bundle(estate, tmp_path_factory) -> Path:
    return export(estate.ws, estate.admin.incident_id, tmp_path_factory.mktemp("evidence") / "bundle", stix=True)


@pytest.fixture
def copy(bundle, tmp_path) -> Path:
    """A private copy of the bundle to tamper with."""
    return Path(shutil.copytree(bundle, tmp_path / "copy"))


def test_bundle_holds_the_incident_its_events_and_a_manifest_that_verifies(estate, bundle) -> None:
    assert {p.name for p in bundle.iterdir()} == BUNDLE_FILES
    assert verify(bundle) == []
    manifest = orjson.loads((bundle / "manifest.json").read_bytes())
    assert manifest["incident_id"] == estate.admin.incident_id and manifest["tool"] == "storewatch"
    assert {f["path"] for f in manifest["files"]} == BUNDLE_FILES - {"manifest.json", "SHA256SUMS"}
    for f in manifest["files"]:
        data = (bundle / f["path"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f["bytes"], f["sha256"])
    sums = {name: digest for digest, name in
            (line.split("  ", 1) for line in (bundle / "SHA256SUMS").read_text().splitlines())}
    assert sums["manifest.json"] == hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()

    attacker = _scalar(f"SELECT count(*) FROM '{bundle}/events.parquet' WHERE src_ip = '{estate.admin.ip}'")
    assert attacker > 150
    total = _scalar(f"SELECT count(*) FROM '{bundle}/events.parquet'")
    lines = (bundle / "events.jsonl").read_text().splitlines()
    timeline = orjson.loads((bundle / "timeline.json").read_bytes())
    assert total == len(lines) == manifest["events"] == timeline["total_events"] == len(timeline["events"])
    assert orjson.loads(lines[0])["time"].endswith("Z")
    assert orjson.loads((bundle / "incident.json").read_bytes())["id"] == estate.admin.incident_id
    assert len(orjson.loads((bundle / "alerts.json").read_bytes())) == 1


def test_export_is_recorded_in_the_audit_log(estate, bundle) -> None:
    digest = hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
    entries = [e for e in audit.entries(estate.ws) if e["action"] == "evidence.export"]
    assert any(e["what"]["manifest_sha256"] == digest and e["what"]["bundle"] == str(bundle.resolve())
               for e in entries)
    assert audit.verify(estate.ws) == []


def test_flipped_byte_is_detected(copy) -> None:
    data = bytearray((copy / "events.parquet").read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / "events.parquet").write_bytes(bytes(data))
    assert verify(copy) == ["modified: events.parquet (size or SHA-256 differs from the manifest)"]


def test_deleted_and_added_files_are_detected(copy) -> None:
    (copy / "alerts.json").unlink()
    (copy / "notes").mkdir()
    (copy / "notes" / "extra.txt").write_text("planted")
    assert verify(copy) == ["missing: alerts.json", "added: notes/extra.txt (not in the manifest)"]


def test_rewritten_manifest_is_detected(copy) -> None:
    """Hiding a change by updating the manifest's hash breaks files_sha256 and SHA256SUMS."""
    (copy / "timeline.json").write_text("{}")
    manifest = orjson.loads((copy / "manifest.json").read_bytes())
    entry = next(f for f in manifest["files"] if f["path"] == "timeline.json")
    entry.update(bytes=2, sha256=hashlib.sha256(b"{}").hexdigest())
    (copy / "manifest.json").write_bytes(orjson.dumps(manifest))
    problems = verify(copy)
    assert "modified: manifest.json (its file list does not match its files_sha256)" in problems
    assert "modified: manifest.json (its SHA-256 does not match SHA256SUMS)" in problems
    assert "modified: SHA256SUMS (entry for timeline.json disagrees with the manifest)" in problems


def test_expected_manifest_hash_is_checked(bundle) -> None:
    good = hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
    assert verify(bundle, good) == []
    assert verify(bundle, "0" * 64)[0].startswith("modified: manifest.json (SHA-256")


def test_missing_or_broken_manifest(copy, tmp_path) -> None:
    (copy / "manifest.json").write_text("not json")
    assert verify(copy) == ["modified: manifest.json (not a readable manifest)"]
    (copy / "manifest.json").unlink()
    assert verify(copy) == ["missing: manifest.json (nothing to verify against)"]
    assert verify(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: not a folder"]


def test_stix_bundle_parses_and_carries_the_incident_ip(estate, bundle) -> None:
    parsed = stix2.parse((bundle / "indicators.stix.json").read_text(), allow_custom=False)
    kinds = [o.type for o in parsed.objects]
    assert kinds.count("identity") == 1 and kinds.count("report") == 1
    indicators = [o for o in parsed.objects if o.type == "indicator"]
    assert [i.pattern for i in indicators] == [f"[ipv4-addr:value = '{estate.admin.ip}']"]
    assert indicators[0].valid_from.strftime("%Y-%m-%dT%H:%M:%S") == estate.admin.first_fail.strftime("%Y-%m-%dT%H:%M:%S")
    report = next(o for o in parsed.objects if o.type == "report")
    assert report.object_refs == [indicators[0].id]
    assert orjson.loads((bundle / "manifest.json").read_bytes())["stix_indicators"] == 1


def test_stix_patterns_share_only_external_indicators() -> None:
    assert stix.pattern("ip", "10.1.2.3") is None and stix.pattern("user", "eve") is None
    assert stix.pattern("ip", "2a00:1450::1") == "[ipv6-addr:value = '2a00:1450::1']"
    assert stix.pattern("domain", "Evil'.EXAMPLE") == "[domain-name:value = 'evil\\'.example']"
    assert stix.pattern("hash", "A" * 64) == f"[file:hashes.'SHA-256' = '{'a' * 64}']"
    assert stix.pattern("hash", "abc") is None


def test_incident_without_shareable_indicators_writes_no_stix(small, tmp_path) -> None:
    ws, incident = small([{"time": at(1), "class_name": "Authentication", "outcome": "success", "src_ip": "10.0.0.7"}],
                         [("ip", "10.0.0.7")], 0, 5)
    done = export_bundle(ws, incident, tmp_path / "b", stix=True)
    assert done.indicators == 0 and not (tmp_path / "b" / "indicators.stix.json").exists()
    assert verify(done.path) == []


def test_no_card_number_in_a_bundle(estate, bundle) -> None:
    """The store holds no PAN, so no bundle can: neither the simulator's planted ones nor any standalone number a
    card network could have issued."""
    pans = (estate.raw / "pans.txt").read_text().split()
    standalone = re.compile(rb"(?<![0-9A-Za-z])[0-9]{13,19}(?![0-9A-Za-z])")
    for path in bundle.iterdir():
        data = path.read_bytes()
        assert not any(p.encode() in data for p in pans), path
        if path.suffix != ".parquet":
            assert not [m for m in standalone.findall(data) if card_network(m)], path
    text = _scalar(f"SELECT string_agg(to_json(e)::VARCHAR, '') FROM '{bundle}/events.parquet' e")
    assert not any(p in text for p in pans)


def test_occupied_folder_and_unknown_incident_write_nothing(estate, tmp_path) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    with pytest.raises(EvidenceError, match="not an empty folder"):
        export(estate.ws, estate.admin.incident_id, occupied)
    assert [p.name for p in occupied.iterdir()] == ["keep.txt"]
    with pytest.raises(UnknownIncident):
        export(estate.ws, "INC-NOPE", tmp_path / "never")
    assert not (tmp_path / "never").exists()
