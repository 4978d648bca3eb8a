"""`storewatch users add|list|remove|passwd`: the dashboard's named accounts and their roles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer


def _password(confirm: bool = True) -> str:
    """From the terminal without echo (asked twice), or the first line of stdin when it is not a terminal."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Again: ") != first:
        raise typer.BadParameter("the two passwords differ")
    return first


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    group = typer.Typer(help="Named dashboard accounts (viewer, analyst, admin); passwords hashed with Argon2id.",
                        no_args_is_help=True)
    app.add_typer(group, name="users")
    role_help = "viewer (reads), analyst (also works cases, verdicts), admin (also accounts, approvals)."

    def _run(ws, call, done: str) -> None:
        """Make the change, audit it (name and role, never the password), say what was done."""
        from storewatch import audit
        from storewatch.accounts import AccountError
        from storewatch.cli import console, err
        from storewatch.terminal import shown

        try:
            what = call()
        except AccountError as exc:
            err.print(f"[red]{shown(str(exc))}[/]")
            raise typer.Exit(1)
        audit.append(ws, f"users.{done}", what, "account managed from the command line", "done")
        console.print(f"{done}: {shown(what['name'])}" + (f" ({what['role']})" if what.get("role") else ""))

    @group.command()
    def add(name: str = typer.Argument(...), role: str = typer.Option("analyst", "--role", help=role_help),
            home: Optional[Path] = HomeOption) -> None:
        """Add an account; the password is asked for (not echoed) or read from stdin."""
        from storewatch import accounts
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        _run(ws, lambda: accounts.add(ws, name, role, _password()), "added")

    @group.command()
    def passwd(name: str = typer.Argument(...), role: Optional[str] = typer.Option(None, "--role", help=role_help),
               home: Optional[Path] = HomeOption) -> None:
        """Set an account's password (and, with --role, its role); sessions it has end at their timeouts."""
        from storewatch import accounts
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        _run(ws, lambda: accounts.set_password(ws, name, _password(), role), "changed")

    @group.command()
    def remove(name: str = typer.Argument(...), home: Optional[Path] = HomeOption) -> None:
        """Remove an account; its sessions are refused from the next request."""
        from storewatch import accounts
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        _run(ws, lambda: accounts.remove(ws, name), "removed")

    @group.command(name="list")
    def list_(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
        """The accounts and their roles (never a password or hash)."""
        from rich.table import Table

        from storewatch import accounts
        from storewatch.cli import _json_out, console
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        rows = accounts.listing(Workspace.at(home))
        if json:
            _json_out(rows)
            return
        table = Table(title=f"Accounts ({len(rows)})")
        for col in ("name", "role", "created"):
            table.add_column(col)
        for r in rows:
            table.add_row(shown(r["name"]), r["role"], r["created"] or "")
        console.print(table)
