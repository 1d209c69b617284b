"""Small formatting helpers for job messages (durations, mentions, failure reasons, /health)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.db.journal import (
    CANCELLED,
    DELIVERED,
    FAILED,
    PENDING,
    PREPARING,
    QUEUED,
    RUNNING,
    SUBMITTING,
    SUCCEEDED,
    TIMED_OUT,
    UNKNOWN,
)
from bot.messages import t

if TYPE_CHECKING:
    from bot.jobs.service import Health

# The order /health lists states in: the order a job moves through them.
STATE_ORDER = (
    PREPARING, PENDING, SUBMITTING, QUEUED, RUNNING, SUCCEEDED, DELIVERED, FAILED, CANCELLED, TIMED_OUT, UNKNOWN,
)
HEALTH_LIST_LIMIT = 15  # jobs named per line of /health before "and N more"
MESSAGE_LIMIT = 2000


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


def health_report(health: Health, locale: str | None, *, now: float | None = None) -> str:
    """The /health answer: RunningHub's account, the local queue, jobs by state, jobs needing a look."""
    now = time.time() if now is None else now
    lines = [f"**{t('health.title', locale)}**"]
    account = health.account
    if account is not None:
        coins = "?" if account.remain_coins is None else f"{account.remain_coins:,}"
        lines.append(t("health.account", locale, coins=coins, running=account.current_task_counts,
                       api_type=account.api_type or "?"))
    else:
        lines.append(t("health.account_error", locale, error=health.account_error or "?"))
    lines.append(t("health.queue", locale, waiting=health.waiting, active=health.active, limit=health.limit))
    present = [s for s in STATE_ORDER if health.counts.get(s)]
    states = " · ".join(
        t("health.state_count", locale, state=state_name(s, locale), count=health.counts[s]) for s in present
    )
    lines.append(t("health.states", locale, states=states or t("health.states_none", locale)))
    if health.unknown:
        named = [
            t("health.job_task", locale, job=j.label, alias=j.alias, task=j.task_id) if j.task_id
            else t("health.job_no_task", locale, job=j.label, alias=j.alias)
            for j in health.unknown
        ]
        lines.append(t("health.unknown", locale, jobs=_listed(named, locale)))
    else:
        lines.append(t("health.unknown_none", locale))
    if health.undelivered:
        named = [
            t("health.job", locale, job=j.label, alias=j.alias,
              age=duration(now - (j.finished_at or j.created_at), locale))
            for j in health.undelivered
        ]
        lines.append(t("health.undelivered", locale, jobs=_listed(named, locale)))
    else:
        lines.append(t("health.undelivered_none", locale))
    return clip("\n".join(lines), MESSAGE_LIMIT)


def _listed(items: Sequence[str], locale: str | None) -> str:
    shown = list(items[:HEALTH_LIST_LIMIT])
    if len(items) > HEALTH_LIST_LIMIT:
        shown.append(t("health.more", locale, count=len(items) - HEALTH_LIST_LIMIT))
    return ", ".join(shown)
