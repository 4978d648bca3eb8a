"""Block lists as the public feeds publish them (faithful copies under tests/data/real/intel/blocklists/):
values, references and labels read, comment banners skipped, bad entries noted and never stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from storewatch.ingest import blocklist

LISTS = Path(__file__).resolve().parents[1] / "data" / "real" / "intel" / "blocklists"


def _read(name: str, kind: str) -> tuple[list[blocklist.Entry], list[str]]:
    return blocklist.parse((LISTS / name).read_text(encoding="utf-8"), kind)


def test_spamhaus_drop_networks_keep_their_sbl_reference() -> None:
    entries, notes = _read("spamhaus_drop.txt", "ip")
    assert [(e.value, e.name) for e in entries][:2] == [("1.4.0.0/17", "SBL256893"), ("1.10.16.0/20", "SBL256894")]
    assert len(entries) == 5 and {e.ioc_type for e in entries} == {"ip"} and notes == []


def test_feodo_ip_list_skips_its_banner() -> None:
    entries, notes = _read("feodo_ipblocklist.txt", "ip")
    assert [e.value for e in entries] == ["198.51.100.23", "203.0.113.77"] and notes == []


def test_urlhaus_csv_reads_the_url_column_with_threat_and_tags_and_notes_the_bad_row() -> None:
    entries, notes = _read("urlhaus_recent.csv", "csv")
    assert [(e.ioc_type, e.value) for e in entries] == [("url", "http://203.0.113.55:4444/bin.sh"),
                                                       ("url", "https://payload.example.net/invoice.exe")]
    assert entries[1].labels == "malware_download,exe,RemcosRAT"
    assert len(notes) == 1 and "line 12" in notes[0] and "not a URL" in notes[0]


def test_hash_list_lower_cases_and_refuses_a_short_hash() -> None:
    entries, notes = _read("malwarebazaar_sha256.txt", "sha256")
    assert entries[0] == blocklist.Entry("hash", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    assert len(entries) == 2 and len(notes) == 1 and "deadbeef" in notes[0]


@pytest.mark.parametrize("kind,text,expected", [
    ("ip", "10.0.0.1/32\n2001:db8::/32\n", ["10.0.0.1", "2001:db8::/32"]),
    ("ip", "192.0.2.7/24\n", ["192.0.2.0/24"]),
    ("domain", "Evil.Example.\nbad_host..x\n", ["evil.example"]),
    ("md5", "D41D8CD98F00B204E9800998ECF8427E\n", ["d41d8cd98f00b204e9800998ecf8427e"]),
])
def test_values_are_normalized_or_refused(kind: str, text: str, expected: list[str]) -> None:
    assert [e.value for e in blocklist.parse(text, kind)[0]] == expected


def test_csv_without_a_recognisable_header_is_a_note_not_rows() -> None:
    entries, notes = blocklist.parse('"1","2"\n"3","4"\n', "csv")
    assert entries == [] and "no header" in notes[0]
    entries, _ = blocklist.parse("first_seen_utc,dst_ip,dst_port\n2026-01-01,192.0.2.9,443\n", "csv")
    assert [(e.ioc_type, e.value) for e in entries] == [("ip", "192.0.2.9")]
