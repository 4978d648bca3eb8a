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


def test_install_commands_use_constraints_that_pin_every_dependency() -> None:
    import re

    import pytest

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    readme = (ROOT / "README.md").read_text()
    installs = re.findall(r"pip install[^\n&]*", readme)
    assert installs[:2] and all("-c constraints.txt" in cmd for cmd in installs[:2]), installs
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [d for deps in project["optional-dependencies"].values() for d in deps]
    pinned = {re.split(r"==", line)[0].lower().replace("_", "-")
              for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}
    names = {re.match(r"[A-Za-z0-9_.\-]+", d).group(0).lower().replace("_", "-") for d in wanted}
    assert names <= pinned, f"not pinned in constraints.txt (run .ci/refresh-constraints): {sorted(names - pinned)}"
