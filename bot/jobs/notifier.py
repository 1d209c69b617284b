"""The small interface through which the job pipeline talks to Discord (or to a test double)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.db.journal import Job


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    path: Path
    size: int


class DeliveryError(Exception):
    """A post failed. `transient` errors (429, 5xx, network) are retried later; others are not."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Notifier(Protocol):
    def upload_limit(self, guild_id: int) -> int:
        """Largest file the bot may attach in this guild (guild.filesize_limit)."""
        ...

    async def post_status(self, job: Job, text: str) -> int | None:
        """Post the job's status message in its channel, with its cancel button; returns the message id."""
        ...

    async def edit_status(self, job: Job, text: str, *, cancellable: bool | None = None) -> bool:
        """Edit the status message in place; False when it no longer exists.

        `cancellable`: True keeps the cancel button, False removes it, None leaves the buttons alone.
        """
        ...

    async def post_result(
        self, job: Job, text: str, files: Sequence[OutgoingFile], *, first: bool, nonce: str | None = None
    ) -> int:
        """Post results (at most 10 files) mentioning only the requester; `first` carries the buttons.

        `nonce` lets Discord drop a duplicate of a post that was retried after a lost answer.
        """
        ...

    async def message_exists(self, job: Job, message_id: int) -> bool:
        """Whether a message the bot posted in the job's channel is still there (fetched by id)."""
        ...

    async def post_notice(self, job: Job, text: str) -> int | None:
        """A message to the requester (failure, cancel, timeout), mentioning only them."""
        ...

    def guild_locale(self, guild_id: int) -> str | None:
        """The guild's preferred locale (moderator notices while /settings language is `auto`)."""
        ...

    async def post_modlog(self, guild_id: int, channel_id: int, text: str) -> None:
        """A moderator notice in the guild's modlog channel, pinging nobody; DeliveryError when it fails."""
        ...
