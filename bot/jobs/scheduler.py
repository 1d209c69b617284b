"""The scheduler: submits pending jobs while the account has free slots, fairly across members.

- Never more tasks at RunningHub than `concurrency` (jobs in submitting/queued/running, plus
  'unknown' ones until their timeout has surely passed, since they may be running). When only
  'unknown' jobs stand in the way, RunningHub's own count of live tasks (accountStatus) decides
  how many of them really hold a slot, so one lost answer does not stall the queue for the timeout.
- Round-robin: the member served longest ago goes first, so one member's ten jobs do not
  starve another's one.
- 421/415 ("queue full") leave the job pending and back off (with jitter), for the whole account.
- A create whose answer was lost becomes 'unknown' and is never resubmitted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

from bot.db.journal import Job, Journal
from bot.jobs.pipeline import submit
from bot.jobs.reasons import reason_for_error
from bot.jobs.states import AT_RUNNINGHUB, JobState
from bot.jobs.targets import workflow_of
from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import CapacityError, OutcomeUnknown, RunningHubError, TransientError
from bot.runninghub.types import NodeInfo
from bot.texts import Msg
from bot.workflows import WorkflowRegistry

log = logging.getLogger(__name__)

BACKOFF_CAP = 120.0
OUT_OF_COINS = (416, 812)  # the account's coins, or the enterprise wallet, are empty


class Scheduler:
    def __init__(
        self,
        journal: Journal,
        client: RunningHubClient,
        registry: WorkflowRegistry,
        *,
        concurrency: int,
        webhook_url: Callable[[Job], str | None],
        on_ended: Callable[[int], Awaitable[None]],
        on_unknown: Callable[[int], Awaitable[None]],
        on_submitted: Callable[[int], None],
        on_out_of_coins: Callable[[Job], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
        backoff_base: float = 2.0,
        idle_interval: float = 5.0,
    ) -> None:
        self.journal = journal
        self.client = client
        self.registry = registry
        self.concurrency = concurrency
        self.webhook_url = webhook_url
        self.on_ended = on_ended
        self.on_unknown = on_unknown
        self.on_submitted = on_submitted
        self.on_out_of_coins = on_out_of_coins
        self.clock = clock
        self.backoff_base = backoff_base
        self.idle_interval = idle_interval
        self._wake = asyncio.Event()
        self._blocked_until = 0.0
        self._refusals = 0
        self._last_served: dict[tuple[int, int], float] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            # Clear before the pass, not after: a wake() that arrives while the pass awaits (a job
            # finished, a slot freed) must start another pass instead of being lost until the timeout.
            self._wake.clear()
            try:
                delay = await self.submit_ready()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler pass failed; trying again shortly")
                delay = self.idle_interval
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.01, delay))
            except TimeoutError:
                pass

    async def active_count(self) -> int:
        tracked, unknown = await self._slots_taken()
        return tracked + unknown

    async def _slots_taken(self) -> tuple[int, int]:
        """(jobs with a task we track, 'unknown' jobs whose task may still be running)."""
        now = self.clock()
        tracked = unknown = 0
        for job in await self.journal.in_states(AT_RUNNINGHUB):
            if job.state is not JobState.UNKNOWN:
                tracked += 1
                continue
            timeout = self.registry.for_guild(job.guild_id).timeout_for(job.alias)
            if (job.submitted_at or job.created_at) + timeout >= now:
                unknown += 1  # past its timeout, whatever it was has surely ended
        return tracked, unknown

    async def _unknown_still_running(self, tracked: int, unknown: int) -> int:
        """How many 'unknown' jobs may really hold a slot: no more than RunningHub runs beyond ours."""
        try:
            status = await self.client.account_status()
        except RunningHubError as exc:
            log.info("account status unavailable (%s); counting every unknown job as running", exc)
            return unknown
        return max(0, min(unknown, status.current_task_counts - tracked))

    async def submit_ready(self) -> float:
        """One pass; returns how long to sleep before the next unless woken."""
        now = self.clock()
        if now < self._blocked_until:
            return self._blocked_until - now
        tracked, unknown = await self._slots_taken()
        free = self.concurrency - tracked - unknown
        pending = await self.journal.in_states((JobState.PENDING,))
        ready = [j for j in pending if j.next_attempt_at <= now]
        if not ready:
            later = [j.next_attempt_at - now for j in pending]
            return min([self.idle_interval, *later])
        if free <= 0 < unknown and tracked < self.concurrency:
            # Only 'unknown' jobs stand in the way: ask RunningHub whether their tasks still run.
            free = self.concurrency - tracked - await self._unknown_still_running(tracked, unknown)
        if free <= 0:
            return self.idle_interval
        if self._last_served is None:
            self._last_served = await self.journal.last_served()
        for job in fair_order(ready, self._last_served)[:free]:
            outcome = await self._submit(job)
            if outcome == "blocked":
                return max(0.01, self._blocked_until - self.clock())
        return 0.0 if len(ready) > free else self.idle_interval

    async def _submit(self, job: Job) -> str:
        if not await self.journal.claim_submit(job.id):
            return "skipped"
        assert self._last_served is not None
        self._last_served[(job.guild_id, job.member_id)] = self.clock()
        workflow = workflow_of(job, self.registry)
        if workflow is None:  # a job from before jobs kept their target, whose alias is gone
            log.warning("job %s: its alias %s is gone; not submitted", job.id, job.alias)
            await self.journal.end(job.id, (JobState.SUBMITTING,), JobState.FAILED, Msg("job.reason.workflow_gone"))
            await self.on_ended(job.id)
            return "failed"
        try:
            nodes = [NodeInfo(n["node_id"], n["field_name"], n["field_value"]) for n in job.inputs.get("nodes", [])]
            created = await submit(self.client, workflow, nodes, webhook_url=self.webhook_url(job))
        except CapacityError as exc:
            self._refusals += 1
            delay = min(BACKOFF_CAP, self.backoff_base * 2 ** (self._refusals - 1)) * random.uniform(0.8, 1.2)
            self._blocked_until = self.clock() + delay
            log.info("job %s: RunningHub is at capacity (%s); waiting %.1f s", job.id, exc.code, delay)
            await self.journal.retry_later(job.id, delay)
            return "blocked"
        except OutcomeUnknown as exc:
            log.warning("job %s: the create answer was lost (%s); marking outcome unknown", job.id, exc)
            if await self.journal.outcome_unknown(job.id, Msg("job.reason.start_unconfirmed")):
                await self.on_unknown(job.id)
            return "unknown"
        except TransientError as exc:
            # Known not to have reached RunningHub (e.g. connection refused): safe to try again.
            self._refusals += 1
            delay = min(BACKOFF_CAP, self.backoff_base * 2 ** (self._refusals - 1))
            self._blocked_until = self.clock() + delay
            log.warning("job %s: RunningHub unreachable (%s); retrying in %.1f s", job.id, exc, delay)
            await self.journal.retry_later(job.id, delay)
            return "blocked"
        except RunningHubError as exc:
            log.warning("job %s: RunningHub refused it: %s", job.id, exc)
            await self.journal.end(job.id, (JobState.SUBMITTING,), JobState.FAILED, reason_for_error(exc))
            if exc.code in OUT_OF_COINS and self.on_out_of_coins is not None:
                await self.on_out_of_coins(job)
            await self.on_ended(job.id)
            return "failed"
        except Exception as exc:
            log.exception("job %s: could not be submitted", job.id)
            await self.journal.end(job.id, (JobState.SUBMITTING,), JobState.FAILED, reason_for_error(exc))
            await self.on_ended(job.id)
            return "failed"
        self._refusals = 0
        running = created.status.upper() == "RUNNING"
        if not await self.journal.submitted(job.id, created.task_id, running=running):
            # Cancelled while the create was in flight: stop the task we just started.
            log.info("job %s: cancelled during submit; cancelling task %s", job.id, created.task_id)
            try:
                await self.client.cancel(created.task_id)
            except RunningHubError as exc:
                log.warning("job %s: could not cancel task %s: %s", job.id, created.task_id, exc)
            return "cancelled"
        self.on_submitted(job.id)
        return "submitted"


def fair_order(jobs: list[Job], last_served: dict[tuple[int, int], float]) -> list[Job]:
    """Round-robin across members: each member's oldest job, least recently served member first."""
    queues: dict[tuple[int, int], list[Job]] = {}
    for job in sorted(jobs, key=lambda j: j.id):
        queues.setdefault((job.guild_id, job.member_id), []).append(job)
    members = sorted(queues, key=lambda m: (last_served.get(m, 0.0), queues[m][0].id))
    ordered: list[Job] = []
    depth = 0
    while len(ordered) < len(jobs):
        for member in members:
            if depth < len(queues[member]):
                ordered.append(queues[member][depth])
        depth += 1
    return ordered
