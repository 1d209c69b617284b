"""Small text helpers every renderer shares: durations, clipping, mentions, Discord timestamps."""

from __future__ import annotations

from datetime import datetime

from bot.texts import t

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace become one space) and clipped, so it cannot crowd a message."""
    return clip(" ".join(text.split()), limit)


def first_line(text: str, limit: int) -> str:
    """The first non-empty line of `text`, clipped: an exception's message without its traceback."""
    for line in text.splitlines():
        if line.strip():
            return one_line(line, limit)
    return ""


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


def channel_mention(channel_id: int) -> str:
    return f"<#{channel_id}>"


def role_mention(role_id: int) -> str:
    """Renders as the role's name; it pings only when a message's allowed mentions let it."""
    return f"<@&{role_id}>"


def discord_time(moment: datetime | float, style: str = "R") -> str:
    """A Discord timestamp: each reader sees it in their own time zone ("in 5 hours" for R)."""
    seconds = moment.timestamp() if isinstance(moment, datetime) else moment
    return f"<t:{int(seconds)}:{style}>"


def signed(number: int) -> str:
    return f"+{number}" if number > 0 else str(number)


def code_block(text: str) -> str:
    """`text` in a code block it cannot break out of: a zero-width space after every backtick.

    Defusing only "```" is not enough: in "````" a run of three is left behind.
    """
    return "```\n" + text.replace("`", "`\u200b") + "\n```"


def duration(seconds: float, locale: str | None = None) -> str:
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return t("duration.days", locale, d=days, h=hours)
    if hours:
        return t("duration.hours", locale, h=hours, m=minutes)
    if minutes:
        return t("duration.minutes", locale, m=minutes, s=secs)
    return t("duration.seconds", locale, s=secs)
