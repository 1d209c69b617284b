"""Discord's per-channel rate limit on message edits (and optionally sends), for the fake REST API.

Discord does not publish its bucket sizes; we treat 5 requests per 5 s per channel as the limit,
the figure bots commonly observe for message edits. The limiter always counts (so a benchmark can
read edit timings with limiting off) and only answers 429 once a test turns it on.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

# PATCH /channels/{cid}/messages/{mid}; group 1 is the channel (the bucket's "major parameter").
EDIT_PATH = re.compile(r"/channels/(\d+)/messages/(\d+)")
SEND_PATH = re.compile(r"/channels/(\d+)/messages")


@dataclass(frozen=True)
class Verdict:
    """The limiter's answer for one request: the X-RateLimit-* headers, and whether it is refused."""

    limited: bool
    headers: dict[str, str]
    retry_after: float


@dataclass
class _Window:
    started: float
    count: int = 0


@dataclass
class EditRateLimit:
    """Per-channel fixed windows, like Discord's buckets: `limit` requests, then 429 until the window resets."""

    enabled: bool = False
    limit: int = 5
    per: float = 5.0
    include_sends: bool = False  # True: POST messages share the channel's bucket with edits
    # False: successes carry no X-RateLimit-* headers, so discord.py cannot pace itself and meets
    # the 429s (as a second process sharing the token would).
    advertise: bool = True
    # What happened, readable by tests and benchmarks (monotonic seconds).
    answered_429: int = 0
    edits: dict[int, list[float]] = field(default_factory=dict)  # channel id -> accepted edit times
    last_edit: dict[int, float] = field(default_factory=dict)  # message id -> last accepted edit time
    refused: dict[int, int] = field(default_factory=dict)  # channel id -> 429s answered there
    _windows: dict[int, _Window] = field(default_factory=dict)

    def reset_counters(self) -> None:
        self.answered_429 = 0
        self.edits.clear()
        self.last_edit.clear()
        self.refused.clear()
        self._windows.clear()

    def edit_count(self, channel_id: int) -> int:
        return len(self.edits.get(channel_id, []))

    def max_edits_in_window(self, channel_id: int, window: float | None = None) -> int:
        """The most accepted edits in the channel within any sliding `window` seconds (default: `per`).
        Discord's buckets are fixed windows, so a burst straddling a reset can reach twice the limit."""
        span = self.per if window is None else window
        times = self.edits.get(channel_id, [])
        best = 0
        start = 0
        for end, moment in enumerate(times):
            while moment - times[start] >= span:
                start += 1
            best = max(best, end - start + 1)
        return best

    def check(self, method: str, path: str) -> Verdict | None:
        """Count a request that falls in a limited bucket; None when it is not one of ours."""
        channel_id = self._bucket_channel(method, path)
        if channel_id is None or not self.enabled:
            return None
        now = time.monotonic()
        window = self._windows.get(channel_id)
        if window is None or now - window.started >= self.per:
            window = self._windows[channel_id] = _Window(now)
        reset_after = max(window.started + self.per - now, 0.0)
        if window.count >= self.limit:
            self.answered_429 += 1
            self.refused[channel_id] = self.refused.get(channel_id, 0) + 1
            return Verdict(True, self._headers(0, reset_after), reset_after)
        window.count += 1
        headers = self._headers(self.limit - window.count, reset_after) if self.advertise else {}
        return Verdict(False, headers, 0.0)

    def record_success(self, method: str, path: str) -> None:
        """An edit Discord carried out (2xx): counters for tests, whether limiting is on or off."""
        match = EDIT_PATH.fullmatch(path)
        if method != "PATCH" or match is None:
            return
        now = time.monotonic()
        self.edits.setdefault(int(match[1]), []).append(now)
        self.last_edit[int(match[2])] = now

    def _bucket_channel(self, method: str, path: str) -> int | None:
        if method == "PATCH" and (match := EDIT_PATH.fullmatch(path)) is not None:
            return int(match[1])
        if self.include_sends and method == "POST" and (match := SEND_PATH.fullmatch(path)) is not None:
            return int(match[1])
        return None

    def _headers(self, remaining: int, reset_after: float) -> dict[str, str]:
        # discord.py keys its buckets on X-RateLimit-Bucket plus the channel, and sleeps on
        # Remaining == 0 before the next request, as it does against Discord.
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": "fake-channel-messages",
        }


def too_many_requests_headers(verdict: Verdict) -> dict[str, str]:
    """The extra headers on a per-route 429: Discord scopes it to this bot ("user")."""
    return {
        **verdict.headers,
        "Via": "1.1 google",
        "Retry-After": str(math.ceil(verdict.retry_after)),
        "X-RateLimit-Scope": "user",
    }
