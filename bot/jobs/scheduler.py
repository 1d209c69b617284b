"""The scheduler: submits pending jobs while the pool's keys have free slots, fairly across members.

- Never more tasks on a key than its own concurrency (jobs in submitting/queued/running on it,
  plus 'unknown' ones until their timeout has surely passed, since they may be running). When only
  'unknown' jobs stand in the way, RunningHub's own count of live tasks on that account
  (accountStatus) decides how many of them really hold a slot, so one lost answer does not stall
  the queue for the timeout.
- Round-robin: the member served longest ago goes first, so one member's ten jobs do not
  starve another's one. Each job goes to the key with the most free slots.
- A job's files are uploaded right before its task is created, with the same key (RunningHub's file
  names are per account); a job whose files can no longer be uploaded again stays on its key.
- 421/415 ("queue full") leave the job pending and back off (with jitter), for that key.
- 802/801 (the key is invalid or not a member) take the key out of the pool; the job goes to another.
- A create whose answer was lost becomes 'unknown' and is never resubmitted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.db.journal import Job, Journal
from bot.jobs.inputs import JobInputs
from bot.jobs.pipeline import submit
from bot.jobs.reasons import reason_for_error
from bot.jobs.spool import Spool
from bot.jobs.states import AT_RUNNINGHUB, WAITING, JobState
from bot.jobs.targets import workflow_of
from bot.runninghub.errors import CapacityError, OutcomeUnknown, RunningHubError, TransientError
from bot.runninghub.pool import KeyPool, PoolKey, refuses_key
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
        pool: KeyPool,
        registry: WorkflowRegistry,
        *,
        spool: Spool | None,
        webhook_url: Callable[[Job], str | None],
        on_ended: Callable[[int], Awaitable[None]],
        on_unknown: Callable[[int], Awaitable[None]],
        on_submitted: Callable[[str], None],
        on_key_refused: Callable[[PoolKey, RunningHubError], Awaitable[None]],
        on_out_of_coins: Callable[[Job], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
        backoff_base: float = 2.0,
        idle_interval: float = 5.0,
    ) -> None:
        self.journal = journal
        self.pool = pool
        self.registry = registry
        self.spool = spool
        self.webhook_url = webhook_url
        self.on_ended = on_ended
        self.on_unknown = on_unknown
        self.on_submitted = on_submitted
        self.on_key_refused = on_key_refused
        self.on_out_of_coins = on_out_of_coins
        self.clock = clock
        self.backoff_base = backoff_base
        self.idle_interval = idle_interval
        self._wake = asyncio.Event()
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
                async with asyncio.timeout(max(0.01, delay)):  # not wait_for: see Poller.run
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def waiting_order(self) -> list[Job]:
        """The waiting jobs in the order the coming passes will submit them (first = next)."""
        if self._last_served is None:
            self._last_served = await self.journal.last_served()
        return fair_order(await self.journal.in_states(WAITING), self._last_served)

    async def active_count(self) -> int:
        return sum(tracked + unknown for tracked, unknown in (await self.slots_taken()).values())

    async def slots_taken(self) -> dict[PoolKey, tuple[int, int]]:
        """Per key: (jobs with a task we track, 'unknown' jobs whose task may still be running)."""
        now = self.clock()
        taken: dict[PoolKey, tuple[int, int]] = {key: (0, 0) for key in self.pool.keys}
        for job in await self.journal.in_states(AT_RUNNINGHUB):
            key = self.pool.get(job.api_key_id)
            if key is None:
                continue  # a key no longer configured: nothing we submit goes there
            tracked, unknown = taken[key]
            if job.state is not JobState.UNKNOWN:
                taken[key] = (tracked + 1, unknown)
                continue
            timeout = self.registry.for_guild(job.guild_id).timeout_for(job.alias)
            if (job.submitted_at or job.created_at) + timeout >= now:
                taken[key] = (tracked, unknown + 1)  # past its timeout, whatever it was has surely ended
        return taken

    async def _unknown_still_running(self, key: PoolKey, tracked: int, unknown: int) -> int:
        """How many 'unknown' jobs may really hold a slot: no more than RunningHub runs beyond ours."""
        try:
            status = await key.client.account_status()
        except RunningHubError as exc:
            log.info("key %s: account status unavailable (%s); counting every unknown job as running", key.tail, exc)
            return unknown
        return max(0, min(unknown, status.current_task_counts - tracked))

    async def free_slots(self) -> tuple[dict[PoolKey, int], float]:
        """Free slots per key in the pool that may take a task now; and when a blocked key opens."""
        now = self.clock()
        taken = await self.slots_taken()
        free: dict[PoolKey, int] = {}
        opens = self.idle_interval
        for key in self.pool.active:
            if now < key.blocked_until:
                opens = min(opens, key.blocked_until - now)
                continue
            tracked, unknown = taken[key]
            room = key.concurrency - tracked - unknown
            if room <= 0 < unknown and tracked < key.concurrency:
                # Only 'unknown' jobs stand in the way: ask RunningHub whether their tasks still run.
                room = key.concurrency - tracked - await self._unknown_still_running(key, tracked, unknown)
            if room > 0:
                free[key] = room
        return free, opens

    async def submit_ready(self) -> float:
        """One pass; returns how long to sleep before the next unless woken."""
        # Free slots first: they are few rows to read, and with every slot taken the waiting jobs
        # (a long queue's many rows) need not be read at all. A slot that frees wakes the next pass.
        free, opens = await self.free_slots()
        if not free:
            return opens
        now = self.clock()
        # A pass fills at most every free slot, round-robin over members: each member's first few
        # jobs are all it can take. A job pinned to its key may be passed over for another, so with
        # one among them the plan is made over every ready job.
        ready = await self.journal.ready_heads(now, per_member=sum(free.values()))
        if any(self.pinned_key(job) is not None for job in ready):
            ready = await self.journal.ready_heads(now, per_member=None)
        if not ready:
            due = await self.journal.next_attempt_after(now)
            return opens if due is None else min(opens, due - now)
        ready = [j for j in ready if not await self._stranded(j)]
        if not ready:
            return opens
        if self._last_served is None:
            self._last_served = await self.journal.last_served()
        plan = assign(fair_order(ready, self._last_served), free, self.pinned_key)
        shares: dict[PoolKey, list[Job]] = {}
        for job, key in plan:
            shares.setdefault(key, []).append(job)
        # Keys are separate accounts: one key's create need not wait for another's. Every share is
        # finished before the pass ends, so no later pass can see a slot that is being filled.
        results = await asyncio.gather(*(self._submit_share(key, jobs) for key, jobs in shares.items()),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        if not all(results):
            return 0.0  # a key was refused or blocked during this pass: plan again
        return 0.0 if len(ready) > len(plan) and plan else opens

    async def _submit_share(self, key: PoolKey, jobs: list[Job]) -> bool:
        """Submit one key's jobs of a pass in order; False when the key was refused or blocked on the way."""
        for job in jobs:
            if not key.active or self.clock() < key.blocked_until:
                return False
            if await self._submit(job, key) == "refused":
                return False
        return True

    def pinned_key(self, job: Job) -> str | None:
        """The key a job must run on: the one holding uploads that cannot be made again from disk
        (a re-run's or an edit's files, uploaded by the job it started from)."""
        inputs = JobInputs.from_json(job.inputs)
        if any(option not in inputs.spooled for option in inputs.uploads):
            return inputs.uploads_key or self.pool.first.key_id
        return None

    async def _stranded(self, job: Job) -> bool:
        """A job pinned to a key that left the pool can never run: end it (and refund) now."""
        key_id = self.pinned_key(job)
        if key_id is None:
            return False
        key = self.pool.get(key_id)
        if key is not None and key.active:
            return False
        if await self.journal.end(job.id, (JobState.PENDING,), JobState.FAILED, Msg("job.reason.key_removed")):
            await self.on_ended(job.id)
        return True

    def _backoff(self, key: PoolKey, *, jitter: bool) -> float:
        key.refusals += 1
        delay = min(BACKOFF_CAP, self.backoff_base * 2 ** (key.refusals - 1))
        if jitter:
            delay *= random.uniform(0.8, 1.2)
        key.blocked_until = self.clock() + delay
        return delay

    async def _refused(self, key: PoolKey, exc: RunningHubError) -> None:
        if self.pool.remove(key, exc):
            await self.on_key_refused(key, exc)

    async def _upload(self, job: Job, key: PoolKey) -> JobInputs | str:
        """Upload the job's files kept on disk with `key` and record the names: the inputs to create
        its task with, or an outcome word when it cannot go on. Names uploaded with another key are
        of no use to this one's account."""
        inputs = JobInputs.from_json(job.inputs)
        kept = dict(inputs.uploads) if inputs.uploads_key == key.key_id else {}
        missing = {option: name for option, name in inputs.spooled.items() if option not in kept}
        if not missing:
            return inputs
        uploaded = dict(kept)
        try:
            for option, name in missing.items():
                if self.spool is None:
                    raise FileNotFoundError(name)
                data = await self.spool.load(name)
                uploaded[option] = await key.client.upload(data, name.rsplit("/", 1)[-1])
        except FileNotFoundError:
            log.warning("job %s: its spooled files are gone", job.id)
            if await self.journal.end(job.id, (JobState.PENDING,), JobState.FAILED, Msg("job.reason.files_gone")):
                await self.on_ended(job.id)
            return "failed"
        except RunningHubError as exc:
            if refuses_key(exc):
                await self._refused(key, exc)
                return "refused"
            if exc.transient:
                delay = self._backoff(key, jitter=False)
                log.warning("job %s: upload with key %s failed (%s); retrying in %.1f s", job.id, key.tail, exc, delay)
                await self.journal.postpone(job.id, delay)
                return "blocked"
            log.warning("job %s: RunningHub refused its files: %s", job.id, exc)
            if await self.journal.end(job.id, (JobState.PENDING,), JobState.FAILED, reason_for_error(exc)):
                await self.on_ended(job.id)
            return "failed"
        # The nodeInfoList names each file as it was known so far (its spool name, or its name on
        # another key's account): it now names the upload this key's account holds.
        renamed = {
            old: uploaded[option]
            for option, name in missing.items()
            for old in (name, inputs.uploads.get(option))
            if old
        }
        nodes = tuple(
            {**n, "field_value": renamed.get(n["field_value"], n["field_value"])}
            if isinstance(n.get("field_value"), str) else n
            for n in inputs.nodes
        )
        record = replace(inputs, uploads=uploaded, uploads_key=key.key_id, nodes=nodes)
        if not await self.journal.set_inputs(job.id, record.to_json()):
            return "skipped"  # cancelled while its files were uploading
        return record

    async def _submit(self, job: Job, key: PoolKey) -> str:
        # Served now, whatever comes of it: a job whose upload keeps failing must not stay first in line.
        assert self._last_served is not None
        self._last_served[(job.guild_id, job.member_id)] = self.clock()
        workflow = workflow_of(job, self.registry)
        if workflow is None:  # a job from before jobs kept their target, whose alias is gone
            log.warning("job %s: its alias %s is gone; not submitted", job.id, job.alias)
            if await self.journal.end(job.id, (JobState.PENDING,), JobState.FAILED, Msg("job.reason.workflow_gone")):
                await self.on_ended(job.id)
            return "failed"
        try:
            inputs = await self._upload(job, key)
        except Exception as exc:
            log.exception("job %s: could not upload its files", job.id)
            if await self.journal.end(job.id, (JobState.PENDING,), JobState.FAILED, reason_for_error(exc)):
                await self.on_ended(job.id)
            return "failed"
        if isinstance(inputs, str):
            return inputs
        # Still pending, or cancelled meanwhile (then nothing is created). Only this scheduler
        # changes a pending job's inputs, so `inputs` is what the database holds.
        if not await self.journal.claim_submit(job.id, key.key_id):
            return "skipped"
        try:
            nodes = [NodeInfo(n["node_id"], n["field_name"], n["field_value"]) for n in inputs.nodes]
            created = await submit(key.client, workflow, nodes, webhook_url=self.webhook_url(job))
        except CapacityError as exc:
            delay = self._backoff(key, jitter=True)
            log.info("job %s: key %s is at capacity (%s); waiting %.1f s", job.id, key.tail, exc.code, delay)
            await self.journal.retry_later(job.id, 0)
            return "blocked"
        except OutcomeUnknown as exc:
            log.warning("job %s: the create answer was lost (%s); marking outcome unknown", job.id, exc)
            if await self.journal.outcome_unknown(job.id, Msg("job.reason.start_unconfirmed")):
                await self.on_unknown(job.id)
            return "unknown"
        except TransientError as exc:
            # Known not to have reached RunningHub (e.g. connection refused): safe to try again.
            delay = self._backoff(key, jitter=False)
            log.warning("job %s: RunningHub unreachable with key %s (%s); retrying in %.1f s", job.id, key.tail,
                        exc, delay)
            await self.journal.retry_later(job.id, 0)
            return "blocked"
        except RunningHubError as exc:
            if refuses_key(exc):
                # Nothing was created: the job waits for another key.
                await self.journal.retry_later(job.id, 0)
                await self._refused(key, exc)
                return "refused"
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
        key.refusals = 0
        running = created.status.upper() == "RUNNING"
        if not await self.journal.submitted(job.id, created.task_id, running=running):
            # Cancelled while the create was in flight: stop the task we just started.
            log.info("job %s: cancelled during submit; cancelling task %s", job.id, created.task_id)
            try:
                await key.client.cancel(created.task_id)
            except RunningHubError as exc:
                log.warning("job %s: could not cancel task %s: %s", job.id, created.task_id, exc)
            return "cancelled"
        self.on_submitted(created.task_id)
        return "submitted"


def assign(
    ordered: list[Job], free: dict[PoolKey, int], pinned: Callable[[Job], str | None]
) -> list[tuple[Job, PoolKey]]:
    """Give jobs (in fair order) to keys: each to the key with the most free slots, a pinned job only
    to its own key. A job that finds no slot keeps its place for the next pass."""
    room = dict(free)
    plan: list[tuple[Job, PoolKey]] = []
    for job in ordered:
        if not any(room.values()):
            break
        want = pinned(job)
        candidates = [k for k, n in room.items() if n > 0 and (want is None or k.key_id == want)]
        if not candidates:
            continue
        key = max(candidates, key=lambda k: (room[k], -k.index))
        room[key] -= 1
        plan.append((job, key))
    return plan


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
