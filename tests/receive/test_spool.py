"""The spool: rotation by rename, a line cut by a crash, nothing at rest with a card number."""

from __future__ import annotations

from storewatch.receive.spool import Limits, Spool
from storewatch.receive.status import Counters


def test_rotation_renames_and_every_line_is_in_exactly_one_file(ws) -> None:
    spool = Spool(ws, Limits(rotate_bytes=100), Counters())
    for n in range(10):
        spool.append("jsonl", [f'{{"n": {n}, "pad": "{"x" * 30}"}}'])
    spool.close()
    files = sorted((ws.home / "inbox" / "jsonl").iterdir())
    assert len(files) == 5 and all(f.name.startswith("jsonl-") for f in files)  # 2 lines per file, then renamed
    lines = [line for f in files for line in f.read_text().splitlines()]
    assert [int(line.split(",")[0].split(": ")[1]) for line in lines] == list(range(10))
    assert spool.counters.accepted["jsonl"] == 10 and spool.counters.spooled_bytes == sum(f.stat().st_size for f in files)


def test_a_line_cut_by_a_crash_stays_a_line_of_its_own(ws) -> None:
    active = ws.home / "inbox" / "syslog" / "syslog.log"
    active.parent.mkdir(parents=True)
    active.write_text("<13>Dec  8 01:00:00 h app: whole\n<13>Dec  8 01:00:01 h app: cut mid-wr")
    spool = Spool(ws, Limits(), Counters())
    spool.append("syslog", ["<13>Dec  8 01:00:02 h app: next", "<13>Dec  8 01:00:03 h app: card 4111-1111-1111-1111"])
    spool.close()
    lines = active.read_text().splitlines()
    assert lines[1:3] == ["<13>Dec  8 01:00:01 h app: cut mid-wr", "<13>Dec  8 01:00:02 h app: next"]
    assert lines[3].startswith("<13>Dec  8 01:00:03 h app: card [PAN:last4=1111:tok=")
    assert spool.counters.pans_scrubbed == 1 and spool.size == active.stat().st_size


def test_a_card_number_only_visible_once_decoded_is_scrubbed_too(ws) -> None:
    spool = Spool(ws, Limits(), Counters())
    spool.append("jsonl", ['{"note": "\\u0034111111111111111"}'])
    spool.quarantine("jsonl", "line 1: invalid JSON", b'{"pan": 4111111111111111', "198.51.100.1")
    spool.close()
    assert "111111111111" not in (ws.home / "inbox" / "jsonl" / "jsonl.jsonl").read_text()
    kept = (ws.home / "receive" / "quarantine" / "jsonl.jsonl").read_text()
    assert "4111111111111111" not in kept and '"reason":"line 1: invalid JSON"' in kept
    assert spool.counters.malformed["jsonl: line 1: invalid JSON"] == 1 and spool.counters.pans_scrubbed == 2
