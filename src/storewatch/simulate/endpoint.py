"""Sysmon on store Windows endpoints: evtx-to-JSON lines, and Windows event XML for the legacy collector.

Stores listed in World.xml_stores ship their POS Sysmon through an older collector that exports event
XML (endpoint/sysmon_pos.xml); every other endpoint lands in endpoint/sysmon.jsonl.
"""

from __future__ import annotations

import zlib
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import orjson

from storewatch.simulate import clock, ids
from storewatch.simulate.estate import Store
from storewatch.simulate.world import World

EVT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
PROVIDER_GUID = "5770385F-C22A-43E0-BF4C-06F5698FFBD9"
VERSION = {1: 5, 3: 5, 11: 2, 22: 5}
SERVICES = "C:\\Windows\\System32\\services.exe"


class Endpoints:
    """Per-run endpoint facts: binary hashes, record counters and which stores export XML."""

    def __init__(self, world: World):
        est, rng = world.est, world.rng
        self.app_dir = f"C:\\Program Files\\{est.sku_prefix}Retail"
        self.images = [f"{self.app_dir}\\pos.exe", f"{self.app_dir}\\printer_agent.exe", "C:\\Windows\\explorer.exe",
                       "C:\\Windows\\System32\\svchost.exe", f"{self.app_dir}\\updater.exe"]
        self.hashes = {img: h for img, h in zip(self.images, ids.hex_ids(rng, len(self.images), 64))}
        self.record = {}
        k = max(1, len(est.stores) // 8)
        self.xml_stores = {s.id for s in rng.choice(np.array(est.stores, dtype=object), k, replace=False)}
        self.api_host = f"posapi.{est.keyword}.internal"

    def next_record(self, host: str) -> int:
        n = self.record.get(host) or zlib.crc32(host.encode()) % 900000 + 100000
        self.record[host] = n + 1
        return n


def _system(ts: float, host: str, eid: int, record: int) -> dict:
    return {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": PROVIDER_GUID}},
            "EventID": eid, "Version": VERSION[eid], "Level": 4, "Task": eid, "Opcode": 0,
            "Keywords": "0x8000000000000000", "TimeCreated": {"#attributes": {"SystemTime": clock.iso_us(ts)}},
            "EventRecordID": record, "Correlation": None,
            "Execution": {"#attributes": {"ProcessID": 3000, "ThreadID": 4000}},
            "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host,
            "Security": {"#attributes": {"UserID": "S-1-5-18"}}}


def as_json(ts: float, host: str, eid: int, record: int, data: dict) -> str:
    return orjson.dumps({"Event": {"#attributes": {"xmlns": EVT_NS}, "System": _system(ts, host, eid, record),
                                   "EventData": data}}).decode()


def as_xml(ts: float, host: str, eid: int, record: int, data: dict) -> str:
    fields = "".join(f"<Data Name={quoteattr(k)}>{escape(str(v))}</Data>" for k, v in data.items())
    return (f'<Event xmlns="{EVT_NS}"><System><Provider Name="Microsoft-Windows-Sysmon" Guid="{{{PROVIDER_GUID}}}"/>'
            f"<EventID>{eid}</EventID><Version>{VERSION[eid]}</Version><Level>4</Level><Task>{eid}</Task><Opcode>0</Opcode>"
            f'<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="{clock.iso_us(ts)}"/>'
            f"<EventRecordID>{record}</EventRecordID><Correlation/>"
            f'<Execution ProcessID="3000" ThreadID="4000"/><Channel>Microsoft-Windows-Sysmon/Operational</Channel>'
            f'<Computer>{host}</Computer><Security UserID="S-1-5-18"/></System><EventData>{fields}</EventData></Event>')


def emit(world: World, ts: float, host: str, eid: int, data: dict) -> None:
    """Route one Sysmon event to the JSON or XML export according to the host's store."""
    ep: Endpoints = world.endpoints  # type: ignore[attr-defined]
    store_id = host.split("-")[1] if host.count("-") >= 1 else ""
    rec = ep.next_record(host)
    if host.startswith("POS-") and store_id in ep.xml_stores:
        world.sinks["sysmon_xml"].add1(ts, as_xml(ts, host, eid, rec, data))
    else:
        world.sinks["sysmon"].add1(ts, as_json(ts, host, eid, rec, data))


def process(world: World, ts: float, host: str, user: str, image: str, sha256: str, pid: int, guid: str,
            cmd: str | None = None, parent: str = SERVICES, cwd: str = "C:\\Windows\\system32\\") -> dict:
    return {"RuleName": "-", "UtcTime": clock.sysmon_utc(ts), "ProcessGuid": guid, "ProcessId": pid, "Image": image,
            "CommandLine": cmd or f'"{image}"', "CurrentDirectory": cwd, "User": user, "IntegrityLevel": "Medium",
            "Hashes": f"SHA256={sha256}", "ParentImage": parent, "ParentCommandLine": parent}


def network(ts: float, image: str, user: str, guid: str, pid: int, src: str, src_host: str, dst: str,
            dst_host: str, port: int) -> dict:
    return {"RuleName": "-", "UtcTime": clock.sysmon_utc(ts), "ProcessGuid": guid, "ProcessId": pid, "Image": image,
            "User": user, "Protocol": "tcp", "Initiated": True, "SourceIsIpv6": False, "SourceIp": src,
            "SourceHostname": src_host, "SourcePort": 49152 + (int(ts * 1000) % 16000), "SourcePortName": "-",
            "DestinationIsIpv6": False, "DestinationIp": dst, "DestinationHostname": dst_host,
            "DestinationPort": port, "DestinationPortName": "https" if port == 443 else "-"}


def dns(ts: float, image: str, user: str, guid: str, pid: int, name: str, result: str) -> dict:
    return {"RuleName": "-", "UtcTime": clock.sysmon_utc(ts), "ProcessGuid": guid, "ProcessId": pid,
            "QueryName": name, "QueryStatus": "0", "QueryResults": f"::ffff:{result};", "Image": image, "User": user}


def file_create(ts: float, image: str, user: str, guid: str, pid: int, target: str) -> dict:
    return {"RuleName": "-", "UtcTime": clock.sysmon_utc(ts), "ProcessGuid": guid, "ProcessId": pid, "Image": image,
            "TargetFilename": target, "CreationUtcTime": clock.sysmon_utc(ts), "User": user}


def network_pool(world: World) -> list[str]:
    from storewatch.simulate.network import external_pool  # the same SaaS/CDN endpoints Zeek sees

    return external_pool(world)


def pos_user(world: World, store: Store) -> str:
    return f"{world.est.ad_domain}\\pos{store.id}"


def background(world: World, t0: float, t1: float) -> None:
    est, rng = world.est, world.rng
    ep: Endpoints = world.endpoints  # type: ignore[attr-defined]
    api = est.server("app")[0].ip
    r = est.rate["endpoint"]
    curve = est.profile.store_curve
    office_apps = ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
                   "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE")
    for store in est.stores:
        user = pos_user(world, store)
        # The back-office PC: a manager's browser and mail during the day.
        mgr = f"{est.ad_domain}\\mgr{store.id}"
        pool = network_pool(world)
        for t in clock.times(rng, 20 * r, t0, t1, curve):
            img = office_apps[int(rng.integers(0, 2))]
            dst = pool[int(rng.integers(0, len(pool)))]
            emit(world, t, store.office_host, 3, network(t, img, mgr, ids.guid(rng), int(rng.integers(1000, 9999)),
                                                         store.office_ip, store.office_host, dst, "-", 443))
        for ws in store.workstations:
            host, src = store.pos_host(ws), store.pos_ip(ws)
            pos_exe = ep.images[0]
            guid, pid = ids.guid(rng), int(rng.integers(1000, 9999))
            for t in clock.times(rng, 12 * r, t0, t1, curve + 0.4):
                img = ep.images[int(rng.integers(0, len(ep.images)))]
                emit(world, t, host, 1, process(world, t, host, user, img, ep.hashes[img], int(rng.integers(1000, 9999)),
                                                ids.guid(rng)))
            for t in clock.times(rng, 34 * r, t0, t1, curve):
                emit(world, t, host, 3, network(t, pos_exe, user, guid, pid, src, host, api, ep.api_host, 443))
            for t in clock.times(rng, 18 * r, t0, t1, curve + 0.2):
                name = (ep.api_host, "time.windows.com", "ctldl.windowsupdate.com", "settings-win.data.microsoft.com")[int(rng.integers(0, 4))]
                emit(world, t, host, 22, dns(t, pos_exe, user, guid, pid, name, api if name == ep.api_host else "13.107.4.50"))
            for t in clock.times(rng, 6 * r, t0, t1, curve):
                emit(world, t, host, 11, file_create(t, pos_exe, user, guid, pid,
                                                     f"C:\\ProgramData\\{est.sku_prefix}Retail\\journal\\{clock.date(t)}-{int(t) % 100000}.dat"))
