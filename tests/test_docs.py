"""Documentation generated from code stays in step with it."""

from pathlib import Path

from storewatch.store import schema

ROOT = Path(__file__).resolve().parents[1]


def test_schema_doc_is_current() -> None:
    assert (ROOT / "docs" / "schema.md").read_text() == schema.markdown(), "run: python -m storewatch.store.schema > docs/schema.md"


def test_every_format_is_documented() -> None:
    from storewatch.ingest.formats import DOCUMENT_FORMATS, LINE_FORMATS

    text = (ROOT / "docs" / "ingest.md").read_text()
    for fmt in LINE_FORMATS + DOCUMENT_FORMATS:
        assert f"`{fmt.name}`" in text, fmt.name


def test_detection_catalogue_is_current() -> None:
    from storewatch.detect import catalog

    assert (ROOT / "docs" / "detections.md").read_text() == catalog.markdown(), \
        "run: python -m storewatch.detect.catalog > docs/detections.md"
