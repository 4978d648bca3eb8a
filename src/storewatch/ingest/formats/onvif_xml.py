"""ONVIF event notifications as the devices send them: WS-BaseNotification XML.

Cameras and access-control units push `wsnt:Notify` messages to a subscriber, answer a pull-point
subscription with `tev:PullMessagesResponse` (both inside a SOAP envelope), and put the same
`wsnt:NotificationMessage` elements in their RTP metadata streams (`tt:MetadataStream/tt:Event`).
Captures concatenate such documents, so every outermost NotificationMessage is one record, wherever
it sits. Each becomes the JSON record the JSON-lines ONVIF format reads, so `onvif.sql` maps both:

    {"Topic": "tns1:Door/State/DoorAlarm", "TopicDialect": "...ConcreteSet", "UtcTime": "...",
     "PropertyOperation": "Initialized | Changed | Deleted", "Source": {Name: Value},
     "Key": {Name: Value}, "Data": {Name: Value}, "Producer": "uri of the device"}

The topic keeps its full path. Devices bind the ONVIF topic namespace to any prefix, so a prefix bound to
it is written `tns1` (the spec's own), other prefixes (vendor topics such as `tnsaxis:`) stay as sent.
`ElementItem`s (XML payloads, e.g. a snapshot image or a geolocation) are kept as their serialized XML.
"""

from __future__ import annotations

import re
from typing import BinaryIO, Iterator

from lxml import etree

from storewatch.ingest.formats.base import Format, Record, load_sql
from storewatch.ingest.xmlstream import iter_xml_records, local_name

ONVIF_TOPICS = "http://www.onvif.org/ver10/topics"
WSN = "http://docs.oasis-open.org/wsn/b-2"
_HEAD = re.compile(r"<(?:[\w.-]+:)?NotificationMessage[\s>]")
_PREFIX = re.compile(r"([\w.-]+):")
ELEMENT_ITEM_LIMIT = 4096  # an ElementItem can carry an image; keep the start of it


def looks_like(head: str) -> bool:
    """A WS-BaseNotification message in the file's first ~64 KB."""
    head = head[:65536]
    return WSN in head and bool(_HEAD.search(head))


def iter_notifications(stream: BinaryIO) -> Iterator[Record]:
    """One Record per outermost NotificationMessage, in any envelope or none, documents concatenated."""
    return iter_xml_records(_Undeclared(stream), ("NotificationMessage",), notification_record, wrap="Notifications")


class _Undeclared:
    """The stream with every XML declaration blanked (same length, so lines and offsets hold): a capture
    appends one document per message or response, each with its own `<?xml ...?>`, which is illegal
    anywhere but at the very start of the virtual document the documents are read as."""

    _DECL = re.compile(rb"<\?xml\s[^>]*\?>")
    _HOLD = 256  # a declaration cut by a chunk boundary is completed by the next read

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._held = b""

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size if size and size > 0 else 1 << 16)
        data = self._held + chunk
        self._held = b""
        cut = data.rfind(b"<?")
        if chunk and cut >= 0 and data.find(b"?>", cut) < 0 and len(data) - cut < self._HOLD:
            data, self._held = data[:cut], data[cut:]
            if not data:  # only the start of a declaration so far: read on
                return self.read(size)
        return self._DECL.sub(lambda m: re.sub(rb"[^\n]", b" ", m.group(0)), data)


def _topic(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    text = "".join(el.itertext()).strip()
    if not text:
        return None
    nsmap = el.nsmap
    return _PREFIX.sub(lambda m: "tns1:" if nsmap.get(m.group(1)) == ONVIF_TOPICS else m.group(0), text)


def _items(el: etree._Element | None) -> dict | None:
    """SimpleItem Name/Value pairs (and ElementItems as XML text) of a Source, Key or Data element."""
    if el is None:
        return None
    out: dict = {}
    for item in el:
        if not isinstance(item.tag, str):
            continue
        name = item.get("Name")
        if name is None:
            continue
        kind = local_name(item)
        if kind == "SimpleItem":
            out[name] = item.get("Value")
        elif kind == "ElementItem":
            out[name] = "".join(etree.tostring(c, encoding="unicode") for c in item if isinstance(c.tag, str))[:ELEMENT_ITEM_LIMIT]
    return out or None


def _child(el: etree._Element | None, name: str) -> etree._Element | None:
    if el is None:
        return None
    return next((c for c in el if isinstance(c.tag, str) and local_name(c) == name), None)


def notification_record(note: etree._Element) -> dict:
    """The JSON record (see module docstring) for one wsnt:NotificationMessage."""
    topic = _child(note, "Topic")
    message = _child(_child(note, "Message"), "Message")  # wsnt:Message/tt:Message
    producer = _child(_child(note, "ProducerReference"), "Address")
    return {
        "Topic": _topic(topic),
        "TopicDialect": topic.get("Dialect") if topic is not None else None,
        "UtcTime": message.get("UtcTime") if message is not None else None,
        "PropertyOperation": message.get("PropertyOperation") if message is not None else None,
        "Source": _items(_child(message, "Source")),
        "Key": _items(_child(message, "Key")),
        "Data": _items(_child(message, "Data")),
        "Producer": (producer.text or "").strip() or None if producer is not None else None,
    }


FORMAT = Format(
    name="onvif_xml",
    channel="physical",
    sql=load_sql("onvif"),
    looks_like=looks_like,
    records=iter_notifications,
    document=True,
    description="ONVIF event notifications (WS-BaseNotification XML: Notify, PullMessagesResponse, metadata streams)",
)
