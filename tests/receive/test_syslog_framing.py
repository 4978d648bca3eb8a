"""Syslog frames as senders write them: octet counting and lines, damage that must not stop the good frames."""

from __future__ import annotations

from datetime import datetime, timezone

from storewatch.receive.syslog import Framer, Malformed, datagram, spool_line

NOW = datetime(2026, 12, 8, 1, 2, 3, 456789, tzinfo=timezone.utc)
A = b"<34>1 2026-12-08T01:00:00Z web-01 sshd 42 - - Failed password for root from 203.0.113.4 port 22 ssh2"
B = b"<13>Dec  8 01:00:01 web-01 sudo: deploy : TTY=pts/0 ; USER=root ; COMMAND=/bin/ls"


def counted(*frames: bytes) -> bytes:
    return b"".join(str(len(f)).encode() + b" " + f for f in frames)


def test_octet_counted_frames_split_anywhere_come_out_whole() -> None:
    stream = counted(A, B, A)
    framer = Framer()
    out = [f for i in range(len(stream)) for f in framer.feed(stream[i:i + 1])]  # one byte at a time
    assert out == [A, B, A] and framer.close() == []


def test_lines_and_a_last_line_without_newline() -> None:
    framer = Framer()
    assert framer.feed(A + b"\n\n" + B + b"\r\n" + A[:20]) == [A, B + b"\r"]
    assert framer.close() == [A[:20]]


def test_a_count_that_frames_no_message_is_malformed_and_the_next_frames_still_read() -> None:
    out = Framer().feed(b"4 abcd" + counted(B, A))
    assert isinstance(out[0], Malformed) and out[0].reason == "octet count 4 does not frame a syslog message"
    assert out[1:] == [B, A]


def test_a_count_too_short_leaves_bytes_between_frames_that_are_malformed_and_the_next_frames_still_read() -> None:
    # A sender counting characters instead of bytes: "é" is two bytes, the count one short.
    msg = "<13>Dec  8 01:00:01 h app: café".encode()
    out = Framer().feed(str(len(msg) - 1).encode() + b" " + msg + counted(B, A))
    assert out[0] == msg[:-1]
    assert isinstance(out[1], Malformed) and out[1].reason.startswith("bytes between octet-counted frames")
    assert out[1].sample == msg[-1:] and out[2:] == [B, A]


def test_a_count_that_is_not_a_number_is_malformed_until_the_next_line() -> None:
    out = Framer().feed(b"12x <13>junk\n" + B + b"\n")
    assert isinstance(out[0], Malformed) and out[0].reason == "bad octet count" and out[0].sample == b"12x <13>junk"
    assert out[1:] == [B]


def test_an_oversized_counted_frame_is_skipped_exactly() -> None:
    big = b"<13>" + b"x" * 200
    framer = Framer(max_frame=100)
    out = framer.feed(counted(big)[:50]) + framer.feed(counted(big)[50:] + counted(B))
    assert isinstance(out[0], Malformed) and out[0].reason == "frame of 204 bytes, over the 100 byte limit"
    assert out[1:] == [B]


def test_an_oversized_line_is_dropped_to_its_end() -> None:
    framer = Framer(max_frame=100)
    out = framer.feed(b"<13>" + b"y" * 150) + framer.feed(b"y" * 50 + b"\n" + B + b"\n")
    assert isinstance(out[0], Malformed) and out[0].reason == "line over the 100 byte limit" and out[1:] == [B]


def test_a_counted_frame_cut_by_the_end_of_the_stream_is_malformed() -> None:
    framer = Framer()
    assert framer.feed(b"99 <13>cut") == []
    [frame] = framer.close()
    assert isinstance(frame, Malformed) and frame.reason.startswith("stream ended inside an octet-counted frame of 99")


def test_an_oversized_datagram() -> None:
    frame = datagram(b"<13>" + b"z" * 300, max_frame=100)
    assert isinstance(frame, Malformed) and frame.sample.startswith(b"<13>zz")


def test_rfc5424_and_rfc3164_lines_are_kept_as_sent() -> None:
    assert spool_line(A + b"\n", "10.0.0.9", NOW) == A.decode()
    assert spool_line(B, "10.0.0.9", NOW) == B.decode()
    iso = b"<86>2026-12-08T01:00:02.123+01:00 web-02 sshd[7]: Accepted publickey for deploy"
    assert spool_line(iso, "10.0.0.9", NOW) == iso.decode()


def test_a_message_without_header_gets_the_time_of_receipt_and_the_sender_as_rfc_3164_says() -> None:
    # Python's SysLogHandler sends "<PRI>ident: message" and a NUL.
    assert spool_line(b"<14>shop-app: checkout failed\x00", "10.0.0.9", NOW) == \
        "<14>2026-12-08T01:02:03.456789+00:00 10.0.0.9 shop-app: checkout failed"
    assert spool_line(b"no pri at all", "::1", NOW) == "<13>2026-12-08T01:02:03.456789+00:00 ::1 no pri at all"


def test_control_characters_are_escaped_so_a_message_stays_one_line() -> None:
    line = spool_line(b"<13>Dec  8 01:00:01 h app: first\nsecond\tcol\x1b[0m", "h", NOW)
    assert line == "<13>Dec  8 01:00:01 h app: first#012second\tcol#033[0m"


def test_what_is_not_a_message() -> None:
    for frame, reason in ((b"\x00\x01\x02\x03binary\xff\xfe", "binary content, not a syslog message"),
                          (b"<999>Dec  8 01:00:01 h app: x", "PRI 999 out of range (0-191)"),
                          (b"  \r\n", "empty message")):
        result = spool_line(frame, "h", NOW)
        assert isinstance(result, Malformed) and result.reason == reason


def test_pending_is_what_a_stop_would_cut_short() -> None:
    framer = Framer(max_frame=100)
    framer.feed(counted(B) + b"99 <13>cut")
    assert framer.pending() == b"99 <13>cut"
    dropping = Framer(max_frame=100)
    assert isinstance(dropping.feed(b"<13>" + b"y" * 150)[0], Malformed)
    assert dropping.pending() == b""  # an oversized line being dropped is already counted, not pending
