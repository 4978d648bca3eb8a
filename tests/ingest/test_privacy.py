"""No card number survives ingest: property-based on the scrubber, end-to-end on the workspace."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings, strategies as st

from storewatch.ingest.privacy import TOKEN_PATTERN, luhn_valid, make_scrubber

KEY = b"test-key"
scrub = make_scrubber(KEY)
# What a reviewer would grep for: contiguous digit runs, or groups of four split by one kind of separator.
DIGIT_RUN = re.compile(rb"(?<![0-9])(?:[0-9]{13,19}|[0-9]{4}(?:([ -])[0-9]{4})+(?:[ -][0-9]{1,4})?)(?![0-9])")


def with_check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d
    raise AssertionError("unreachable")


pans = st.integers(min_value=12, max_value=18).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n).map(with_check_digit)
)


def grouped(pan: str, sep: str) -> str:
    return sep.join(pan[i:i + 4] for i in range(0, len(pan), 4))


def leaks(data: bytes) -> list[bytes]:
    """Luhn-valid 13-19 digit runs (contiguous or separated) still present."""
    out = []
    for m in DIGIT_RUN.finditer(data):
        digits = re.sub(rb"[ -]", b"", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            out.append(m.group(0))
    return out


@settings(max_examples=300, deadline=None)
@given(pan=pans, prefix=st.text(max_size=40), suffix=st.text(max_size=40),
       style=st.sampled_from(["plain", "space", "dash", "json-number", "json-string", "query"]))
def test_every_pan_is_replaced_by_last4_and_token(pan: str, prefix: str, suffix: str, style: str) -> None:
    shown = {"plain": pan, "space": grouped(pan, " "), "dash": grouped(pan, "-"),
             "json-number": f'{{"n": {pan}}}', "json-string": f'{{"n": "{pan}"}}', "query": f"/search?q={pan}&x=1"}[style]
    # Keep the PAN a standalone number: neighbours that are digits would make it another number.
    prefix = prefix.rstrip("0123456789 -") + " " if prefix else ""
    suffix = " " + suffix.lstrip("0123456789 -") if suffix else ""
    data = (prefix + shown + suffix).encode()
    clean, found = scrub(data)
    if style in ("plain", "json-number", "json-string", "query") or len(pan) >= 16:
        assert pan.encode() not in clean.replace(b" ", b"").replace(b"-", b"")
        assert found >= 1
        assert re.search(TOKEN_PATTERN.encode(), clean)
        assert f"last4={pan[-4:]}".encode() in clean
    assert leaks(clean) == []


@given(st.binary(max_size=300))
def test_scrubbed_output_never_holds_a_luhn_valid_run(data: bytes) -> None:
    clean, _ = scrub(data)
    assert leaks(clean) == []


def test_token_is_stable_and_keyed() -> None:
    pan = b"4111111111111111"
    a, _ = scrub(b"x " + pan)
    b, _ = scrub(b"y " + pan)
    other, _ = make_scrubber(b"another key")(b"x " + pan)
    assert a[2:] == b[2:]
    assert a != other


def test_non_pan_numbers_are_kept() -> None:
    # 4111111111111112 fails Luhn; 1794787200 is an epoch; neither is a card.
    data = b'{"ts": 1794787200.96, "id": 4111111111111112, "port": 443}'
    assert scrub(data) == (data, 0)


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


def segment_text(path: Path) -> bytes:
    """Every value of an events segment, as text, but the record ids: they are MD5 digests in hex, where
    a run of 13+ decimal digits that passes Luhn turns up by chance in about one id in 600."""
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
        f"garbage line with a card {pans[2]} in it\n"
    )
    (logs / "auth0.jsonl").write_text(
        f'{{"date": "2026-11-16T00:01:21.770Z", "type": "f", "description": "card {grouped(pans[3], " ")}", "ip": "1.2.3.4", "log_id": "a"}}\n'
        f'{{"date": "broken {pans[0]}\n'
    )
    report = run(logs)
    assert report.totals["pans_scrubbed"] == 5
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
    assert any("last4=1111" in (r["url_query"] or "") for r in rows)
    raw = query("SELECT raw FROM quarantine")
    assert all("[PAN:last4=" in r["raw"] for r in raw)
