"""Moderator notices: one line of the catalog posted to the guild's modlog channel, pinging nobody.

Anything in bot/ may call `await modlog.notice(guild_id, "catalog.key", **params)`, or
`notice_all` for news about the whole bot (a RunningHub key leaving the pool); nothing happens
for a guild without a modlog channel, and a notice that cannot be posted is logged, never
raised: a notice must not break the job or command that triggered it. Parameters may be `Msg`s
(bot/texts): each guild reads them in its own language.
"""

from __future__ import annotations

import logging

from bot.db.guild_settings import GuildSettingsStore
from bot.jobs.notifier import DeliveryError, Notifier
from bot.texts import t

log = logging.getLogger(__name__)

MAX_NOTICE = 2000  # Discord's message limit
MAX_QUOTED = 1500  # characters of member text quoted in a notice


class ModLog:
    def __init__(self, store: GuildSettingsStore, poster: Notifier | None) -> None:
        self.store = store
        self.poster = poster  # the job pipeline's notifier: guild_locale and post_modlog

    async def locale(self, guild_id: int) -> str | None:
        """Notices follow /settings language; with `auto`, the guild's own locale."""
        settings = await self.store.get(guild_id)
        if settings.language != "auto":
            return settings.language
        return self.poster.guild_locale(guild_id) if self.poster is not None else None

    async def notice_all(self, key: str, /, **params: object) -> int:
        """Post catalog message `key` to every guild's modlog; how many were posted."""
        try:
            guilds = await self.store.modlog_guilds()
        except Exception:
            log.exception("moderator notice %s: the guilds with a modlog could not be read", key)
            return 0
        posted = 0
        for guild_id in guilds:
            posted += await self.notice(guild_id, key, **params)
        return posted

    async def notice(self, guild_id: int, key: str, /, **params: object) -> bool:
        """Post catalog message `key` to the guild's modlog; True when it was posted."""
        try:
            settings = await self.store.get(guild_id)
            if settings.modlog_channel_id is None or self.poster is None:
                return False
            text = t(key, await self.locale(guild_id), **params)
            if len(text) > MAX_NOTICE:
                text = text[: MAX_NOTICE - 1].rstrip() + "…"  # callers clip what they quote; a safety net
            await self.poster.post_modlog(guild_id, settings.modlog_channel_id, text)
        except DeliveryError as exc:
            log.warning("guild %s: moderator notice %s not posted: %s", guild_id, key, exc)
            return False
        except Exception:
            log.exception("guild %s: moderator notice %s failed", guild_id, key)
            return False
        return True
