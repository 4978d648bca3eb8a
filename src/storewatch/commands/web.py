"""`storewatch serve`: the dashboard and JSON API, on loopback unless a token protects it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

# Seconds SIGTERM or Ctrl+C waits for requests in flight before closing their connections: a client that
# never finishes sending (or a request stuck behind the store) must not keep the dashboard up.
SHUTDOWN_GRACE = 5


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but loopback needs a token."),
        port: int = typer.Option(8765, "--port", min=1, max=65535),
        home: Optional[Path] = HomeOption,
    ) -> None:
        """Start the dashboard: incidents, timelines, playbook dry-runs and approvals, verdicts; JSON under /api/."""
        import uvicorn
        from storewatch import accounts
        from storewatch.cli import console, err, existing_workspace
        from storewatch.respond.config import ConfigError
        from storewatch.terminal import shown
        from storewatch.web import create_app
        from storewatch.web.security import api_token, is_loopback

        ws = existing_workspace(home)
        try:
            token = api_token(ws)
        except ConfigError as exc:
            err.print(f"[red]{shown(str(exc))}[/]")
            raise typer.Exit(2)
        users = accounts.load(ws)
        if not token and not users and not is_loopback(host):
            err.print(f"[red]Refusing to listen on {shown(host)} without a token or accounts.[/] Add accounts with "
                      "`storewatch users add NAME --role analyst`, or set STOREWATCH_API_TOKEN "
                      f"(or `api: {{token: ...}}` in {shown(str(ws.home / 'respond.yml'))}, mode 600), "
                      "or listen on 127.0.0.1.")
            raise typer.Exit(2)
        address = f"[{host}]" if ":" in host else host
        console.print(f"Dashboard: http://{shown(address)}:{port}/   API: http://{shown(address)}:{port}/api/openapi.json")
        if users:
            console.print(f"Sign in with one of the {len(users)} accounts (`storewatch users list`).")
        if token:
            console.print("Sign in with the token from STOREWATCH_API_TOKEN (programs: Authorization: Bearer <token>).")
        console.print("Stop with Ctrl+C.")
        uvicorn.run(create_app(ws, token), host=host, port=port, log_level="warning", server_header=False,
                    timeout_graceful_shutdown=SHUTDOWN_GRACE)
