"""The job service: intake, the background loops, and what members and moderators ask of jobs.

Discord reaches it only through cogs (which call these methods) and the `Notifier` it is given
(through which it posts); it runs in tests without Discord.
"""

from __future__ import annotations

import asyncio
import logging
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp

from bot.config import Settings
from bot.db.journal import Job, Journal
from bot.db.ledger import Ledger
from bot.errors import UserError
from bot.governance.gate import Requester
from bot.governance.modlog import ModLog
from bot.governance.service import Gate
from bot.jobs.delivery import Delivery
from bot.jobs.inputs import JobInputs, params_text, rerun_params, seed_still_drawn
from bot.jobs.notifier import DeliveryError, Notifier
from bot.jobs.pipeline import JobRequest, Reused, job_record, validate_request, with_drawn_seed
from bot.jobs.poller import Poller
from bot.jobs.reasons import reason_for_error
from bot.jobs.scheduler import Scheduler
from bot.jobs.spool import Spool
from bot.jobs.states import UNFINISHED, WAITING, JobState
from bot.jobs.status import StatusBoard
from bot.jobs.status_edits import INTERVAL, MIN_PROGRESS_GAP
from bot.jobs.targets import workflow_of
from bot.media import sniff
from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import RunningHubError, TaskNotFound
from bot.runninghub.pool import KeyPool, PoolKey
from bot.texts import Msg, t
from bot.texts.format import mention
from bot.texts.jobs import Health, KeyHealth, delivering_status, end_notice, final_status, pending_status
from bot.workflows import Workflow, WorkflowRegistry

log = logging.getLogger(__name__)

DEFAULT_MAX_UNFINISHED = 3
# /generate downloads at most this many members' attachments at once: each one is in memory until
# it is spooled to disk, and fifty 5 MB transfers in one go stall the event loop.
INTAKE_TRANSFERS = 4
HEALTH_ACCOUNT_TIMEOUT = 10.0  # seconds /health waits for RunningHub's account status
OUT_OF_COINS_NOTICE_EVERY = 600.0  # seconds between two "out of coins" notices to one guild
SPOOL_SWEEP_INTERVAL = 60.0  # seconds between looks for input files no job needs any more
# A job's input files are needed until its task exists for good (a refused key sends it back to pending).
NEEDS_FILES = (JobState.PREPARING, JobState.PENDING, JobState.SUBMITTING)


class JobService:
    def __init__(
        self,
        *,
        settings: Settings,
        journal: Journal,
        ledger: Ledger,
        registry: WorkflowRegistry,
        client: RunningHubClient,
        session: aiohttp.ClientSession,
        notifier: Notifier,
        gate: Gate | None = None,
        pool: KeyPool | None = None,
        spool: Spool | None = None,
        tell_moderators: Callable[[str, dict[str, object]], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
        max_unfinished: int = DEFAULT_MAX_UNFINISHED,
        status_edit_interval: float = INTERVAL,
        min_progress_gap: float = MIN_PROGRESS_GAP,
        progress_sockets: bool = True,
        delivery_retry_base: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.ledger = ledger
        self.registry = registry
        self.client = client
        self.pool = pool or KeyPool.single(client, settings.runninghub_concurrency, settings.runninghub_api_key)
        self.spool = spool or Spool(journal.db.path.with_name(journal.db.path.name + ".spool"))
        self.tell_moderators = tell_moderators
        self.notifier = notifier
        # The gate every way of starting a job passes (bot/governance); its modlog hears of
        # unconfirmed starts, given-up deliveries and an empty RunningHub account.
        self.gate = gate
        self.modlog: ModLog | None = gate.modlog if gate is not None else None
        self._out_of_coins_told: dict[int, float] = {}
        self.clock = clock
        self.max_unfinished = max_unfinished
        self.rng = rng or random.Random()  # draws the seeds members leave unset
        self.transfers = asyncio.Semaphore(INTAKE_TRANSFERS)
        self.scheduler = Scheduler(
            journal, self.pool, registry,
            spool=self.spool,
            webhook_url=self.webhook_url_for,
            on_ended=self._ended,
            on_unknown=self._unknown,
            on_submitted=self._submitted,
            on_key_refused=self._key_refused,
            on_out_of_coins=self._refused_for_coins,
            clock=clock,
            idle_interval=settings.poll_interval,
        )
        self.status = StatusBoard(
            journal, client, notifier,
            workflow_of=self._workflow_id_of,
            client_of=self._client_of,
            waiting_order=self.scheduler.waiting_order,
            clock=clock,
            interval=status_edit_interval,
            min_progress_gap=min_progress_gap,
            progress_sockets=progress_sockets,
        )
        self.poller = Poller(
            journal, self.pool, registry,
            interval=settings.poll_interval,
            on_succeeded=self._succeeded,
            on_ended=self._ended,
            status=self.status,
            on_key_refused=self._key_refused,
            clock=clock,
        )
        self.delivery = Delivery(journal, notifier, session, clock=clock, retry_base=delivery_retry_base,
                                 on_given_up=self._given_up, show_status=self.status.ended, ledger=ledger)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._final_status_shown: set[int] = set()  # jobs whose ending is on their status message
        self._loops: list[asyncio.Task[Any]] = []
        self._spool_swept_at = 0.0

    # ---- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume whatever a previous run left unfinished, then start the loops."""
        await self.recover()
        self.start_loops()

    def start_loops(self) -> None:
        """The scheduler and the poller (with delivery and notices); `recover` must have run first."""
        if self._loops:
            return
        self._loops = [
            asyncio.create_task(self.scheduler.run(), name="rhbot-scheduler"),
            asyncio.create_task(self.poller.run(extra=self.housekeeping), name="rhbot-poller"),
            asyncio.create_task(self.status.run(), name="rhbot-status"),
        ]

    async def stop(self) -> None:
        for task in [*self._loops, *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._loops, *self._tasks, return_exceptions=True)
        await self.status.close()
        self._loops.clear()
        self._tasks.clear()

    def spawn(self, coro: Any, name: str) -> None:
        # Keep a strong reference and log failures (a bare create_task can vanish or fail silently).
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("background task %s failed", name, exc_info=finished.exception())

        task.add_done_callback(done)

    async def recover(self) -> None:
        for job in await self.journal.in_states((JobState.PREPARING,)):
            # The attachments were in memory: the job cannot go on. Nothing reached RunningHub's queue.
            if await self.journal.end(job.id, (JobState.PREPARING,), JobState.FAILED, Msg("job.reason.restarted")):
                await self._notify_end(job.id)
        for job in await self.journal.in_states((JobState.SUBMITTING,)):
            # The process died while a create was in flight: it may or may not exist. Never resubmit.
            if await self.journal.outcome_unknown(job.id, Msg("job.reason.start_unconfirmed")):
                await self._tell_modlog_unknown(job.id)
                await self._notify_end(job.id)
        # queued/running jobs are picked up by the poller; succeeded ones by housekeeping.

    async def housekeeping(self) -> None:
        """After each full sweep: deliveries that are due and notices that were not sent."""
        now = self.clock()
        for job in await self.journal.in_states((JobState.SUCCEEDED,)):
            if job.next_delivery_at <= now and not self.delivery.busy(job.id):
                self.spawn(self.delivery.deliver(job.id), f"deliver-{job.id}")
        for job in await self.journal.unnotified_endings():
            await self._notify_end(job.id)
        if now - self._spool_swept_at >= SPOOL_SWEEP_INTERVAL:
            self._spool_swept_at = now
            await self.sweep_spool()

    async def sweep_spool(self) -> None:
        """Remove the input files of jobs whose task exists for good or that ended."""
        held = self.spool.job_ids()
        if not held:
            return
        keep = {j.id for j in await self.journal.in_states(NEEDS_FILES)}
        await self.spool.discard([job_id for job_id in held if job_id not in keep])

    # ---- intake ------------------------------------------------------------------------------

    async def check_start(
        self,
        starter: Requester,
        workflow: Workflow | None,
        *,
        prompt: str | None = None,
        params: str | Mapping[str, Any] | None = None,
    ) -> None:
        """Every gate a new job passes before a coin is held or a file downloaded, for each way of
        starting one (/generate, re-run, edit, Generate from image). Raises UserError.

        The governance gate first, in design §9's order (bot/governance/gate.py), then the cap on
        a member's unfinished jobs. Without a workflow, only the gates about the member and the
        channel run (a menu that is about to offer aliases).
        """
        if self.gate is not None:
            await self.gate.check(starter, workflow, prompt=prompt, params=params)
        await self._check_cap(starter.guild_id, starter.member_id)

    def runnable(self, starter: Requester) -> list[Workflow]:
        """The aliases this member may run in this channel (the gate's alias rules), by name."""
        return Gate.visible(starter, self.registry.for_guild(starter.guild_id).all())

    async def public_locale(self, guild_id: int, requester_locale: str | None) -> str | None:
        """The language of a job's public messages: /settings language, or `auto`: the requester's."""
        if self.gate is None:
            return requester_locale
        return await self.gate.store.public_locale(guild_id, requester_locale)

    async def _cooldown(self, guild_id: int) -> int:
        return (await self.gate.store.get(guild_id)).cooldown_seconds if self.gate is not None else 0

    async def job_in_guild(self, job_id: int, guild_id: int) -> Job:
        """A job of this server (for its details card); UserError when there is none."""
        return await self._job_in_guild(job_id, guild_id)

    async def intake(
        self,
        request: JobRequest,
        *,
        guild_id: int,
        channel_id: int,
        member_id: int,
        locale: str | None,
        role_ids: Collection[int] = (),
    ) -> Job:
        """Hold the cost, keep the files on disk, journal the job and post its status message.

        The files are uploaded by the scheduler, with the key that will create the task. `locale`
        is the requester's (public messages follow /settings language); `role_ids` their roles, for
        a role allowance due at this hold.
        """
        await self._check_cap(guild_id, member_id)
        request = with_drawn_seed(request, self.rng)
        workflow = request.workflow
        job = await self.journal.create(
            guild_id=guild_id, channel_id=channel_id, member_id=member_id, alias=workflow.alias,
            cost=workflow.cost, locale=await self.public_locale(guild_id, locale), source_job_id=request.source_job_id,
            role_ids=role_ids, cooldown=await self._cooldown(guild_id),
        )
        try:
            spooled = await self.spool.save(job.id, {
                option: (spooled_name(option, item.data), item.data) for option, item in request.files.items()
            })
            # Files of an earlier job (a re-run or an edit) stay where they are: on their key's account.
            reused = {option: item.remote for option, item in request.reused.items()}
            # Until the scheduler uploads them, the nodeInfoList names the new files by their spool names.
            record = replace(job_record(request, {**spooled, **reused}), uploads=reused, spooled=spooled,
                             uploads_key=request.uploads_key if reused else None)
        except BaseException as exc:
            # The member is told right here, ephemerally.
            await self.journal.end(job.id, (JobState.PREPARING,), JobState.FAILED, reason_for_error(exc), told=True)
            await self.spool.discard([job.id])
            raise
        return await self._announce(job.id, record.to_json())

    async def start_job(self, request: JobRequest, starter: Requester) -> Job:
        """`intake` for a request that passed `check_start`."""
        return await self.intake(request, guild_id=starter.guild_id, channel_id=starter.channel_id,
                                 member_id=starter.member_id, locale=starter.locale, role_ids=starter.role_ids)

    async def rerun(self, job_id: int, starter: Requester) -> Job:
        """A new job with the same inputs (the files already at RunningHub), held and charged like any
        other; a seed the bot drew is drawn again, one the member typed is kept."""
        source, inputs, workflow = await self._source(job_id, starter.guild_id)
        params = rerun_params(workflow, inputs)
        await self.check_start(starter, workflow, prompt=inputs.prompt, params=params)
        request = validate_request(workflow, prompt=inputs.prompt, files={}, params=params,
                                   reused=_reused(inputs))
        request = replace(request, source_job_id=source.id, uploads_key=self._uploads_key(source, inputs))
        return await self.start_job(request, starter)

    async def edit_form(self, job_id: int, guild_id: int) -> tuple[Job, str, str]:
        """The job, its prompt and its params text (the seed it used included), to pre-fill the edit modal."""
        source, inputs, workflow = await self._source(job_id, guild_id)
        return source, inputs.prompt or "", params_text(workflow, inputs.params)

    async def edit(self, job_id: int, starter: Requester, *, prompt: str | None, params: str | None) -> Job:
        """A new job with the same files and the member's edited prompt and params."""
        source, inputs, workflow = await self._source(job_id, starter.guild_id)
        await self.check_start(starter, workflow, prompt=prompt, params=params)
        request = validate_request(workflow, prompt=prompt, files={}, params=params, reused=_reused(inputs))
        request = replace(request, source_job_id=source.id, seed_drawn=seed_still_drawn(inputs, request.params),
                          uploads_key=self._uploads_key(source, inputs))
        return await self.start_job(request, starter)

    def _uploads_key(self, source: Job, inputs: JobInputs) -> str:
        """The pool key whose account holds the source's uploads: a job reusing them runs on it
        (RunningHub's file names belong to one account). Jobs from before the pool used the first key."""
        return inputs.uploads_key or source.api_key_id or self.pool.first.key_id

    async def _source(self, job_id: int, guild_id: int) -> tuple[Job, JobInputs, Workflow]:
        """A job to start again from: its record and its alias as it is now."""
        source = await self._job_in_guild(job_id, guild_id)
        inputs = JobInputs.from_json(source.inputs)
        if not source.inputs:  # ended before its inputs were uploaded: nothing to start from
            raise UserError("results.error.nothing_kept", job=source.label)
        return source, inputs, self.registry.for_guild(guild_id).get(source.alias)

    async def _announce(self, job_id: int, inputs: dict[str, Any]) -> Job:
        """Post the job's status message, then hand the job to the scheduler (preparing -> pending).

        In this order, so that every later edit (queued, running, failed, delivered) finds the
        message: a job the scheduler could take before its message exists might finish unseen.
        """
        job = await self.journal.get(job_id)
        assert job is not None
        if job.state != JobState.PREPARING:  # cancelled while its files were uploading: nothing to announce
            raise _already_ended(job)
        text = pending_status(job, await self.queue_position(job))
        try:
            message_id = await self.notifier.post_status(job, text)
        except DeliveryError as exc:
            log.warning("job %s: status message not posted: %s", job.id, exc)
            message_id = None
        if message_id is not None:
            await self.journal.set_status_message(job.id, message_id)
            self.status.posted(replace(job, status_message_id=message_id), text)
        if not await self.journal.ready(job.id, inputs):
            # Cancelled (with /cancel) while its status message was being posted.
            await self._edit_final_status(job.id)
            raise _already_ended(await self.journal.get(job.id) or job)
        self.scheduler.wake()
        self.status.waiting_changed()  # it may go ahead of others' jobs (round-robin)
        refreshed = await self.journal.get(job.id)
        assert refreshed is not None
        return refreshed

    # ---- member and moderator actions --------------------------------------------------------

    async def _job_in_guild(self, job_id: int, guild_id: int) -> Job:
        job = await self.journal.get(job_id)
        if job is None or job.guild_id != guild_id:
            raise UserError("job.error.not_found", number=job_id)
        return job

    async def _check_cap(self, guild_id: int, member_id: int) -> None:
        busy = await self.journal.count_waiting_or_running(guild_id, member_id)
        if busy >= self.max_unfinished:
            raise UserError("job.error.too_many", count=busy)

    async def authorise(self, job_id: int, *, guild_id: int, actor_id: int, is_moderator: bool) -> Job:
        """The job, when this member may act on it (its owner or a moderator); else a UserError."""
        job = await self._job_in_guild(job_id, guild_id)
        if job.member_id != actor_id and not is_moderator:
            raise UserError("job.error.not_yours", job=job.label)
        return job

    async def queue_position(self, job: Job) -> int:
        """1-based place in the bot's own queue, in the order the scheduler will start the waiting
        jobs (its round-robin); 0 once the job has left the queue."""
        for position, waiting in enumerate(await self.scheduler.waiting_order(), start=1):
            if waiting.id == job.id:
                return position
        return 0

    async def available(self, job: Job) -> int:
        """The coins the job's member has left to spend (after its hold, or after its charge)."""
        return (await self.ledger.balance(job.guild_id, job.member_id)).available

    async def cancel(self, job_id: int, *, guild_id: int, actor_id: int, is_moderator: bool) -> Job:
        job = await self.authorise(job_id, guild_id=guild_id, actor_id=actor_id, is_moderator=is_moderator)
        if job.state not in UNFINISHED:
            raise _already_ended(job)
        # End it here first: once it is cancelled in the journal, a poll that sees the task stop
        # (RunningHub reports a cancelled task as failed) can no longer call it a failure.
        # The canceller is answered directly.
        if not await self.journal.end(job.id, UNFINISHED, JobState.CANCELLED, None, told=True):
            raise _already_ended(await self.journal.get(job.id) or job)
        # A job still `submitting` has no task id yet: the scheduler cancels the task it gets back.
        current = await self.journal.get(job.id) or job
        task_id = current.task_id
        client = self.pool.client_for(current.api_key_id)  # the task's own key
        if task_id and client is not None:
            try:
                await client.cancel(task_id)
            except TaskNotFound:
                pass
            except RunningHubError as exc:
                log.warning("job %s: cancel of task %s at RunningHub failed: %s", job.id, task_id, exc)
        await self._edit_final_status(job.id)
        self.scheduler.wake()
        self.status.waiting_changed()
        ended = await self.journal.get(job.id)
        assert ended is not None
        return ended

    async def resend(self, job_id: int, *, guild_id: int, actor_id: int, is_moderator: bool) -> None:
        job = await self.authorise(job_id, guild_id=guild_id, actor_id=actor_id, is_moderator=is_moderator)
        if job.state == JobState.SUCCEEDED:
            if not await self.delivery.deliver(job.id):
                raise UserError("job.error.resend_failed", job=job.label)
            return
        if job.state is not JobState.DELIVERED:
            raise UserError("job.error.not_delivered", job=job.label, state=Msg(f"job.state.{job.state}"))
        full = await self.journal.get(job.id, with_outputs=True)
        assert full is not None
        try:
            with tempfile.TemporaryDirectory(prefix=f"rhbot-resend{job.id}-") as tmp:
                prepared = await self.delivery.prepare(full, Path(tmp))
                await self.delivery.post(full, prepared)
        except DeliveryError as exc:
            raise UserError("job.error.resend_failed", job=job.label) from exc

    async def recent(self, guild_id: int, member_id: int, limit: int = 10) -> list[Job]:
        return await self.journal.recent_for_member(guild_id, member_id, limit)

    async def health(self, guild_id: int | None = None) -> Health:
        """Keys, queue and jobs; asked from a guild while a key's RunningHub account is empty, its modlog hears."""
        taken = await self.scheduler.slots_taken()
        keys = await asyncio.gather(*(self._key_health(key, sum(taken[key])) for key in self.pool.keys))
        if guild_id is not None and any(k.account is not None and k.account.remain_coins == 0 for k in keys):
            await self._out_of_coins(guild_id)
        counts = await self.journal.counts_by_state()
        return Health(
            keys=list(keys),
            counts=counts,
            waiting=sum(counts.get(state, 0) for state in WAITING),
            active=sum(sum(pair) for pair in taken.values()),
            limit=self.pool.concurrency,
            unknown=await self.journal.in_states((JobState.UNKNOWN,)),
            undelivered=await self.journal.in_states((JobState.SUCCEEDED,)),
        )

    async def _key_health(self, key: PoolKey, used: int) -> KeyHealth:
        health = KeyHealth(tail=key.tail, limit=key.concurrency, used=used, account=None, error=None,
                           removed=reason_for_error(key.removed) if key.removed is not None else None)
        if key.removed is not None:
            return health
        try:
            # Bounded: the client retries an unreachable RunningHub for a long while, and a
            # moderator checking health wants the local half of the answer now.
            health.account = await asyncio.wait_for(key.client.account_status(), HEALTH_ACCOUNT_TIMEOUT)
        except (RunningHubError, TimeoutError) as exc:
            health.error = reason_for_error(exc)
        return health

    async def _key_refused(self, key: PoolKey, exc: RunningHubError) -> None:
        """A key RunningHub refuses left the pool: the scheduler already sends its waiting jobs elsewhere."""
        self.scheduler.wake()
        params: dict[str, object] = {"key": key.tail, "reason": reason_for_error(exc)}
        log.error("%s (RunningHub: %s)", t("keypool.removed", None, **params), exc)
        if self.tell_moderators is not None:
            try:
                # (catalog key, its params): each guild's modlog renders it in its own language
                await self.tell_moderators("keypool.removed", params)
            except Exception:
                log.exception("moderators could not be told that key %s left the pool", key.tail)

    # ---- webhooks ----------------------------------------------------------------------------

    def webhook_url_for(self, job: Job) -> str | None:
        if not self.settings.webhook_url or not self.settings.webhook_secret:
            return None
        base = self.settings.webhook_url.rstrip("/")
        return f"{base}/{self.settings.webhook_secret}?job={job.id}"

    async def on_webhook(self, task_id: str, job_id: int | None) -> None:
        """A TASK_END arrived: bind it to an 'unknown' job if that is whose it is, then poll it now."""
        if job_id is not None:
            job = await self.journal.get(job_id)
            unbound = job is not None and job.state == JobState.UNKNOWN and job.task_id is None
            if unbound and await self.journal.bind_task(job_id, task_id):
                log.info("job %s: its task %s turned up through the webhook", job_id, task_id)
        self.poller.wake(task_id)

    # ---- callbacks from the loops ------------------------------------------------------------

    def _submitted(self, task_id: str) -> None:
        # Ask about this task alone (its progress socket starts from the answer); a full sweep per
        # submit would poll every running task again each time a slot is refilled.
        self.poller.wake(task_id)
        self.status.waiting_changed()  # every job behind it moved up

    def _client_of(self, job: Job) -> RunningHubClient | None:
        """The client of the pool key that created the job's task (its account owns the workflow)."""
        key = self.pool.get(job.api_key_id)
        return key.client if key is not None else None

    def _workflow_id_of(self, job: Job) -> str | None:
        """The RunningHub workflow a job runs, whose graph names its nodes (None for an AI app)."""
        workflow = workflow_of(job, self.registry)
        return workflow.workflow_id if workflow is not None else None

    async def _succeeded(self, job_id: int) -> None:
        self.scheduler.wake()
        job = await self.journal.get(job_id)
        if job is not None:
            self.status.delivering(job, delivering_status(job, self.clock()))
        self.spawn(self.delivery.deliver(job_id), f"deliver-{job_id}")

    async def _ended(self, job_id: int) -> None:
        self.scheduler.wake()
        await self._notify_end(job_id)

    # ---- moderator notices (the modlog) --------------------------------------------------------

    async def _unknown(self, job_id: int) -> None:
        await self._tell_modlog_unknown(job_id)
        await self._ended(job_id)

    async def _tell_modlog_unknown(self, job_id: int) -> None:
        job = await self.journal.get(job_id)
        if job is not None and self.modlog is not None:
            await self.modlog.notice(
                job.guild_id, "gov.modlog.unknown", job=job.label, alias=job.alias, member=mention(job.member_id),
                coins=job.cost,
            )

    async def _given_up(self, job: Job, attempts: int) -> None:
        if self.modlog is not None:
            await self.modlog.notice(
                job.guild_id, "gov.modlog.delivery_given_up", job=job.label, alias=job.alias,
                member=mention(job.member_id), attempts=attempts, number=job.id,
            )

    async def _refused_for_coins(self, job: Job) -> None:
        await self._out_of_coins(job.guild_id)

    async def _out_of_coins(self, guild_id: int) -> None:
        """RunningHub has no coins left (416/812, remainCoins 0): tell the guild's moderators, not too often."""
        now = self.clock()
        if self.modlog is None or now - self._out_of_coins_told.get(guild_id, -1e18) < OUT_OF_COINS_NOTICE_EVERY:
            return
        self._out_of_coins_told[guild_id] = now
        await self.modlog.notice(guild_id, "gov.modlog.out_of_coins")

    async def _edit_final_status(self, job_id: int) -> None:
        job = await self.journal.get(job_id)
        if job is None or job.status_message_id is None:
            return
        if job.state == JobState.UNKNOWN:
            self.status.unconfirmed(job, final_status(job, self.clock()))  # a moderator may still cancel it
        else:
            self.status.ended(job, final_status(job, self.clock()))

    async def _notify_end(self, job_id: int) -> None:
        """Tell the member how a job ended (failed, cancelled, timed out, unknown), once."""
        job = await self.journal.get(job_id)
        if job is None or job.notified_at is not None:
            return
        if job_id not in self._final_status_shown:  # once, even if the notice must be retried
            await self._edit_final_status(job_id)
            self._final_status_shown.add(job_id)
        text = end_notice(job, self.registry.for_guild(job.guild_id).timeout_for(job.alias))
        try:
            await self.notifier.post_notice(job, text)
        except DeliveryError as exc:
            if exc.transient:
                log.warning("job %s: notice not posted (%s); will try again", job.id, exc)
                return
            log.warning("job %s: notice cannot be posted: %s", job.id, exc)
        await self.journal.set_notified(job.id)
        self._final_status_shown.discard(job_id)


def spooled_name(option: str, data: bytes) -> str:
    """Named by the real content, so RunningHub stores the upload with the right extension."""
    found = sniff(data)
    return f"{option}.{found[1] if found else 'bin'}"


def _reused(inputs: JobInputs) -> dict[str, Reused]:
    return {option: Reused(inputs.files.get(option, option), remote) for option, remote in inputs.uploads.items()}


def _already_ended(job: Job) -> UserError:
    return UserError("job.error.finished", job=job.label, state=Msg(f"job.state.{job.state}"))
