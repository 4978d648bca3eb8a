"""STIX 2.x threat-intel bundles -> flat intel rows (one per observable value) for matching against events.

Detections match on plain values (an IP, a domain, a hash), so each indicator's pattern is parsed with
`stix2patterns` and every `=` / `IN` comparison on an observable we can match yields a row. Cyber
observables (SCOs) in the bundle count as indicators too. Feeds are messy: real ones publish ids that
are not RFC 4122 UUIDs, odd timestamps or custom properties, which stix2 refuses. An object stix2
refuses is read from its raw JSON instead, keeping its id as given, with a note; only an object without
a type and an id, a pattern we cannot use, or a comparison we cannot match is skipped with a note, never
by failing the bundle.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

import orjson
import stix2
from stix2patterns.v20.pattern import Pattern as Pattern20
from stix2patterns.v21.pattern import Pattern as Pattern21

from storewatch.store.schema import INTEL_COLUMNS

INTEL_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in INTEL_COLUMNS)

# (object type, property path) -> ioc_type; file hashes are matched on the path's first step.
_PATTERN_PATHS: dict[tuple[str, str], str] = {
    ("ipv4-addr", "value"): "ip",
    ("ipv6-addr", "value"): "ip",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("email-addr", "value"): "email",
    ("email-message", "from_ref"): "email",
    ("email-message", "sender_ref"): "email",
    ("domain-name", "resolves_to_refs"): "ip",
    ("file", "hashes"): "hash",
}
# `=` and `IN` name values; ISSUBSET names a network an address lies in (stored as CIDR, matched as a range).
_VALUE_OPS = {"=", "IN"}
_NETWORK_OPS = {"ISSUBSET"}
_SCO_TYPES = {"ipv4-addr": "ip", "ipv6-addr": "ip", "domain-name": "domain", "url": "url", "email-addr": "email"}
_LOWER = {"domain", "hash", "email"}
_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")
_BUNDLE_HEAD = re.compile(r'^\s*\{.*?"type"\s*:\s*"bundle"', re.S)
# A TAXII 2.1 envelope (what a collection's /objects/ endpoint returns): top-level "objects" of STIX objects.
_ENVELOPE_HEAD = re.compile(r'^\s*\{[^{]*"objects"\s*:\s*\[\s*\{[^{}]{0,4000}?"id"\s*:\s*"[a-z][a-z0-9-]*--', re.S)


# One STIX object on its own (an OpenCTI or MISP export of a single indicator or observable): its id names its type.
_OBJECT_ID = re.compile(r'"id"\s*:\s*"(indicator|ipv4-addr|ipv6-addr|domain-name|url|email-addr|file)--[0-9a-fA-F-]{8,}"')


def looks_like(head: str) -> bool:
    """A STIX bundle (a JSON object whose type is "bundle"), a TAXII envelope, or a single indicator or
    observable object, within the first 64 KB."""
    head = head[:65536].lstrip("\ufeff")
    if _BUNDLE_HEAD.match(head) or _ENVELOPE_HEAD.match(head):
        return True
    found = _OBJECT_ID.search(head) if head.lstrip().startswith("{") else None
    return bool(found and re.search(rf'"type"\s*:\s*"{found[1]}"', head))


# TLP marking definitions by id: TLP 1.0 as stix2 ships them, TLP 2.0 as the STIX 2.1 extension publishes them.
TLP_MARKINGS: dict[str, str] = {
    stix2.TLP_WHITE.id: "clear", stix2.TLP_GREEN.id: "green", stix2.TLP_AMBER.id: "amber", stix2.TLP_RED.id: "red",
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}


def read_bundle(data: bytes, source_file: str) -> tuple[list[dict], list[str]]:
    """Rows with exactly the INTEL_COLUMNS keys, and notes on the objects and comparisons skipped."""
    errors: list[str] = []
    return read_objects(_parse_objects(data, errors), source_file, errors), errors


def parse_objects(objects: list[dict], errors: list[str]) -> list[Any]:
    """STIX objects as a TAXII collection hands them over, parsed as a bundle's are (see `_parse_objects`)."""
    return _parse_objects(orjson.dumps({"objects": objects}), errors)


def tlp_of(obj: Any) -> str | None:
    """The most restrictive TLP level among the object's markings, or None when it carries none we know."""
    order = ("clear", "green", "amber", "amber+strict", "red")
    levels = [TLP_MARKINGS[m] for m in (obj.get("object_marking_refs") or []) if m in TLP_MARKINGS]
    return max(levels, key=order.index) if levels else None


def read_objects(objects: list[Any], source_file: str, errors: list[str]) -> list[dict]:
    """Intel rows of parsed STIX objects, one per (indicator, type, value); notes go to `errors`."""
    rows: list[dict] = []
    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        try:
            found = list(_rows(obj, source_file, errors))
        except Exception as exc:  # an odd custom object costs only itself
            errors.append(f"{obj.get('id', '?')}: skipped: {_short(exc)}")
            continue
        for row in found:
            key = (row["indicator_id"], row["ioc_type"], row["value"])
            if key not in seen and row["value"]:
                seen.add(key)
                rows.append(row)
    return rows


def _parse_objects(data: bytes, errors: list[str]) -> list[Any]:
    """The bundle's objects, parsed by stix2; those it refuses kept as their raw JSON objects, with a note."""
    try:
        bundle = stix2.parse(data.decode("utf-8-sig"), allow_custom=True)
        return list(getattr(bundle, "objects", None) or [bundle])
    except Exception as exc:  # strict validation failed somewhere: retry object by object
        whole_error = exc
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        errors.append(f"invalid JSON: {exc}")
        return []
    envelope = isinstance(raw, dict) and "type" not in raw and isinstance(raw.get("objects"), list)  # TAXII 2.1
    if not isinstance(raw, dict) or (raw.get("type") != "bundle" and not envelope):
        errors.append(f"not a STIX bundle: {_short(whole_error)}")
        return []
    parsed = []
    version = raw.get("spec_version")  # STIX 2.0 bundles carry it; 2.1 objects carry their own
    for obj in raw.get("objects") or []:
        try:
            parsed.append(stix2.parse(obj, allow_custom=True, version=_object_version(obj, version)))
        except Exception as exc:  # strict validation refused it: read the fields we need from the raw JSON
            if isinstance(obj, dict) and isinstance(obj.get("type"), str) and isinstance(obj.get("id"), str):
                errors.append(f"{obj['id']}: read without strict validation: {_short(exc)}")
                parsed.append(obj if obj.get("spec_version") or not version else {**obj, "spec_version": version})
            else:
                ident = obj.get("id", "?") if isinstance(obj, dict) else "?"
                errors.append(f"{ident}: skipped invalid object: {_short(exc)}")
    return parsed


def _object_version(obj: Any, bundle_version: str | None) -> str | None:
    if isinstance(obj, dict) and obj.get("spec_version"):
        return str(obj["spec_version"])
    return bundle_version


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def _rows(obj: Any, source_file: str, errors: list[str]) -> Iterator[dict]:
    kind = obj.get("type")
    if kind == "indicator":
        yield from _indicator_rows(obj, source_file, errors)
    elif kind in _SCO_TYPES and obj.get("value"):
        yield _row(obj["id"], _SCO_TYPES[kind], str(obj["value"]), source_file)
    elif kind == "file":
        for value in (obj.get("hashes") or {}).values():
            yield _row(obj["id"], "hash", str(value), source_file)


def _indicator_rows(ind: Any, source_file: str, errors: list[str]) -> Iterator[dict]:
    ident = ind["id"]
    if ind.get("revoked"):  # withdrawn by its producer: accounted for, never matched
        errors.append(f"{ident}: revoked by its producer, not matched")
        return
    pattern_type = ind.get("pattern_type", "stix")
    if pattern_type != "stix":
        errors.append(f"{ident}: pattern_type {pattern_type!r} not supported")
        return
    pattern = ind["pattern"]
    try:
        # STIX 2.1 objects must carry spec_version; its absence means a 2.0 indicator
        parser = Pattern20 if str(ind.get("spec_version", "2.0")) == "2.0" else Pattern21
        comparisons = parser(pattern).inspect().comparisons
    except Exception as exc:
        errors.append(f"{ident}: unreadable pattern: {_short(exc)}")
        return
    labels = ",".join(dict.fromkeys([*(ind.get("indicator_types") or []), *(ind.get("labels") or [])])) or None
    extra = {
        "pattern": pattern,
        "name": ind.get("name"),
        "labels": labels,
        "confidence": _confidence(ind, errors),
        "valid_from": _utc(ind.get("valid_from")),
        "valid_until": _utc(ind.get("valid_until")),
        "modified": _utc(ind.get("modified")),
        "tlp": tlp_of(ind),
    }
    for sco_type, items in comparisons.items():
        for path, op, literal in items:
            ioc_type = _PATTERN_PATHS.get((sco_type, str(path[0]) if path else ""))
            where = f"{sco_type}:{'.'.join(map(str, path))} {op}"
            if ioc_type is None:
                errors.append(f"{ident}: ignored comparison {where} (not a matchable observable)")
            elif op not in _VALUE_OPS and not (ioc_type == "ip" and op in _NETWORK_OPS):
                errors.append(f"{ident}: ignored comparison {where} (only = and IN, or ISSUBSET on addresses, yield values)")
            else:
                for value in _literals(literal):
                    yield _row(ident, ioc_type, value, source_file, **extra)


def _confidence(ind: Any, errors: list[str]) -> int | None:
    """STIX confidence is 0-100; stix2 does not check the range, and a bad score must not rank an IOC."""
    value = ind.get("confidence")
    if value is None or (isinstance(value, int) and 0 <= value <= 100):
        return value
    errors.append(f"{ind['id']}: confidence {value!r} out of range, dropped")
    return None


def _literals(literal: str) -> Iterable[str]:
    """String values of a pattern literal: 'x' or ('x', 'y'), with STIX escapes undone."""
    return [re.sub(r"\\(.)", r"\1", m) for m in _STRING.findall(literal)]


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if isinstance(value, str) else value
    stamp = datetime(*stamp.timetuple()[:6], stamp.microsecond, tzinfo=stamp.tzinfo or timezone.utc)
    return stamp.astimezone(timezone.utc)


def _row(indicator_id: str, ioc_type: str, value: str, source_file: str, **extra: Any) -> dict:
    value = value.strip()
    row = dict.fromkeys(INTEL_COLUMN_NAMES)
    row.update(extra)
    row.update(indicator_id=indicator_id, ioc_type=ioc_type, source_file=source_file,
               value=value.lower() if ioc_type in _LOWER else value)
    return row
