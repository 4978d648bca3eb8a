"""`storewatch receive`: take pushed events (syslog, signed webhooks, JSON lines) into the workspace's inbox."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command()
    def receive(
        home: Optional[Path] = HomeOption,
        syslog_udp: Optional[int] = typer.Option(None, "--syslog-udp", min=0, max=65535, help="Take syslog over UDP on this port."),
        syslog_tcp: Optional[int] = typer.Option(None, "--syslog-tcp", min=0, max=65535,
                                                 help="Take syslog over TCP (octet-counted or one per line) on this port."),
        http: Optional[int] = typer.Option(None, "--http", min=0, max=65535,
                                           help="Take Stripe, Shopify, Auth0 webhooks and JSON lines on this port."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; beyond loopback needs secrets set."),
        status: bool = typer.Option(False, "--status", help="Show the running (or last) receiver's counters and exit."),
        json: bool = typer.Option(False, "--json", help="With --status: as JSON."),
    ) -> None:
        """Spool pushed events to <home>/inbox/ (written to disk before they are acknowledged) until Ctrl+C;
        `storewatch watch` or `ingest <home>/inbox` reads them."""
        from storewatch.cli import err
        from storewatch.receive import config as receive_config
        from storewatch.receive.status import read_status
        from storewatch.respond.config import ConfigError
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        if status:
            _print_status(read_status(ws), json)
            return
        if syslog_udp is None and syslog_tcp is None and http is None:
            err.print("[red]Nothing to listen on:[/] give --syslog-udp, --syslog-tcp and/or --http with a port.")
            raise typer.Exit(2)
        try:
            cfg = receive_config.load(ws)
        except ConfigError as exc:
            err.print(f"[red]{shown(str(exc))}[/]")
            raise typer.Exit(2)
        _run(ws, cfg, host, syslog_udp, syslog_tcp, http)


def _run(ws, cfg, host: str, syslog_udp: int | None, syslog_tcp: int | None, http: int | None) -> None:
    import asyncio
    import logging

    from storewatch.cli import console, err
    from storewatch.receive.server import Receiver, ReceiverBusy, refusal
    from storewatch.terminal import shown

    if why := refusal(host, cfg, syslog=syslog_udp is not None or syslog_tcp is not None, http=http is not None):
        err.print(f"[red]Refusing to listen on {shown(host)}:[/] {shown(why)}")
        raise typer.Exit(2)
    if http is not None and not cfg.endpoints():
        err.print("[yellow]No webhook secret or token is set: every webhook path answers 404 (see docs/ingest.md).[/]")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    def ready(listening: dict[str, str]) -> None:
        for name, address in listening.items():
            console.print(f"{name}: {shown(address)}")
        if http is not None:
            console.print(f"webhooks on: {shown(', '.join(cfg.endpoints()) or 'none')}")
        console.print(f"Spooling to {shown(str(ws.home / 'inbox'))}. Stop with Ctrl+C.")

    try:
        asyncio.run(Receiver(ws, cfg, host, syslog_udp, syslog_tcp, http).run(ready))
    except (ReceiverBusy, OSError) as exc:
        err.print(f"[red]{shown(str(exc))}[/]")
        raise typer.Exit(1)


def _print_status(doc: dict | None, as_json: bool) -> None:
    from storewatch.cli import _json_out, console
    from storewatch.terminal import shown

    if as_json:
        _json_out(doc or {"running": False})
        return
    if doc is None:
        console.print("No receiver has run in this workspace.")
        return
    state = "running" if doc["running"] else f"not running (last status {doc.get('updated')})"
    console.print(f"Receiver {shown(state)}, pid {doc.get('pid')}, since {shown(str(doc.get('started')))}")
    for name, address in doc.get("listening", {}).items():
        console.print(f"  {shown(name)}: {shown(address)}")
    console.print(f"Spooled {doc.get('spooled_bytes', 0):,} bytes; inbox {doc.get('spool', {}).get('bytes', 0):,} bytes"
                  + (f" [red]held back: {shown(doc['spool']['too_full'])}[/]" if doc.get("spool", {}).get("too_full") else ""))
    for label, key in (("Accepted", "accepted"), ("Duplicates (vendor retries)", "duplicate"), ("Refused", "refused"),
                       ("Malformed (quarantined)", "malformed"), ("Dropped", "dropped"), ("Paused", "paused")):
        counts = doc.get(key) or {}
        if counts:
            console.print(f"[bold]{label}[/] " + shown(", ".join(f"{k}: {v:,}" for k, v in sorted(counts.items()))))
    if doc.get("pans_scrubbed"):
        console.print(f"Card numbers replaced before spooling: {doc['pans_scrubbed']:,}")
