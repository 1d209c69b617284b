"""Helpers shared by the database tests and their worker script."""

from __future__ import annotations

from datetime import UTC, datetime

import aiosqlite


def at(text: str) -> float:
    """Unix seconds of an ISO time in UTC, e.g. at("2026-11-24T10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class Clock:
    """A clock the test moves by hand (pass the instance as `clock=`)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set(self, text: str) -> None:
        self.now = at(text)


async def insert_job(
    conn: aiosqlite.Connection,
    guild_id: int,
    member_id: int,
    cost: int,
    *,
    state: str = "pending",
    alias: str = "test",
    now: float = 0.0,
) -> int:
    """A minimal job row, the way the job pipeline writes it (inside the hold's transaction)."""
    cursor = await conn.execute(
        "INSERT INTO jobs (guild_id, channel_id, member_id, alias, state, cost, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (guild_id, 1, member_id, alias, state, cost, now, now),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid
