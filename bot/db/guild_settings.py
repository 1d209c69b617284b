"""Per-guild governance in SQLite: settings, allowed channels, blocklist, blocked members, audit.

Every change is validated first (a bad value raises UserError and writes nothing), then written
together with its audit row (actor, time, what) in one transaction. Settings are read on every
job start, so each guild's are cached here and the cache is dropped by every write (this process
is the only writer).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.db.database import Database
from bot.errors import UserError
from bot.governance.blocklist import MAX_ENTRIES, MAX_ENTRY, normalise, squash
from bot.texts.format import channel_mention, mention

log = logging.getLogger(__name__)

LANGUAGES = ("auto", "en", "zh-CN", "zh-TW")
MAX_COOLDOWN = 86_400  # a day; longer is a block, and /block says so better
MAX_REASON = 500
MAX_ALLOWED_CHANNELS = 50


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    allowed_channels: frozenset[int] = frozenset()
    modlog_channel_id: int | None = None
    cooldown_seconds: int = 0
    language: str = "auto"
    blocklist: tuple[str, ...] = ()  # normalised entries, alphabetical


@dataclass(frozen=True)
class BlockedMember:
    guild_id: int
    member_id: int
    reason: str | None
    blocked_at: float
    blocked_by: int | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    guild_id: int
    actor_id: int | None
    action: str
    detail: dict[str, Any]
    created_at: float


async def audit_in(
    conn: aiosqlite.Connection, guild_id: int, actor_id: int | None, action: str, detail: dict[str, Any], now: float
) -> None:
    """The audit row of a change, inside the change's own transaction."""
    await conn.execute(
        "INSERT INTO governance_audit (guild_id, actor_id, action, detail, created_at) VALUES (?, ?, ?, ?, ?)",
        (guild_id, actor_id, action, json.dumps(detail, ensure_ascii=False, sort_keys=True), now),
    )


def check_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise UserError("gov.bad.reason_too_long", maximum=MAX_REASON)
    return reason or None


class GuildSettingsStore:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._cache: dict[int, GuildSettings] = {}

    # ---- reading ------------------------------------------------------------------------------

    async def get(self, guild_id: int) -> GuildSettings:
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        row = await self.db.fetchone(
            "SELECT modlog_channel_id, cooldown_seconds, language FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        channels = await self.db.fetchall("SELECT channel_id FROM allowed_channels WHERE guild_id = ?", (guild_id,))
        entries = await self.db.fetchall(
            "SELECT entry FROM blocklist WHERE guild_id = ? ORDER BY entry", (guild_id,)
        )
        found = GuildSettings(
            guild_id=guild_id,
            allowed_channels=frozenset(int(r[0]) for r in channels),
            modlog_channel_id=None if row is None or row[0] is None else int(row[0]),
            cooldown_seconds=0 if row is None else int(row[1]),
            language="auto" if row is None else str(row[2]),
            blocklist=tuple(str(r[0]) for r in entries),
        )
        self._cache[guild_id] = found
        return found

    async def public_locale(self, guild_id: int, requester_locale: str | None) -> str | None:
        """The language of a public message of a job (status, results, notices) in this guild.

        Pass the job's `locale` (its requester's): `await store.public_locale(job.guild_id, job.locale)`.
        """
        return public_language(await self.get(guild_id), requester_locale)

    async def modlog_guilds(self) -> list[int]:
        """Every guild with a modlog channel set (for notices about the whole bot, not one guild)."""
        rows = await self.db.fetchall(
            "SELECT guild_id FROM guild_settings WHERE modlog_channel_id IS NOT NULL ORDER BY guild_id"
        )
        return [int(r[0]) for r in rows]

    async def blocked(self, guild_id: int, member_id: int) -> BlockedMember | None:
        row = await self.db.fetchone(
            "SELECT reason, blocked_at, blocked_by FROM blocked_members WHERE guild_id = ? AND member_id = ?",
            (guild_id, member_id),
        )
        if row is None:
            return None
        return BlockedMember(guild_id, member_id, row[0], float(row[1]), row[2])

    async def blocked_members(self, guild_id: int) -> list[BlockedMember]:
        rows = await self.db.fetchall(
            "SELECT member_id, reason, blocked_at, blocked_by FROM blocked_members WHERE guild_id = ?"
            " ORDER BY blocked_at",
            (guild_id,),
        )
        return [BlockedMember(guild_id, int(r[0]), r[1], float(r[2]), r[3]) for r in rows]

    async def last_start(self, guild_id: int, member_id: int) -> float | None:
        """When the member's latest job was created: its coins were held in the same transaction."""
        row = await self.db.fetchone(
            "SELECT created_at FROM jobs WHERE guild_id = ? AND member_id = ? ORDER BY id DESC LIMIT 1",
            (guild_id, member_id),
        )
        return None if row is None else float(row[0])

    async def audit(self, guild_id: int, *, limit: int = 50) -> list[AuditEntry]:
        """The guild's changes, newest first."""
        rows = await self.db.fetchall(
            "SELECT id, guild_id, actor_id, action, detail, created_at FROM governance_audit"
            " WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, max(0, limit)),
        )
        return [AuditEntry(int(r[0]), int(r[1]), r[2], str(r[3]), json.loads(r[4]), float(r[5])) for r in rows]

    # ---- settings -----------------------------------------------------------------------------

    async def _set_column(self, guild_id: int, column: str, value: object, actor_id: int) -> GuildSettings:
        # `column` is one of ours, never member input.
        now = self.clock()
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO guild_settings (guild_id, {column}, updated_at, updated_by) VALUES (?, ?, ?, ?)"
                f" ON CONFLICT(guild_id) DO UPDATE SET {column} = excluded.{column},"
                " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                (guild_id, value, now, actor_id),
            )
            await audit_in(conn, guild_id, actor_id, column, {"value": value}, now)
        return await self._changed(guild_id)

    async def set_modlog(self, guild_id: int, channel_id: int | None, actor_id: int) -> GuildSettings:
        return await self._set_column(guild_id, "modlog_channel_id", channel_id, actor_id)

    async def set_cooldown(self, guild_id: int, seconds: int, actor_id: int) -> GuildSettings:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_COOLDOWN:
            raise UserError("gov.bad.cooldown", maximum=MAX_COOLDOWN)
        return await self._set_column(guild_id, "cooldown_seconds", seconds, actor_id)

    async def set_language(self, guild_id: int, language: str, actor_id: int) -> GuildSettings:
        if language not in LANGUAGES:
            raise UserError("gov.bad.language", languages=", ".join(LANGUAGES))
        return await self._set_column(guild_id, "language", language, actor_id)

    # ---- allowed channels ---------------------------------------------------------------------

    async def add_channel(self, guild_id: int, channel_id: int, actor_id: int) -> GuildSettings:
        current = await self.get(guild_id)
        if channel_id in current.allowed_channels:
            raise UserError("gov.channels.already", channel=channel_mention(channel_id))
        if len(current.allowed_channels) >= MAX_ALLOWED_CHANNELS:
            raise UserError("gov.channels.too_many", maximum=MAX_ALLOWED_CHANNELS)
        now = self.clock()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO allowed_channels (guild_id, channel_id, added_at, added_by) VALUES (?, ?, ?, ?)",
                (guild_id, channel_id, now, actor_id),
            )
            await audit_in(conn, guild_id, actor_id, "channels.add", {"channel_id": channel_id}, now)
        return await self._changed(guild_id)

    async def remove_channel(self, guild_id: int, channel_id: int, actor_id: int) -> GuildSettings:
        now = self.clock()
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM allowed_channels WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
            )
            if cur.rowcount == 0:
                raise UserError("gov.channels.not_listed", channel=channel_mention(channel_id))
            await audit_in(conn, guild_id, actor_id, "channels.remove", {"channel_id": channel_id}, now)
        return await self._changed(guild_id)

    async def clear_channels(self, guild_id: int, actor_id: int) -> GuildSettings:
        now = self.clock()
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM allowed_channels WHERE guild_id = ?", (guild_id,))
            if cur.rowcount == 0:
                raise UserError("gov.channels.already_everywhere")
            await audit_in(conn, guild_id, actor_id, "channels.clear", {"removed": cur.rowcount}, now)
        return await self._changed(guild_id)

    # ---- blocklist ----------------------------------------------------------------------------

    async def add_entry(self, guild_id: int, text: str, actor_id: int) -> str:
        """Add `text` normalised; returns the stored form."""
        entry = normalise(text)
        if not squash(entry):
            raise UserError("gov.bad.entry_empty")
        if len(entry) > MAX_ENTRY:
            raise UserError("gov.bad.entry_too_long", maximum=MAX_ENTRY)
        current = await self.get(guild_id)
        key = squash(entry)
        if any(squash(e) == key for e in current.blocklist):
            raise UserError("gov.blocklist.already")
        if len(current.blocklist) >= MAX_ENTRIES:
            raise UserError("gov.blocklist.full", maximum=MAX_ENTRIES)
        now = self.clock()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO blocklist (guild_id, entry, added_at, added_by) VALUES (?, ?, ?, ?)",
                (guild_id, entry, now, actor_id),
            )
            await audit_in(conn, guild_id, actor_id, "blocklist.add", {"entry": entry}, now)
        await self._changed(guild_id)
        return entry

    async def remove_entry(self, guild_id: int, text: str, actor_id: int) -> str:
        """Remove the entry that `text` normalises to (either way of writing it); returns it."""
        key = squash(text)
        if not key:
            raise UserError("gov.bad.entry_empty")
        current = await self.get(guild_id)
        stored = next((e for e in current.blocklist if squash(e) == key), None)
        if stored is None:
            raise UserError("gov.blocklist.not_listed")
        now = self.clock()
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM blocklist WHERE guild_id = ? AND entry = ?", (guild_id, stored))
            await audit_in(conn, guild_id, actor_id, "blocklist.remove", {"entry": stored}, now)
        await self._changed(guild_id)
        return stored

    # ---- blocked members ----------------------------------------------------------------------

    async def block(self, guild_id: int, member_id: int, reason: str | None, actor_id: int) -> BlockedMember:
        """Block the member (again: the new reason replaces the old)."""
        reason = check_reason(reason)
        now = self.clock()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO blocked_members (guild_id, member_id, reason, blocked_at, blocked_by)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(guild_id, member_id) DO UPDATE SET"
                " reason = excluded.reason, blocked_at = excluded.blocked_at, blocked_by = excluded.blocked_by",
                (guild_id, member_id, reason, now, actor_id),
            )
            await audit_in(conn, guild_id, actor_id, "block", {"member_id": member_id, "reason": reason}, now)
        return BlockedMember(guild_id, member_id, reason, now, actor_id)

    async def unblock(self, guild_id: int, member_id: int, actor_id: int) -> None:
        now = self.clock()
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM blocked_members WHERE guild_id = ? AND member_id = ?", (guild_id, member_id)
            )
            if cur.rowcount == 0:
                raise UserError("gov.unblock.not_blocked", member=mention(member_id))
            await audit_in(conn, guild_id, actor_id, "unblock", {"member_id": member_id}, now)

    async def _changed(self, guild_id: int) -> GuildSettings:
        self._cache.pop(guild_id, None)
        return await self.get(guild_id)


def public_language(settings: GuildSettings, requester_locale: str | None) -> str | None:
    """The language of a public message (status, result, notice): /settings language, or with
    `auto` the requester's own locale."""
    return requester_locale if settings.language == "auto" else settings.language
