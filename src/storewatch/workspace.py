"""Where a workspace lives and the secrets it keeps.

A workspace is a folder (default `./.storewatch`, or `--home`, or STOREWATCH_HOME) holding the store and
the key that turns card numbers into tokens. Secrets come from the environment or from files with
owner-only permissions inside the workspace, never from the command line.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path(".storewatch")
KEY_ENV = "STOREWATCH_TOKEN_KEY"
HOME_ENV = "STOREWATCH_HOME"
# Hex digits re-spelled as letters: a stored key never forms a digit run that looks like a card number.
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


@dataclass(frozen=True)
class Workspace:
    home: Path

    @classmethod
    def at(cls, home: Path | str | None = None) -> "Workspace":
        chosen = Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()
        chosen.mkdir(parents=True, exist_ok=True)
        return cls(chosen)

    @property
    def db_path(self) -> Path:
        return self.home / "storewatch.duckdb"

    def token_key(self) -> bytes:
        """Key for the keyed hash that replaces card numbers; created on first use, kept private."""
        if env := os.environ.get(KEY_ENV):
            return env.encode()
        path = self.home / "token.key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32).translate(_LETTERS))
        return path.read_text().strip().encode()
