"""Card numbers that only exist once the bytes are decoded, or that are written with separators the raw pass
does not take, are masked in the values; nothing that is not a card number is rewritten.

Property-based on the value scrubber (every network's numbers in every encoding the readers decode, with every
separator, mixed, split by markup), on real public logs (no replacement), and end-to-end per reader family
with a scan of every value of every table of the workspace.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import assume, given, settings, strategies as st

from storewatch import audit
from storewatch.detect.engine import detect
from storewatch.ingest.privacy import TOKEN_PATTERN, card_network
from storewatch.ingest.values import RECORD_GUARD, ValueScrubber, prefiltered
from storewatch.learn.feedback import record_feedback
from storewatch.store import db
from tests.ingest.test_privacy import BARE, grouped, pans

KEY = b"test-key"
values = ValueScrubber(KEY)
REAL = Path(__file__).parents[1] / "data" / "real"
SAMPLES = Path(__file__).parents[1] / "fixtures" / "samples"

# How a digit may be written once the reader has decoded its own layer (or before, in the quarantine).
DIGIT_FORMS = {
    "plain": lambda d: d,
    "json": lambda d: f"\\u{ord(d):04x}",
    "xml-decimal": lambda d: f"&#{ord(d)};",
    "xml-hex": lambda d: f"&#x{ord(d):x};",
    "percent": lambda d: f"%{ord(d):02X}",
    "c-hex": lambda d: f"\\x{ord(d):02x}",
}
# Separators people and encoders write between the groups.
SEPARATORS = [" ", "-", "+", "%20", ".", "/", "\u00a0", "\u2009", "\u202f", "\u2013", " - ", "\t", "&nbsp;", "&#160;",
              "\\u00a0", "%C2%A0", "\\n", "  "]
# What parsing removes between two digits.
SPLITS = ["<!-- x -->", "]]><![CDATA[", "\u200b", "&#8203;", "\\u200b", "%E2%80%8B", "\u00ad", "<!---->"]


@st.composite
def written(draw, pan: str) -> str:
    """A card number as some system wrote it: grouped or not, separators mixed, digits encoded, split."""
    group = draw(st.booleans())
    text = grouped(pan, "\0") if group else pan
    left_out = draw(st.integers(0, 4)) if text.count("\0") >= 3 else -1  # one printed separator may be missing
    out = []
    for ch in text:
        if ch == "\0":
            out.append("" if left_out == 0 else draw(st.sampled_from(SEPARATORS)))
            left_out -= 1
            continue
        out.append(DIGIT_FORMS[draw(st.sampled_from(sorted(DIGIT_FORMS)))](ch))
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from(SPLITS)))
    body = "".join(out)
    return body if len(pan) in BARE else "card " + body  # a contiguous number of another length needs a card word


def digits_left(text: str) -> str:
    """The digits a reader of `text` sees after decoding it with the standard library (JSON and C escapes,
    HTML references, percent-encoding, markup dropped): what must no longer hold the card number."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
    text = urllib.parse.unquote(html.unescape(text))
    text = re.sub(r"<!--|-->|<!\[CDATA\[|\]\]>", "", text)
    return re.sub(r"[^0-9]", "", text)


@settings(max_examples=500, deadline=None)
@given(data=st.data(), pan=pans(), prefix=st.text(max_size=20), suffix=st.text(max_size=20))
def test_every_encoding_and_separator_is_masked(data, pan: str, prefix: str, suffix: str) -> None:
    card = data.draw(written(pan))
    # The number stands alone: its neighbours are other words (a space apart), not more digits of it.
    assume(not prefix.rstrip()[-1:].isdigit() and not suffix.lstrip()[:1].isdigit())
    clean, found = values.text(f"{prefix} {card} {suffix}")
    assert found >= 1, card
    assert pan not in digits_left(clean), clean
    assert f"[PAN:last4={pan[-4:]}:tok=" in clean
    assert values.text(clean) == (clean, 0)  # masking is final
    assert prefiltered(pa.array([f"{prefix} {card} {suffix}"]))[0].as_py()


# Numbers that look like cards (Luhn-valid, a network's prefix and length) in the places machines write them.
PLACES = [
    '{{"Keywords":-{p},"x":1}}',       # a negative JSON number
    "ratio 0.{p} of",                  # the fraction of a decimal number
    "value {p}.25 ms",                 # a decimal number
    "sha256=9f86d0{p}ab15",            # inside a hex hash
    "fp a7b8{p}c",                     # glued to letters
    "{p}e17",                          # a float's mantissa
    "id_{p}",                          # glued by an underscore
    "file.{p}_part",                   # inside a dotted name
    "x: -{p}",                         # a negative number
    "0x{p}",                           # a hex literal
    "v{p}",                            # a version
    '{{"id":"\\u0041{p}"}}',           # after an escaped letter
]


@settings(max_examples=300, deadline=None)
@given(pan=pans(), place=st.sampled_from(PLACES))
def test_digits_inside_another_token_are_kept(pan: str, place: str) -> None:
    value = place.format(p=pan)
    assert values.text(value) == (value, 0)


@settings(max_examples=200, deadline=None)
@given(pan=pans(lengths={13, 14, 17, 18, 19}), key=st.sampled_from(["Weight", "SyncId", "gtin", "id", "ts"]))
def test_other_lengths_need_a_card_word(pan: str, key: str) -> None:
    value = f'{{"{key}": {pan}, "{key}_s": "{pan}"}}'
    assert values.text(value) == (value, 0)
    clean, found = values.text(f'{{"card": {pan}}}')
    assert found == 1 and clean.startswith('{"card": "[PAN:last4=')  # a bare JSON number becomes a string


LOOK_ALIKES = [
    "2026-11-16T00:01:21.770Z", "2026-11-16 00:01:21.770123", "16/Nov/2026:00:00:10 +0000", "1794787200.9631",
    "1794787200963", "637363145103170000", "20261116000121",          # times: ISO, epoch s and ms, .NET ticks
    "4006381333931", "04006381333931", "gtin 4006381333931",            # GTIN-13/14 barcodes
    "1850123456789012345", "2122537039593146887",                       # X post ids
    "9223372036854775807", "-9214364837600034816",                      # 64-bit counters
    "#93712", "5062994293712", "ORD-2026-1116-000123", "9-31-114",      # order and transaction ids
    "SHA256=a692b76d7d77ee1730e1a1fe033d504ca692b76d7d77ee1730e1a1fe033d504c",
    "5e9de0ad-0fa4-4daa-aec1-8127dc88e6c7", "{f15206f1-0a30-10df-a87a-a21200234369}",
    "10.0.17763.850", "Chrome/119.0.6045.159", "2001:0db8:4111:1111:1111:1111:0000:0001", "192.168.100.200",
    "+1 (415) 555-0132", "1,234,567.89", "4111.25", "4111 1111 1111",  # phone, amounts, too short a card
    "0x8000000000000000", "S-1-5-21-4111111111-1111111111-1111111111",  # flags, a Windows SID
    "4111111111111112", "4242 4242 4242 4242", "0000-0000-0000-0000",  # Luhn fails; placeholders
]


@pytest.mark.parametrize("value", LOOK_ALIKES)
def test_look_alikes_are_kept(value: str) -> None:
    assert values.text(value) == (value, 0)


def real_files() -> list[Path]:
    return sorted(p for p in REAL.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".gz", ".zip", ".evtx")
                  and "cards" not in p.name)


def test_real_logs_are_kept_value_by_value() -> None:
    """Every line of every real sample (the scrubber's corpus of hashes, ids and cassettes included), read
    as one value: no replacement, and the Arrow pass over them agrees."""
    lines = [line for p in real_files() for line in p.read_bytes().decode("utf-8", "replace").splitlines()]
    assert len(lines) > 5000
    assert [line for line in lines if values.text(line)[1]] == []
    table, counts = values.table(pa.table({"v": lines}))
    assert counts is None and table["v"].to_pylist() == lines


mixed_values = st.one_of(
    st.text(max_size=40),
    pans().flatmap(lambda p: written(p)),
    st.sampled_from(LOOK_ALIKES + [p.format(p="4111111111111111") for p in PLACES]),
)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(mixed_values, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=12))
def test_the_table_pass_masks_what_the_value_check_finds(rows: list[str]) -> None:
    """The vectorized pass (prefilter, then the check) equals checking every value alone: the prefilter
    never drops a value that holds a card."""
    by_value = [values.text(v) for v in rows]
    table, counts = values.table(pa.table({"v": rows, "n": list(range(len(rows)))}))
    assert table["v"].to_pylist() == [c for c, _ in by_value]
    assert (list(counts) if counts is not None else [0] * len(rows)) == [n for _, n in by_value]


def _guarded(line: str) -> bool:
    return pc.match_substring_regex(pa.array([line]), RECORD_GUARD)[0].as_py()


@settings(max_examples=400, deadline=None)
@given(data=st.data(), pan=pans(), prefix=st.text(max_size=20), suffix=st.text(max_size=20))
def test_the_record_guard_lets_through_every_record_whose_values_hold_a_card(data, pan: str, prefix: str,
                                                                            suffix: str) -> None:
    """The table pass reads only the rows whose record text passes `RECORD_GUARD`: a value with a card must
    never come from a record that fails it, however the record wrote the value (as it is, as a JSON string
    with or without ASCII escapes, as XML text) or cut it out of a longer token."""
    card = data.draw(written(pan))
    assume(not prefix.rstrip()[-1:].isdigit() and not suffix.lstrip()[:1].isdigit())
    value = f"{prefix} {card} {suffix}"
    for line in (value, json.dumps({"v": value}), json.dumps({"v": value}, ensure_ascii=False),
                 f"<e a=\"{html.escape(value)}\">{html.escape(value)}</e>", f"user=x{pan}", '"'.join(grouped(pan, "\0").split("\0"))):
        assert _guarded(line), line


@pytest.mark.parametrize("line", [
    '{"ts":1794787212.930537,"uid":"Cd7714a034e16d5c35","id.orig_h":"10.233.2.11","duration":0.478972}',
    '203.0.113.9 - - [08/Dec/2026:00:43:29 +0000] "GET /item/1234/5678?page=2 HTTP/1.1" 200 512 "-" "Mozilla/5.0"',
    "Dec  8 00:43:29 host sshd[12345]: Accepted publickey for deploy from 10.0.0.5 port 50022 ssh2",
])
def test_the_record_guard_skips_ordinary_records(line: str) -> None:
    """Records of the busy logs (Zeek's epoch times with fractions, access logs, sshd) skip the table pass."""
    assert not _guarded(line)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(mixed_values, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=12))
def test_the_guarded_table_pass_equals_the_full_one(rows: list[str]) -> None:
    """With the records given (here each row's value is its record), the table pass masks exactly what it
    masks reading every row."""
    table = pa.table({"v": rows, "n": list(range(len(rows)))})
    full, full_counts = values.table(table)
    guarded, counts = values.table(table, records=pa.array(rows))
    assert guarded["v"].to_pylist() == full["v"].to_pylist()
    assert (list(counts) if counts is not None else [0] * len(rows)) == (
        list(full_counts) if full_counts is not None else [0] * len(rows))


# --- end to end: every reader family, every table ---------------------------------------------------------

PAN = {  # a distinct card per place, so that a leak names where it came from
    "query_plus": "4900327182818286", "query_pct": "4111111111111111", "query_dots": "5500005555555559",
    "path_amex": "378282246310005", "ua_slash": "6011000990139424", "auth0_user": "4012888888881881",
    "auth0_ua": "5555555555554444", "stripe_desc": "5105105105105100", "shopify_addr": "3530111333300000",
    "pos_operator": "3566002020360505", "pos_device": "6011111111111117", "win_cmd": "2223003122003222",
    "win_host": "371449635398431", "win_user": "6200000000000005", "syslog_user": "6759649826438453",
    "broken_json": "4917610000000000", "broken_xml": "4444333322221111", "alert_host": "4000056655665556",
    "alert_user": "5200828282828210", "note": "4000002760003184",
}


def _esc(pan: str, form: str) -> str:
    return "".join(DIGIT_FORMS[form](d) for d in pan)


def _access(second: int, target: str, agent: str = "UA") -> str:
    return f'1.2.3.4 - - [16/Nov/2026:00:00:{second:02d} +0000] "GET {target} HTTP/1.1" 200 5 "-" "{agent}"\n'


def _estate(root: Path) -> None:
    """One file per reader family, each with cards written the way that family decodes them, next to
    machine numbers that must come through untouched."""
    (root / "web").mkdir(parents=True)
    (root / "web" / "access.log").write_text(
        _access(10, f"/pay?card={grouped(PAN['query_plus'], '+')}&step=2")
        + _access(11, f"/pay?n={_esc(PAN['query_pct'], 'percent')}")
        + _access(12, f"/pay?cc={grouped(PAN['query_dots'], '.')}&ts=1794787200963")
        + _access(13, f"/c/{grouped(PAN['path_amex'], '%20')}/x",
                  f"Mozilla/5.0 Chrome/119.0.6045.159 {grouped(PAN['ua_slash'], '/')}"))
    auth0 = (SAMPLES / "auth" / "auth0.jsonl").read_text().splitlines()[0]
    ua = "\\u00a0".join(PAN["auth0_ua"][i:i + 4] for i in range(0, 16, 4))
    auth0 = (auth0.replace('"john.johnson23@gmail.com"', f'"{_esc(PAN["auth0_user"], "json")}"')
             .replace('"user_agent": "Mozilla', f'"user_agent": "{ua} Mozilla'))
    (root / "auth0.jsonl").write_text(f'{auth0}\n{{"date": "broken {_esc(PAN["broken_json"], "json")}\n')
    stripe = (SAMPLES / "payments" / "stripe_events.jsonl").read_text().splitlines()[0]
    stripe = stripe.replace('"cus_33972642"', '"4006381333931"').replace(  # a GTIN-13 as a customer id
        '"seller_message": "Payment complete."', f'"seller_message": "card {grouped(PAN["stripe_desc"], chr(0x2009))}"')
    (root / "stripe.jsonl").write_text(stripe + "\n")
    shopify = (SAMPLES / "orders" / "shopify_orders.jsonl").read_text().splitlines()[0]
    addr = PAN["shopify_addr"]
    (root / "shopify.jsonl").write_text(shopify.replace(
        '"address1": "842 Elm St"', f'"address1": "{_esc(addr[:8], "json")}-{addr[8:12]} {addr[12:]} Elm St"') + "\n")
    poslog = (SAMPLES / "pos" / "poslog_0001.xml").read_text()
    op, dev = PAN["pos_operator"], PAN["pos_device"]
    poslog = (poslog.replace("<OperatorID>E106</OperatorID>", f"<OperatorID>{_esc(op[:6], 'xml-decimal')}{op[6:]}</OperatorID>", 1)
              .replace("<WorkstationID>2</WorkstationID>",
                       f"<WorkstationID>{dev[:5]}<![CDATA[{dev[5:11]}]]><!-- till -->{dev[11:]}</WorkstationID>", 1))
    (root / "poslog.xml").write_text(poslog)
    (root / "poslog_broken.xml").write_text(poslog.replace("</POSLog>", f"<Transaction><X>{_esc(PAN['broken_xml'], 'xml-hex')}"))
    cmd, host, who = PAN["win_cmd"], PAN["win_host"], PAN["win_user"]
    (root / "sysmon.xml").write_text(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID>1</EventID>"
        "<TimeCreated SystemTime='2026-11-16T00:19:13.3498250Z'/><EventRecordID>2882981</EventRecordID>"
        "<Channel>Microsoft-Windows-Sysmon/Operational</Channel>"
        f"<Computer>{host[:4]}<![CDATA[{host[4:10]}]]>{host[10:]}</Computer><Security UserID='S-1-5-18'/></System>"
        "<EventData><Data Name='UtcTime'>2026-11-16 00:19:13.349</Data><Data Name='ProcessId'>8293</Data>"
        "<Data Name='Image'>C:\\Windows\\System32\\cmd.exe</Data>"
        f"<Data Name='CommandLine'>cmd.exe /c echo {_esc(cmd[:4], 'xml-hex')}&#8203;{cmd[4:8]}&#xA0;{cmd[8:12]} {cmd[12:]}</Data>"
        f"<Data Name='User'>NW\\{_esc(who, 'xml-decimal')}</Data>"
        "<Data Name='Hashes'>SHA256=a692b76d7d77ee1730e1a1fe033d504ca692b76d7d77ee1730e1a1fe033d504c</Data>"
        "</EventData></Event>\n")
    cleared = (Path(__file__).parents[1] / "data" / "rules" / "win_event_log_cleared" / "match.xml").read_text()
    host, who = grouped(PAN["alert_host"], "&#x2009;"), PAN["alert_user"]
    (root / "cleared.xml").write_text(cleared.replace("BO-0417.corp.local", host).replace(
        "<SubjectUserName>mgr0417", f"<SubjectUserName>{who[:8]}<![CDATA[{who[8:]}]]>"))
    (root / "auth.log").write_text(
        f"Nov 16 00:00:10 web-02 sshd[9846]: Invalid user {grouped(PAN['syslog_user'], '.')} from 198.51.100.20 port 46403\n"
        "Nov 16 00:00:11 web-02 sshd[9846]: Accepted publickey for deploy from 198.51.100.20 port 46403 ssh2: ED25519 SHA256:q1w2e3\n")


def _every_value(ws) -> list[tuple[str, str]]:
    """(table.column, text) for every value of every table of the store and every events segment."""
    out = []
    with db.opened(ws) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()]
        tables += [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
        for table in sorted(set(tables)):
            rel = con.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in rel.description]
            out += [(f"{table}.{n}", str(v)) for row in rel.fetchall() for n, v in zip(names, row)
                    if v is not None and n not in ("event_id", "quarantine_id")]
    return out


def test_no_card_number_in_any_value_of_the_workspace(tmp_path: Path, run, ws, query) -> None:
    _estate(tmp_path / "logs")
    report = run(tmp_path / "logs")
    detect(ws)
    incident = query("SELECT min(incident_id) AS i FROM incidents")[0]["i"]
    record_feedback(ws, incident, "false_positive", actor="ana", note=f"customer read {_esc(PAN['note'], 'xml-decimal')}")
    scanned = _every_value(ws) + [("audit", line) for line in audit.log_path(ws).read_text().splitlines()]
    assert {name.split(".")[0] for name, _ in scanned} >= {"events", "quarantine", "ingest_files", "alerts", "feedback"}
    for name, text in scanned:
        left = digits_left(text)
        assert [k for k, pan in PAN.items() if pan in left] == [], (name, text)
        assert values.text(text)[1] == 0, (name, text)  # nothing a further pass would still mask
    assert report.totals["pans_scrubbed"] >= len(PAN)
    # Each card is where its field put it, as its mask.
    token = re.compile(TOKEN_PATTERN)
    fields = query("SELECT url_query, url_path, user_agent, user_name, employee_id, device, host, command_line, address, "
                   "attributes::VARCHAR AS attributes, reason FROM events")
    by_last4 = {m.group(1) for row in fields for v in row.values() if v for m in token.finditer(v)}
    placed = [k for k in PAN if not k.startswith("broken") and k != "note"]
    assert {PAN[k][-4:] for k in placed} <= by_last4
    notes = [r["note"] for r in query("SELECT note FROM feedback")]
    assert len(notes) == 1 and re.fullmatch(r"customer read \[PAN:last4=" + PAN["note"][-4:] + r":tok=[a-p]{16}\]", notes[0])
    quarantined = [r["raw"] for r in query("SELECT raw FROM quarantine")]
    assert any(f"last4={PAN['broken_json'][-4:]}" in r for r in quarantined)
    # Machine numbers beside them are untouched.
    assert query("SELECT count(*) AS n FROM events WHERE url_query LIKE '%ts=1794787200963%'")[0]["n"] == 1
    assert query("SELECT count(*) AS n FROM events WHERE user_agent LIKE 'Mozilla/5.0 Chrome/119.0.6045.159 %'")[0]["n"] == 1
    assert query("SELECT count(*) AS n FROM events WHERE file_hash LIKE '%a692b76d7d77ee1730e1a1fe033d504c%'")[0]["n"] == 1
    assert [r["user_id"] for r in query("SELECT user_id FROM events WHERE source_format = 'stripe'")] == ["4006381333931"]
    users = sorted(r["user_name"] for r in query("SELECT user_name FROM events WHERE source_format LIKE 'linux%'"))
    assert users[1] == "deploy" and re.fullmatch(r"\[PAN:last4=" + PAN["syslog_user"][-4:] + r":tok=[a-p]{16}\]", users[0])
