"""Small formatting helpers for job messages (durations, mentions, failure reasons)."""

from __future__ import annotations

from bot.messages import t


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


def coarse_elapsed(seconds: float) -> float:
    """Round elapsed time so a status message only changes (and is edited) every 10 s."""
    return float(int(seconds) // 10 * 10)


def mention(member_id: int) -> str:
    return f"<@{member_id}>"


def state_name(state: str, locale: str | None) -> str:
    return t(f"job.state.{state}", locale)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
