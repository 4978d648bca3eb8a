"""Timestamps end up right in UTC: year-less syslog, epochs, offsets, naive local times."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

UTC = timezone.utc


def set_mtime(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def times(query, fmt: str) -> list[datetime]:
    return [r["time"] for r in query("SELECT time FROM events WHERE source_format = ? ORDER BY source_line", [fmt])]


def test_syslog_without_year_takes_the_file_year_and_rolls_back_over_new_year(run, query, tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("Dec 31 23:59:58 web-01 sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2\n"
                   "Jan  1 00:00:03 web-01 sshd[1]: Accepted password for root from 192.0.2.1 port 1 ssh2\n")
    set_mtime(log, datetime(2027, 1, 1, 0, 5, tzinfo=UTC))
    run(log)
    assert times(query, "linux_auth") == [datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC), datetime(2027, 1, 1, 0, 0, 3, tzinfo=UTC)]


def test_syslog_local_time_zone(run, query, tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("Jul  4 12:00:00 web-01 sshd[1]: Accepted publickey for deploy from 192.0.2.1 port 1 ssh2\n")
    set_mtime(log, datetime(2026, 7, 5, tzinfo=UTC))
    run(log, tz="America/New_York")
    assert times(query, "linux_auth") == [datetime(2026, 7, 4, 16, 0, tzinfo=UTC)]


def test_offsets_and_epochs(run, query, tmp_path: Path) -> None:
    (tmp_path / "access.log").write_text(
        '192.0.2.1 - - [16/Nov/2026:10:00:00 +0200] "GET / HTTP/1.1" 200 1 "-" "UA"\n'
        '192.0.2.1 - - [16/Nov/2026:10:00:00 -0530] "GET / HTTP/1.1" 200 1 "-" "UA"\n')
    (tmp_path / "stripe.jsonl").write_text(
        '{"id": "evt_1", "object": "event", "created": 1794787200, "type": "charge.failed", "data": {"object": {"object": "charge", "amount": 100, "currency": "usd"}}}\n')
    (tmp_path / "orders.jsonl").write_text(
        '{"id": 1, "created_at": "2026-11-16T03:00:00-05:00", "total_price": "1.00", "line_items": []}\n')
    (tmp_path / "pg.log").write_text(
        "2026-11-16 09:30:00.500 CET [1] app@db LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT 1\",<not logged>\n")
    run(tmp_path)
    assert times(query, "nginx") == [datetime(2026, 11, 16, 8, 0, tzinfo=UTC), datetime(2026, 11, 16, 15, 30, tzinfo=UTC)]
    assert times(query, "stripe") == [datetime.fromtimestamp(1794787200, UTC)]
    assert times(query, "shopify") == [datetime(2026, 11, 16, 8, 0, tzinfo=UTC)]
    assert times(query, "postgres") == [datetime(2026, 11, 16, 8, 30, 0, 500000, tzinfo=UTC)]
