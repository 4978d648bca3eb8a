"""The analyst's choices about detections, kept in `<workspace>/detections.yml` (reviewable in a diff):

    disabled: [window.web.scraping_bot]          # detections that do not run
    disabled_groups: [brand_impersonation]       # scenarios or kinds that do not run
    parameters:                                  # threshold overrides, for detections that have parameters
      window.ssh.bruteforce: {min_failures: 40}
    replace: [sigma.web_xss]                     # user rules allowed to replace the shipped rule of their id

Pure functions apply the file to the loaded detections; each change is written and audited by `change`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import yaml

from storewatch import audit
from storewatch.detect.detection import Detection, DetectionError
from storewatch.workspace import Workspace

FILE = "detections.yml"
KEYS = ("disabled", "disabled_groups", "parameters", "replace")


class TuningError(ValueError):
    """A detections.yml that cannot be read or a change that makes no sense; the message says why."""


def empty() -> dict[str, Any]:
    """No choices made: every detection as shipped."""
    return {k: ({} if k == "parameters" else []) for k in KEYS}


def read(ws: Workspace) -> dict[str, Any]:
    """The settings (empty when there is no file); TuningError names the file and the problem."""
    path = ws.home / FILE
    if not path.exists():
        return empty()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TuningError(f"{path}: {exc}") from None
    if not isinstance(doc, dict) or set(doc) - set(KEYS):
        raise TuningError(f"{path}: a mapping of {', '.join(KEYS)}")
    out = {k: doc.get(k) or ({} if k == "parameters" else []) for k in KEYS}
    if not all(isinstance(out[k], list) for k in ("disabled", "disabled_groups", "replace")) \
            or not isinstance(out["parameters"], dict):
        raise TuningError(f"{path}: disabled, disabled_groups and replace are lists; parameters a mapping")
    return out


def enabled(det: Detection, settings: Mapping[str, Any]) -> bool:
    return det.id not in settings["disabled"] and not {det.scenario, det.kind} & set(settings["disabled_groups"])


def tuned(det: Detection, settings: Mapping[str, Any]) -> Detection:
    """The detection with the workspace's parameter overrides; DetectionError for an unknown parameter."""
    values = settings["parameters"].get(det.id)
    if not values:
        return det
    if det.tuned is None:
        raise DetectionError(f"{det.id} has no parameters to override")
    return det.tuned(values)


def resolve(shipped: list[Detection], user: list[Detection], settings: Mapping[str, Any]) -> tuple[list[Detection], list[dict]]:
    """Shipped plus user detections, ids unique: a user rule with a shipped rule's id replaces it only when the
    id is in `replace`; otherwise it is skipped with an error saying how to allow it."""
    by_id: dict[str, Detection] = {}
    errors: list[dict] = []
    shipped_ids = {d.id for d in shipped}
    replaced: set[str] = set()
    for det in shipped + user:
        if det.id not in by_id:
            by_id[det.id] = det
        elif det.id in shipped_ids and det.id in settings["replace"] and det.id not in replaced:
            by_id[det.id] = det
            replaced.add(det.id)
        else:
            hint = (f" (`storewatch detections replace {det.id}` lets your rule replace the shipped one)"
                    if det.id in shipped_ids else "")
            errors.append({"detection": det.id, "source": det.source, "error": f"duplicate detection id; skipped{hint}"})
    found = []
    for det in by_id.values():
        try:
            found.append(tuned(det, settings))
        except (DetectionError, ValueError) as exc:  # a stale override is reported; the rule runs as shipped
            errors.append({"detection": det.id, "source": FILE, "error": str(exc)})
            found.append(det)
    return found, errors


def change(ws: Workspace, what: str, edit: Callable[[dict], None], details: Mapping[str, Any],
           actor: str | None = None) -> dict:
    """Apply `edit` to the settings, write the file and audit the change; returns the new settings."""
    settings = read(ws)
    edit(settings)
    ws.home.mkdir(parents=True, exist_ok=True)
    kept = {k: v for k, v in settings.items() if v}
    (ws.home / FILE).write_text(yaml.safe_dump(kept, sort_keys=False) if kept else "", encoding="utf-8")
    audit.append(ws, f"detections.{what}", dict(details), "analyst tuned the detections", "saved", actor=actor)
    return settings


def set_enabled(ws: Workspace, target: str, on: bool, group: bool = False, actor: str | None = None) -> dict:
    key = "disabled_groups" if group else "disabled"

    def edit(s: dict) -> None:
        s[key] = sorted(set(s[key]) - {target}) if on else sorted(set(s[key]) | {target})
    return change(ws, "enable" if on else "disable", edit, {"group" if group else "detection": target}, actor)


def set_parameters(ws: Workspace, det_id: str, values: Mapping[str, float], actor: str | None = None) -> dict:
    def edit(s: dict) -> None:
        s["parameters"][det_id] = {**s["parameters"].get(det_id, {}), **values}
    return change(ws, "tune", edit, {"detection": det_id, "parameters": dict(values)}, actor)


def set_replace(ws: Workspace, det_id: str, on: bool, actor: str | None = None) -> dict:
    def edit(s: dict) -> None:
        s["replace"] = sorted(set(s["replace"]) | {det_id}) if on else sorted(set(s["replace"]) - {det_id})
    return change(ws, "replace" if on else "keep_shipped", edit, {"detection": det_id}, actor)
