"""Windows event XML of any channel (`wevtutil qe /f:xml` or `/f:RenderedXml`, `Get-WinEvent | ToXml()`,
Event Viewer's "Save as XML", Windows Event Forwarding).

Rather than a second mapping, each `<Event>` is turned into the JSON that evtx-to-JSON tools (evtx_dump)
emit for the same event, so the JSON mapping `windows.sql` applies unchanged:

    {"Event": {"#attributes": {"xmlns": ...},
               "System": {"Provider": {"#attributes": {"Name", "Guid"}}, "EventID": 1, "Version": 5, ...,
                          "TimeCreated": {"#attributes": {"SystemTime": "...Z"}}, "EventRecordID": 7,
                          "Correlation": null, "Execution": {"#attributes": {"ProcessID": 1, "ThreadID": 2}},
                          "Channel": ..., "Computer": ..., "Security": {"#attributes": {"UserID": ...}}},
               "EventData": {"Name": value, ...} or "UserData": {"<Name>": {...}},
               "RenderingInfo": {"Message": ..., "Level": ..., "Keywords": {"Keyword": [...]}, ...}}}

Typing follows evtx, which types values by the event manifest: System numbers (EventID, Version, Level,
Task, Opcode, EventRecordID, Execution ProcessID/ThreadID) are ints; in EventData the fields Sysmon declares
as integers (ProcessId, ports, thread ids, ...) are ints and its booleans (Initiated, *IsIpv6) are bools
when the XML text is a plain decimal / true|false; every other value stays a string, empty ones are null.
Provider GUIDs are upper-cased without braces and SystemTime trimmed to microseconds, as evtx renders them.
"""

from __future__ import annotations

import re
from typing import BinaryIO, Iterator

from lxml import etree

from storewatch.ingest.formats.base import Format, Record
from storewatch.ingest.formats.windows import SQL
from storewatch.ingest.xmlstream import iter_xml_records, local_name, local_tag

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"

_SYSTEM_INTS = {"EventID", "Version", "Level", "Task", "Opcode", "EventRecordID", "ProcessID", "ThreadID", "Qualifiers"}
_DATA_INTS = {
    "ProcessId", "ParentProcessId", "SourcePort", "DestinationPort", "SourceProcessId", "TargetProcessId",
    "SourceThreadId", "NewThreadId", "TerminalSessionId", "LogonType", "KeyLength",
}
_DATA_BOOLS = {"Initiated", "SourceIsIpv6", "DestinationIsIpv6", "IsExecutable"}
_GUID_ATTRS = {"Guid", "ActivityID", "RelatedActivityID"}
_DECIMAL = re.compile(r"\d{1,19}")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_HEAD = re.compile(r"<(?:[\w.-]+:)?Event[\s>]")


def looks_like(head: str) -> bool:
    """Windows event XML: `<Event>` elements in the Windows event schema's namespace, whatever the channel."""
    head = head[:65536]
    return EVENT_NS in head and bool(_HEAD.search(head))


def iter_events(stream: BinaryIO) -> Iterator[Record]:
    """One Record per `<Event>`, whether wrapped in `<Events>`, concatenated without a root, or one per line."""
    return iter_xml_records(stream, ("Event",), event_record, wrap="Events")


def _int(value: str | None) -> int | str | None:
    return int(value) if value is not None and _DECIMAL.fullmatch(value) else value


def _attributes(el: etree._Element) -> dict:
    out: dict = {}
    for key, value in el.attrib.items():
        name = key.rpartition("}")[2]
        if name in _GUID_ATTRS:
            value = value.strip("{}").upper()
        elif name == "SystemTime":
            value = _FRACTION.sub(r"\1", value)
        out[name] = _int(value) if name in _SYSTEM_INTS else value
    return out


def _leaf(el: etree._Element, typed: bool) -> object:
    """An element the evtx way: text, {#attributes}, {#attributes, #text}, nested dict, or null."""
    kids = [c for c in el if c.tag.__class__ is str]
    attrs = _attributes(el) if el.attrib else None
    if kids:
        node: dict = {"#attributes": attrs} if attrs else {}
        for kid in kids:
            _put(node, local_tag(kid.tag), _leaf(kid, typed))
        return node
    value = el.text
    value = value if value and value.strip() else None
    if typed and value is not None and local_name(el) in _SYSTEM_INTS:
        value = _int(value.strip())
    if not attrs:
        return value
    return {"#attributes": attrs, "#text": value} if value is not None else {"#attributes": attrs}


def _put(node: dict, key: str, value: object) -> None:
    """Repeated child names become a list, as in evtx output."""
    if key not in node:
        node[key] = value
    elif isinstance(node[key], list):
        node[key].append(value)
    else:
        node[key] = [node[key], value]


def _data_value(name: str, raw: str | None) -> object:
    if raw is None or raw == "":
        return None
    if name in _DATA_INTS:
        return _int(raw.strip())
    if name in _DATA_BOOLS and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    return raw


def _event_data(el: etree._Element) -> dict | None:
    """`<Data Name="X">v</Data>` pairs as {X: v}; unnamed Data as {"Data": {"#text": ...}}, Binary as hex."""
    named: dict = {}
    unnamed: list = []
    for kid in el:
        tag = kid.tag
        if tag.__class__ is not str:
            continue
        kind = local_tag(tag)
        if kind == "Data":
            name = kid.get("Name")
            if name is not None:
                named[name] = _data_value(name, kid.text)
            else:
                unnamed.append(kid.text)
        else:
            _put(named, kind, _leaf(kid, typed=False))
    if unnamed:
        named["Data"] = {"#text": unnamed[0] if len(unnamed) == 1 else unnamed}
    return named or None


def event_record(event: etree._Element) -> dict:
    """The evtx-style JSON object for one `<Event>` element."""
    body: dict = {}
    namespace = etree.QName(event).namespace
    if namespace:
        body["#attributes"] = {"xmlns": namespace}
    for part in event:
        if not isinstance(part.tag, str):
            continue
        name = local_name(part)
        if name == "EventData":
            body[name] = _event_data(part)
        else:
            body[name] = _leaf(part, typed=name == "System")
    return {"Event": body}


FORMAT = Format(
    name="windows_xml",
    channel="endpoint",
    sql=SQL,
    looks_like=looks_like,
    records=iter_events,
    document=True,
    description="Windows event XML (any channel)",
)
