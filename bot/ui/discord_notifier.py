"""The job pipeline's Notifier, done with discord.py: posts with the bot token via channel.send.

Interaction tokens die after 15 minutes and jobs often take longer, so every status and result
message goes to the job's channel with the bot's own token. Only the requester is ever mentioned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aiohttp
import discord
from discord.ext import commands

from bot.db.journal import Job
from bot.errors import UserError
from bot.jobs.delivery import delivery_nonce
from bot.jobs.notifier import DeliveryError, OutgoingFile
from bot.ui.job_buttons import result_view, status_view
from bot.workflows import Workflow, WorkflowRegistry

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
STATUS_RETRY_DELAY = 1.0  # seconds before a status post that failed on the way is sent once more


class DiscordNotifier:
    def __init__(self, bot: commands.Bot, workflows: WorkflowRegistry) -> None:
        self.bot = bot
        self.workflows = workflows  # the buttons under a result depend on its alias as it is now

    def guild_locale(self, guild_id: int) -> str | None:
        guild = self.bot.get_guild(guild_id)
        return str(guild.preferred_locale) if guild is not None else None

    async def post_modlog(self, guild_id: int, channel_id: int, text: str) -> None:
        """A moderator notice (bot/governance/modlog.py): it quotes members' text, so it pings nobody."""
        channel = self.bot.get_channel(channel_id)
        try:
            if channel is None:
                channel = await self.bot.fetch_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable) or getattr(channel, "guild", None) is None:
                raise DeliveryError(f"channel {channel_id} cannot hold messages", transient=False)
            if channel.guild.id != guild_id:  # type: ignore[union-attr]
                raise DeliveryError(f"channel {channel_id} is not in guild {guild_id}", transient=False)
            await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            raise _delivery_error(exc) from exc

    def upload_limit(self, guild_id: int) -> int:
        guild = self.bot.get_guild(guild_id)
        return guild.filesize_limit if guild is not None else DEFAULT_UPLOAD_LIMIT

    async def _channel(self, job: Job) -> discord.abc.Messageable:
        channel = self.bot.get_channel(job.channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(job.channel_id)
            except discord.HTTPException as exc:
                raise _delivery_error(exc) from exc
        if not isinstance(channel, discord.abc.Messageable):
            raise DeliveryError(f"channel {job.channel_id} cannot hold messages", transient=False)
        return channel

    @staticmethod
    def _only_requester(job: Job) -> discord.AllowedMentions:
        return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(job.member_id)],
                                       replied_user=False)

    async def post_status(self, job: Job, text: str) -> int | None:
        channel = await self._channel(job)
        # Sent twice at most, under one nonce: if Discord stored the first try and only its answer
        # was lost (a 503, a timeout), the second gets that message back instead of a duplicate,
        # and the job keeps a status message it can edit.
        nonce = delivery_nonce(job) + "s"
        for attempt in (1, 2):
            try:
                message = await channel.send(text, allowed_mentions=discord.AllowedMentions.none(), nonce=nonce,
                                             view=status_view(job))
            except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                error = _delivery_error(exc)
                if attempt == 2 or not error.transient:
                    raise error from exc
                log.info("job %s: status post failed (%s); trying once more", job.id, error)
                await asyncio.sleep(STATUS_RETRY_DELAY)
            else:
                return message.id
        raise AssertionError("unreachable")  # the loop returns or raises

    async def edit_status(self, job: Job, text: str, *, cancellable: bool | None = None) -> bool:
        if job.status_message_id is None:
            return False
        kwargs: dict[str, object] = {}
        if cancellable is not None:
            kwargs["view"] = status_view(job) if cancellable else None
        channel = await self._channel(job)
        if not hasattr(channel, "get_partial_message"):
            return False
        partial = channel.get_partial_message(job.status_message_id)  # type: ignore[attr-defined]
        try:
            await partial.edit(content=text, allowed_mentions=discord.AllowedMentions.none(), **kwargs)
        except discord.NotFound:
            return False
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            raise _delivery_error(exc) from exc
        return True

    async def post_result(
        self, job: Job, text: str, files: Sequence[OutgoingFile], *, first: bool, nonce: str | None = None
    ) -> int:
        channel = await self._channel(job)
        # A fresh discord.File per attempt: discord.py closes files it sent.
        attachments = [discord.File(f.path, filename=f.filename) for f in files]
        kwargs: dict[str, object] = {"allowed_mentions": self._only_requester(job)}
        if first:
            try:
                workflow: Workflow | None = self.workflows.for_guild(job.guild_id).get(job.alias)
            except UserError:  # removed (from workflows.toml or by /workflow remove) since the job started
                workflow = None
            kwargs["view"] = result_view(job, workflow)
        if nonce:
            kwargs["nonce"] = nonce
        try:
            message = await channel.send(text, files=attachments, **kwargs)  # type: ignore[arg-type]
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            raise _delivery_error(exc) from exc
        finally:
            for attachment in attachments:
                attachment.close()
        return message.id

    async def message_exists(self, job: Job, message_id: int) -> bool:
        channel = await self._channel(job)
        if not hasattr(channel, "fetch_message"):
            return False
        try:
            await channel.fetch_message(message_id)
        except discord.NotFound:
            return False
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            raise _delivery_error(exc) from exc
        return True

    async def post_notice(self, job: Job, text: str) -> int | None:
        channel = await self._channel(job)
        try:
            # The service tries a failed notice again later; the job's nonce keeps Discord from
            # posting it twice when the first try arrived and only the answer was lost.
            message = await channel.send(
                text, allowed_mentions=self._only_requester(job), nonce=delivery_nonce(job) + "n"
            )
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            raise _delivery_error(exc) from exc
        return message.id


def _delivery_error(exc: BaseException) -> DeliveryError:
    if isinstance(exc, discord.HTTPException):
        transient = exc.status == 429 or exc.status >= 500
        return DeliveryError(f"Discord answered {exc.status} ({exc.code}): {exc.text[:200]}", transient=transient)
    return DeliveryError(f"{type(exc).__name__}: {exc}", transient=True)
