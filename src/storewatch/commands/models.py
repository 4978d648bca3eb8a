"""`storewatch models ...`: the versioned models (list, show, train, promote, rollback), the periods they
must not learn from, and their drift."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    group = typer.Typer(help="Versioned models: train, evaluate, promote, roll back; excluded periods; drift.",
                        no_args_is_help=True)
    app.add_typer(group, name="models")

    def fail(exc: Exception) -> None:
        from storewatch.cli import err
        from storewatch.terminal import shown

        err.print(f"[red]{shown(str(exc))}[/]")
        raise typer.Exit(1)

    @group.command("list")
    def list_(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
        """Every version of every model, with its status (current, candidate, retired)."""
        from rich.table import Table

        from storewatch.cli import _json_out, console
        from storewatch.learn import registry
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        docs = registry.versions(Workspace.at(home))
        rows = [{"id": d["id"], "model": d["model"], "version": d["version"], "status": d["status"],
                 "created": d["created"], "trigger": d.get("trigger"), "training_window": d.get("training_window"),
                 "data_hash": d.get("data_hash"), "rows": d.get("rows"),
                 "reasons": (d.get("evaluation") or {}).get("reasons", [])} for d in docs]
        if json:
            _json_out(rows)
            return
        if not rows:
            console.print("No model versions yet: `storewatch models train`.")
            return
        table = Table(title="Model versions")
        for col in ("id", "status", "created", "trained on", "not promoted because"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(shown(r["id"]), r["status"], r["created"], str((r["rows"] or {}).get("trained_on", "")),
                          shown("; ".join(r["reasons"])))
        console.print(table)

    @group.command()
    def show(version: str = typer.Argument(..., help="Version id, e.g. outliers.host@2."),
             home: Optional[Path] = HomeOption) -> None:
        """One version's manifest: window, features, parameters, metrics, data hash, history."""
        from storewatch.cli import _json_out
        from storewatch.learn import registry
        from storewatch.workspace import Workspace

        try:
            _json_out(registry.manifest(Workspace.at(home), version))
        except registry.ModelError as exc:
            fail(exc)

    @group.command()
    def train(home: Optional[Path] = HomeOption,
              detector: Optional[str] = typer.Option(None, "--detector", help="One model (default: all)."),
              no_promote: bool = typer.Option(False, "--no-promote", help="Keep the new version a candidate."),
              json: bool = typer.Option(False, "--json")) -> None:
        """Train new versions from the store now; each is promoted only if its evaluation is not worse."""
        from storewatch.cli import _json_out, console
        from storewatch.learn import models, registry
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        out = []
        for model in [detector] if detector else list(models.MODELS):
            try:
                doc = models.train(ws, model, promote=not no_promote)
                out.append({"model": model, "version": doc["id"], "status": doc["status"],
                            "reasons": doc["evaluation"]["reasons"]})
            except registry.ModelError as exc:
                if detector:
                    fail(exc)
                out.append({"model": model, "version": None, "status": "not trained", "reasons": [str(exc)]})
        if json:
            _json_out(out)
            return
        for r in out:
            console.print(f"{shown(r['model'])}: {shown(r['version'] or '-')} {r['status']}"
                          + (f" ({shown('; '.join(r['reasons']))})" if r["reasons"] else ""))

    def change(home: Optional[Path], version: str, reason: str, rollback: bool) -> None:
        from storewatch.cli import console
        from storewatch.learn import registry
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        call = registry.rollback if rollback else registry.promote
        try:
            doc = call(Workspace.at(home), version, reason)
        except registry.ModelError as exc:
            fail(exc)
        console.print(f"{shown(doc['id'])} is current{' again' if rollback else ''}.")

    @group.command()
    def promote(version: str = typer.Argument(..., help="Version id to make current."),
                home: Optional[Path] = HomeOption,
                reason: str = typer.Option("analyst promoted it", "--reason")) -> None:
        """Make a candidate current (the current one is retired and can be rolled back to)."""
        change(home, version, reason, rollback=False)

    @group.command()
    def rollback(version: str = typer.Argument(..., help="Earlier (retired) version id to restore."),
                 home: Optional[Path] = HomeOption,
                 reason: str = typer.Option("analyst restored an earlier version", "--reason")) -> None:
        """Restore an earlier version as current (after a peak season, or a retrain gone wrong)."""
        change(home, version, reason, rollback=True)

    @group.command()
    def exclude(start: str = typer.Option(..., "--from", help="ISO 8601 start (UTC unless it says otherwise)."),
                end: str = typer.Option(..., "--to", help="ISO 8601 end (exclusive)."),
                reason: str = typer.Option(..., "--reason", help="Why (Black Friday, a migration, ...)."),
                home: Optional[Path] = HomeOption) -> None:
        """Keep a period out of every model's training from the next retrain on."""
        from storewatch.cli import console
        from storewatch.learn import exclusions
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        try:
            row = exclusions.add(Workspace.at(home), start, end, reason)
        except ValueError as exc:
            fail(exc)
        console.print(f"Excluded {row['from'].isoformat()} to {row['to'].isoformat()} ({shown(row['reason'])}), id {row['id']}.")

    @group.command()
    def drift(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
        """Population stability index of each model's features and each detection's alert rate."""
        from rich.table import Table

        from storewatch.cli import _json_out, console
        from storewatch.learn import drift as drift_
        from storewatch.store import reader
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        with reader.opened(ws) as con:
            result = drift_.drift(ws, con)
        if json:
            _json_out(result)
            return
        table = Table(title=f"Drift (PSI; moderate >= {drift_.MODERATE}, drifted >= {drift_.DRIFTED})")
        for col in ("what", "psi", "level"):
            table.add_column(col)
        for m in result["models"]:
            for f in m["features"]:
                table.add_row(shown(f"{m['version']} {f['feature']}"), str(f["psi"]), f["level"])
        for d in result["detections"]:
            table.add_row(shown(f"{d['detection']} alerts/day {d['baseline_per_day']} -> {d['recent_per_day']}"),
                          str(d["psi"]), d["level"])
        console.print(table)
