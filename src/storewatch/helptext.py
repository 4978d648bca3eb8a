"""The root of the command line's help: `--version`, and flags shown without a value type.

Typer (0.29) prints every option's type in the Rich help panel, flags too: `--json <bool>` reads as if
the flag took a value. A flag takes none, so the root group blanks the type of every flag of every command
and subgroup once, when the app is built: one place, whatever module declared the option.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as package_version

import typer
from typer.core import TyperGroup, TyperOption


def _blank_flag_types(command) -> None:
    """`command`'s flags and its subcommands', recursively (Typer's own click, not the `click` package)."""
    for param in command.params:
        if isinstance(param, TyperOption) and param.is_flag and not param.count:
            param.metavar = ""  # the help shows the metavar instead of the type; a flag has no value to name
    made = command.get_help_option  # --help is made when asked for, not a parameter of the command yet

    def help_option(ctx):
        option = made(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _blank_flag_types(sub)


class RootGroup(TyperGroup):
    """The `storewatch` group: as Typer's, with flags' types left out of every command's help."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _blank_flag_types(self)


def installed_version() -> str:
    """The version of the installed package, from its metadata (one source: pyproject.toml's version)."""
    try:
        return package_version("storewatch")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def show_version(value: bool) -> None:
    if value:
        typer.echo(f"storewatch {installed_version()}")
        raise typer.Exit()


class DefaultCommandGroup(TyperGroup):
    """A group whose bare use runs one of its commands: `search QUERY` is `search query QUERY`, and
    `quarantine --json` is `quarantine show --json`, while `search save ...` still reaches `save`.
    Subclasses name the command in `default`."""

    default = ""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default, *args]
        return super().parse_args(ctx, args)
