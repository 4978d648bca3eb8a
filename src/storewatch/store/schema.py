"""The one normalized event schema (OCSF-aligned), defined once and imported everywhere.

Every source format maps its records onto these columns; stages never spell column lists themselves.
Column names follow OCSF attribute names flattened with underscores where OCSF has them
(`src_endpoint.ip` -> `src_ip`, `http_request.url.path` -> `url_path`), and retail terms where it has none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    doc: str
    entity: str | None = None  # entity type this column holds, for joins across stages
    pii: str | None = None  # PII category recorded in the privacy catalog


EVENT_COLUMNS: tuple[Column, ...] = (
    Column("event_id", "VARCHAR", "Stable id: hash of the scrubbed record and its occurrence in the file"),
    Column("time", "TIMESTAMPTZ", "When it happened, UTC"),
    Column("class_uid", "INTEGER", "OCSF class uid (custom retail classes use 99xx)"),
    Column("class_name", "VARCHAR", "OCSF class name"),
    Column("activity", "VARCHAR", "What was done: logon, sale, return, charge, connect, query, ..."),
    Column("outcome", "VARCHAR", "success, failure or unknown"),
    Column("reason", "VARCHAR", "Why it failed or what the vendor said (status detail)"),
    Column("event_code", "VARCHAR", "The vendor's own event code (Auth0 type, Sysmon EventID, Stripe type, ONVIF topic)"),
    Column("channel", "VARCHAR", "web, identity, payments, orders, pos, physical, network, endpoint, database, social"),
    Column("source_format", "VARCHAR", "Parser that read it"),
    Column("source_file", "VARCHAR", "Absolute path of the file it came from"),
    Column("source_line", "BIGINT", "1-based line number of the record's first line in that file"),
    Column("source_offset", "BIGINT", "Byte offset of that line in the (decompressed) file"),
    Column("user_name", "VARCHAR", "Account name used (login name, database role, OS account)", "user", "username"),
    Column("user_id", "VARCHAR", "Account id in the source system", "user"),
    Column("email", "VARCHAR", "E-mail address of the customer or account", "email", "email"),
    Column("employee_id", "VARCHAR", "Store employee / POS operator / badge holder", "employee"),
    Column("person_name", "VARCHAR", "Customer name", None, "name"),
    Column("address", "VARCHAR", "Postal address (shipping)", None, "address"),
    Column("phone", "VARCHAR", "Phone number", None, "phone"),
    Column("country", "VARCHAR", "ISO country of the actor (billing/card/geo)"),
    Column("src_ip", "VARCHAR", "Source (client) IP", "ip", "ip"),
    Column("src_port", "INTEGER", "Source port"),
    Column("dst_ip", "VARCHAR", "Destination IP", "ip", "ip"),
    Column("dst_port", "INTEGER", "Destination port"),
    Column("protocol", "VARCHAR", "Network or application protocol"),
    Column("host", "VARCHAR", "Host name that logged or was acted on", "host"),
    Column("device", "VARCHAR", "Device id: POS workstation, door, camera, counter", "device"),
    Column("store_id", "VARCHAR", "Retail store id", "store"),
    Column("http_method", "VARCHAR", "HTTP method"),
    Column("url_host", "VARCHAR", "Host part of a URL or queried domain", "domain"),
    Column("url_path", "VARCHAR", "URL path"),
    Column("url_query", "VARCHAR", "URL query string"),
    Column("http_status", "INTEGER", "HTTP status code"),
    Column("referrer", "VARCHAR", "HTTP referrer"),
    Column("user_agent", "VARCHAR", "HTTP user agent"),
    Column("bytes_in", "BIGINT", "Bytes the source received (response size for HTTP)"),
    Column("bytes_out", "BIGINT", "Bytes the source sent"),
    Column("duration", "DOUBLE", "Duration in seconds"),
    Column("amount", "DECIMAL(18,2)", "Money amount in major units"),
    Column("currency", "VARCHAR", "ISO 4217 currency, upper case"),
    Column("card_fingerprint", "VARCHAR", "Card fingerprint (processor's) or keyed token of a scrubbed PAN", "card"),
    Column("card_last4", "VARCHAR", "Last four digits of the card"),
    Column("card_brand", "VARCHAR", "Card brand"),
    Column("order_id", "VARCHAR", "Order id / name"),
    Column("transaction_id", "VARCHAR", "Payment, POS or charge transaction id"),
    Column("process_name", "VARCHAR", "Process image path"),
    Column("command_line", "VARCHAR", "Process command line"),
    Column("parent_process", "VARCHAR", "Parent process image path"),
    Column("file_path", "VARCHAR", "File path acted on"),
    Column("file_hash", "VARCHAR", "File hash (SHA-256 preferred, lower-case hex)"),
    Column("db_name", "VARCHAR", "Database name"),
    Column("query", "VARCHAR", "Database statement or search query"),
    Column("message", "VARCHAR", "Free text: post text, log message", None, "free_text"),
    Column("attributes", "JSON", "Source-specific fields worth keeping (discount codes, counts, flags)"),
)

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in EVENT_COLUMNS)
COLUMNS: dict[str, Column] = {c.name: c for c in EVENT_COLUMNS}

# Columns the ingest layer fills in itself; a format's mapping provides the rest.
PROVENANCE = ("event_id", "source_format", "source_file", "source_line", "source_offset")

# OCSF classes. Standard uids where OCSF defines the class; retail classes take the 99xx extension range.
EVENT_CLASSES: dict[str, int] = {
    "Authentication": 3002,
    "Account Change": 3001,
    "HTTP Activity": 4002,
    "Network Activity": 4001,
    "DNS Activity": 4003,
    "DHCP Activity": 4004,
    "RDP Activity": 4005,
    "SMB Activity": 4006,
    "SSH Activity": 4007,
    "FTP Activity": 4008,
    "Email Activity": 4009,
    "Network File Activity": 4010,
    "NTP Activity": 4013,
    "Tunnel Activity": 4014,
    "Detection Finding": 2004,
    "Device Inventory Info": 5001,
    "Software Inventory Info": 5020,
    "Process Activity": 1007,
    "File System Activity": 1001,
    "Scheduled Job Activity": 1006,
    "Event Log Activity": 1008,
    "Authorize Session": 3003,
    "Group Management": 3006,
    "Datastore Activity": 6005,
    "Application Error": 6008,
    "POS Transaction": 9901,
    "Payment": 9902,
    "Order": 9903,
    "Physical Access": 9904,
    "Social Post": 9905,
    "People Count": 9906,
    # Network records OCSF folds into Network Activity; kept apart here so that only connections
    # (Zeek's conn.log, Sysmon's network events) count as connections in the detections.
    "TLS Activity": 9950,
    "Network Protocol Activity": 9951,
}

INTEL_COLUMNS: tuple[Column, ...] = (
    Column("indicator_id", "VARCHAR", "STIX id of the indicator or observable"),
    Column("ioc_type", "VARCHAR", "ip | domain | url | hash | email"),
    Column("value", "VARCHAR", "The indicator value (lower-case for domains and hashes)"),
    Column("pattern", "VARCHAR", "The STIX pattern it came from"),
    Column("name", "VARCHAR", "Indicator name"),
    Column("labels", "VARCHAR", "Indicator types and labels, comma-separated"),
    Column("confidence", "INTEGER", "STIX confidence 0-100"),
    Column("valid_from", "TIMESTAMPTZ", "Start of validity"),
    Column("valid_until", "TIMESTAMPTZ", "End of validity"),
    Column("source_file", "VARCHAR", "Bundle file it came from, or the feed's URL or file"),
    Column("source", "VARCHAR", "Feed (`storewatch intel feeds`) the indicator came from; NULL for an ingested bundle"),
    Column("tlp", "VARCHAR", "Traffic Light Protocol: clear, green, amber, amber+strict, red (marking, else the feed's)"),
    Column("modified", "TIMESTAMPTZ", "Version of the STIX object; a newer version replaces the rows of an older one"),
    Column("added_at", "TIMESTAMPTZ", "When storewatch first stored it"),
    Column("match_from", "TIMESTAMPTZ", "Earliest event time it matches: valid_from, or earlier by the retro-hunt window"),
    Column("exact", "BOOLEAN", "A domain matched only as written, not its subdomains (block lists of host names)"),
)


def entity_columns() -> dict[str, str]:
    """Column -> entity type, for every column that names an entity."""
    return {c.name: c.entity for c in EVENT_COLUMNS if c.entity}


def pii_columns() -> dict[str, str]:
    """Column -> PII category, the privacy catalog's source of truth."""
    return {c.name: c.pii for c in EVENT_COLUMNS if c.pii}


def sql_text(value: str) -> str:
    """`value` as a SQL string literal (quotes doubled), for the paths and constants the store's
    statements name; DuckDB takes no parameters in ATTACH, COPY ... TO or a view's file list."""
    return "'" + value.replace("'", "''") + "'"


def create_table_sql(table: str, columns: tuple[Column, ...] = EVENT_COLUMNS) -> str:
    cols = ",\n  ".join(f"{c.name} {c.sql_type}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}\n)"


def entities_view_sql(temp: bool = True) -> str:
    """Long view (event_id, time, entity_type, value) so later stages join on entities, not columns."""
    parts = [
        f"SELECT event_id, time, '{etype}' AS entity_type, {col} AS value FROM events WHERE {col} IS NOT NULL"
        for col, etype in entity_columns().items()
    ]
    return f"CREATE OR REPLACE {'TEMP ' if temp else ''}VIEW event_entities AS\n" + "\nUNION ALL\n".join(parts)


def markdown() -> str:
    """docs/schema.md, generated so the documentation cannot drift from the code (a test checks it)."""
    lines = [
        "# The normalized event schema",
        "",
        "Generated from `src/storewatch/store/schema.py` by `python -m storewatch.store.schema > docs/schema.md`.",
        "",
        "Every source record becomes one row of `events` (kept as Parquet segments under `<workspace>/events/`,",
        "queried as the `events` view; see docs/ingest.md). Columns follow OCSF attribute names,",
        "flattened (`src_endpoint.ip` is `src_ip`); retail concepts OCSF lacks use custom classes in the 99xx range.",
        "Times are `TIMESTAMPTZ` in UTC. `bytes_out` is what the source sent, `bytes_in` what it received.",
        "",
        "## events",
        "",
        "| column | type | entity | PII | meaning |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| `{c.name}` | {c.sql_type} | {c.entity or ''} | {c.pii or ''} | {c.doc} |" for c in EVENT_COLUMNS]
    lines += ["", "## Event classes", "", "| class_name | class_uid |", "|---|---|"]
    lines += [f"| {name} | {uid} |" for name, uid in EVENT_CLASSES.items()]
    lines += [
        "", "## Entities", "",
        "The view `event_entities(event_id, time, entity_type, value)` lists every entity an event names, so",
        "later stages join on entities rather than on columns:", "",
        "| entity type | columns |", "|---|---|",
    ]
    by_type: dict[str, list[str]] = {}
    for col, etype in entity_columns().items():
        by_type.setdefault(etype, []).append(f"`{col}`")
    lines += [f"| {etype} | {', '.join(cols)} |" for etype, cols in by_type.items()]
    lines += ["", "## intel", "", "| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.sql_type} | {c.doc} |" for c in INTEL_COLUMNS]
    lines += [
        "", "## Privacy catalog", "",
        "The table `pii_catalog(table_name, column_name, category, note)` is rebuilt from this schema on every",
        "connection and lists the columns holding personal data (the PII column above), plus `events.attributes`",
        "and `quarantine.raw`, which may hold any of them. Card numbers are never stored: see docs/ingest.md.", "",
        "## Other tables", "",
        "- `quarantine`: records that could not be read: file, line, byte offset, reason, raw text (PANs tokenized).",
        "- `ingest_runs`, `ingest_files`: what each ingest run read, stored, quarantined and skipped as duplicate.",
        "- `case_comments`, `case_history`, `case_attachments`, `alert_pins`: what analysts add to incidents",
        "  (see docs/cases.md); the case's state is in columns of `incidents`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
