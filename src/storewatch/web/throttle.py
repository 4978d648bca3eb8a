"""Token guessing, slowed to nothing: wrong tokens are counted per client address and in total, and past a
limit the address (or, for a guess spread over many addresses, token sign-in as a whole) is locked out
for a while. Sessions already signed in keep working, so a lockout never ends an analyst's work.

The clock is a parameter so that tests move time instead of waiting for it.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

MAX_FAILURES = 10  # wrong tokens from one address within WINDOW before it is locked out
GLOBAL_FAILURES = 100  # wrong tokens from all addresses within WINDOW before token sign-in is locked out
WINDOW = 300.0
LOCKOUT = 900.0
EVERYONE = "*"
_MAX_TRACKED = 10_000  # addresses remembered; beyond this the oldest are forgotten (the global limit still holds)


@dataclass
class Throttle:
    clock: Callable[[], float] = time.monotonic
    failures: dict[str, deque[float]] = field(default_factory=dict)
    locked: dict[str, float] = field(default_factory=dict)  # address (or EVERYONE) -> locked until

    def retry_after(self, client: str) -> float:
        """Seconds until `client` may present a token again; 0 when it may now."""
        now = self.clock()
        return max([until - now for key, until in self.locked.items() if key in (client, EVERYONE)] + [0.0])

    def fail(self, client: str) -> list[str]:
        """Count one wrong token from `client`; returns who it locked out (the address, EVERYONE, or none)."""
        now = self.clock()
        newly = []
        for key, limit in ((client, MAX_FAILURES), (EVERYONE, GLOBAL_FAILURES)):
            recent = self.failures.setdefault(key, deque(maxlen=limit))
            recent.append(now)
            if len(recent) == limit and now - recent[0] <= WINDOW and self.locked.get(key, 0.0) <= now:
                self.locked[key] = now + LOCKOUT
                recent.clear()
                newly.append(key)
        if len(self.failures) > _MAX_TRACKED:
            del self.failures[next(k for k in self.failures if k != EVERYONE)]  # the first seen
        self.locked = {k: until for k, until in self.locked.items() if until > now}
        return newly
