"""Does learning from the analyst help? Measured on a simulated estate with benign noise (docs/learning.md).

The estate's first days are the analyst's: a simulated analyst gives every incident that starts in them a
verdict from the simulator's labels, wrong with probability `mistakes` (an attack called a false positive, a
look-alike called an attack...), and turns the look-alikes it calls benign into exceptions the way a person
would from the incident page: the account it names, on the /16 of the addresses it came from. Detection then
runs again, and the incidents of the remaining (held-out) days are scored before and after: false-positive
incidents per day and recall. Every alert the verdicts and exceptions closed is checked against the held-out
attacks: none may be one of theirs.
"""

from __future__ import annotations

import ipaddress
import random
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Mapping, Sequence

from storewatch.correlate.queries import list_incidents
from storewatch.detect.engine import detect
from storewatch.evaluate import evaluate, matches, read_labels
from storewatch.ingest.engine import ingest
from storewatch.learn import conditions, exceptions
from storewatch.learn.feedback import record_feedback
from storewatch.simulate import simulate
from storewatch.store import reader
from storewatch.workspace import Workspace

ANALYST = "simulated-analyst"


def _incidents(ws: Workspace) -> list[dict]:
    with reader.opened(ws) as con:
        rows = list_incidents(con)
    for r in rows:
        for k in ("first_seen", "last_seen"):
            r[k] = datetime.fromisoformat(r[k].replace("Z", "+00:00"))
    return rows


def _held_out(ws: Workspace, split: datetime, attacks: Sequence[Mapping], benign: Sequence[Mapping], days: float) -> dict:
    """Scores of the incidents and attacks that start on or after `split`."""
    later = [i for i in _incidents(ws) if i["first_seen"] >= split]
    result = evaluate(later, [a for a in attacks if a["start"] >= split], days, [b for b in benign if b["start"] >= split])
    return {k: result[k] for k in ("labels", "detected", "recall", "incidents", "false_positive_incidents",
                                   "false_positives_per_day", "benign_alarms")}


def truth(incident: Mapping, attacks: Sequence[Mapping], benign: Sequence[Mapping]) -> str:
    """The verdict a perfect analyst would give."""
    if any(matches(incident, a) for a in attacks):
        return "true_positive"
    return "benign" if any(matches(incident, b) for b in benign) else "false_positive"


def analyst_verdicts(incidents: Sequence[Mapping], attacks: Sequence[Mapping], benign: Sequence[Mapping],
                     mistakes: float, rng: random.Random) -> dict[str, str]:
    """incident id -> verdict, right except with probability `mistakes` (then one of the two others)."""
    out = {}
    for inc in incidents:
        right = truth(inc, attacks, benign)
        wrong = [v for v in ("true_positive", "benign", "false_positive") if v != right]
        out[inc["id"]] = rng.choice(wrong) if rng.random() < mistakes else right
    return out


def exceptions_for(benign_incidents: Sequence[Mapping]) -> list[dict]:
    """What an analyst writes for the incidents it called benign: per account, that account on the /16s its
    addresses came from (an incident naming no account gets none: an address alone is too broad)."""
    nets: dict[str, set[str]] = defaultdict(set)
    for inc in benign_incidents:
        users = [e["value"] for e in inc["entities"] if e["type"] == "user"]
        ips = [e["value"] for e in inc["entities"] if e["type"] == "ip" and ":" not in e["value"]]
        for u in users:
            nets[u] |= {str(ipaddress.ip_network(f"{ip}/16", strict=False)) for ip in ips}
    docs = []
    for n, (user, networks) in enumerate(sorted(nets.items()), 1):
        where = f" and ip in ({', '.join(sorted(networks))})" if len(networks) > 1 else (
            f" and ip in {next(iter(networks))}" if networks else "")
        docs.append({"id": f"exc-learned-{n}", "condition": f"user = {conditions.quoted(user)}{where}", "scope": "all",
                     "owner": ANALYST, "reason": f"expected activity of {user}, judged benign"})
    return docs


def measure(work: Path, seed: int, days: int = 4, train_days: int = 2, scale: float = 0.05,
            mistakes: float = 0.1) -> dict:
    """One estate: before/after scores on the held-out days, what the analyst did and what was closed."""
    estate, ws = work / f"estate-{seed}", Workspace.at(work / f"ws-{seed}")
    simulate(estate, days=days, scale=scale, seed=seed, noise=("campaign_export",))
    ingest([p for p in sorted(estate.iterdir()) if p.is_dir()], ws)
    attacks, benign = read_labels(estate / "labels.jsonl"), read_labels(estate / "benign.jsonl")
    start = min(x["start"] for x in attacks + benign).replace(hour=0, minute=0, second=0, microsecond=0)
    split, held_days = start + timedelta(days=train_days), float(days - train_days)
    detect(ws)
    before = _held_out(ws, split, attacks, benign, held_days)

    first = [i for i in _incidents(ws) if i["first_seen"] < split]
    verdicts = analyst_verdicts(first, attacks, benign, mistakes, random.Random(seed))
    for inc_id, verdict in verdicts.items():
        record_feedback(ws, inc_id, verdict, actor=ANALYST, note="benchmark")
    added = [exceptions.make(d) for d in exceptions_for([i for i in first if verdicts[i["id"]] == "benign"])]
    with reader.opened(ws) as con:
        previews = {ex.id: exceptions.preview(con, ex, days=days)["text"] for ex in added}
    for ex in added:
        exceptions.add(ws, ex, actor=ANALYST)
    detect(ws)
    after = _held_out(ws, split, attacks, benign, held_days)
    with reader.opened(ws) as con:
        closed = con.execute("SELECT alert_id, rule_id, first_seen, last_seen, entities, exception_id "
                             "FROM suppressed_alerts").fetchall()
    held_attacks = [a for a in attacks if a["start"] >= split]
    hurt = [{"alert_id": a, "rule_id": r, "exception_id": x, "label": lb["id"]}
            for a, r, f, la, ents, x in closed
            for lb in held_attacks if matches({"first_seen": f, "last_seen": la, "entities": ents}, lb)]
    return {"seed": seed, "days": days, "train_days": train_days, "before": before, "after": after,
            "verdicts": dict(sorted({v: list(verdicts.values()).count(v) for v in set(verdicts.values())}.items())),
            "wrong_verdicts": sum(verdicts[i["id"]] != truth(i, attacks, benign) for i in first),
            "exceptions": [{"id": ex.id, "condition": ex.condition, "preview": previews[ex.id]} for ex in added],
            "alerts_closed": len(closed), "held_out_attacks_closed": hurt}
