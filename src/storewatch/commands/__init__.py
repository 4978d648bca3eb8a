"""CLI commands of the later stages (respond, forensics, report, web), one module each.

Every module here defines `register(app)`, which adds its commands to the Typer app; `storewatch.cli`
discovers them, so a stage brings its commands without editing the central CLI file.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable, TypeVar

import typer

T = TypeVar("T")


def register_all(app: typer.Typer) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(app)


def or_exit(call: Callable[[], T], errors: tuple[type[Exception], ...], code: int = 2) -> T:
    """Run `call`; the errors a user can cause (a bad condition, an unknown id) end the command with their
    message and exit `code`, not a traceback."""
    from storewatch.cli import err
    from storewatch.terminal import shown

    try:
        return call()
    except errors as exc:
        err.print(f"[red]{shown(str(exc))}[/]")
        raise typer.Exit(code)
