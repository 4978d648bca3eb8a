"""Every detection storewatch runs: the shipped packs plus the rules a user drops into a folder.

User rules live in `<workspace>/rules/` (and any folder given with `--rules`): `.yml` files that are
either Sigma rules (they have `logsource` and `detection`) or windowed SQL rules (they have `sql`).
A rule that cannot be loaded is reported with its file and reason; the others still run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import yaml

from storewatch.detect import behaviour, intel, sigma
from storewatch.detect.detection import Detection, DetectionError
from storewatch.detect.windows import loader as windows
from storewatch.workspace import Workspace


def builtin_detections() -> list[Detection]:
    return [*sigma.detections(), *windows.load_rules(), *behaviour.detections(), *intel.detections()]


def load_user_rules(folder: Path) -> tuple[list[Detection], list[dict]]:
    found: list[Detection] = []
    errors: list[dict] = []
    for path in sorted(folder.rglob("*.y*ml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            if windows.is_window_rule(doc):
                found.append(windows.load_rule(path))
            elif isinstance(doc, dict) and "detection" in doc and "logsource" in doc:
                found.append(sigma.load_rule(path))
            else:
                raise DetectionError(f"{path}: neither a Sigma rule (logsource + detection) nor a SQL rule (sql)")
        except (DetectionError, OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            errors.append({"detection": path.stem, "source": str(path), "error": str(exc)})
    return found, errors


def load_detections(ws: Workspace, extra: Optional[Path] = None) -> tuple[list[Detection], list[dict]]:
    """Built-in detections plus the workspace's and `extra` folder's rules; ids must be unique."""
    detections = builtin_detections()
    errors: list[dict] = []
    for folder in (ws.home / "rules", extra):
        if folder is not None and folder.is_dir():
            found, errs = load_user_rules(folder)
            detections += found
            errors += errs
    seen: set[str] = set()
    unique: list[Detection] = []
    for det in detections:
        if det.id in seen:
            errors.append({"detection": det.id, "source": det.source, "error": "duplicate detection id; skipped"})
            continue
        seen.add(det.id)
        unique.append(det)
    return unique, errors
