"""The audit log is append-only, masks secrets, and `verify` finds every kind of tampering, one by one."""

from __future__ import annotations

import hashlib
import multiprocessing

import orjson
import pytest

from storewatch import audit

SEALED_AWAY = "names an entry the log no longer holds (the last entries were removed or changed, or the file emptied)"


def _write(ws, n: int = 4) -> None:
    for i in range(n):
        audit.append(ws, "block_ip", {"ip": f"203.0.113.{i}", "api_token": "s3cr3t"}, "incident INC-1", "ok", actor="ana")


def _lines(ws) -> list[bytes]:
    return audit.log_path(ws).read_bytes().splitlines(keepends=True)


def _rechain(lines: list[bytes]) -> list[bytes]:
    """What a careful editor without the key does: recompute every `prev` so the hash chain holds again."""
    out, prev = [], audit.GENESIS
    for line in lines:
        entry = orjson.loads(line)
        entry["prev"] = prev
        raw = orjson.dumps(entry)
        out.append(raw + b"\n")
        prev = hashlib.sha256(raw).hexdigest()
    return out


def _edit(line: bytes, **changes) -> bytes:
    return line.replace(b'"ok"', b'"' + changes.get("result", "failed").encode() + b'"')


def test_an_untouched_log_verifies_and_masks_secrets(ws) -> None:
    _write(ws)
    assert audit.verify(ws) == []
    rows = list(audit.entries(ws))
    assert [r["what"]["ip"] for r in rows] == [f"203.0.113.{i}" for i in range(4)]
    assert all(r["what"]["api_token"] == "***" for r in rows)
    assert "s3cr3t" not in audit.log_path(ws).read_text()


def test_a_fresh_workspace_has_nothing_to_verify(ws) -> None:
    assert audit.verify(ws) == [] and list(audit.entries(ws)) == []


def test_removing_a_middle_entry_breaks_the_chain(ws) -> None:
    _write(ws)
    lines = _lines(ws)
    audit.log_path(ws).write_bytes(b"".join(lines[:1] + lines[2:]))
    assert audit.verify(ws) == ["line 2: chain broken (an entry before it was changed or removed)"]


def test_editing_a_middle_entry_is_found_at_its_line(ws) -> None:
    _write(ws)
    lines = _lines(ws)
    lines[1] = _edit(lines[1])
    audit.log_path(ws).write_bytes(b"".join(lines))
    assert audit.verify(ws) == ["line 2: signature does not match (the entry was edited)",
                                "line 3: chain broken (an entry before it was changed or removed)"]


def test_editing_with_the_chain_recomputed_is_found(ws) -> None:
    _write(ws)
    lines = _lines(ws)
    lines[1] = _edit(lines[1])
    audit.log_path(ws).write_bytes(b"".join(_rechain(lines)))
    problems = audit.verify(ws)
    assert [p for p in problems if p.startswith("line")] == [
        f"line {n}: signature does not match (the entry was edited)" for n in (2, 3, 4)]
    assert any(SEALED_AWAY in p for p in problems)


def test_rechained_log_without_signatures_and_a_forged_seal_is_found(ws) -> None:
    _write(ws)
    lines = [orjson.dumps({k: v for k, v in orjson.loads(x).items() if k != "mac"}) + b"\n" for x in _lines(ws)]
    lines = _rechain(lines[:2])
    audit.log_path(ws).write_bytes(b"".join(lines))
    forged = {"last": hashlib.sha256(lines[-1].rstrip()).hexdigest(), "mac": "0" * 64}
    audit.head_path(ws).write_bytes(orjson.dumps(forged))
    assert audit.verify(ws) == [
        "line 1: not signed (forged, or written by a version that did not sign)",
        "line 2: not signed (forged, or written by a version that did not sign)",
        "the seal (audit.head) is not signed with this workspace's key"]


@pytest.mark.parametrize("keep", [3, 2, 0])
def test_deleting_the_last_entries_or_emptying_the_file_is_found(ws, keep) -> None:
    _write(ws)
    audit.log_path(ws).write_bytes(b"".join(_lines(ws)[:keep]))
    problems = audit.verify(ws)
    assert problems == ["the seal (audit.head) " + SEALED_AWAY]


def test_editing_the_last_entry_is_found(ws) -> None:
    _write(ws)
    lines = _lines(ws)
    lines[-1] = _edit(lines[-1])
    audit.log_path(ws).write_bytes(b"".join(lines))
    problems = audit.verify(ws)
    assert problems[0] == "line 4: signature does not match (the entry was edited)"
    assert SEALED_AWAY in problems[1] and len(problems) == 2


def test_deleting_the_log_or_its_seal_is_found(ws) -> None:
    _write(ws)
    audit.head_path(ws).unlink()
    assert audit.verify(ws) == ["the seal (audit.head) is missing"]
    _write(ws, 1)  # the next append seals again
    assert audit.verify(ws) == []
    audit.log_path(ws).unlink()
    assert len(audit.verify(ws)) == 1 and SEALED_AWAY in audit.verify(ws)[0]


def test_a_seal_kept_elsewhere_finds_the_log_and_its_seal_deleted_together(ws) -> None:
    _write(ws)
    kept = audit.seal(ws)
    _write(ws, 2)  # later entries are fine: the log still passes through the kept point
    assert audit.verify(ws, kept) == []
    audit.log_path(ws).unlink()
    audit.head_path(ws).unlink()
    assert audit.verify(ws) == []  # without a kept seal this looks like a log never written
    assert audit.verify(ws, kept) == ["the kept seal " + SEALED_AWAY]
    with pytest.raises(ValueError):
        audit.verify(ws, "not-a-seal")


def test_a_damaged_line_is_named_and_the_rest_still_reads(ws) -> None:
    _write(ws)
    lines = _lines(ws)
    audit.log_path(ws).write_bytes(b"".join(lines[:2] + [b"not json at all\n", b"[1, 2]\n"] + lines[2:]))
    problems = audit.verify(ws)
    assert problems[:3] == ["line 3: not JSON", "line 4: not an entry",
                            "line 5: chain broken (an entry before it was changed or removed)"]
    assert [e["what"]["ip"] for e in audit.entries(ws)] == [f"203.0.113.{i}" for i in range(4)]


def test_a_forged_entry_appended_without_the_key_is_found(ws) -> None:
    _write(ws)
    last = _lines(ws)[-1].rstrip(b"\n")
    forged = {**orjson.loads(last), "action": "respond.rollback", "prev": hashlib.sha256(last).hexdigest()}
    del forged["mac"]
    with audit.log_path(ws).open("ab") as fh:
        fh.write(orjson.dumps(forged) + b"\n")
    assert audit.verify(ws) == ["line 5: not signed (forged, or written by a version that did not sign)"]


def test_a_torn_last_line_stays_a_line_of_its_own(ws) -> None:
    _write(ws, 2)
    with audit.log_path(ws).open("ab") as fh:
        fh.write(b'{"at": "2026-')  # a writer killed mid-line
    _write(ws, 1)
    assert audit.verify(ws) == ["line 3: not JSON"]
    assert len(list(audit.entries(ws))) == 3


def test_an_entry_longer_than_a_read_block_chains(ws) -> None:
    audit.append(ws, "note", {"text": "x" * 200_000}, "long", "ok")
    audit.append(ws, "note", {"text": "short"}, "after", "ok")
    assert audit.verify(ws) == []


def _append_many(home: str, worker: int, count: int) -> None:
    from storewatch.workspace import Workspace

    ws = Workspace.at(home)
    for i in range(count):
        audit.append(ws, "note", {"worker": worker, "i": i}, "concurrency", "ok")


def test_concurrent_appends_from_processes_keep_one_chain(ws) -> None:
    procs = [multiprocessing.get_context("fork").Process(target=_append_many, args=(str(ws.home), w, 75))
             for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0] * 8
    assert audit.verify(ws) == []
    written = sorted((e["what"]["worker"], e["what"]["i"]) for e in audit.entries(ws))
    assert written == [(w, i) for w in range(8) for i in range(75)]


def test_the_audit_command_verifies_and_exits_1_on_tampering(ws) -> None:
    from typer.testing import CliRunner

    from storewatch.cli import app

    _write(ws)
    run = CliRunner().invoke
    kept = run(app, ["audit", "seal", "--home", str(ws.home)]).output.strip()
    intact = run(app, ["audit", "verify", "--seal", kept, "--home", str(ws.home)])
    assert intact.exit_code == 0 and "Audit log intact: 4 entries" in intact.output
    audit.log_path(ws).write_bytes(b"".join(_lines(ws)[:3]))
    broken = run(app, ["audit", "verify", "--json", "--home", str(ws.home)])
    assert broken.exit_code == 1
    assert orjson.loads(broken.stdout)["problems"] == ["the seal (audit.head) " + SEALED_AWAY]
    assert run(app, ["audit", "verify", "--seal", "x", "--home", str(ws.home)]).exit_code == 2
