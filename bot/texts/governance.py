"""What the governance commands show moderators: /settings show, /blocklist list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.db.guild_settings import BlockedMember, GuildSettings
from bot.db.ledger import Policy
from bot.governance.gate import channel_list
from bot.texts import t
from bot.texts.format import channel_mention, mention, role_mention

MAX_SHOWN = 1900  # characters of a list before it is cut (Discord's message limit is 2000)


def _period(period: str, locale: str | None) -> str:
    return t(f"cmd.period.{period}", locale)


def settings_text(
    settings: GuildSettings,
    blocked: Sequence[BlockedMember],
    policy: Policy,
    role_policies: Mapping[int, Policy],
    locale: str | None,
) -> str:
    lines = [t("gov.show.title", locale)]
    if settings.allowed_channels:
        lines.append(t("gov.show.channels", locale, channels=channel_list(settings.allowed_channels)))
    else:
        lines.append(t("gov.show.channels_all", locale))
    if settings.modlog_channel_id:
        lines.append(t("gov.show.modlog", locale, channel=channel_mention(settings.modlog_channel_id)))
    else:
        lines.append(t("gov.show.modlog_off", locale))
    if settings.cooldown_seconds:
        lines.append(t("gov.show.cooldown", locale, seconds=settings.cooldown_seconds))
    else:
        lines.append(t("gov.show.cooldown_off", locale))
    lines.append(t(f"gov.show.language.{settings.language}", locale))
    lines.append(t("gov.show.blocklist", locale, count=len(settings.blocklist)))
    if blocked:
        members = ", ".join(mention(b.member_id) for b in blocked[:20]) + (", …" if len(blocked) > 20 else "")
        lines.append(t("gov.show.blocked", locale, members=members))
    else:
        lines.append(t("gov.show.blocked_none", locale))
    lines.append(t("gov.show.allowance", locale, allowance=policy.allowance, period=_period(policy.period, locale)))
    if role_policies:
        lines.append(t("gov.show.role_allowances", locale))
        for role_id, role_policy in role_policies.items():
            lines.append(
                "• " + t("gov.show.role_allowance", locale, role=role_mention(role_id), allowance=role_policy.allowance,
                         period=_period(role_policy.period, locale))
            )
    return "\n".join(lines)


def blocklist_text(entries: Sequence[str], locale: str | None) -> str:
    if not entries:
        return t("gov.blocklist.empty", locale)
    lines = [f"**{t('gov.blocklist.title', locale, count=len(entries))}**"]
    used = len(lines[0])
    for entry in entries:
        line = f"• `{entry.replace('`', 'ˋ')}`"
        if used + len(line) + 1 > MAX_SHOWN:
            lines.append("…")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def role_policy_text(role_id: int, policy: Policy, locale: str | None) -> str:
    return t("gov.ok.role_policy", locale, role=role_mention(role_id), allowance=policy.allowance,
             period=_period(policy.period, locale))
