"""Web access logs as JSON lines: nginx `escape=json` formats, Caddy, Traefik, and ECS documents from
Filebeat / Elastic Agent. A document that holds only the raw access line is read by the NCSA mapping."""

from __future__ import annotations

from storewatch.ingest.formats import nginx
from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys, json_value

# Key sets that name a web server's access record (any one set, all of its keys).
_KEYS = (
    {"remote_addr", "status"}, {"remote_addr", "request"}, {"remote_addr", "request_uri"},  # nginx escape=json
    {"ClientHost", "DownstreamStatus"}, {"ClientAddr", "RequestMethod"},  # Traefik
    {"source.ip", "http.request.method"}, {"source.ip", "url.original"},  # ECS with dotted keys
)


def looks_like(line: str) -> bool:
    keys = json_keys(line)
    if not keys:
        return False
    if any(k <= keys for k in _KEYS):
        return True
    logger = json_value(line, "logger")
    if isinstance(logger, str) and logger.startswith("http.log.access"):  # Caddy
        return True
    if json_value(line, "http", "request", "method") and json_value(line, "http", "response", "status_code"):  # ECS
        return True
    message = json_value(line, "message")
    return isinstance(message, str) and nginx.FORMAT.looks_like(message)


# The NCSA mapping reads the documents' `message` (relation `m`) instead of the batch.
_NCSA = nginx.FORMAT.sql.replace("FROM batch", "FROM m")
assert _NCSA.count("FROM m") == 1, "nginx.sql must read the batch exactly once"

FORMAT = Format(name="web_json", channel="web", sql=load_sql("web_json").replace("{ncsa}", _NCSA), looks_like=looks_like,
                description="JSON access logs (nginx, Caddy, Traefik, ECS)")
