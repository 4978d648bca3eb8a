"""The simulator's contract: deterministic, varied by seed, complete, parseable, labelled, PAN-safe."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from lxml import etree

from storewatch.ingest.privacy import make_scrubber
from storewatch.simulate import simulate
from storewatch.simulate.scenarios import ATTACKS, BENIGN
from storewatch.simulate.world import SEVERITY

from .helpers import all_text, data_files, labels, read_text

# Any Luhn-valid card-shaped run (contiguous, 4-4-4-x, 4-6-5): more than the ingest scrubber calls a card.
PAN_SHAPE = re.compile(
    r"(?<![0-9])(?:[0-9]{13,19}|[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,7}|[0-9]{4}([ -])[0-9]{6}\2[0-9]{4,5})(?![0-9])"
)


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def digest(out) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}


def test_same_seed_same_bytes(tmp_path):
    a = simulate(tmp_path / "a", days=1, scale=0.03, seed=3)
    b = simulate(tmp_path / "b", days=1, scale=0.03, seed=3)
    assert a == b
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_different_seeds_vary_actors_and_times(estate_factory):
    out1, _ = estate_factory(seed=7)
    out2, _ = estate_factory(seed=8)
    l1, l2 = labels(out1), labels(out2)
    ents = lambda ls, kind: {e["value"] for x in ls for e in x["entities"] if e["type"] == kind}  # noqa: E731
    assert not ents(l1, "ip") & ents(l2, "ip")
    assert ents(l1, "email") != ents(l2, "email")
    assert ents(l1, "employee") != ents(l2, "employee")
    starts1 = {x["scenario"]: x["start"] for x in l1}
    starts2 = {x["scenario"]: x["start"] for x in l2}
    assert sum(starts1[k] != starts2[k] for k in starts1) >= len(starts1) - 1
    c2 = lambda ls: [e["value"] for x in ls if x["scenario"] == "pos_malware" for e in x["entities"] if e["type"] == "domain"]  # noqa: E731
    assert c2(l1) != c2(l2)


def test_every_scenario_labelled(small):
    out, summary = small
    got = labels(out)
    assert {x["scenario"] for x in got} == set(ATTACKS)
    assert summary["labels"] == len(got)
    for x in got:
        assert set(x) == {"id", "scenario", "start", "end", "entities", "severity", "description"}
        assert x["entities"] and all(e["type"] in {"ip", "user", "email", "card", "host", "store", "employee", "device", "domain"}
                                     for e in x["entities"])
        start = dt.datetime.fromisoformat(x["start"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(x["end"].replace("Z", "+00:00"))
        assert start < end
        assert x["severity"] == SEVERITY.get(x["scenario"], "medium")
    assert {x["scenario"] for x in labels(out, "benign.jsonl")} == set(BENIGN)


def test_labelled_entities_occur_in_logs(small):
    out, _ = small
    text = all_text(out)
    missing = [(x["scenario"], e["value"]) for name in ("labels.jsonl", "benign.jsonl") for x in labels(out, name)
               for e in x["entities"] if e["value"] not in text]
    assert not missing


def test_pos_malware_iocs_in_intel(small):
    out, _ = small
    stix2 = pytest.importorskip("stix2")
    bundle = stix2.parse((out / "intel/threat_intel.json").read_text(), allow_custom=True)
    patterns = " ".join(o.pattern for o in bundle.objects if o.type == "indicator")
    mal = next(x for x in labels(out) if x["scenario"] == "pos_malware")
    for e in mal["entities"]:
        if e["type"] == "domain" or (e["type"] == "ip" and not e["value"].startswith("10.")):
            assert f"'{e['value']}'" in patterns
    sha = re.search(r"SHA256 ([0-9a-f]{64})", mal["description"]).group(1)
    assert sha in patterns and sha in (out / "endpoint/sysmon.jsonl").read_text() + (out / "endpoint/sysmon_pos.xml").read_text()
    assert sum(o.type == "indicator" for o in bundle.objects) > 100


TS_KEYS = {"auth/auth0.jsonl": ("date",), "physical/onvif_events.jsonl": ("UtcTime",), "social/posts.jsonl": ("created_at",),
           "orders/shopify_orders.jsonl": ("created_at",), "payments/stripe_events.jsonl": ("created",),
           "network/conn.log": ("ts",), "endpoint/sysmon.jsonl": ("Event", "System", "TimeCreated", "#attributes", "SystemTime")}
TEXT_LINES = {
    "web/access.log": (re.compile(r'^\S+ - \S+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d) \+0000\] "[A-Z]+ \S+ HTTP/1\.1" \d{3} \d+ "[^"]*" "[^"]*"$'), "%d/%b/%Y:%H:%M:%S"),
    "web/access.log.1.gz": (re.compile(r'^\S+ - \S+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d) \+0000\] "[A-Z]+ \S+ HTTP/1\.1" \d{3} \d+ "[^"]*" "[^"]*"$'), "%d/%b/%Y:%H:%M:%S"),
    "web/admin-access.log": (re.compile(r'^\S+ - \S+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d) \+0000\] "[A-Z]+ \S+ HTTP/1\.1" \d{3} \d+$'), "%d/%b/%Y:%H:%M:%S"),
    "linux/auth.log": (re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) [\w-]+ [\w]+(\[\d+\])?: "), "%b %d %H:%M:%S"),
    "db/postgresql.log": (re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d{3} UTC \[\d+\] \S*@\S* (LOG|ERROR):  "), "%Y-%m-%d %H:%M:%S"),
    "physical/people_counter.csv": (re.compile(r"^\d{4},(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.000Z,\d+,\d+$"), "%Y-%m-%dT%H:%M:%S"),
}


def _valid_ts(value) -> bool:
    if isinstance(value, (int, float)):
        return 1.7e9 < value < 1.9e9
    try:
        dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _json_ok(line: str, path: tuple[str, ...]) -> bool:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return False
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value is not None and _valid_ts(value)


def test_line_files_parse_except_counted_malformed(small):
    out, summary = small
    for rel, path in TS_KEYS.items():
        lines = read_text(out / rel).splitlines()
        bad = sum(not _json_ok(line, path) for line in lines)
        assert bad == summary["malformed"][rel] > 0, rel
        assert summary["files"][rel] == len(lines)
    for rel, (pattern, fmt) in TEXT_LINES.items():
        lines = read_text(out / rel).splitlines()
        if rel.endswith(".csv"):
            assert lines[0] == "store_id,period_start,entries,exits"
            lines = lines[1:]
        bad = 0
        for line in lines:
            m = pattern.match(line)
            try:
                dt.datetime.strptime(m.group(1).replace("  ", " 0") if m else "", fmt)
            except ValueError:
                bad += 1
        assert bad == summary["malformed"][rel] > 0, rel


def test_zeek_tsv_header_and_rows(small):
    out, summary = small
    lines = (out / "network/dc_conn.log").read_text().splitlines()
    assert lines[0] == "#separator \\x09" and lines[4] == "#path\tconn" and lines[-1].startswith("#close\t")
    fields = next(line for line in lines if line.startswith("#fields")).split("\t")[1:]
    assert len(fields) == 21 and fields[0] == "ts" and fields[-1] == "tunnel_parents"
    rows = [line for line in lines if not line.startswith("#")]
    good = [r for r in rows if len(r.split("\t")) == 21 and re.match(r"^\d+\.\d{6}$", r.split("\t")[0])]
    assert len(rows) - len(good) == summary["malformed"]["network/dc_conn.log"]


def test_xml_json_documents_and_stix_load(small):
    out, summary = small
    pos_files = sorted((out / "pos").rglob("poslog-*.xml"))
    assert pos_files
    ns = {"a": "http://www.nrf-arts.org/IXRetail/namespace/"}
    kinds = set()
    for p in pos_files:
        root = etree.parse(str(p)).getroot()
        txs = root.findall("a:Transaction", ns)
        assert len(txs) == summary["files"][str(p.relative_to(out))]
        kinds |= {"nosale" for t in txs if t.find("a:ControlTransaction/a:NoSale", ns) is not None}
        kinds |= {"postvoid" for t in txs if t.find("a:RetailTransaction[@TransactionStatus='PostVoided']", ns) is not None}
        kinds |= {"noreceipt" for t in txs if t.find(".//a:Disposal[@Method='NoReceipt']", ns) is not None}
        kinds |= {"linevoid" for t in txs if t.find(".//a:LineItem[@VoidFlag='true']", ns) is not None}
    assert kinds == {"nosale", "postvoid", "noreceipt", "linevoid"}
    events = etree.parse(str(out / "endpoint/sysmon_pos.xml")).getroot()
    assert len(events) == summary["files"]["endpoint/sysmon_pos.xml"] > 0
    page = json.loads((out / "orders/shopify_orders_page2.json").read_text())
    assert len(page["orders"]) == summary["files"]["orders/shopify_orders_page2.json"] > 0
    stix2 = pytest.importorskip("stix2")
    bundle = stix2.parse((out / "intel/threat_intel.json").read_text(), allow_custom=True)
    assert bundle.type == "bundle" and {"identity", "indicator", "malware", "relationship"} <= {o.type for o in bundle.objects}


def test_only_injected_pans_exist(small):
    out, _ = small
    pans = (out / "pans.txt").read_text().split()
    assert len(pans) >= 4 and all(luhn(p) for p in pans)
    found = set()
    for p in data_files(out):
        for m in PAN_SHAPE.finditer(read_text(p)):
            digits = re.sub(r"[ -]", "", m.group(0))
            if 13 <= len(digits) <= 19 and luhn(digits):
                found.add(digits)
    assert found == set(pans)
    scrub = make_scrubber(b"k")  # and each one is a card number the ingest scrubber replaces standing alone
    assert all(scrub(p.encode())[1] == 1 for p in pans)


def test_scale_changes_volume_and_progress_reports(tmp_path, small):
    _, big = small
    seen = []
    tiny = simulate(tmp_path / "t", days=2, scale=0.01, seed=7, progress=lambda s, f: seen.append((s, f)))
    assert big["bytes"] > 1.2 * tiny["bytes"]  # fixed floors: 3 stores minimum, attacks of fixed size
    assert big["files"]["web/access.log"] > 2.5 * tiny["files"]["web/access.log"]
    assert {s for s, _ in seen} >= {"estate", "scenarios", "background", "finalize"}
    assert all(0.0 <= f <= 1.0 for _, f in seen) and seen[-1] == ("finalize", 1.0)
