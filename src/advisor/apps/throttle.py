"""Failed logins slow down, then lock out, per client address and per user name (pure, clock given).

Gradio's login answers every guess at once (200 wrong passwords took 3 s). Here the first `FREE` failures
of a key (a client address, a user name) cost nothing; each further one makes the next attempt wait
twice as long (1 s, 2 s, 4 s, ...); `LOCK_AFTER` failures within `WINDOW` seconds lock the key out for
`LOCK_SECONDS`. A success clears the client's and the user's record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FREE = 3
LOCK_AFTER = 10
WINDOW = 900.0
LOCK_SECONDS = 900.0
MAX_KEYS = 10_000  # remembered keys; the stalest are forgotten first


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    """Counts failed logins per key and says how long a key must wait before its next attempt."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], _Record] = {}

    def wait(self, client: str, user: str, now: float) -> float:
        """Seconds before this client may try to log in as this user (0: now)."""
        return max(self._wait(("client", client), now), self._wait(("user", user), now) if user else 0.0)

    def _wait(self, key: tuple[str, str], now: float) -> float:
        record = self._records.get(key)
        if record is None:
            return 0.0
        if record.locked_until > now:
            return record.locked_until - now
        recent = [t for t in record.failures if now - t < WINDOW]
        if len(recent) < FREE:
            return 0.0
        return max(0.0, recent[-1] + 2.0 ** (len(recent) - FREE) - now)

    def failed(self, client: str, user: str, now: float) -> list[str]:
        """Record a failed login; the keys ("client 1.2.3.4", "user ann") this locked out."""
        locked = []
        for key in (("client", client), ("user", user)) if user else (("client", client),):
            record = self._records.pop(key, None) or _Record()
            self._records[key] = record  # most recently used last
            record.failures = [t for t in record.failures if now - t < WINDOW] + [now]
            if len(record.failures) >= LOCK_AFTER and record.locked_until <= now:
                record.locked_until = now + LOCK_SECONDS
                record.failures = []
                locked.append(" ".join(key))
        while len(self._records) > MAX_KEYS:
            self._records.pop(next(iter(self._records)))
        return locked

    def succeeded(self, client: str, user: str) -> None:
        """A login succeeded: the client and the user start afresh."""
        self._records.pop(("client", client), None)
        self._records.pop(("user", user), None)
