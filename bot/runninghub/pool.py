"""A pool of RunningHub keys (accounts), each with its own client and its own number of slots.

A task belongs to the key that created it: its files were uploaded with that key (RunningHub file
names are per account), and it is polled and cancelled with that key. The journal records the key
by fingerprint, never the key itself. A key RunningHub refuses (802 invalid, 801 not a member) is
taken out of the pool until the next start; jobs not yet submitted go to the other keys.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import RunningHubError

log = logging.getLogger(__name__)

# RunningHub's answers that mean "this key cannot be used at all".
KEY_REFUSED_CODES = frozenset({801, 802})


def key_fingerprint(api_key: str) -> str:
    """What the journal stores for a key: stable across restarts and reorderings, not reversible."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


def key_tail(api_key: str) -> str:
    """The only part of a key ever shown: its last 4 characters."""
    return "…" + api_key[-4:]


def refuses_key(exc: BaseException) -> bool:
    """True when RunningHub's answer says the key itself is unusable (not a passing fault)."""
    return isinstance(exc, RunningHubError) and exc.code in KEY_REFUSED_CODES


@dataclass(eq=False)
class PoolKey:
    index: int  # place in RUNNINGHUB_API_KEY, from 0
    key_id: str  # key_fingerprint(key)
    tail: str  # key_tail(key)
    concurrency: int
    client: RunningHubClient = field(repr=False)
    removed: RunningHubError | None = None  # RunningHub's refusal that took it out; None while in the pool
    blocked_until: float = 0.0  # after a capacity refusal (421/415), no submits on it until then
    refusals: int = 0  # capacity refusals in a row, for the backoff

    @property
    def active(self) -> bool:
        return self.removed is None


class KeyPool:
    def __init__(self, keys: Sequence[PoolKey]) -> None:
        if not keys:
            raise ValueError("a key pool needs at least one key")
        self.keys = list(keys)
        self._by_id = {k.key_id: k for k in self.keys}

    @classmethod
    def build(
        cls, pairs: Sequence[tuple[str, int]], make_client: Callable[[str], RunningHubClient]
    ) -> KeyPool:
        """One PoolKey per (api_key, concurrency), each with the client `make_client(api_key)` gives."""
        return cls([
            PoolKey(index=i, key_id=key_fingerprint(key), tail=key_tail(key), concurrency=limit,
                    client=make_client(key))
            for i, (key, limit) in enumerate(pairs)
        ])

    @classmethod
    def single(cls, client: RunningHubClient, concurrency: int, api_key: str) -> KeyPool:
        return cls.build([(api_key, concurrency)], lambda _key: client)

    @property
    def first(self) -> PoolKey:
        return self.keys[0]

    @property
    def active(self) -> list[PoolKey]:
        return [k for k in self.keys if k.active]

    @property
    def concurrency(self) -> int:
        """Slots over the keys still in the pool."""
        return sum(k.concurrency for k in self.active)

    def get(self, key_id: str | None) -> PoolKey | None:
        """The key a job's task belongs to. Jobs from before the pool (no key recorded) used the
        first key; a key no longer configured gives None."""
        if key_id is None:
            return self.first
        return self._by_id.get(key_id)

    def client_for(self, key_id: str | None) -> RunningHubClient | None:
        key = self.get(key_id)
        return key.client if key is not None else None

    def remove(self, key: PoolKey, refusal: RunningHubError) -> bool:
        """Take a refused key out of the pool; True the first time (so moderators are told once)."""
        if key.removed is not None:
            return False
        key.removed = refusal
        log.error("RunningHub key %s refused (%s): taken out of the pool", key.tail, refusal)
        return True
