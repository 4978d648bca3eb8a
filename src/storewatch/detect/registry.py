"""Every detection storewatch runs: the shipped packs plus the rules a user drops into a folder.

User rules live in `<workspace>/rules/` (and any folder given with `--rules`): `.yml` files that are
either Sigma rules (they have `logsource` and `detection`) or windowed SQL rules (they have `sql`).
A rule that cannot be loaded is reported with its file and reason; the others still run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import yaml

from storewatch.detect import behaviour, intel, sigma, tuning
from storewatch.detect.detection import Detection, DetectionError
from storewatch.detect.windows import loader as windows
from storewatch.workspace import Workspace


def builtin_detections() -> list[Detection]:
    return [*sigma.detections(), *windows.load_rules(), *behaviour.detections(), *intel.detections()]


def load_user_rules(folder: Path) -> tuple[list[Detection], list[dict]]:
    found: list[Detection] = []
    errors: list[dict] = []
    sigma_files: dict[Path, list] = {}  # loaded together: a correlation may refer to rules of other files
    for path in sorted(folder.rglob("*.y*ml")):
        try:
            docs = sigma.read_documents(path)
            if len(docs) == 1 and windows.is_window_rule(docs[0]):
                found.append(windows.load_rule(path))
            elif docs and all(isinstance(d, dict) and ("detection" in d or "correlation" in d) for d in docs):
                sigma_files[path] = docs
            else:
                raise DetectionError(f"{path}: neither Sigma rules (logsource + detection, or correlation) "
                                     "nor a SQL rule (sql)")
        except (DetectionError, OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            errors.append({"detection": path.stem, "source": str(path), "error": str(exc)})
    more, errs = sigma.load_rules(list(sigma_files), sigma_files)
    return found + more, errors + errs


def load_detections(ws: Workspace, extra: Optional[Path] = None,
                    with_disabled: bool = False) -> tuple[list[Detection], list[dict]]:
    """Built-in detections plus the workspace's and `extra` folder's rules, ids unique, with the workspace's
    tuning (detections.yml) applied: disabled ones left out unless `with_disabled`, thresholds overridden,
    a shipped rule replaced by a user rule only where the workspace says so."""
    user: list[Detection] = []
    errors: list[dict] = []
    for folder in (ws.home / "rules", extra):
        if folder is not None and folder.is_dir():
            found, errs = load_user_rules(folder)
            user += found
            errors += errs
    try:
        settings = tuning.read(ws)
    except tuning.TuningError as exc:  # a broken settings file is reported; every detection then runs as shipped
        errors.append({"detection": "tuning", "source": tuning.FILE, "error": str(exc)})
        settings = tuning.empty()
    detections, errs = tuning.resolve(builtin_detections(), user, settings)
    if not with_disabled:
        detections = [d for d in detections if tuning.enabled(d, settings)]
    return detections, errors + errs


def refusal_summary(errors: list[dict]) -> list[dict]:
    """Load errors grouped by reason (names and values quoted in a reason are folded), most frequent first,
    so a folder of a thousand rules reads as a short report."""
    groups: dict[str, dict] = {}
    for e in errors:
        text = e["error"].split(": ", 1)[-1]  # without the file name
        reason = re.sub(r"'[^']*'", "'…'", text)
        reason = re.sub(r"\(known: [^)]*\)", "", reason).strip()
        group = groups.setdefault(reason, {"reason": reason, "count": 0, "examples": []})
        group["count"] += 1
        if len(group["examples"]) < 3:
            group["examples"].append(Path(e["source"]).name + ": " + text)
    return sorted(groups.values(), key=lambda g: -g["count"])
