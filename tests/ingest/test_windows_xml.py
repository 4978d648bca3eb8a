"""Windows event XML -> the evtx JSON shape, checked against the real evtx-JSON Sysmon sample."""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import duckdb
import orjson
import pyarrow as pa
import pytest

from storewatch.ingest.formats.base import Record
from storewatch.ingest.formats.windows_xml import EVENT_NS, FORMAT, iter_events, looks_like
from storewatch.store import db

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "endpoint" / "sysmon.jsonl"
EXPECTED = [orjson.loads(line) for line in SAMPLE.read_bytes().splitlines() if line.strip()]


def to_windows_xml(event: dict) -> str:
    """Render an evtx-JSON event back to the XML wevtutil prints (braced lower-case GUID, 7-digit time)."""
    def element(name: str, value: object) -> str:
        if isinstance(value, dict):
            attrs = dict(value.get("#attributes", {}))
            if "Guid" in attrs:
                attrs["Guid"] = "{" + attrs["Guid"].lower() + "}"
            if "SystemTime" in attrs:
                attrs["SystemTime"] = attrs["SystemTime"].replace("Z", "0Z")
            attr_text = "".join(f" {k}={quoteattr(str(v))}" for k, v in attrs.items())
            return f"<{name}{attr_text}/>"
        return f"<{name}/>" if value is None else f"<{name}>{escape(str(value))}</{name}>"

    system = "".join(element(k, v) for k, v in event["Event"]["System"].items())
    data = "".join(f"<Data Name={quoteattr(k)}>{escape(str(v))}</Data>" for k, v in event["Event"]["EventData"].items())
    return f"<Event xmlns='{EVENT_NS}'><System>{system}</System><EventData>{data}</EventData></Event>"


def events(data: bytes) -> list[Record]:
    return list(iter_events(io.BytesIO(data)))


def parsed(data: bytes) -> list[dict]:
    recs = events(data)
    assert all(r.error is None for r in recs), recs
    return [orjson.loads(r.text) for r in recs]


XMLS = [to_windows_xml(e) for e in EXPECTED]


@pytest.mark.parametrize("layout", ["events_root", "one_per_line", "single_line", "utf16_bom"])
def test_same_json_as_evtx_tools(layout: str) -> None:
    if layout == "events_root":
        data = ('<?xml version="1.0" encoding="UTF-8"?>\n<Events>\n' + "\n".join(XMLS) + "\n</Events>\n").encode()
    elif layout == "one_per_line":
        data = ("\n".join(XMLS) + "\n").encode()
    elif layout == "single_line":
        data = "".join(XMLS).encode()
    else:  # PowerShell 5 `Out-File` writes UTF-16 LE with a BOM
        data = ("\ufeff<?xml version='1.0' encoding='utf-16'?>\r\n" + "\r\n".join(XMLS)).encode("utf-16-le")
    assert parsed(data) == EXPECTED


def test_line_numbers_and_offsets() -> None:
    data = ('<?xml version="1.0"?>\n' + "\n".join(XMLS)).encode()
    recs = events(data)
    assert [r.line_no for r in recs] == [2, 3, 4, 5]
    assert all(data[r.offset:].startswith(b"<Event ") for r in recs)


NETWORK = (
    f"<Event xmlns='{EVENT_NS}'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{{5770385f-c22a-43e0-bf4c-06f5698ffbd9}}'/>"
    "<EventID>3</EventID><Version>5</Version><Level>4</Level><Task>3</Task><Opcode>0</Opcode>"
    "<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='2026-11-16T01:02:03.123456789Z'/>"
    "<EventRecordID>99</EventRecordID><Correlation ActivityID='{aaaaaaaa-0000-0000-0000-000000000001}'/>"
    "<Execution ProcessID='3000' ThreadID='4000'/><Channel>Microsoft-Windows-Sysmon/Operational</Channel>"
    "<Computer>POS-0001-02</Computer><Security UserID='S-1-5-18'/></System>"
    "<EventData><Data Name='RuleName'>-</Data><Data Name='ProcessId'>4242</Data><Data Name='Image'>C:\\x.exe</Data>"
    "<Data Name='Protocol'>tcp</Data><Data Name='Initiated'>true</Data><Data Name='SourceIsIpv6'>false</Data>"
    "<Data Name='SourceIp'>10.0.0.5</Data><Data Name='SourcePort'>50123</Data><Data Name='DestinationIp'>203.0.113.9</Data>"
    "<Data Name='DestinationHostname'></Data><Data Name='DestinationPort'>443</Data><Data Name='DestinationPortName'>https</Data>"
    "<Data Name='User'>NT AUTHORITY\\SYSTEM</Data><Data Name='GrantedAccess'>0x1010</Data></EventData>"
    "<RenderingInfo Culture='en-US'><Message>Network connection detected</Message><Level>Information</Level>"
    "<Keywords><Keyword>A</Keyword><Keyword>B</Keyword></Keywords></RenderingInfo></Event>"
)


def test_typing_rules() -> None:
    [event] = parsed(NETWORK.encode())
    system, data = event["Event"]["System"], event["Event"]["EventData"]
    assert (system["EventID"], system["EventRecordID"], system["Level"]) == (3, 99, 4)
    assert system["TimeCreated"] == {"#attributes": {"SystemTime": "2026-11-16T01:02:03.123456Z"}}
    assert system["Correlation"] == {"#attributes": {"ActivityID": "AAAAAAAA-0000-0000-0000-000000000001"}}
    assert system["Execution"]["#attributes"] == {"ProcessID": 3000, "ThreadID": 4000}
    assert (data["ProcessId"], data["SourcePort"], data["DestinationPort"]) == (4242, 50123, 443)
    assert (data["Initiated"], data["SourceIsIpv6"]) == (True, False)
    assert (data["GrantedAccess"], data["RuleName"], data["DestinationHostname"]) == ("0x1010", "-", None)
    assert data["User"] == "NT AUTHORITY\\SYSTEM"
    assert event["Event"]["RenderingInfo"]["Keywords"] == {"Keyword": ["A", "B"]}
    assert event["Event"]["RenderingInfo"]["Level"] == "Information"


def test_classic_event_shapes() -> None:
    xml = (f"<Event xmlns='{EVENT_NS}'><System><EventID Qualifiers='16384'>7036</EventID></System>"
           "<EventData><Data>Spooler</Data><Data>running</Data><Binary>00FF</Binary></EventData></Event>")
    [event] = parsed(xml.encode())
    assert event["Event"]["System"]["EventID"] == {"#attributes": {"Qualifiers": 16384}, "#text": 7036}
    assert event["Event"]["EventData"] == {"Data": {"#text": ["Spooler", "running"]}, "Binary": "00FF"}


def test_truncated_and_garbage() -> None:
    data = "\n".join(XMLS).encode()
    recs = events(data[: len(data) - 40])
    assert [r.error is None for r in recs] == [True, True, True, False]
    assert recs[-1].line_no == 4 and recs[-1].text.startswith("<Event ") and "XML syntax error" in recs[-1].error
    garbage = "\n".join([XMLS[0], "}}} garbage {{{ <", XMLS[1]]).encode()
    recs = events(garbage)
    assert [r.error is None for r in recs] == [True, False]
    assert recs[1].line_no == 2 and recs[1].text.startswith("}}} garbage")


def test_looks_like() -> None:
    assert looks_like("\n".join(XMLS))
    assert looks_like('<?xml version="1.0"?>\n<Events>' + XMLS[0])
    assert not looks_like(SAMPLE.read_text())  # the JSON lines belong to the JSON format
    # any channel: Windows event XML is claimed whatever its provider
    assert looks_like(f"<Event xmlns='{EVENT_NS}'><System><Provider Name='Microsoft-Windows-Security-Auditing'/></System></Event>")
    assert not looks_like("<POSLog><Transaction/></POSLog>")


def test_format_wiring() -> None:
    assert (FORMAT.name, FORMAT.channel, FORMAT.document, FORMAT.records) == ("windows_xml", "endpoint", True, iter_events)


def test_sysmon_mapping_gives_identical_rows_for_xml_and_json() -> None:
    def run(texts: list[str]) -> list[tuple]:
        con = duckdb.connect()
        con.execute("SET TimeZone='UTC'")
        db.define_macros(con)
        n = len(texts)
        con.register("batch", pa.table({"line_no": pa.array(range(1, n + 1), pa.int64()),
                                        "line_offset": pa.array([0] * n, pa.int64()), "line": texts}))
        return con.execute(FORMAT.sql).fetchall()

    from_xml = [r.text for r in events("\n".join(XMLS).encode())]
    json_lines = [line for line in SAMPLE.read_text().splitlines() if line.strip()]
    rows = run(from_xml)
    assert rows == run(json_lines) and all(row for row in rows)
