"""Syslog messages as senders frame them, made into the lines the syslog reader (`linux_auth`) reads.

TCP carries frames two ways (RFC 6587): octet-counted (`<length> <message>`, rsyslog's and syslog-ng's
`framing="octet-counted"` / `transport("tcp") flags(syslog-protocol)`) and non-transparent (one message per
line). As rsyslog does, each frame is judged by its first byte: a digit starts an octet count, anything else
a line. UDP carries one message per datagram. A message is RFC 5424 (`<PRI>1 TIMESTAMP HOST ...`) or RFC 3164
(`<PRI>Mmm dd hh:mm:ss HOST ...`); one without a valid timestamp (Python's SysLogHandler sends
`<PRI>prog: text`) gets the time of receipt and the sender's address, as RFC 3164 section 4.3 asks a relay to
do, and one without a PRI gets `<13>`. Control characters become `#ooo` (rsyslog's escaping), so a message is
always one line of the spool.

A frame that cannot be a message (a count that frames no `<PRI>`, binary bytes, more than `MAX_FRAME`) is
returned as `Malformed` with its reason and a sample; the framer then finds the next frame where the framing
allows (after a counted frame's end, at the next line or the next `<count> <PRI>`), so the connection's good
frames that follow are still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from storewatch.ingest.sniff import is_binary

MAX_FRAME = 64 * 1024  # bytes: syslog-ng's default message size; rsyslog's is 8 KiB
SAMPLE = 512  # bytes of a malformed frame kept with its reason

_COUNT = re.compile(rb"(\d{1,9}) ")
_RESYNC = re.compile(rb"\n|\d{1,9} <\d{1,3}>")
_PRI = re.compile(r"<(\d{1,3})>")
_RFC5424 = re.compile(r"\d{1,2} ")
_BSD_TIME = re.compile(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ")
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S* ")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class Malformed:
    """A frame that is not a syslog message: why, and its first bytes."""

    reason: str
    sample: bytes


class Framer:
    """Cuts a TCP byte stream into frames: `feed` bytes as they arrive, `close` at the end of the stream."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._skip = 0  # bytes still to drop of an oversized counted frame
        self._discarding = False  # dropping an oversized line up to its end
        self._counting = False  # the sender counts octets (set by its first good counted frame)

    def feed(self, data: bytes) -> list[bytes | Malformed]:
        self._buf += data
        out: list[bytes | Malformed] = []
        while self._buf:
            if self._skip:
                dropped = min(self._skip, len(self._buf))
                del self._buf[:dropped]
                self._skip -= dropped
                continue
            if self._discarding:
                end = self._buf.find(b"\n")
                if end < 0:
                    self._buf.clear()
                    break
                del self._buf[:end + 1]
                self._discarding = False
                continue
            if self._buf[:1] in (b"\n", b"\r", b" "):  # a delimiter after a counted frame, or a blank line
                del self._buf[:1]
                continue
            if self._buf[:1].isdigit():
                frame = self._counted()
            elif self._counting:  # octet-counted frames follow each other with nothing between
                frame = self._resync("bytes between octet-counted frames (a count too short before them?)")
            else:
                frame = self._line()
            if frame is None:
                break
            out.append(frame)
        return out

    def pending(self) -> bytes:
        """The bytes of a frame not yet complete (none while dropping an oversized one)."""
        return b"" if self._skip or self._discarding else bytes(self._buf)

    def close(self) -> list[bytes | Malformed]:
        """What is left when the stream ends: a last line without its newline is a message (rsyslog takes
        it too); a counted frame cut short is not."""
        rest, self._buf = bytes(self._buf), bytearray()
        if not rest.strip(b"\r\n") or self._skip or self._discarding:
            return []
        if rest[:1].isdigit() and (m := _COUNT.match(rest)):
            return [Malformed(f"stream ended inside an octet-counted frame of {int(m.group(1))} bytes", rest[:SAMPLE])]
        return [rest]

    def _counted(self) -> bytes | Malformed | None:
        m = _COUNT.match(self._buf)
        if m is None:
            if len(self._buf) < 10 and self._buf.isdigit():
                return None  # the count is still arriving
            return self._resync("bad octet count")
        size, start = int(m.group(1)), m.end()
        if size > self.max_frame:
            sample = bytes(self._buf[start:start + SAMPLE])
            have = min(len(self._buf) - start, size)
            del self._buf[:start + have]
            self._skip = size - have
            return Malformed(f"frame of {size:,} bytes, over the {self.max_frame:,} byte limit", sample)
        if len(self._buf) < start + size:
            return None
        frame = bytes(self._buf[start:start + size])
        if not frame.startswith(b"<"):
            return self._resync(f"octet count {size} does not frame a syslog message")
        del self._buf[:start + size]
        self._counting = True
        return frame

    def _resync(self, reason: str) -> Malformed | None:
        """Drop the bytes up to the next place a frame can start; they are the malformed frame."""
        m = _RESYNC.search(self._buf, 1)
        if m is None:
            if len(self._buf) <= self.max_frame:
                return None  # wait: the next frame's start may be still arriving
            end = len(self._buf) - 12  # keep what may be the start of a count
        else:
            end = m.start()
        bad = bytes(self._buf[:end])
        del self._buf[:end]
        return Malformed(reason, bad[:SAMPLE])

    def _line(self) -> bytes | Malformed | None:
        end = self._buf.find(b"\n")
        if end < 0:
            if len(self._buf) > self.max_frame:
                sample = bytes(self._buf[:SAMPLE])
                self._buf.clear()
                self._discarding = True
                return Malformed(f"line over the {self.max_frame:,} byte limit", sample)
            return None
        frame = bytes(self._buf[:end])
        del self._buf[:end + 1]
        if len(frame) > self.max_frame:
            return Malformed(f"line over the {self.max_frame:,} byte limit", frame[:SAMPLE])
        return frame


def datagram(data: bytes, max_frame: int = MAX_FRAME) -> bytes | Malformed:
    """One UDP datagram's message (some senders end it with a newline or a NUL)."""
    if len(data) > max_frame:
        return Malformed(f"datagram of {len(data):,} bytes, over the {max_frame:,} byte limit", data[:SAMPLE])
    return data


def spool_line(frame: bytes, peer: str, received: datetime) -> str | Malformed:
    """The frame as one line of the syslog spool (see the module's docstring), or why it is not a message."""
    frame = frame.rstrip(b"\r\n\x00")  # Python's SysLogHandler ends each message with a NUL
    if not frame.strip():
        return Malformed("empty message", frame[:SAMPLE])
    if b"\x00" in frame or is_binary(frame):
        return Malformed("binary content, not a syslog message", frame[:SAMPLE])
    text = frame.decode("utf-8", errors="backslashreplace")
    pri = _PRI.match(text)
    if pri and int(pri.group(1)) > 191:
        return Malformed(f"PRI {pri.group(1)} out of range (0-191)", frame[:SAMPLE])
    head, rest = (pri.group(0), text[pri.end():]) if pri else ("<13>", text)
    if not (_RFC5424.match(rest) or _BSD_TIME.match(rest) or _ISO_TIME.match(rest)):
        rest = f"{received.isoformat(timespec='microseconds')} {peer} {rest}"
    return _CONTROL.sub(lambda m: f"#{ord(m.group()):03o}", head + rest)
