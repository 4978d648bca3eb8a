"""ONVIF WS-BaseNotification XML: pull-point responses, pushed Notify messages and metadata-stream events,
mapped like the JSON-lines ONVIF events, with `Initialized` snapshots kept apart from events."""

from __future__ import annotations

from pathlib import Path

import orjson

from storewatch.ingest.formats import onvif_xml

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "stores"

NOTIFY = """<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"
    xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:tt="http://www.onvif.org/ver10/schema"
    xmlns:ons="http://www.onvif.org/ver10/topics">
  <s:Header><wsa:Action>http://docs.oasis-open.org/wsn/bw-2/NotificationConsumer/Notify</wsa:Action></s:Header>
  <s:Body><wsnt:Notify>
    <wsnt:NotificationMessage>
      <wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">ons:Door/State/DoorAlarm</wsnt:Topic>
      <wsnt:ProducerReference><wsa:Address>http://10.20.0.5/onvif/device_service</wsa:Address></wsnt:ProducerReference>
      <wsnt:Message><tt:Message UtcTime="2026-11-16T02:10:00Z" PropertyOperation="Initialized">
        <tt:Source><tt:SimpleItem Name="DoorToken" Value="Door-Back"/></tt:Source>
        <tt:Data><tt:SimpleItem Name="State" Value="DoorForcedOpen"/></tt:Data>
      </tt:Message></wsnt:Message>
    </wsnt:NotificationMessage>
    <wsnt:NotificationMessage>
      <wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">ons:Door/State/DoorAlarm</wsnt:Topic>
      <wsnt:Message><tt:Message UtcTime="2026-11-16T02:11:30.250Z" PropertyOperation="Changed">
        <tt:Source><tt:SimpleItem Name="DoorToken" Value="Door-Front"/></tt:Source>
        <tt:Data><tt:SimpleItem Name="State" Value="DoorForcedOpen"/></tt:Data>
      </tt:Message></wsnt:Message>
    </wsnt:NotificationMessage>
    <wsnt:NotificationMessage>
      <wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">ons:AccessControl/Denied/Credential</wsnt:Topic>
      <wsnt:Message><tt:Message UtcTime="2026-11-16T02:12:00Z">
        <tt:Source><tt:SimpleItem Name="AccessPointToken" Value="AP-Stockroom"/></tt:Source>
        <tt:Data><tt:SimpleItem Name="CredentialToken" Value="cred-0042"/>
          <tt:SimpleItem Name="CredentialHolderName" Value="E1042"/>
          <tt:SimpleItem Name="Reason" Value="CredentialNotEnabled"/></tt:Data>
      </tt:Message></wsnt:Message>
    </wsnt:NotificationMessage>
  </wsnt:Notify></s:Body>
</s:Envelope>
<?xml version="1.0" encoding="UTF-8"?>
<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema"><tt:Event>
  <wsnt:NotificationMessage xmlns:tns1="http://www.onvif.org/ver10/topics" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2">
    <wsnt:Topic Dialect="http://docs.oasis-open.org/wsn/t-1/TopicExpression/Simple">
        tns1:Device/Trigger/DigitalInput
    </wsnt:Topic>
    <wsnt:Message><tt:Message UtcTime="2026-11-16T02:13:00.976004Z" PropertyOperation="Changed">
      <tt:Source><tt:SimpleItem Name="InputToken" Value="1"/></tt:Source><tt:Key/>
      <tt:Data><tt:SimpleItem Name="LogicalState" Value="true"/></tt:Data>
    </tt:Message></wsnt:Message>
  </wsnt:NotificationMessage>
</tt:Event></tt:MetadataStream>
"""


def test_real_hikvision_pull_messages_are_state_snapshots(run, query) -> None:
    """A camera's first PullMessagesResponse after subscribing: every property Initialized, nothing happened."""
    path = REAL / "onvif_pull_messages_hikvision.xml"
    raw = path.read_text()
    report = run(path)
    assert report.files[0].source_format == "onvif_xml"
    assert (report.totals["stored"], report.totals["quarantined"]) == (raw.count("<wsnt:NotificationMessage>"), 0)
    rows = query("SELECT time, activity, event_code, reason, device, attributes FROM events ORDER BY source_line")
    assert [r["event_code"] for r in rows] == [
        "tns1:VideoSource/MotionAlarm", "tns1:RuleEngine/CellMotionDetector/Motion", "tns1:RuleEngine/TamperDetector/Tamper",
        "tns1:VideoSource/ImageTooDark/ImagingService", "tns1:RuleEngine/FieldDetector/ObjectsInside",
        "tns1:Monitoring/OperatingTime/LastReset", "tns1:Monitoring/OperatingTime/LastReboot",
        "tns1:Monitoring/OperatingTime/LastClockSynchronization"]
    assert {r["activity"] for r in rows} == {"state_snapshot"}  # no tamper, no motion, no reboot
    assert all(r["time"].isoformat() == "2025-04-18T20:34:05+00:00" for r in rows)
    assert (rows[0]["device"], rows[0]["reason"]) == ("VideoSource_1", "false")
    assert (rows[2]["device"], rows[2]["reason"]) == ("VideoSourceToken", "false")
    inside = orjson.loads(rows[4]["attributes"])
    assert inside["key"] == {"ObjectId": "0"} and inside["source"]["Rule"] == "MyFieldDetector1"
    assert inside["property_operation"] == "Initialized"
    assert rows[6]["reason"] == "2025-04-17T15:31:49Z"


def test_notify_push_and_metadata_stream(run, query, tmp_path: Path) -> None:
    (tmp_path / "onvif-capture.xml").write_text(NOTIFY)
    report = run(tmp_path / "onvif-capture.xml")
    assert report.files[0].source_format == "onvif_xml"
    assert (report.totals["stored"], report.totals["quarantined"]) == (4, 0)
    rows = query("SELECT time, activity, outcome, event_code, reason, device, employee_id, attributes FROM events ORDER BY time")
    snap, forced, denied, io = rows
    # the prefix bound to the ONVIF topic namespace is written tns1, whatever the device called it
    assert snap["event_code"] == forced["event_code"] == "tns1:Door/State/DoorAlarm"
    assert (snap["activity"], snap["device"]) == ("state_snapshot", "Door-Back")
    assert orjson.loads(snap["attributes"])["producer"] == "http://10.20.0.5/onvif/device_service"
    assert (forced["activity"], forced["reason"], forced["device"]) == ("door_alarm", "DoorForcedOpen", "Door-Front")
    assert forced["time"].isoformat() == "2026-11-16T02:11:30.250000+00:00"
    assert (denied["activity"], denied["outcome"], denied["employee_id"], denied["device"]) == (
        "access_denied", "failure", "E1042", "AP-Stockroom")
    attrs = orjson.loads(denied["attributes"])
    assert (attrs["access_point"], attrs["credential"], attrs["data"]["Reason"]) == ("AP-Stockroom", "cred-0042", "CredentialNotEnabled")
    assert (io["event_code"], io["activity"], io["reason"], io["device"]) == (
        "tns1:Device/Trigger/DigitalInput", "device_trigger_digitalinput", "true", "1")


def test_truncated_capture_keeps_what_was_whole(run, query, tmp_path: Path) -> None:
    cut = NOTIFY[: NOTIFY.index("ons:AccessControl/Denied/Credential")]
    (tmp_path / "cut.xml").write_text(cut)
    report = run(tmp_path / "cut.xml")
    assert (report.totals["stored"], report.totals["quarantined"]) == (2, 1)


def test_sniffer() -> None:
    assert onvif_xml.looks_like(NOTIFY)
    assert onvif_xml.looks_like((REAL / "onvif_pull_messages_hikvision.xml").read_text())
    assert not onvif_xml.looks_like("<POSLog><Transaction/></POSLog>")
    assert not onvif_xml.looks_like('{"Topic": "tns1:Door/State/DoorAlarm"}')


def test_json_lines_share_the_mapping(run, query, tmp_path: Path) -> None:
    """The JSON lines bridges export carry the same keys: snapshots and door tamper are told apart too."""
    lines = [
        {"UtcTime": "2026-11-16T02:00:00Z", "Topic": "tns1:Door/State/DoorTamper", "PropertyOperation": "Changed",
         "Source": {"DoorToken": "Door-Back"}, "Data": {"State": "TamperDetected"}},
        {"UtcTime": "2026-11-16T02:00:01Z", "Topic": "tns1:VideoSource/GlobalSceneChange/ImagingService",
         "PropertyOperation": "Initialized", "Source": {"Source": "VS1"}, "Data": {"State": "true"}},
        {"UtcTime": "2026-11-16T02:00:02Z", "Topic": "tns1:Device/tnsaxis:IO/SupervisedPort", "Source": {"port": "0"},
         "Data": {"state": "cut"}},
        {"UtcTime": "", "Topic": "tns1:Door/State/DoorAlarm", "Data": {"State": "DoorForcedOpen"}},  # no time: quarantined
    ]
    (tmp_path / "onvif.jsonl").write_text("".join(orjson.dumps(x).decode() + "\n" for x in lines))
    report = run(tmp_path / "onvif.jsonl")
    assert report.files[0].source_format == "onvif"
    assert (report.totals["stored"], report.totals["quarantined"]) == (3, 1)
    assert query("SELECT reason FROM quarantine") == [{"reason": "no readable UtcTime"}]
    rows = query("SELECT activity, reason, device, event_code FROM events ORDER BY time")
    assert [(r["activity"], r["reason"], r["device"]) for r in rows] == [
        ("door_tamper", "TamperDetected", "Door-Back"), ("state_snapshot", "true", "VS1"), ("device_io_supervisedport", "cut", "0")]
    assert rows[2]["event_code"] == "tns1:Device/tnsaxis:IO/SupervisedPort"
