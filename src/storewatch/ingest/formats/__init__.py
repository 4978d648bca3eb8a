"""The registry of source formats. Adding a format means adding a module here, nothing else."""

from __future__ import annotations

from storewatch.ingest.formats import (
    auth0, linux_auth, nginx, onvif, onvif_xml, people_counter, poslog, postgres, shopify, stripe, twitter, w3c,
    web_error, web_json, windows, windows_evtx, windows_xml, zeek_json, zeek_tsv,
)
from storewatch.ingest.formats.base import Format

LINE_FORMATS: list[Format] = [
    # postgres before linux_auth: a sniffing tie (PostgreSQL lines relayed through syslog match both) goes to the
    # line that shows PostgreSQL's `LEVEL:  ` marker after its prefix, which auth.log lines never have.
    m.FORMAT for m in (nginx, web_error, w3c, web_json, auth0, stripe, shopify, zeek_json, zeek_tsv, windows, onvif, twitter,
                       postgres, linux_auth, people_counter)
]
DOCUMENT_FORMATS: list[Format] = [poslog.FORMAT, windows_xml.FORMAT, windows_evtx.FORMAT, onvif_xml.FORMAT]


def by_name(name: str) -> Format:
    for fmt in LINE_FORMATS + DOCUMENT_FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)
