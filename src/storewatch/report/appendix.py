"""Long values (hashes, paths, URLs, command lines) shortened in the report, in full in its appendix.

A 64-character hash in a table cell either widens its column off the page or is broken at any letter;
shortened to its head and tail with a numbered reference, the table keeps its shape and the value is one
look away. One value gets one number however often it appears. Without an appendix (the dashboard, where
a page scrolls) the filters leave values as they are.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from markupsafe import Markup, escape

WIDTH = 36  # longest value or word shown whole
_TOKEN = re.compile(r"\S+")
_WRAPPING = re.compile(r"([\"'“‘(\[]*)(.*?)([\"'”’)\].,;:]*)")


class Appendix:
    """The full values the report shortened, numbered in order of first appearance."""

    def __init__(self, width: int = WIDTH) -> None:
        self.width = width
        self.entries: dict[str, int] = {}

    def _clipped(self, value: str) -> Markup:
        number = self.entries.setdefault(value, len(self.entries) + 1)
        keep = self.width - 1
        head, tail = value[: keep * 2 // 3], value[-(keep // 3):]
        return Markup('<span class="clipped">{}…{}</span><sup><a href="#full-{}">{}</a></sup>').format(
            head, tail, number, number)

    def value(self, value: Any) -> Markup:
        """One value, shortened when longer than `width`."""
        text = "" if value is None else str(value)
        return self._clipped(text) if len(text) > self.width else escape(text)

    def text(self, value: Any) -> Markup:
        """A sentence whose overlong words (a path, a URL, a hash inside it) are shortened one by one."""
        text = "" if value is None else str(value)
        out, last = [], 0
        for word in _TOKEN.finditer(text):
            core = _WRAPPING.fullmatch(word.group())  # quotes and punctuation around a path stay in the sentence
            if core and len(core.group(2)) > self.width:
                start, end = word.start() + len(core.group(1)), word.end() - len(core.group(3))
                out += [escape(text[last:start]), self._clipped(text[start:end])]
                last = end
        return Markup("").join([*out, escape(text[last:])])

    def listed(self) -> list[tuple[int, str]]:
        return [(n, v) for v, n in self.entries.items()]


def clip(value: Any, appendix: Optional[Appendix]) -> Any:
    """Jinja filter: `{{ value | clip(appendix) }}`; unchanged without an appendix."""
    return value if appendix is None else appendix.value(value)


def clip_words(value: Any, appendix: Optional[Appendix]) -> Any:
    """Jinja filter: `{{ sentence | clip_words(appendix) }}`; unchanged without an appendix."""
    return value if appendix is None else appendix.text(value)
