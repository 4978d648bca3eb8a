"""The `shipped` style writes the same records in other servers' and shippers' shapes: ingest must read both
styles into the same normalized events, so that detections see the same estate whatever the shapes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from storewatch.ingest.engine import ingest
from storewatch.simulate import simulate
from storewatch.simulate.styles import STYLES
from storewatch.store import db
from storewatch.workspace import Workspace

# source file -> the columns that must agree between the styles (times to the second: pgBadger's %t has no ms)
COMPARED = {
    "web/access.log": "src_ip, http_status, user_agent, bytes_in",  # gift-card checks move the code into the body
    "linux/auth.log": "host, user_name, src_ip, src_port, activity, outcome",
    "db/postgresql.log": "user_name, db_name, activity, outcome",  # other table names, no row counts
    "endpoint/sysmon.jsonl": "host, event_code, activity, process_name, command_line, parent_process, file_path, dst_ip, url_host",
    "auth/auth0.jsonl": "event_code, outcome, user_name, src_ip, user_agent",
    "network/conn.log": "src_ip, src_port, dst_ip, dst_port, protocol, bytes_in, bytes_out",
    "social/posts.jsonl": "message, user_id",
}


@pytest.fixture(scope="module")
def styled(tmp_path_factory) -> dict[str, tuple[Path, Workspace]]:
    """Both styles of one estate, each ingested into a workspace of its own under one card-token key."""
    mp = pytest.MonkeyPatch()
    mp.setenv("STOREWATCH_TOKEN_KEY", "one key for both styles")
    out = {}
    for style in STYLES:
        root = tmp_path_factory.mktemp(style)
        simulate(root / "raw", days=1, scale=0.05, seed=11, style=style)
        ws = Workspace.at(root / "ws")
        ingest([root / "raw" / rel for rel in COMPARED], ws)
        out[style] = (root / "raw", ws)
    mp.undo()
    return out


def _rows(ws: Workspace, raw: Path, rel: str) -> Counter:
    with db.opened(ws) as con:
        rows = con.execute(f"SELECT date_trunc('second', time) AS t, {COMPARED[rel]} FROM events "
                           "WHERE source_file = ?", [str((raw / rel).resolve())]).fetchall()
    return Counter(rows)


@pytest.mark.parametrize("rel", sorted(COMPARED))
def test_both_styles_give_the_same_events(styled, rel: str) -> None:
    (raw_c, ws_c), (raw_s, ws_s) = styled["classic"], styled["shipped"]
    assert (raw_c / rel).read_text() != (raw_s / rel).read_text()  # the shapes really differ
    classic, shipped = _rows(ws_c, raw_c, rel), _rows(ws_s, raw_s, rel)
    assert sum(classic.values()) > 10
    assert shipped == classic, (list((classic - shipped).items())[:3], list((shipped - classic).items())[:3])
