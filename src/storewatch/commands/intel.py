"""`storewatch intel feeds add|list|remove` and `storewatch intel pull`: threat-intel feeds kept current."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> int:
    """`3600`, `30m`, `6h` or `1d` as seconds."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    if text[:-1].isdigit() and text[-1] in _UNITS:
        return int(text[:-1]) * _UNITS[text[-1]]
    raise typer.BadParameter(f"{text!r}: seconds, or a number with s, m, h or d", param_hint="--interval")


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    group = typer.Typer(help="Threat-intel feeds (TAXII 2.1 collections, block lists): follow them, pull them.",
                        no_args_is_help=True)
    feeds = typer.Typer(help="The feeds this workspace follows.", no_args_is_help=True)
    group.add_typer(feeds, name="feeds")
    app.add_typer(group, name="intel")

    @feeds.command("add")
    def add(
        name: str = typer.Argument(..., help="Feed name, also the indicators' source (a-z, 0-9, - and _)."),
        taxii: Optional[str] = typer.Option(None, "--taxii", help="TAXII 2.1 API root URL."),
        collection: Optional[str] = typer.Option(None, "--collection", help="TAXII collection id."),
        user: Optional[str] = typer.Option(None, "--user", help="TAXII user; the password comes from "
                                           "STOREWATCH_INTEL_<NAME>_PASSWORD (a token from ..._TOKEN)."),
        url: Optional[str] = typer.Option(None, "--url", help="Block list URL."),
        file: Optional[Path] = typer.Option(None, "--file", help="Block list file."),
        kind: Optional[str] = typer.Option(None, "--kind", help="Block list values: ip, domain, url, sha256, md5, sha1, csv."),
        column: Optional[str] = typer.Option(None, "--column", help="CSV: the value column, if its header is unusual."),
        confidence: int = typer.Option(50, "--confidence", min=0, max=100, help="Confidence of indicators that carry none."),
        tlp: str = typer.Option("clear", "--tlp", help="TLP of indicators without a marking: clear, green, amber, amber+strict, red."),
        interval: str = typer.Option("1h", "--interval", help="Time between scheduled pulls (30m, 6h, 1d)."),
        subdomains: bool = typer.Option(False, "--subdomains", help="Block-list domains also cover their subdomains."),
        home: Optional[Path] = HomeOption,
    ) -> None:
        """Follow a feed (replaces a feed of the same name). Nothing is fetched until `intel pull`."""
        from storewatch import audit
        from storewatch.cli import console, err
        from storewatch.ingest.feeds import Feed, FeedError, load, save
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        given = [x for x in (taxii, url, file) if x]
        if len(given) != 1:
            raise typer.BadParameter("give exactly one of --taxii, --url and --file")
        kind_of = "taxii" if taxii else "url" if url else "file"
        location = taxii or url or str(Path(str(file)).resolve())
        ws = Workspace.at(home)
        try:
            feed = Feed(name, kind_of, location, collection=collection, format=kind, column=column, user=user,
                        confidence=confidence, tlp=tlp.lower(), interval=_seconds(interval), subdomains=subdomains).check()
            current = load(ws)
        except FeedError as exc:
            err.print(f"[red]{shown(str(exc))}[/]")
            raise typer.Exit(2)
        current[name] = feed
        save(ws, current)
        audit.append(ws, "intel.feed_added", {"feed": name, "kind": kind_of, "location": location,
                                               "collection": collection}, "analyst follows a threat-intel feed", "saved")
        console.print(f"Following {shown(name)} ({kind_of} {shown(location)}); pull it with `storewatch intel pull {shown(name)}`.")

    @feeds.command("remove")
    def remove(name: str = typer.Argument(...), home: Optional[Path] = HomeOption) -> None:
        """Stop following a feed; its indicators stay until `intel pull` of another source replaces them."""
        from storewatch import audit
        from storewatch.cli import console, err
        from storewatch.ingest.feeds import load, save
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        current = load(ws)
        if current.pop(name, None) is None:
            err.print(f"[red]No feed named {shown(name)}.[/]")
            raise typer.Exit(1)
        save(ws, current)
        audit.append(ws, "intel.feed_removed", {"feed": name}, "analyst stopped following a feed", "saved")
        console.print(f"No longer following {shown(name)}.")

    @feeds.command("list")
    def listed(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
        """The feeds, their last pull and how many indicators each holds."""
        from dataclasses import asdict

        from rich.table import Table

        from storewatch.cli import _json_out, console
        from storewatch.detect.intel_feeds import state
        from storewatch.ingest.feeds import load
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        last = state(ws)
        rows = [{**asdict(f), **{k: v for k, v in last.get(n, {}).items() if k != "feed"}} for n, f in load(ws).items()]
        if json:
            _json_out(rows)
            return
        table = Table(title=f"{len(rows)} threat-intel feed(s)")
        for col in ("name", "kind", "location", "tlp", "every", "last pull (UTC)", "status", "indicators"):
            table.add_column(col, overflow="fold")
        for r in rows:
            pulled = r.get("last_pulled")
            table.add_row(shown(r["name"]), r["kind"], shown(r["location"]), r["tlp"], f"{r['interval'] // 60} min",
                          f"{pulled:%Y-%m-%d %H:%M}" if pulled else "never", shown(r.get("status") or ""),
                          str(r.get("total") or 0))
        console.print(table)

    @group.command("pull")
    def pull_now(
        names: Optional[list[str]] = typer.Argument(None, help="Feeds to pull (default: all)."),
        loop: bool = typer.Option(False, "--loop", help="Keep pulling each feed when its interval is due, until Ctrl-C."),
        hunt: bool = typer.Option(True, "--hunt/--no-hunt", help="Re-run detection when indicators changed (retro-hunt)."),
        home: Optional[Path] = HomeOption,
        json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Fetch the feeds now, store what changed, and match new indicators against recent history."""
        from storewatch.cli import err
        from storewatch.detect.intel_feeds import due_pulls
        from storewatch.ingest.feeds import FeedError
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        try:
            failed = _pull_once(ws, names, hunt, json)
            while loop:
                time.sleep(30)
                due = [n for n in due_pulls(ws) if not names or n in names]
                if due:
                    failed = _pull_once(ws, due, hunt, json)
        except FeedError as exc:
            err.print(f"[red]{shown(str(exc))}[/]")
            raise typer.Exit(2)
        except KeyboardInterrupt:
            return
        if failed:
            raise typer.Exit(1)


def _pull_once(ws, names: Optional[list[str]], hunt: bool, json: bool) -> bool:
    """One pull, its report printed, notifications dispatched; True when a feed failed."""
    from storewatch.cli import _json_out, _print_detect_report, console, err
    from storewatch.detect.intel_feeds import pull
    from storewatch.respond.notify import dispatch
    from storewatch.terminal import shown

    reports, detected = pull(ws, names or None, hunt=hunt)
    sent = dispatch(ws) if detected is not None else []
    if json:
        _json_out({"feeds": [r.as_dict() for r in reports], "detect": detected.as_dict() if detected else None,
                   "notified": sent})
    else:
        for r in reports:
            if r.status == "ok":
                console.print(f"{shown(r.feed)}: {r.added} new, {r.updated} updated, {r.removed} removed, "
                              f"{r.total} held" + (f"; skipped: {len(r.notes)}" if r.notes else ""))
                for note in r.notes[:5]:
                    err.print(f"  [yellow]skipped[/] {shown(note)}")
            else:
                err.print(f"[red]{shown(r.feed)} failed[/]: {shown(r.detail)}")
        if detected is not None:
            _print_detect_report(detected)
    return any(r.status != "ok" for r in reports)
