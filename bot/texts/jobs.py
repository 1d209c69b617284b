"""What members read about their jobs: the status message, results, notices, /jobs and /health."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.db.journal import Job
from bot.jobs.inputs import JobInputs
from bot.jobs.states import ORDER, JobState
from bot.runninghub.types import AccountStatus
from bot.texts import Msg, t
from bot.texts.format import clip, duration, mention, one_line

HEALTH_LIST_LIMIT = 15  # jobs named per line of /health before "and N more"
MESSAGE_LIMIT = 2000  # Discord's limit on a message's content
PROMPT_SHOWN = 300  # characters of the prompt quoted under a result


def state_name(state: JobState, locale: str | None) -> str:
    return t(f"job.state.{state}", locale)


def _about(job: Job) -> dict[str, object]:
    """The parameters every job text names: which alias, which job, whose."""
    return {"alias": job.alias, "job": job.label, "mention": mention(job.member_id)}


# ---- the status message, edited in place ---------------------------------------------------


def pending_status(job: Job, position: int) -> str:
    return t("job.status.pending", job.locale, position=position, **_about(job))


def queued_status(job: Job) -> str:
    return t("job.status.queued", job.locale, **_about(job))


def delivering_status(job: Job, now: float) -> str:
    return t("job.status.delivering", job.locale, elapsed=duration(job.elapsed(now), job.locale), **_about(job))


def final_status(job: Job, now: float) -> str:
    """How the job ended (delivered, failed, cancelled, timed out, unknown), on its status message."""
    return t(f"job.status.{job.state}", job.locale, elapsed=duration(job.elapsed(now), job.locale),
             coins=job.cost, **_about(job))


# ---- notices and replies -------------------------------------------------------------------------


def end_notice(job: Job, timeout: float) -> str:
    """Tells the requester how a job ended badly (or that its start is unconfirmed), and why."""
    common = {**_about(job), "coins": job.cost}
    if job.state is JobState.FAILED:
        reason = job.error.render(job.locale) if job.error else t("job.reason.unknown", job.locale)
        return t("job.notice.failed", job.locale, reason=reason, **common)
    if job.state is JobState.TIMED_OUT:
        return t("job.notice.timed_out", job.locale, limit=duration(timeout, job.locale), **common)
    if job.state is JobState.UNKNOWN:
        return t("job.notice.unknown", job.locale, **common)
    return t("job.notice.cancelled", job.locale, **common)


def queued_reply(job: Job, position: int, available: int, locale: str | None) -> str:
    """The answer to whoever started a job: its place in the queue, the hold, and the coins left."""
    return t("progress.ok.queued", locale, job=job.label, alias=job.alias, position=max(position, 1),
             coins=job.cost, balance=available)


def undelivered_status(job: Job) -> str:
    """A delivery that gave up: the results wait for /resend."""
    return t("progress.status.undelivered", job.locale, **_about(job))


def undelivered_notice(job: Job) -> str:
    return t("progress.notice.undelivered", job.locale, number=job.id, **_about(job))


def cancelled_reply(job: Job, locale: str | None) -> str:
    return t("job.ok.cancelled", locale, job=job.label, coins=job.cost)


def jobs_list(jobs: Sequence[Job], now: float, locale: str | None) -> str:
    """/jobs: the member's recent jobs, newest first."""
    if not jobs:
        return t("jobs.none", locale)
    lines = [f"**{t('jobs.title', locale)}**"]
    for job in jobs:
        lines.append(t("jobs.line", locale, job=job.label, alias=job.alias, state=state_name(job.state, locale),
                       coins=job.cost, age=duration(now - job.created_at, locale)))
    return clip("\n".join(lines), MESSAGE_LIMIT)


# ---- results ---------------------------------------------------------------------------------


@dataclass
class ResultContent:
    """What a result message carries besides its files."""

    links: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    has_files: bool = False
    # RunningHub's links to the full-size originals of images re-encoded to fit
    originals: list[str] = field(default_factory=list)
    available: int | None = None  # the member's coins after the charge, when known


def result_text(job: Job, content: ResultContent, now: float) -> str:
    """The first result message: who, what, how long, the prompt, links and text outputs."""
    common = {"elapsed": duration(job.elapsed(now), job.locale), "coins": job.cost, **_about(job)}
    if content.available is None:
        lines = [t("job.result", job.locale, **common)]
    else:
        lines = [t("progress.result", job.locale, balance=content.available, **common)]
    inputs = JobInputs.from_json(job.inputs)
    if inputs.prompt:
        lines.append("> " + one_line(str(inputs.prompt), PROMPT_SHOWN))
    if inputs.seed is not None:
        lines.append(t("results.seed", job.locale, seed=inputs.seed))
    if content.originals:
        lines.append(t("results.reencoded", job.locale))
        lines.extend(f"<{url}>" for url in content.originals)
    if content.links:
        lines.append(t("job.result.links", job.locale))
        lines.extend(f"<{url}>" for url in content.links)
    if not (content.has_files or content.links or content.texts):
        lines.append(t("job.result.empty", job.locale))
    head = "\n".join(lines)
    if content.texts:
        body = "\n\n".join(content.texts)
        room = MESSAGE_LIMIT - len(head) - 10
        head = head + "\n```\n" + clip(body, max(room, 50)) + "\n```"
    return clip(head, MESSAGE_LIMIT)


def result_more_text(job: Job, part: int, parts: int) -> str:
    return t("job.result.more", job.locale, alias=job.alias, job=job.label, part=part, parts=parts)


# ---- /health --------------------------------------------------------------------------------


@dataclass
class KeyHealth:
    """One key of the pool, as /health shows it."""

    tail: str  # the key's last 4 characters: all of it that is ever shown
    limit: int
    used: int  # our tasks on it (slots taken)
    account: AccountStatus | None
    error: Msg | None  # why its account status could not be read
    removed: Msg | None  # why RunningHub refused it, when it left the pool


@dataclass
class Health:
    keys: list[KeyHealth]
    counts: dict[str, int]
    waiting: int
    active: int
    limit: int
    unknown: list[Job] = field(default_factory=list)
    undelivered: list[Job] = field(default_factory=list)


def health_report(health: Health, locale: str | None, *, now: float) -> str:
    """The /health answer: RunningHub's account, the local queue, jobs by state, jobs needing a look."""
    lines = [f"**{t('health.title', locale)}**"]
    for key in health.keys:  # each key by its last 4 characters only
        if key.removed is not None:
            lines.append(t("health.key_removed", locale, key=key.tail, reason=key.removed))
        elif key.account is not None:
            coins = "?" if key.account.remain_coins is None else f"{key.account.remain_coins:,}"
            lines.append(t("health.key", locale, key=key.tail, coins=coins, running=key.account.current_task_counts,
                           used=key.used, limit=key.limit, api_type=key.account.api_type or "?"))
        else:
            lines.append(t("health.key_error", locale, key=key.tail, used=key.used, limit=key.limit,
                           error=key.error or "?"))
    lines.append(t("health.queue", locale, waiting=health.waiting, active=health.active, limit=health.limit))
    present = [s for s in ORDER if health.counts.get(s)]
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
