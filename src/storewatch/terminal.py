"""Text from logs, made safe to print on a terminal through Rich.

A log line can carry terminal control sequences (ESC [2J clears the screen, ESC ] 0; sets the window title,
some terminals answer queries into the input), bidirectional overrides that reorder what is shown, and
text Rich would read as its own markup (`[red]`). `visible` spells control characters out (`\\x1b`) and
`shown` also escapes markup; the CLI's consoles are made with `emoji=False`, so `:x:` stays `:x:`.
"""

from __future__ import annotations

import re

from rich.markup import escape

# C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _spelled(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """`value` as text with every control character spelled out, for Rich Text objects (no markup)."""
    return _CONTROL.sub(_spelled, str(value))


def shown(value: object) -> str:
    """`value` as text safe to embed in Rich markup: control characters spelled out, markup escaped."""
    return escape(visible(value))
