"""Zeek logs written as JSON lines (conn.log above all; dns, http, ssl map their hosts too)."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys

FORMAT = Format(name="zeek_json", channel="network", sql=load_sql("zeek"),
                looks_like=lambda line: {"ts", "id.orig_h", "id.resp_h"} <= json_keys(line),
                description="Zeek JSON logs")
