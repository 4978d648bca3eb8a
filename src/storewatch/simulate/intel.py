"""A STIX 2.1 threat-intel bundle: the real POS-malware IOCs hidden among decoys that never occur."""

from __future__ import annotations

import orjson

from storewatch.simulate import clock, ids
from storewatch.simulate.world import World

TLDS = ("top", "xyz", "ru", "cn", "info", "biz", "online", "site", "club", "icu")
SYLLABLES = ("ka", "zu", "mor", "tex", "vin", "dra", "lo", "qua", "sel", "bri", "nox", "pha", "rek", "tul")


def _sdo(world: World, kind: str, ts: float, **fields) -> dict:
    stamp = clock.iso_ms(ts)
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{ids.uuid(world.rng)}", "created": stamp,
            "modified": stamp, **fields}


def _domain(world: World) -> str:
    rng = world.rng
    return "".join(SYLLABLES[int(i)] for i in rng.integers(0, len(SYLLABLES), int(rng.integers(2, 4)))) + \
        f"-{int(rng.integers(1, 99))}.{TLDS[int(rng.integers(0, len(TLDS)))]}"


def pattern(kind: str, value: str) -> str:
    return {"ip": f"[ipv4-addr:value = '{value}']", "domain": f"[domain-name:value = '{value}']",
            "url": f"[url:value = '{value}']", "sha256": f"[file:hashes.'SHA-256' = '{value}']"}[kind]


def write(world: World) -> int:
    """Write intel/threat_intel.json; IOCs registered by scenarios in world.iocs are linked to the malware."""
    est, rng = world.est, world.rng
    t_pub = est.start - float(rng.uniform(2, 20)) * 86400
    ident = _sdo(world, "identity", t_pub, name=f"{est.brand.split()[0]} Retail ISAC feed", identity_class="organization")
    objs: list[dict] = [ident]
    iocs: list[tuple[str, str, str]] = getattr(world, "iocs", [])
    family = getattr(world, "malware_family", "PoSGrabber")
    malware = _sdo(world, "malware", t_pub, name=family, is_family=True, malware_types=["spyware", "backdoor"],
                   description="RAM scraper targeting retail POS terminals; beacons over HTTPS.",
                   created_by_ref=ident["id"])
    objs.append(malware)

    def indicator(kind: str, value: str, name: str, types: list[str]) -> dict:
        return _sdo(world, "indicator", t_pub + float(rng.uniform(0, 86400)), name=name, indicator_types=types,
                    pattern=pattern(kind, value), pattern_type="stix",
                    valid_from=clock.iso_ms(t_pub - float(rng.uniform(0, 30)) * 86400), created_by_ref=ident["id"])

    for kind, value, name in iocs:
        ind = indicator(kind, value, name, ["malicious-activity"])
        objs.append(ind)
        objs.append(_sdo(world, "relationship", t_pub, relationship_type="indicates", source_ref=ind["id"],
                         target_ref=malware["id"]))
    n_decoys = 150 + int(rng.integers(0, 100))
    for ip in est.fresh_ips(n_decoys // 3):
        objs.append(indicator("ip", ip, "Known scanner / botnet node", ["anonymization", "malicious-activity"]))
    for _ in range(n_decoys // 4):
        objs.append(indicator("domain", _domain(world), "Phishing infrastructure", ["malicious-activity"]))
    for _ in range(n_decoys // 6):
        objs.append(indicator("url", f"http://{_domain(world)}/{ids.hex_id(rng, 8)}/gate.php", "Malware download URL",
                              ["malicious-activity"]))
    for h in ids.hex_ids(rng, n_decoys // 4, 64):
        objs.append(indicator("sha256", h, "Commodity malware sample", ["malicious-activity"]))
    head, tail = objs[:2], objs[2:]
    order = rng.permutation(len(tail))
    bundle = {"type": "bundle", "id": f"bundle--{ids.uuid(rng)}", "objects": head + [tail[i] for i in order]}
    path = world.out / "intel" / "threat_intel.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
    return len(bundle["objects"])
