"""Raw reading: blocks cut at line ends whatever the file's size, and a file-like over them for parsers."""

from __future__ import annotations

from pathlib import Path

from storewatch.ingest import reader
from storewatch.ingest.privacy import make_scrubber
from storewatch.ingest.reader import BlockReader, ScrubbedStream


def test_block_reader_reads_across_blocks_in_any_steps() -> None:
    blocks = [b"<a>1</a>\n", bytearray(b"<b>22</b>\n<c/>\n"), b"", b"<d>4444</d>\n"]
    whole = b"".join(blocks)
    for step in (1, 3, 8, 64):
        got, r = [], BlockReader(iter(enumerate(blocks)))
        while chunk := r.read(step):
            assert type(chunk) is bytes and len(chunk) <= step
            got.append(chunk)
        assert b"".join(got) == whole and r.read(step) == b""
    r = BlockReader(iter(enumerate(blocks)))
    assert r.read(5) == b"<a>1<" and r.read(-1) == whole[5:] and r.read(-1) == b""


def test_blocks_end_at_lines_for_small_and_large_files(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(reader, "FIRST_BLOCK_BYTES", 64)
    monkeypatch.setattr(reader, "BLOCK_BYTES", 256)
    small, large = tmp_path / "small.log", tmp_path / "large.log"
    small.write_bytes(b"one line\nand a last one without newline")
    large.write_bytes(b"".join(b"line %d of a longer file\n" % i for i in range(100)))
    scrub = make_scrubber(b"k")
    # the last line, without a newline, comes on its own
    assert [bytes(b) for _, b in ScrubbedStream(small, scrub).raw_blocks()] == [b"one line\n", b"and a last one without newline"]
    offsets, blocks = zip(*((offset, bytes(b)) for offset, b in ScrubbedStream(large, scrub).raw_blocks()))
    assert len(blocks) > 5 and b"".join(blocks) == large.read_bytes()
    assert all(b.endswith(b"\n") for b in blocks)
    assert list(offsets) == [sum(map(len, blocks[:i])) for i in range(len(blocks))]


def test_a_file_that_grows_while_read_is_read_to_its_new_end(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(reader, "FIRST_BLOCK_BYTES", 64)
    log = tmp_path / "growing.log"
    log.write_bytes(b"x" * 20 + b"\n")
    blocks = ScrubbedStream(log, make_scrubber(b"k")).raw_blocks()
    first = bytes(next(blocks)[1])
    with log.open("ab") as fh:  # appended after the reader took the size it had
        fh.write(b"y" * 30 + b"\n")
    assert first + b"".join(bytes(b) for _, b in blocks) == b"x" * 20 + b"\n" + b"y" * 30 + b"\n"
