"""Web access logs as JSON lines: nginx `escape=json` formats, Caddy, Traefik, and ECS documents from
Filebeat / Elastic Agent. A document that holds only the raw line is read by the NCSA or error-log mapping."""

from __future__ import annotations

from storewatch.ingest.formats import nginx, web_error
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
    return isinstance(message, str) and (nginx.FORMAT.looks_like(message) or web_error.FORMAT.looks_like(message))


def _reading(fmt: Format, relation: str) -> str:
    """A line format's mapping, reading the documents' raw lines (`relation`) instead of the batch."""
    assert fmt.sql.count("FROM batch") == 1, f"{fmt.name}.sql must read the batch exactly once"
    return fmt.sql.replace("FROM batch", f"FROM {relation}")


FORMAT = Format(name="web_json", channel="web", looks_like=looks_like,
                sql=load_sql("web_json").replace("{ncsa}", _reading(nginx.FORMAT, "m")).replace("{web_error}", _reading(web_error.FORMAT, "me")),
                description="JSON access and error logs (nginx, Caddy, Traefik, ECS)")
