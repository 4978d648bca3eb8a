"""The audit log is append-only, masks secrets and detects edits and removals."""

from __future__ import annotations

from storewatch import audit


def test_chain_verifies_and_detects_tampering(ws) -> None:
    for i in range(3):
        audit.append(ws, "block_ip", {"ip": f"203.0.113.{i}", "api_token": "s3cr3t"}, "incident INC-1", "ok", actor="ana")
    assert audit.verify(ws) == []
    rows = list(audit.entries(ws))
    assert [r["what"]["ip"] for r in rows] == ["203.0.113.0", "203.0.113.1", "203.0.113.2"]
    assert all(r["what"]["api_token"] == "***" for r in rows)
    assert "s3cr3t" not in audit.log_path(ws).read_text()

    lines = audit.log_path(ws).read_text().splitlines(keepends=True)
    audit.log_path(ws).write_text(lines[0] + lines[2])  # drop the middle entry
    assert audit.verify(ws) == ["line 2: chain broken (an entry before it was changed or removed)"]
