"""The running status message: a bar, a percentage, the node at work, the estimate (pure)."""

from __future__ import annotations

from bot.db.journal import Job
from bot.runninghub.progress import Progress
from bot.texts import t
from bot.texts.format import discord_time, mention

BAR_CELLS = 12


def bar(percent: float) -> str:
    filled = max(0, min(BAR_CELLS, int(percent * BAR_CELLS / 100)))
    return "█" * filled + "░" * (BAR_CELLS - filled)


def node_text(progress: Progress, locale: str | None) -> str:
    """`KSampler 12/20`: the node at work and its steps, as far as they are known."""
    if progress.node_class:
        name = progress.node_class
    elif progress.node_id:
        name = t("progress.node_id", locale, node=progress.node_id)
    else:
        return ""
    if progress.value is not None and progress.maximum:
        name = f"{name} {progress.value}/{progress.maximum}"
    return t("progress.node", locale, node=name)


def estimate_text(started_at: float, median: float | None, now: float, locale: str | None) -> str:
    if median is None:
        return ""
    expected = started_at + median
    if expected <= now:
        return t("progress.eta_over", locale)
    return t("progress.eta", locale, at=discord_time(expected))


def running_text(job: Job, progress: Progress | None, median: float | None, now: float) -> str:
    """Running: a bar, a percentage and the node at work when the socket reports them, the start
    time always (the fallback when it does not), and the estimate once the alias has one."""
    started = job.started_at or job.submitted_at or job.created_at
    common = {
        "alias": job.alias,
        "job": job.label,
        "mention": mention(job.member_id),
        "since": discord_time(started),
        "eta": estimate_text(started, median, now, job.locale),
    }
    if progress is None or progress.percent is None:
        return t("progress.status.running", job.locale, **common)
    percent = max(0.0, min(100.0, progress.percent))
    return t(
        "progress.status.running_bar", job.locale, bar=bar(percent), percent=int(percent),
        node=node_text(progress, job.locale), **common,
    )
