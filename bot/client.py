"""The Bot subclass: builds the services (bot/app.py) in setup_hook, loads the cogs, syncs commands deliberately."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import discord
from discord.ext import commands

from bot.app import Resources, Services, build_services
from bot.ui.discord_notifier import DiscordNotifier
from bot.ui.i18n import CatalogTranslator
from bot.ui.tree import RHTree

log = logging.getLogger(__name__)

# Loaded in this order; an explicit list keeps start-up predictable.
DEFAULT_EXTENSIONS: tuple[str, ...] = (
    "cogs.workflows",
    "cogs.workflow_admin",
    "cogs.jobs",
    "cogs.results",
    "cogs.coins",
    "cogs.admin",
    "cogs.governance",
)

# meta key holding the hash of the last global command set sent to Discord.
COMMANDS_HASH_KEY = "global_commands_hash"


class RHBot(commands.Bot):
    """The bot. The cogs take what they need from `services`; nothing is a module global."""

    services: Services  # built in setup_hook, before any cog loads

    def __init__(
        self,
        resources: Resources,
        *,
        extensions: Sequence[str] = DEFAULT_EXTENSIONS,
        service_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        # No voice features here: skip discord.py's warnings that voice libraries are missing
        # (it clears the same flags itself after warning once).
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        # Slash commands and components carry everything we need: no privileged intents.
        kwargs.setdefault("intents", discord.Intents.default())
        # Nothing the bot sends pings anyone unless a call opts in (the requester's mention).
        kwargs.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(command_prefix=commands.when_mentioned, tree_cls=RHTree, help_command=None, **kwargs)
        self.resources = resources
        self.settings = resources.settings
        self.extension_names: tuple[str, ...] = tuple(extensions)
        self._service_options = dict(service_options or {})
        self._services_started = False

    async def setup_hook(self) -> None:
        # Runs once, after login and before the gateway connects (never in on_ready, which repeats).
        await self.tree.set_translator(CatalogTranslator())
        notifier = DiscordNotifier(self, self.resources.workflows)
        self.services = build_services(self.resources, notifier, **self._service_options)
        # Settle what a previous run left behind now, before any interaction can start a job; the
        # loops start once the gateway is ready (the jobs cog), as deliveries need the guild cache.
        await self.services.start()
        self._services_started = True
        for name in self.extension_names:
            try:
                await self.load_extension(name)
            except Exception:
                log.exception("could not load the extension %s", name)
                raise
        await self.sync_commands()

    async def command_payloads(self) -> list[dict[str, Any]]:
        """The global command set exactly as a sync would send it, localizations included."""
        translator = self.tree.translator
        payloads = []
        for command in sorted(self.tree.get_commands(), key=lambda c: (type(c).__name__, c.name)):
            if translator is not None:
                payloads.append(await command.get_translated_payload(self.tree, translator))
            else:
                payloads.append(command.to_dict(self.tree))
        return payloads

    async def commands_hash(self) -> str:
        payloads = await self.command_payloads()
        blob = json.dumps(payloads, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    async def sync_commands(self) -> None:
        """Guilds from DISCORD_GUILD_ID get the commands at once; otherwise sync globally on change.

        Guild commands update instantly, so they are synced on every start. Global syncs count
        against a daily creation limit and propagate slowly, so they happen only when the command
        payloads (including localizations) differ from the last ones sent.
        """
        if self.settings.guild_ids:
            for guild_id in self.settings.guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                try:
                    synced = await self.tree.sync(guild=guild)
                except discord.Forbidden:
                    # The bot still works in the other guilds; say what to fix.
                    log.error(
                        "Discord refused the commands for guild %s (DISCORD_GUILD_ID): is the bot in that "
                        "server, invited with the applications.commands scope?",
                        guild_id,
                    )
                    continue
                log.info("synced %d commands to guild %s", len(synced), guild_id)
            return
        digest = await self.commands_hash()
        if await self.resources.db.get_meta(COMMANDS_HASH_KEY) == digest:
            log.info("global commands unchanged; not syncing")
            return
        synced = await self.tree.sync()
        await self.resources.db.set_meta(COMMANDS_HASH_KEY, digest)
        log.info("synced %d global commands (Discord may take a while to show changes)", len(synced))

    async def on_ready(self) -> None:
        # May fire again after a reconnect: only log here, never set things up.
        user = self.user
        log.info("connected as %s (id %s) in %d guild(s)", user, user.id if user else "?", len(self.guilds))

    async def close(self) -> None:
        # Unloads the cogs first (their cog_unload stops what they started), then the services.
        await super().close()
        if self._services_started:
            self._services_started = False
            await self.services.stop()
