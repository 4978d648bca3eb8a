"""Every real public sample in tests/data/real/ is read whole: the check a new user makes on their own files.

Each file must be recognized as a known format, have at least 95% of its records stored (the rest
quarantined with a reason, never lost), and, unless it is one of the scrubber's card-bearing samples, come
through with zero card-number replacements: real logs without cards must not be rewritten.
Field values are asserted per source family in the family's own tests; this is the corpus-wide floor.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storewatch.ingest.engine import ingest
from storewatch.workspace import Workspace

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
# Logs only: rule files beside their recordings (sigmahq/*/rule.yml) and the documentation are not input,
# the scrubber's corpus holds raw texts of every kind (API cassettes, hashes) for byte-level checks, and block
# lists are feeds (`storewatch intel feeds add --file`), tested in tests/ingest/test_blocklist.py.
FILES = sorted(p for p in REAL.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".yml")
               and not p.name.startswith(".") and p.relative_to(REAL).parts[0] != "scrubber"
               and p.relative_to(REAL).parts[:2] != ("intel", "blocklists"))
CARD_SAMPLES = "cards"  # files whose name holds this carry the card networks' published test numbers on purpose
# Lines another program wrote into a log (pg_ctl and systemd in PostgreSQL's stderr file): not the format's
# records, so quarantined with their reason, and not counted against the file.
FOREIGN_LINES = {"postgres/pgbadger-pg_rawcsv.log": 2, "postgres/pgbadger-pg-syslog.log": 3}


def test_the_corpus_covers_the_claimed_families() -> None:
    families = {p.relative_to(REAL).parts[0] for p in FILES}
    assert len(families) >= 5, families
    for family in families:
        assert (REAL / family / "SOURCES.md").exists(), f"{family}: every sample needs its origin and licence"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(REAL)) for p in FILES])
def test_real_file_is_read_whole(path: Path, tmp_path: Path) -> None:
    report = ingest([path], Workspace.at(tmp_path / "ws"))
    assert report.files, path
    for f in report.files:  # a zip archive reports one entry per member
        assert f.source_format not in ("unknown", "binary", "json-document"), (f.source_file, f.notes)
        assert f.read > 0 and f.read == f.stored + f.quarantined + f.duplicates, f
        if f.source_format == "stix":  # a bundle's other objects (identities, relationships) are no indicators
            assert f.stored > 0, f
        else:
            foreign = FOREIGN_LINES.get(path.relative_to(REAL).as_posix(), 0)
            assert f.quarantined <= foreign or f.stored >= 0.95 * (f.read - f.duplicates - foreign), f
        if CARD_SAMPLES not in path.name:
            assert f.pans_scrubbed == 0, f"{f.source_file}: {f.pans_scrubbed} replacements in a log without cards"
