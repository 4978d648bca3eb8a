"""The registry of source formats. Adding a format means adding a module here, nothing else."""

from __future__ import annotations

from storewatch.ingest.formats import (
    auth0, linux_auth, nginx, onvif, onvif_xml, people_counter, poslog, postgres, shopify, stripe, sysmon, twitter,
    windows_xml, zeek_json, zeek_tsv,
)
from storewatch.ingest.formats.base import Format

LINE_FORMATS: list[Format] = [
    m.FORMAT for m in (nginx, auth0, stripe, shopify, zeek_json, zeek_tsv, sysmon, onvif, twitter, linux_auth, postgres, people_counter)
]
DOCUMENT_FORMATS: list[Format] = [poslog.FORMAT, windows_xml.FORMAT, onvif_xml.FORMAT]


def by_name(name: str) -> Format:
    for fmt in LINE_FORMATS + DOCUMENT_FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)
