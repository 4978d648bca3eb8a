"""`storewatch audit verify` and `storewatch audit seal`: check the audit log, and note where it ends."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    group = typer.Typer(help="The audit log of actions, verdicts and sign-in lockouts: verify it, seal it.",
                        no_args_is_help=True)
    app.add_typer(group, name="audit")

    @group.command()
    def verify(
        home: Optional[Path] = HomeOption,
        kept: Optional[str] = typer.Option(None, "--seal", help="A seal kept elsewhere (from `storewatch audit seal`)."),
        json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Check every entry's signature and chain and that the log still ends where it was sealed; exit 1 if not."""
        from storewatch import audit
        from storewatch.cli import _verdict
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        try:
            problems = audit.verify(ws, kept)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--seal") from None
        count, last = sum(1 for _ in audit.entries(ws)), audit.seal(ws)
        _verdict(problems, {"problems": problems, "entries": count, "seal": last} if json else None,
                 f"The audit log {shown(audit.log_path(ws))} is NOT intact", f"Audit log intact: {count} entries, seal {last}")

    @group.command()
    def seal(home: Optional[Path] = HomeOption) -> None:
        """Print the hash of the last entry: keep it outside the workspace, then `audit verify --seal` it."""
        from storewatch import audit
        from storewatch.cli import console
        from storewatch.workspace import Workspace

        console.print(audit.seal(Workspace.at(home)))
