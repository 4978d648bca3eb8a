"""`storewatch watch PATH...`: follow files and folders, ingest and detect as they grow, until stopped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command()
    def watch(
        paths: list[Path] = typer.Argument(..., help="Files or folders to follow (folders recursively, new files too)."),
        home: Optional[Path] = HomeOption,
        tz: str = typer.Option("UTC", "--tz", help="Time zone of timestamps that carry none (syslog, naive ISO)."),
        window: str = typer.Option("24h", "--window", help="Detection window of event time, e.g. 6h, 2d."),
        interval: float = typer.Option(1.0, "--interval", help="Seconds between looks at the files when idle."),
        quiet: float = typer.Option(2.0, "--quiet", help="Seconds a file must stay unchanged before a file read "
                                    "whole (compressed, documents) or a last multi-line record is read."),
        rules: Optional[Path] = typer.Option(None, "--rules", help="An extra folder of rules."),
        log_json: bool = typer.Option(False, "--log-json", help="Structured log on stderr, one JSON object a line."),
        log_file: Optional[Path] = typer.Option(None, "--log-file", help="Append the structured log to this file."),
        once: bool = typer.Option(False, "--once", help="One look and one pass, then exit."),
        detect: bool = typer.Option(True, "--detect/--no-detect", help="Detect and correlate after each pass "
                                    "(--no-detect: store only, and run `storewatch detect` on a timer)."),
    ) -> None:
        """Follow logs as they are written (tail -F: new files, rotation, compression), storing and detecting
        continuously; <home>/inbox/ (what `receive` spools) is followed too. Resumes where it stopped;
        SIGINT/SIGTERM end it after the pass under way."""
        from storewatch.detect import incremental
        from storewatch.store.db import StoreBusy
        from storewatch.watch import hooks, logs
        from storewatch.watch.session import Options, Watch, install_signals
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        span = _duration(window)
        log = logs.Log(json_stream=log_json, path=log_file)
        status = logs.StatusLine() if not log_json else None
        runner = Watch(ws, paths, Options(interval=interval, window=span, tz=tz, quiet=quiet, rules=rules, once=once,
                               detect=detect),
                       log, status.update if status else None)
        install_signals(runner)
        incremental.after_pass.extend(h for h in hooks.HOOKS if h not in incremental.after_pass)
        try:
            with status or logs.nothing():
                runner.run()
        except StoreBusy as exc:
            log("watch_refused", reason=str(exc))
            raise typer.Exit(1) from None
        finally:
            log.close()


def _duration(text: str) -> timedelta:
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if text[:-1].isdigit() and text[-1:] in units and int(text[:-1]) > 0:
        return timedelta(**{units[text[-1]]: int(text[:-1])})
    raise typer.BadParameter(f"{text!r} is not a duration like 6h or 2d", param_hint="--window")
