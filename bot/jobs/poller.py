"""The poller: asks RunningHub about every active task, moves jobs along, edits status messages.

One sweep reads the active jobs with one query, asks `/task/openapi/outputs` for each task with
bounded concurrency, and writes only what changed. A poll error is not a task failure: the task
is asked again next sweep (a task that actually finished is never refunded because a poll broke).
A webhook wakes the poller for one task at once; polling stays as the safety net.
Each task is asked about (and cancelled) with the pool key that created it. Status messages are
the StatusBoard's: the poller tells it what it saw (queued; running, with the task's progress
socket).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot.db.journal import Job, Journal
from bot.jobs.reasons import reason_for_failure
from bot.jobs.states import POLLED, JobState
from bot.jobs.status import StatusBoard
from bot.runninghub.errors import RunningHubError, TaskNotFound
from bot.runninghub.pool import KeyPool, PoolKey, refuses_key
from bot.runninghub.types import TaskOutputs, TaskState
from bot.texts import Msg
from bot.workflows import WorkflowRegistry

log = logging.getLogger(__name__)

NOT_FOUND_LIMIT = 3  # consecutive 807 answers before a task is given up as lost


class Poller:
    def __init__(
        self,
        journal: Journal,
        pool: KeyPool,
        registry: WorkflowRegistry,
        *,
        interval: float,
        on_succeeded: Callable[[int], Awaitable[None]],
        on_ended: Callable[[int], Awaitable[None]],
        status: StatusBoard,
        on_key_refused: Callable[[PoolKey, RunningHubError], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
        max_parallel: int = 16,
    ) -> None:
        self.journal = journal
        self.pool = pool
        self.on_key_refused = on_key_refused
        self.registry = registry
        self.interval = interval
        self.on_succeeded = on_succeeded
        self.on_ended = on_ended
        self.status = status
        self.clock = clock
        self._semaphore = asyncio.Semaphore(max_parallel)
        self._wake = asyncio.Event()
        self._urgent: set[str] = set()
        self._not_found: dict[int, int] = {}
        self.sweeps = 0

    def wake(self, task_id: str | None = None) -> None:
        if task_id:
            self._urgent.add(task_id)
        self._wake.set()

    async def run(self, extra: Callable[[], Awaitable[None]] | None = None) -> None:
        last_full = 0.0
        while True:
            # Cleared before the sweep, not after: a wake() that arrives while it runs (a task was
            # just submitted) must not be lost until the next interval.
            self._wake.clear()
            urgent_only = bool(self._urgent) and self.clock() - last_full < self.interval
            try:
                if urgent_only:
                    await self.sweep(only=set(self._urgent))
                else:
                    last_full = self.clock()
                    await self.sweep()
                    if extra is not None:
                        await extra()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("poll sweep failed; trying again next interval")
            if self._urgent:
                continue
            # asyncio.timeout, not wait_for: on 3.11 a wait_for cancelled at the wrong moment can
            # leave the loop stuck "cancelling" at shutdown.
            try:
                async with asyncio.timeout(max(0.01, last_full + self.interval - self.clock())):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def sweep(self, only: set[str] | None = None) -> None:
        self.sweeps += 1
        active = await self.journal.in_states(POLLED)
        jobs = [j for j in active if j.task_id]
        if only is not None:
            jobs = [j for j in jobs if j.task_id in only]
            self._urgent -= only
        else:
            self._urgent.clear()
        await asyncio.gather(*(self._check(job) for job in jobs))
        if only is None:
            # No progress socket outlives its job, whatever ended it.
            self.status.running_jobs({j.id for j in active})

    async def _check(self, job: Job) -> None:
        key = self.pool.get(job.api_key_id)
        try:
            async with self._semaphore:
                if await self._timed_out(job):
                    return
                if key is None or not key.active:
                    return  # its key left the pool: nothing can ask about the task; its timeout ends it
                assert job.task_id is not None
                outcome = await key.client.outputs(job.task_id)
            self._not_found.pop(job.id, None)
            await self.apply(job, outcome)
        except TaskNotFound:
            misses = self._not_found.get(job.id, 0) + 1
            self._not_found[job.id] = misses
            if misses >= NOT_FOUND_LIMIT:
                log.warning("job %s: task %s is unknown to RunningHub; giving up", job.id, job.task_id)
                if await self.journal.end(job.id, POLLED, JobState.FAILED, Msg("job.reason.task_lost")):
                    await self.on_ended(job.id)
        except RunningHubError as exc:
            refused = key is not None and refuses_key(exc) and self.pool.remove(key, exc)
            if refused and key is not None and self.on_key_refused is not None:
                await self.on_key_refused(key, exc)
            log.info("job %s: poll failed (%s); asking again next sweep", job.id, exc)
        except Exception:
            log.exception("job %s: poll failed unexpectedly", job.id)

    async def apply(self, job: Job, outcome: TaskOutputs) -> None:
        if outcome.state == TaskState.SUCCEEDED:
            outputs = [(f.url, f.file_type, f.node_id, f.text) for f in outcome.files]
            if await self.journal.succeed(job.id, outputs, outcome.consume_coins):
                await self.on_succeeded(job.id)
        elif outcome.state == TaskState.FAILED:
            reason = reason_for_failure(outcome.failed_reason)
            if await self.journal.end(job.id, POLLED, JobState.FAILED, reason):
                await self.on_ended(job.id)
        elif outcome.state == TaskState.RUNNING:
            if job.state == JobState.QUEUED and await self.journal.started(job.id):
                job = await self.journal.get(job.id) or job
            await self.status.running(job, outcome.net_wss_url)
        else:
            self.status.queued(job)

    async def _timed_out(self, job: Job) -> bool:
        limit = self.registry.for_guild(job.guild_id).timeout_for(job.alias)
        since = job.submitted_at or job.created_at
        if self.clock() - since <= limit:
            return False
        log.info("job %s: past its %s s timeout; cancelling task %s", job.id, limit, job.task_id)
        key = self.pool.get(job.api_key_id)
        if job.task_id and key is not None and key.active:
            try:
                await key.client.cancel(job.task_id)
            except RunningHubError as exc:
                log.warning("job %s: cancel after timeout failed: %s", job.id, exc)
        if await self.journal.end(job.id, POLLED, JobState.TIMED_OUT, None):
            await self.on_ended(job.id)
        return True
