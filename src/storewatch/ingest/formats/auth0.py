"""Auth0 tenant log events (JSON lines): logins, failures, signups, account changes, rate limits."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys

FORMAT = Format(
    name="auth0",
    channel="identity",
    sql=load_sql("auth0"),
    looks_like=lambda line: {"date", "type"} <= json_keys(line) and bool({"log_id", "client_id", "connection", "user_name", "ip"} & json_keys(line)),
    description="Auth0 log events",
)
