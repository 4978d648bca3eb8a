"""`storewatch feedback INCIDENT_ID --verdict ...`: the analyst's verdict on an incident or one of its alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command()
    def feedback(
        incident_id: str = typer.Argument(..., help="The incident (INC-...)."),
        verdict: str = typer.Option(..., "--verdict", help="true_positive, benign (real but expected) or false_positive."),
        note: str = typer.Option("", "--note", help="Why (kept, card numbers scrubbed, in the audit log)."),
        alert: Optional[str] = typer.Option(None, "--alert", help="Judge one alert of the incident, not all of it."),
        home: Optional[Path] = HomeOption,
        json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Record a verdict; it feeds `detections --scorecard`, and a false positive silences its pattern."""
        from storewatch.cli import _json_out, console
        from storewatch.commands import or_exit
        from storewatch.learn.feedback import FeedbackError, record_feedback
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        result = or_exit(lambda: record_feedback(Workspace.at(home), incident_id, verdict, note=note, alert_id=alert),
                         (FeedbackError,))
        if json:
            _json_out(result)
            return
        what = f"alert {alert} of {incident_id}" if alert else incident_id
        console.print(f"{shown(what)}: {verdict} recorded"
                      + (f"; {len(result['suppressed'])} pattern(s) suppressed from the next detect "
                         "(see `storewatch exceptions list`)" if result["suppressed"] else "") + ".")
