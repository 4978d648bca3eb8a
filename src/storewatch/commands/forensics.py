"""Forensics commands: `timeline` reconstructs an incident, `evidence` seals it in a bundle, `verify-evidence`
checks a bundle. Every value printed comes from logs and is escaped before Rich sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.panel import Panel
from rich.table import Table

from storewatch.terminal import shown

ENTITIES_SHOWN = 3
VALUES_SHOWN = 5


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command()
    def timeline(
        incident_id: str = typer.Argument(..., help="Incident id (a unique prefix is enough)."),
        home: Optional[Path] = HomeOption,
        json: bool = typer.Option(False, "--json", help="Print the whole timeline as JSON."),
        limit: int = typer.Option(100, "--limit", min=1, help="Events to list at most (every kind at least once)."),
    ) -> None:
        """Reconstruct an incident: events touching its entities, pivoted and in time order, with the entry
        point, the blast radius and the gaps in the record."""
        from storewatch.cli import _json_out, existing_workspace
        from storewatch.forensics.timeline import build_timeline
        from storewatch.store import reader

        with reader.opened(existing_workspace(home)) as con:
            result = _or_exit(lambda: build_timeline(con, incident_id, limit=limit))
        if json:
            _json_out(result)
        else:
            _print_timeline(result)

    @app.command()
    def evidence(
        incident_id: str = typer.Argument(..., help="Incident id (a unique prefix is enough)."),
        out: Path = typer.Option(..., "--out", help="New or empty folder to write the bundle into."),
        stix: bool = typer.Option(False, "--stix", help="Also write the indicators as a STIX 2.1 bundle."),
        home: Optional[Path] = HomeOption,
    ) -> None:
        """Export an incident, its alerts, timeline and raw events with a SHA-256 manifest."""
        from storewatch.forensics.evidence import export_bundle
        from storewatch.cli import existing_workspace

        done = _or_exit(lambda: export_bundle(existing_workspace(home), incident_id, out, stix))
        _print_export(done, stix)

    @app.command("verify-evidence")
    def verify_evidence(
        bundle: Path = typer.Argument(..., help="Bundle folder written by `storewatch evidence`."),
        expect: Optional[str] = typer.Option(None, "--expect", help="The manifest SHA-256 recorded at export."),
        json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Check an evidence bundle: exit 1 and list every file modified, missing or added."""
        from storewatch.cli import _verdict
        from storewatch.forensics.evidence import verify

        problems = verify(bundle, expect)
        _verdict(problems, {"bundle": str(bundle), "intact": not problems, "problems": problems} if json else None,
                 f"Evidence bundle {shown(str(bundle))} is NOT intact", f"{shown(str(bundle))}: every file matches the manifest.")


def _or_exit(call):
    """Run `call`; turn the errors a user can cause (unknown incident, occupied folder) into a message and exit 1."""
    from storewatch.cli import err
    from storewatch.forensics.evidence import EvidenceError
    from storewatch.forensics.timeline import UnknownIncident

    try:
        return call()
    except (UnknownIncident, EvidenceError) as exc:
        err.print(f"[red]{shown(str(exc))}[/]")
        raise typer.Exit(1)


def _when(iso: str) -> str:
    return iso[5:19].replace("T", " ")


def _entities(event: dict) -> str:
    others = [e for e in event["entities"]
              if (e["type"], e["value"]) != (event["pivot"]["type"], event["pivot"]["value"])]
    listed = ", ".join(f"{e['type']} {e['value']}" for e in others[:ENTITIES_SHOWN])
    return listed + (f" +{len(others) - ENTITIES_SHOWN}" if len(others) > ENTITIES_SHOWN else "")


def _print_timeline(t: dict) -> None:
    from storewatch.cli import console

    inc, cause = t["incident"], t["root_cause"]
    marks = {cause["event_id"]: "▶", cause["foothold_event_id"]: "★"}
    table = Table(title=f"{shown(inc['id'])}  {shown(inc['title'])}", caption=_caption(t), caption_justify="left")
    for col, kw in (("", {}), ("time (UTC)", {"no_wrap": True}), ("source", {}), ("what", {"ratio": 3}),
                    ("entities", {"ratio": 2}), ("via (pivot)", {"ratio": 2})):
        table.add_column(col, overflow="fold", **kw)
    for e in t["events"]:
        mark = marks.get(e["event_id"]) or ("●" if e["in_alert"] else "")
        style = "bold" if mark in ("▶", "★") else ("dim" if not e["reached"] else None)
        table.add_row(mark, _when(e["time"]), shown(e["source_format"] or ""), shown(e["summary"]),
                      shown(_entities(e)), shown(e["pivot"]["path"]), style=style)
    console.print(table)
    console.print(_root_cause_panel(cause))
    console.print(_blast_panel(t["blast_radius"]))
    console.print(_gaps_panel(t["gaps"]))
    skipped = [p for p in t["pivots"] if not p["followed"]]
    if skipped:
        console.print("[bold]Not followed[/] (too common to pivot through): " + "; ".join(
            shown(f"{p['type']} {p['value']} ({p['events']} events, {p['peers']} peers)") for p in skipped))


def _caption(t: dict) -> str:
    text = (f"▶ entry point  ★ first success after failures  ● alert evidence  dim: failed attempt\n"
            f"Window {t['window']['start']} → {t['window']['end']}: {t['total_events']:,} events")
    if t["omitted"]:
        text += (f"; {t['shown']:,} shown, {t['omitted']:,} left out (every kind of event is shown at least once;"
                 f" raise --limit, or `storewatch evidence` exports all)")
    return text


def _root_cause_panel(cause: dict) -> Panel:
    lines = [shown(cause["reason"])]
    for key, label in (("event", "Entry point"), ("foothold", "Foothold")):
        if cause.get(key):
            e = cause[key]
            lines.append(f"[bold]{label}[/] {_when(e['time'])} {shown(e['source_format'] or '')}: {shown(e['summary'])}")
    if cause.get("foothold_reason"):
        lines.append(shown(cause["foothold_reason"]))
    return Panel("\n".join(lines), title="Root cause", title_align="left")


def _blast_panel(blast: dict) -> Panel:
    lines = []
    for etype, info in blast["reached"].items():
        values = ", ".join(info["values"][:VALUES_SHOWN])
        more = f" +{info['count'] - VALUES_SHOWN}" if info["count"] > VALUES_SHOWN else ""
        lines.append(f"[bold]{etype}[/] {info['count']}: {shown(values)}{more}")
    if blast["attempted_only"]:
        lines.append("[dim]only attempted (failed): " + ", ".join(
            f"{etype} {n}" for etype, n in blast["attempted_only"].items()) + "[/]")
    for m in blast["money"]:
        lines.append(f"[bold]money[/] {shown(m['amount'])} {shown(m['currency'] or '')} "
                     f"{shown(m['channel'] or '')} {shown(m['activity'] or '')} ({m['events']} events)")
    return Panel("\n".join(lines) or "nothing reached", title="Blast radius", title_align="left")


def _gaps_panel(gaps: list[dict]) -> Panel:
    text = "\n".join(shown(g["detail"]) + (f" ({g['start']} → {g['end']})" if g["kind"] == "silence" else "")
                     for g in gaps)
    return Panel(text or "no silence or missing source found in the incident span", title="Gaps", title_align="left")


def _print_export(done, stix: bool) -> None:
    from storewatch.cli import console

    table = Table(title=f"Evidence bundle {shown(str(done.path))}")
    for col in ("file", "bytes", "sha256"):
        table.add_column(col, justify="right" if col == "bytes" else "left")
    for f in done.files:
        table.add_row(shown(f["path"]), f"{f['bytes']:,}", f["sha256"])
    console.print(table)
    console.print(f"{done.events:,} events. Manifest SHA-256 [bold]{done.manifest_sha256}[/] "
                  "(recorded in the workspace audit log).")
    if stix and not done.indicators:
        console.print("[yellow]No STIX bundle: the incident names no external IP, domain, URL or file hash.[/]")
    console.print(f"Verify: storewatch verify-evidence {shown(str(done.path))} --expect {done.manifest_sha256}"
                  f"   (or: cd {shown(str(done.path))} && sha256sum -c SHA256SUMS)")
