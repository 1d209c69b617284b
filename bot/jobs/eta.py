"""How long an alias usually runs: the median of its recent successes, once there are enough."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

from bot.db.journal import Journal

RECENT = 20  # successes the median is taken over
MIN_SAMPLES = 3  # fewer than this and no estimate is shown
CACHE_SECONDS = 60.0  # a status refresh reads the table at most once a minute per alias


def median_run_time(seconds: Sequence[float]) -> float | None:
    return statistics.median(seconds) if len(seconds) >= MIN_SAMPLES else None


class RunTimes:
    def __init__(self, journal: Journal, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.journal = journal
        self.clock = clock
        self._cache: dict[str, tuple[float | None, float]] = {}

    async def median(self, alias: str) -> float | None:
        cached = self._cache.get(alias)
        if cached is not None and self.clock() - cached[1] < CACHE_SECONDS:
            return cached[0]
        value = median_run_time(await self.journal.recent_run_times(alias, RECENT))
        self._cache[alias] = (value, self.clock())
        return value

    def forget(self, alias: str) -> None:
        """A job of the alias just succeeded: read the table again next time."""
        self._cache.pop(alias, None)
