"""The snapshot ladder: at which ages a tracked video is fetched again.

    ladder = Ladder.parse(["1h", "6h", "24h", "7d"])
    ladder.due(published_at, observed, now)     # has it passed a rung that it has no snapshot in?

Rung ``i`` covers the ages ``[rung_i, rung_i+1)``; the last covers ``[rung_n, ∞)``. A video is due when its
age has reached a rung and none of its snapshots falls in that rung's span; rungs it slept through are
not chased (the past cannot be fetched). It is done once it has a snapshot in the last rung. A video whose
publish time is not known yet (found in a listing that does not say) is due at once: its first fetch tells.
The default rungs bracket the 168 h label (6 d, 7 d, 8 d) and the early moments (1 h, 6 h, 24 h); the 30 m
rung gives the 1 h moment a snapshot at least half its age (``miles.heads.features.FRESH``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from miles.errors import MilesError

DEFAULT_AGES = ("30m", "1h", "3h", "6h", "12h", "24h", "48h", "72h", "6d", "7d", "8d", "14d", "30d")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_span(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"6h"``, ``"7d"``, ``"2w"`` → a positive timedelta; ValueError says what is wrong."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", str(text).lower())
    if not m or float(m.group(1)) <= 0:
        raise MilesError(f"expected a positive span such as 15m, 6h or 7d, got {str(text)[:40]!r}")
    return timedelta(seconds=float(m.group(1)) * UNITS[m.group(2)])


@dataclass(frozen=True)
class Ladder:
    rungs: tuple[timedelta, ...]

    def __post_init__(self):
        if not self.rungs:
            raise MilesError("a ladder needs at least one age")
        if any(b <= a for a, b in zip(self.rungs, self.rungs[1:])):
            raise MilesError("the ladder's ages must increase: " + " ".join(_show(r) for r in self.rungs))

    @classmethod
    def parse(cls, ages: Iterable[str] = DEFAULT_AGES) -> Ladder:
        return cls(tuple(parse_span(a) for a in ages))

    def rung(self, age: timedelta) -> int | None:
        """The index of the rung whose span holds ``age``; None before the first."""
        i = bisect_right(self.rungs, age) - 1
        return None if i < 0 else i

    def done(self, published_at: datetime | None, observed: Sequence[datetime]) -> bool:
        return published_at is not None and any(o - published_at >= self.rungs[-1] for o in observed)

    def due(self, published_at: datetime | None, observed: Sequence[datetime], now: datetime) -> bool:
        if published_at is None:
            return True
        if self.done(published_at, observed):
            return False
        i = self.rung(now - published_at)
        if i is None:
            return False
        return not any(self.rung(o - published_at) == i for o in observed)

    def next_due(self, published_at: datetime | None, observed: Sequence[datetime], now: datetime) -> datetime | None:
        """When the video is next due (``now`` if it is due); None once it is done."""
        if published_at is None or self.due(published_at, observed, now):
            return now
        if self.done(published_at, observed):
            return None
        i = self.rung(now - published_at)
        nxt = 0 if i is None else i + 1
        return published_at + self.rungs[nxt] if nxt < len(self.rungs) else None

    def __str__(self) -> str:
        return " ".join(_show(r) for r in self.rungs)


def _show(span: timedelta) -> str:
    s = span.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{int(s // size)}{unit}"
    return f"{s:g}s"
