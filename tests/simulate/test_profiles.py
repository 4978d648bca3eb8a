"""Profiles and estate sizes: a `varied` business keeps its own hours, rates and habits, drawn from the seed;
a one-store estate is a small business; in both, every attack is still injected at its usual intensity and
every label is true of the data."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from storewatch.simulate import profiles, simulate
from storewatch.simulate.scenarios import ATTACKS

from .helpers import all_text, labels, read_text

NS = {"a": "http://www.nrf-arts.org/IXRetail/namespace/"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    """A single quiet shop with habits of its own."""
    out = tmp_path_factory.mktemp("shop")
    simulate(out, days=2, scale=0.02, seed=41, stores=1, profile="varied")
    return out


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("chain")
    simulate(out, days=2, scale=0.05, seed=1, profile="varied")  # UTC-7: trading crosses midnight UTC
    return out


def _utc(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _dated(lines: list[str], stamp: re.Pattern, fmt: str) -> list[str]:
    """The lines whose timestamp is a real time (the simulator also writes broken copies of a few lines)."""
    out = []
    for line in lines:
        m = stamp.search(line)
        try:
            dt.datetime.strptime(m.group(1), fmt)
        except (AttributeError, ValueError):
            continue
        out.append(line)
    return out


def _local_hour(habits: profiles.Profile, when: dt.datetime) -> float:
    return (when.hour + when.minute / 60 + habits.utc_offset) % 24


def test_varied_habits_come_from_the_seed() -> None:
    """Same seed, same habits; other seeds, other time zones, hours and rates; classic is the simulator's
    long-standing habits."""
    drawn = [profiles.build("varied", seed) for seed in range(8)]
    again = profiles.build("varied", 3)
    assert (again.utc_offset, again.store_hours, again.volume) == (drawn[3].utc_offset, drawn[3].store_hours, drawn[3].volume)
    assert len({p.utc_offset for p in drawn}) >= 4 and len({p.store_hours for p in drawn}) >= 4
    assert len({round(p.volume["web"], 3) for p in drawn}) == 8 and len({p.order_rows for p in drawn}) >= 4
    for p in drawn:
        open_, close = p.store_hours
        assert 7 <= open_ and open_ + 9 <= close <= 23
        # the store curve (UTC) is zero exactly outside the local opening hours
        shut = [h for h in range(24) if p.store_curve[h] == 0]
        assert all(not open_ <= (h + p.utc_offset) % 24 < close for h in shut) and len(shut) == 24 - (close - open_)
    classic = profiles.build("classic", 3)
    assert classic.utc_offset == 0 and classic.store_hours == (8, 21) and set(classic.volume.values()) == {1.0}
    with pytest.raises(ValueError, match="unknown simulator profile"):
        profiles.build("boutique", 3)


def test_one_store_is_a_small_business(shop: Path) -> None:
    readme = (shop / "README.txt").read_text()
    assert "Stores: 1 (" in readme and "profile=varied" in readme
    assert re.search(r"Data centre 10\.0\.0\.0/16: shop-01 [\d.]+, nas-01 [\d.]+, bastion-01 [\d.]+\.", readme)
    [store] = list((shop / "pos").iterdir())
    tills = {w.text for f in store.iterdir() for w in etree.parse(str(f)).iterfind(".//a:WorkstationID", NS)}
    assert 1 <= len(tills) <= 2
    m = re.search(r"Head-office staff: (\d+)", readme)
    assert 2 <= int(m.group(1)) <= 5


def test_every_attack_is_injected_and_truthful_in_a_small_business(shop: Path) -> None:
    got = labels(shop)
    assert {x["scenario"] for x in got} == set(ATTACKS)
    text = all_text(shop)
    missing = [(x["scenario"], e["value"]) for name in ("labels.jsonl", "benign.jsonl") for x in labels(shop, name)
               for e in x["entities"] if e["value"] not in text]
    assert not missing


@pytest.mark.parametrize("which", ["shop", "chain"])
def test_attacks_keep_their_intensity_whatever_the_habits(which: str, request) -> None:
    """A brute force is still hundreds of attempts from one address, counted in the log as the label says."""
    out = request.getfixturevalue(which)
    (ssh,) = [x for x in labels(out) if x["scenario"] == "ssh_bruteforce"]
    n = int(re.match(r"(\d+) failed SSH passwords", ssh["description"]).group(1))
    ip = next(e["value"] for e in ssh["entities"] if e["type"] == "ip")
    syslog = _dated(read_text(out / "linux/auth.log").splitlines(), re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d)"),
                    "%b %d %H:%M:%S")
    assert 200 <= n < 800 and sum(1 for line in syslog if "Failed password" in line and f" {ip} " in line) == n
    (admin,) = [x for x in labels(out) if x["scenario"] == "admin_bruteforce"]
    n = int(re.match(r"(\d+) failed POST", admin["description"]).group(1))
    ip = next(e["value"] for e in admin["entities"] if e["type"] == "ip")
    web = _dated([line for p in (out / "web").glob("access.log*") for line in read_text(p).splitlines()],
                 re.compile(r"\[(\S+) \+0000\]"), "%d/%b/%Y:%H:%M:%S")
    assert 150 <= n < 600 and sum(1 for line in web if line.startswith(f"{ip} - - ") and '"POST /admin/login' in line
                                  and '" 401 ' in line) == n


def test_trading_follows_the_drawn_opening_hours_and_the_intrusion_does_not(chain: Path) -> None:
    """Every sale rings up inside the store's local opening hours (which cross midnight UTC in some time
    zones); the break-in label lies in the local small hours."""
    habits = profiles.build("varied", 1)
    open_, close = habits.store_hours
    hours = Counter()
    for f in (chain / "pos").rglob("*.xml"):
        for tx in etree.parse(str(f)).iterfind("a:Transaction", NS):
            if tx.find("a:RetailTransaction/a:LineItem/a:Sale", NS) is not None:
                hours[int(_local_hour(habits, _utc(tx.findtext("a:BeginDateTime", namespaces=NS))))] += 1
    assert sum(hours.values()) > 100
    assert all(open_ <= h < close for h in hours), (habits.store_hours, sorted(hours))
    (intrusion,) = [x for x in labels(chain) if x["scenario"] == "after_hours_intrusion"]
    start, end = _local_hour(habits, _utc(intrusion["start"])), _local_hour(habits, _utc(intrusion["end"]))
    assert 1 <= start < 4 and start < end < open_ - 1


def test_benign_labels_describe_the_drawn_habits(chain: Path) -> None:
    """The uptime monitors poll at the profile's interval, and their label says so."""
    habits = profiles.build("varied", 1)
    (monitor,) = [x for x in labels(chain, "benign.jsonl") if x["scenario"] == "uptime_monitor"]
    assert f"every {habits.monitor_every:g} seconds" in monitor["description"]
    ip = monitor["entities"][0]["value"]
    stamp = re.compile(r"\[(\S+) \+0000\]")
    polls = [line for line in _dated(read_text(chain / "web/access.log").splitlines(), stamp, "%d/%b/%Y:%H:%M:%S")
             if line.startswith(f"{ip} - - ") and '"GET /healthz' in line]
    times = [dt.datetime.strptime(stamp.search(line).group(1), "%d/%b/%Y:%H:%M:%S") for line in polls]
    gaps = Counter(round((b - a).total_seconds()) for a, b in zip(times, times[1:]))
    assert gaps.most_common(1)[0][0] == habits.monitor_every


def test_cli_takes_stores_and_profile(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from storewatch.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["simulate", "--out", str(tmp_path / "one"), "--days", "1", "--scale", "0.01",
                             "--stores", "1", "--profile", "varied", "--seed", "2"])
    assert ok.exit_code == 0, ok.output
    readme = (tmp_path / "one" / "README.txt").read_text()
    assert "Stores: 1 (" in readme and "profile=varied" in readme and "scale=0.01" in readme
    bad = runner.invoke(app, ["simulate", "--out", str(tmp_path / "two"), "--profile", "boutique"])
    assert bad.exit_code != 0 and not (tmp_path / "two").exists()
