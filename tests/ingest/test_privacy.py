"""No card number survives ingest, and nothing that is not one is touched.

Property-based on the scrubber (card numbers of every network in the forms people and systems write them;
numbers that only look like cards in the places machines write them), on real public logs without cards
(zero replacements, byte for byte), and end-to-end on the workspace.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from hypothesis import assume, given, settings, strategies as st

from storewatch.ingest.privacy import TOKEN_PATTERN, card_network, luhn_valid, make_scrubber

KEY = b"test-key"
scrub = make_scrubber(KEY)
REAL = Path(__file__).parents[1] / "data" / "real" / "scrubber"
TABLE = yaml.safe_load((Path(__file__).parents[2] / "src/storewatch/ingest/card_networks.yml").read_text())
BARE = set(TABLE["bare_lengths"])


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


@st.composite
def pans(draw, lengths: set[int] | None = None) -> str:
    """A Luhn-valid number with a prefix and a length the card network table gives to some network."""
    net = draw(st.sampled_from(TABLE["networks"]))
    usable = [n for n in net["lengths"] if lengths is None or n in lengths]
    assume(usable)
    low, _, high = draw(st.sampled_from(net["prefixes"])).partition("-")
    prefix = str(draw(st.integers(int(low), int(high or low)))).zfill(len(low))
    n = draw(st.sampled_from(usable))
    body = prefix + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=n - len(prefix) - 1,
                                          max_size=n - len(prefix) - 1)))
    pan = with_check_digit(body)
    assume(card_network(pan.encode()) is not None)  # not a placeholder like 4444 4444 4444 4448
    return pan


def grouped(pan: str, sep: str) -> str:
    """As printed on cards: 4-6-5 (15), 4-6-4 (14), otherwise fours with the rest last."""
    if len(pan) in (14, 15):
        return sep.join([pan[:4], pan[4:10], pan[10:]])
    return sep.join(pan[i:i + 4] for i in range(0, len(pan), 4))


# Every written form a card number takes, each as a whole record that must stay valid, and how to check it.
FORMS = {
    "sentence": (lambda p: f"customer read card {p} over the phone", None),
    "spaced": (lambda p: f"paid with {grouped(p, ' ')} today", None),
    "dashed": (lambda p: f"paid with {grouped(p, '-')}.", None),
    "no-break-space": (lambda p: f"Kartennummer: {grouped(p, chr(0xA0))}", None),
    "form-plus": (lambda p: f"name=Jo+Doe&card={grouped(p, '+')}&exp=12%2F28", "query"),
    "url-%20": (lambda p: f"/pay?card_no={grouped(p, '%20')}&step=2", "url"),
    "url-bare": (lambda p: f"/checkout?cc={p}&step=2", "url"),
    "json-string": (lambda p: json.dumps({"order": 7, "card_number": p, "note": "x"}), "json"),
    "json-number": (lambda p: f'{{"order": 7, "pan": {p}, "amount": 12.5}}', "json"),
    "json-array": (lambda p: f'{{"cards": [{p}]}}', "json"),
    "xml-text": (lambda p: f"<Tender><PAN>{p}</PAN></Tender>", "xml"),
    "xml-attr": (lambda p: f'<Card number="{grouped(p, " ")}" type="credit"/>', "xml"),
    "csv": (lambda p: f"1001,2026-11-16,visa,{p},12.50", "csv"),
}


def still_valid(kind: str | None, text: bytes, pan: str) -> None:
    """The scrubbed record parses as what it was, with the token where the number was."""
    token = re.compile(TOKEN_PATTERN)
    if kind == "json":
        assert token.search(json.dumps(json.loads(text)))
    elif kind == "xml":
        root = ElementTree.fromstring(text)
        assert any(token.search(v) for e in root.iter() for v in [e.text or "", *e.attrib.values()])
    elif kind in ("query", "url"):
        query = urllib.parse.urlsplit(text.decode()).query if kind == "url" else text.decode()
        assert any(token.fullmatch(v) for vs in urllib.parse.parse_qs(query).values() for v in vs)
    elif kind == "csv":
        assert len(text.decode().split(",")) == 5


def unseparated(data: bytes) -> bytes:
    return re.sub(rb"%20|\xc2\xa0|[ +\-]", b"", data)


@settings(max_examples=400, deadline=None)
@given(pan=pans(), form=st.sampled_from(sorted(FORMS)), prefix=st.text(max_size=30), suffix=st.text(max_size=30))
def test_every_card_number_is_replaced_in_every_form(pan: str, form: str, prefix: str, suffix: str) -> None:
    write, kind = FORMS[form]
    assume(form != "url-bare" or len(pan) in BARE)  # a bare number of another length needs a card word
    record = write(pan).encode()
    clean, found = scrub(record)
    assert found == 1 and pan.encode() not in unseparated(clean), clean
    assert f"last4={pan[-4:]}".encode() in clean
    still_valid(kind, clean, pan)
    # Whatever stands around the record (after a separating space) does not hide it.
    data = f"{prefix} {write(pan)} {suffix}".encode()
    clean, found = scrub(data)
    assert found >= 1 and pan.encode() not in unseparated(clean)


@settings(max_examples=300, deadline=None)
@given(pan=pans(), place=st.sampled_from([
    '{{"Keywords":-{p},"x":1}}',            # a negative JSON number
    'ratio 0.{p} of',                       # the fraction of a decimal number
    "value {p}.25 ms",                      # a decimal number
    "sha256=9f86d0{p}ab15",                 # a run of digits inside a hex hash
    "fp a7b8{p}c",                          # glued to letters on both sides
    "{p}e17",                               # a float's mantissa
    "id_{p}",                               # glued by an underscore
    "file.{p}_part",                        # inside a dotted name
    "ref-{p}",                              # a hyphenated id
    "/c/%{p}",                              # the hex digits of a percent escape
]))
def test_digits_inside_another_token_are_not_cards(pan: str, place: str) -> None:
    data = place.format(p=pan).encode()
    assert scrub(data) == (data, 0)


@settings(max_examples=200, deadline=None)
@given(pan=pans(lengths={13, 14, 17, 18, 19}), field=st.sampled_from(["Weight", "SyncId", "gtin", "id", "ts"]))
def test_other_lengths_need_a_card_word(pan: str, field: str) -> None:
    """13-14 and 17-19 digit numbers are GTINs, ticks, ids and counters unless a card word is near."""
    data = f'{{"{field}": {pan}, "{field}_s": "{pan}"}}'.encode()
    assert scrub(data) == (data, 0)
    clean, found = scrub(f'{{"card": {pan}, "x": "pan {pan}"}}'.encode())
    assert found == 2 and json.loads(clean)["card"].startswith(f"[PAN:last4={pan[-4:]}")


lines = st.lists(st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=60),
    st.builds(lambda p, f: FORMS[f][0](p), pans(), st.sampled_from(sorted(FORMS))),
    st.builds(lambda p: f'{{"Keywords":-{p}}}', pans()),
), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(lines, min_size=1, max_size=8))
def test_the_prefilter_finds_every_line_the_full_check_finds(parts: list[list[str]]) -> None:
    """Scrubbing a block (C prefilter, cached runs) equals checking every line whole."""
    block = "\n".join(" ".join(p) for p in parts).encode()
    by_line = [scrub.replace(line) for line in block.split(b"\n")]
    assert scrub(block) == (b"\n".join(c for c, _ in by_line), sum(n for _, n in by_line))


@given(st.binary(max_size=300))
def test_scrubbing_is_idempotent(data: bytes) -> None:
    clean, _ = scrub(data)
    assert scrub(clean) == (clean, 0)


# The card networks' published test numbers.
TEST_NUMBERS = ["4111111111111111", "4012888888881881", "5555555555554444", "5105105105105100", "2223003122003222",
                "378282246310005", "371449635398431", "6011111111111117", "6011000990139424", "3530111333300000",
                "3566002020360505", "36227206271667", "30569309025904", "6200000000000005", "6759649826438453"]


@pytest.mark.parametrize("pan", TEST_NUMBERS)
@pytest.mark.parametrize("form", sorted(FORMS))
def test_test_card_numbers_in_every_form(pan: str, form: str) -> None:
    write, kind = FORMS[form]
    if form == "url-bare" and len(pan) not in BARE:
        pytest.skip("a bare 14-digit number needs a card word")
    clean, found = scrub(write(pan).encode())
    assert found == 1 and pan.encode() not in unseparated(clean)
    assert f"last4={pan[-4:]}".encode() in clean
    still_valid(kind, clean, pan)


def test_network_table() -> None:
    """Prefixes and lengths from the table: the networks' test numbers are cards, look-alikes are not."""
    assert all(card_network(p.encode()) for p in TEST_NUMBERS)
    assert card_network(b"4111111111111111") == "Visa"
    assert card_network(b"378282246310005") == "American Express"
    assert card_network(b"36227206271667") == "Diners Club International"
    not_cards = [
        b"0000000000000000",      # all zeros (a kernel register, a null address)
        b"4242424242424242",      # one repeated group: a placeholder (Stripe's test number), not a card
        b"1850123456789012345",   # an X post id: no network starts with 1 and has 19 digits
        b"9223372036854775808",   # 2**63
        b"7000000000000009",      # no network starts with 7
        b"4111111111111112",      # fails Luhn
    ]
    assert [card_network(d) for d in not_cards] == [None] * len(not_cards)


@pytest.mark.parametrize("line", [
    b'{"EventTime":"2020-09-21 19:18:26","Keywords":-9214364837600034816,"EventID":4688}',
    b'{"Keywords":-9223372036854775808,"SeverityValue":2}',
    b"May 16 15:06:45 host kernel: [    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable",
    b"kernel: RAX: 0000000000000000 RBX: ffff888132710ee0 RCX: 0000000000000000",
    b"GET /status/1850123456789012345?s=20 HTTP/1.1",
    b"GET /?utm_source=yandex&utm_medium=cpc&yclid=4834570603507788221 HTTP/1.1",  # a click id, Visa-like
    b"GET /p/?fbclid=IwAR0Z_wul86MB1vKium_DEdRvcRAEbilG9eyRZpRNKh&msclkid=5b1c0f4e6d3a4f1f9c8e7d6a5b4c3d2e",
    b'<POSIdentity POSIDType="GTIN"><POSItemID>4006381333931</POSItemID></POSIdentity>',
    b"\t4398046511105\t-\tOpenFlow",  # an OpenFlow cookie: 13 digits starting with 4, Luhn-valid
    b'"duration": 25.614583015441895,',
    b'"SyncId":637363145103170000}',
    b"x509 fp=5A:41:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11",
])
def test_machine_numbers_are_kept(line: bytes) -> None:
    assert scrub(line) == (line, 0)


REAL_FILES = sorted(p for p in REAL.iterdir() if p.name != "SOURCES.md")
LOOKS_LUHN = re.compile(rb"(?<![0-9])[0-9]{13,19}(?![0-9])")


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_logs_without_cards_are_untouched(path: Path) -> None:
    """Each file holds Luhn-valid 13-19 digit runs (what the former scrubber replaced), none a card."""
    data = path.read_bytes()
    assert any(luhn_valid(m.group(0)) for m in LOOKS_LUHN.finditer(data)), "the sample no longer tests anything"
    assert scrub(data) == (data, 0)
    for line in data.split(b"\n"):
        assert scrub.replace(line) == (line, 0)


def test_real_poslog_reads_whole_with_no_replacement(run, query) -> None:
    """The POSLog sample's GTINs (the former rule replaced 14 of them) reach the parser untouched."""
    report = run(REAL / "poslog_kjbreil_sample_excerpt.xml")
    assert report.totals["pans_scrubbed"] == 0
    assert report.totals["stored"] == 6 and report.totals["quarantined"] == 0
    rows = query("SELECT amount FROM events WHERE transaction_id = '9-31-114'")
    assert [float(r["amount"]) for r in rows] == [20.45]  # TransactionGrandAmount of sequence 114


def test_token_is_stable_and_keyed() -> None:
    pan = b"4111111111111111"
    a, _ = scrub(b"x " + pan)
    b, _ = scrub(b"y " + pan)
    other, _ = make_scrubber(b"another key")(b"x " + pan)
    assert a[2:] == b[2:]
    assert a != other


def test_json_number_pan_keeps_json_valid() -> None:
    import orjson

    clean, n = scrub(b'{"id": 4111111111111111, "x": [5555555555554444]}')
    assert n == 2
    doc = orjson.loads(clean)
    assert doc["id"].startswith("[PAN:last4=1111")
    pretty = orjson.dumps({"a": list(range(40)), "orders": [{"id": 4111111111111111}, {"id": 5555555555554444}]},
                          option=orjson.OPT_INDENT_2)
    clean, n = scrub(pretty)
    assert n == 2 and orjson.loads(clean)["orders"][1]["id"].startswith("[PAN:last4=4444")


# What a reviewer would grep for: a standalone 15-16 digit number that a card network could have issued.
STANDALONE = re.compile(rb"(?<![0-9A-Za-z_.%-])[0-9]{15,16}(?![0-9A-Za-z_])")


def leaks(data: bytes) -> list[bytes]:
    return [m.group(0) for m in STANDALONE.finditer(data) if card_network(m.group(0))]


def segment_text(path: Path) -> bytes:
    """Every value of an events segment, as text, but the record ids (MD5 digests in hex)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return "\n".join(str(value) for name in table.column_names if name != "event_id"
                     for value in table[name].to_pylist() if value is not None).encode()


def test_no_pan_anywhere_in_the_workspace(tmp_path: Path, run, ws, query) -> None:
    pans = ["4111111111111111", "5500005555555559", "378282246310005", "6011000990139424"]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text(
        f'1.2.3.4 - - [16/Nov/2026:00:00:10 +0000] "GET /search?q={pans[0]} HTTP/1.1" 200 5 "-" "UA"\n'
        f'1.2.3.4 - - [16/Nov/2026:00:00:11 +0000] "GET /pay?card={grouped(pans[1], "-")} HTTP/1.1" 200 5 "-" "UA"\n'
        f'1.2.3.4 - - [16/Nov/2026:00:00:12 +0000] "GET /pay?card={grouped(pans[0], "%20")} HTTP/1.1" 200 5 "-" "UA"\n'
        f"garbage line with a card {pans[2]} in it\n"
    )
    (logs / "auth0.jsonl").write_text(
        f'{{"date": "2026-11-16T00:01:21.770Z", "type": "f", "description": "card {grouped(pans[3], " ")}", "ip": "1.2.3.4", "log_id": "a"}}\n'
        f'{{"date": "broken {pans[0]}\n'
    )
    report = run(logs)
    assert report.totals["pans_scrubbed"] == 6
    assert report.totals["quarantined"] == 2
    for path in ws.home.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for pan in pans:
                assert pan.encode() not in blob, f"{pan} found in {path}"
            if path.suffix == ".parquet":  # compressed: look at the values, not the bytes
                assert leaks(segment_text(path)) == [], path
            elif path.suffix != ".duckdb":
                assert leaks(blob.replace(b"\x00", b" ")) == [], path
    rows = query("SELECT url_query, reason FROM events ORDER BY source_line")
    assert sum("last4=1111" in (r["url_query"] or "") for r in rows) == 2
    raw = query("SELECT raw FROM quarantine")
    assert all("[PAN:last4=" in r["raw"] for r in raw)


@pytest.mark.parametrize("line,cards", [
    (b"GET /N5762/adj/home;tile=1;sz=728x90;ord=6795061899455057? HTTP/1.1", 0),  # DoubleClick's cache-buster
    (b"GET /pagead/ads?correlator=4111111111111111&output=html HTTP/1.1", 0),
    (b"GET /b.gif?random=5555555555554444&cb=378282246310005 HTTP/1.1", 0),
    (b"GET /api/items?_=4111111111111111 HTTP/1.1", 0),  # jQuery's cache-buster
    (b"GET /pay?card=4111111111111111 HTTP/1.1", 1),  # the look-alikes: any other key
    (b"GET /pay?word=4111111111111111 HTTP/1.1", 1),
    (b"GET /pay?record=4111111111111111 HTTP/1.1", 1),  # a key ending in `ord` is not `ord`
    (b"GET /ad;ord=4111 1111 1111 1111 HTTP/1.1", 1),  # grouped as printed: still a card
])
def test_cache_buster_nonces_are_not_cards(line: bytes, cards: int) -> None:
    """A contiguous number right after a cache-buster key (card_networks.yml `random_keys`) is a nonce."""
    clean, found = scrub(line)
    assert found == cards
    assert (clean == line) == (cards == 0)
