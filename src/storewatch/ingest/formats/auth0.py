"""Auth0 tenant log events (JSON lines): logins, failures, signups, account changes, rate limits."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys, json_value

# Auth0's Amazon EventBridge log stream delivers each log event as an EventBridge event whose `detail` is the
# log-stream envelope `{"log_id", "data": {...}}` (what lands in CloudWatch, S3 or Firehose).
_EVENTBRIDGE = "Auth0 log"


def _looks_like(line: str) -> bool:
    keys = json_keys(line)
    if "detail-type" in keys:
        return json_value(line, "detail-type") == _EVENTBRIDGE
    return {"date", "type"} <= keys and bool({"log_id", "client_id", "connection", "user_name", "ip"} & keys)


FORMAT = Format(
    name="auth0",
    channel="identity",
    sql=load_sql("auth0"),
    looks_like=_looks_like,
    description="Auth0 log events (Management API, log streams, Amazon EventBridge)",
)
