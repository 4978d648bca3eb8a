"""CLI commands of the later stages (respond, forensics, report, web), one module each.

Every module here defines `register(app)`, which adds its commands to the Typer app; `storewatch.cli`
discovers them, so a stage brings its commands without editing the central CLI file.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def register_all(app: typer.Typer) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(app)
