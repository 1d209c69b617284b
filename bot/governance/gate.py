"""The one gate every way of starting a job passes, before any coin is held or file downloaded.

Pure: the caller gives the requester, the alias and a snapshot of the guild's rules; the gate
raises the first refusal in design §9's order as a UserError whose sentence says what to do:

    blocked member -> channel allow-list -> the alias's channels / nsfw / roles -> cooldown
    -> blocklist

`alias_refusal` is the alias part alone, so /workflows and autocomplete list exactly what the
gate would let this member run in this channel.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.errors import UserError
from bot.governance.blocklist import Blocklist
from bot.texts.format import channel_mention, role_mention
from bot.workflows import Workflow

SHOWN_CHANNELS = 5  # channels named in a refusal; more would bury the sentence


@dataclass(frozen=True)
class Requester:
    """Who asks, where: plain data read from the interaction (bot/ui/requester.py builds it)."""

    guild_id: int
    channel_id: int
    member_id: int
    locale: str | None = None  # the member's (their replies; public messages follow /settings language)
    role_ids: frozenset[int] = frozenset()
    is_moderator: bool = False
    channel_nsfw: bool = False  # age-restricted; a thread carries its parent's flag
    parent_channel_id: int | None = None  # the channel a thread is in

    def in_any(self, channel_ids: Collection[int]) -> bool:
        """In one of these channels, or in a thread of one of them."""
        return self.channel_id in channel_ids or (
            self.parent_channel_id is not None and self.parent_channel_id in channel_ids
        )


@dataclass(frozen=True)
class Rules:
    """What the gate needs to know about the guild and the member, read at the time of asking."""

    allowed_channels: frozenset[int] = frozenset()  # empty: everywhere
    cooldown_seconds: int = 0
    blocklist: Blocklist = field(default_factory=lambda: Blocklist.of(()))
    blocked: bool = False
    blocked_reason: str | None = None
    last_start: float | None = None  # when the member's last job started (its coins were held)


class BlocklistHit(UserError):
    """A blocklisted word or phrase: the refusal never names it; `entry` is for the modlog only."""

    def __init__(self, entry: str) -> None:
        super().__init__("gov.refused.blocklist")
        self.entry = entry


def channel_list(channel_ids: Collection[int]) -> str:
    """<#1>, <#2>, <#3> (the first few, in id order): Discord renders these as clickable names."""
    ids = sorted(channel_ids)
    shown = ", ".join(channel_mention(c) for c in ids[:SHOWN_CHANNELS])
    return shown + (", …" if len(ids) > SHOWN_CHANNELS else "")


def role_list(role_ids: Collection[int]) -> str:
    """<@&1>, <@&2>: shown as role names; the bot's messages never ping (AllowedMentions.none)."""
    return ", ".join(role_mention(r) for r in sorted(role_ids))


def alias_refusal(requester: Requester, workflow: Workflow) -> UserError | None:
    """Why this member may not run `workflow` here (its channels, nsfw, roles), or None."""
    if workflow.channels and not requester.in_any(workflow.channels):
        return UserError("gov.refused.alias_channel", alias=workflow.alias, channels=channel_list(workflow.channels))
    if workflow.nsfw and not requester.channel_nsfw:
        return UserError("gov.refused.alias_nsfw", alias=workflow.alias)
    if workflow.roles and not requester.is_moderator and not (requester.role_ids & workflow.roles):
        key = "gov.refused.alias_role" if len(workflow.roles) == 1 else "gov.refused.alias_roles"
        return UserError(key, alias=workflow.alias, roles=role_list(workflow.roles))
    return None


def may_run(requester: Requester, workflow: Workflow) -> bool:
    return alias_refusal(requester, workflow) is None


def check(
    requester: Requester,
    workflow: Workflow | None,
    rules: Rules,
    *,
    prompt: str | None,
    params: str | Mapping[str, Any] | None,
    now: float,
) -> None:
    """Raise the first refusal (UserError; BlocklistHit for a blocklisted word), or return.

    Without a workflow (a menu about to offer aliases) the alias's own gates are skipped.
    """
    if rules.blocked:
        if rules.blocked_reason:
            raise UserError("gov.refused.blocked_reason", reason=rules.blocked_reason)
        raise UserError("gov.refused.blocked")
    if rules.allowed_channels and not requester.in_any(rules.allowed_channels):
        raise UserError("gov.refused.channel", channels=channel_list(rules.allowed_channels))
    refusal = alias_refusal(requester, workflow) if workflow is not None else None
    if refusal is not None:
        raise refusal
    if rules.cooldown_seconds > 0 and rules.last_start is not None:
        left = rules.last_start + rules.cooldown_seconds - now
        if left > 0:
            raise UserError("gov.refused.cooldown", seconds=max(1, math.ceil(left)))
    entry = rules.blocklist.find_in(prompt, params)
    if entry is not None:
        raise BlocklistHit(entry)
