"""Every job's status message: what it says as the job moves, and getting it there.

The job's phases come from the service, the scheduler and the poller (waiting at position N,
queued at RunningHub, running, delivering, ended); progress comes from the task's socket. Each
becomes a text (bot/jobs/status_text.py) handed to the per-channel edit scheduler
(bot/jobs/status_edits.py), which decides when Discord sees it. The cancel button stays on the
message while the job can be cancelled and is removed with the edit that shows its end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum

from bot.db.journal import Job, Journal
from bot.jobs.eta import RunTimes
from bot.jobs.notifier import DeliveryError, Notifier
from bot.jobs.progress import ProgressWatch
from bot.jobs.status_edits import INTERVAL, MIN_PROGRESS_GAP, Edit, EditGone, StatusEdits
from bot.runninghub.client import RunningHubClient
from bot.runninghub.progress import IDLE_TIMEOUT, Progress
from bot.texts.jobs import pending_status, queued_status
from bot.texts.progress import running_text

log = logging.getLogger(__name__)


class Phase(StrEnum):
    WAITING = "waiting"
    QUEUED = "queued"
    RUNNING = "running"
    UNCONFIRMED = "unconfirmed"  # RunningHub did not confirm the start
    DELIVERING = "delivering"
    ENDED = "ended"


FLUSH_AT_STOP = 5.0  # seconds spent at shutdown on status edits still due
# Waiting positions are re-read at most this often: a channel's edits go out once per 1.1 s at
# most, and each read goes over every waiting job, which a busy queue would do after every start.
WAITING_REREAD = 1.0

CANCELLABLE = (Phase.WAITING, Phase.QUEUED, Phase.RUNNING, Phase.UNCONFIRMED)


class StatusBoard:
    def __init__(
        self,
        journal: Journal,
        client: RunningHubClient,
        notifier: Notifier,
        *,
        workflow_of: Callable[[Job], str | None],
        client_of: Callable[[Job], RunningHubClient | None] | None = None,
        waiting_order: Callable[[], Awaitable[Sequence[Job]]],
        clock: Callable[[], float] = time.time,
        interval: float = INTERVAL,
        min_progress_gap: float = MIN_PROGRESS_GAP,
        idle_timeout: float = IDLE_TIMEOUT,
        progress_sockets: bool = True,
        waiting_reread: float = WAITING_REREAD,
    ) -> None:
        """`waiting_order()` lists the waiting jobs in the order the scheduler will start them;
        `progress_sockets=False` never opens a task's socket (the status shows the elapsed time)."""
        self.progress_sockets = progress_sockets
        self.journal = journal
        self.notifier = notifier
        self.clock = clock
        self.waiting_order = waiting_order
        self.edits = StatusEdits(self._send, interval=interval, min_progress_gap=min_progress_gap)
        self.workflow_of = workflow_of
        self.client_of = client_of  # the key a job's task belongs to
        self.sockets = ProgressWatch(client, on_progress=self.progress, idle_timeout=idle_timeout)
        self.run_times = RunTimes(journal)
        self._jobs: dict[int, Job] = {}  # the latest snapshot of each job with a live status
        self._phase: dict[int, Phase] = {}
        self._medians: dict[int, float | None] = {}
        self._progress: dict[int, Progress] = {}  # the latest from each running job's socket
        self._waiting_moved = asyncio.Event()
        self.waiting_reread = waiting_reread

    async def run(self) -> None:
        """Send the edits, and re-read the waiting order whenever it may have changed."""
        await asyncio.gather(self.edits.run(), self._follow_waiting())

    async def _follow_waiting(self) -> None:
        while True:
            await self._waiting_moved.wait()
            self._waiting_moved.clear()
            try:
                await self.waiting_moved()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("waiting positions not updated")
            await asyncio.sleep(self.waiting_reread)  # the moves meanwhile are read together, after

    def waiting_changed(self) -> None:
        """A job started, arrived or left: positions are re-read soon (once for many calls)."""
        self._waiting_moved.set()

    async def close(self, flush: float = FLUSH_AT_STOP) -> None:
        """Close the sockets and show the ends that are still waiting for their edit."""
        await self.sockets.close()
        await self.edits.flush(flush)

    def phase(self, job_id: int) -> Phase | None:
        return self._phase.get(job_id)

    # ---- phases ------------------------------------------------------------------------------

    def posted(self, job: Job, text: str, phase: Phase = Phase.WAITING) -> None:
        """The status message was just posted with `text` (and its cancel button)."""
        self._jobs[job.id] = job
        self._phase[job.id] = phase
        self.edits.posted(job.id, job.channel_id, text)

    async def waiting_moved(self) -> None:
        """Jobs started or arrived: every waiting job's position, in the scheduler's real order."""
        for position, job in enumerate(await self.waiting_order(), start=1):
            if job.status_message_id is None:
                continue
            self._show(job, Phase.WAITING, pending_status(job, position))

    def queued(self, job: Job) -> None:
        self._show(job, Phase.QUEUED, queued_status(job))

    async def running(self, job: Job, net_wss_url: str | None) -> None:
        """A poll saw the task running: open its progress socket, show what is known."""
        if job.id not in self._medians:
            self._medians[job.id] = await self.run_times.median(job.alias)
        if self.progress_sockets:
            client = self.client_of(job) if self.client_of is not None else None
            self.sockets.watch(job.id, self.workflow_of(job), net_wss_url, client)
        self._show(job, Phase.RUNNING, self.running_text(job))

    def unconfirmed(self, job: Job, text: str) -> None:
        self._close(job.id)
        self._show(job, Phase.UNCONFIRMED, text)

    def delivering(self, job: Job, text: str) -> None:
        self._close(job.id)
        self.run_times.forget(job.alias)
        self._show(job, Phase.DELIVERING, text)

    def ended(self, job: Job, text: str) -> None:
        """The job ended: this text is its last, and the cancel button goes with it."""
        self._close(job.id)
        self._show(job, Phase.ENDED, text, final=True)

    def running_jobs(self, job_ids: set[int]) -> None:
        """After a sweep: the jobs at RunningHub now; sockets of any other job are closed."""
        self.sockets.keep_only(job_ids)

    # ---- plumbing ----------------------------------------------------------------------------

    def _close(self, job_id: int) -> None:
        self.sockets.stop(job_id)
        self._medians.pop(job_id, None)
        self._progress.pop(job_id, None)

    def _show(self, job: Job, phase: Phase, text: str, *, final: bool = False) -> None:
        if job.status_message_id is None:
            return
        changed = self._phase.get(job.id) != phase
        self._jobs[job.id] = job
        self._phase[job.id] = phase
        # A new waiting position counts as a change of phase: it is what a waiting member watches.
        urgent = changed or phase == Phase.WAITING
        self.edits.show(job.id, job.channel_id, text, phase_changed=urgent, final=final)

    def running_text(self, job: Job) -> str:
        """What the job's status says while it runs, from what is known now."""
        return running_text(job, self._progress.get(job.id), self._medians.get(job.id), self.clock())

    def progress(self, job_id: int, progress: Progress) -> None:
        """News from the job's progress socket: its status shows it at the channel's next turn."""
        job = self._jobs.get(job_id)
        if job is None or self._phase.get(job_id) != Phase.RUNNING:
            return
        self._progress[job_id] = progress
        self.edits.show(job.id, job.channel_id, self.running_text(job), phase_changed=False)

    async def _send(self, edit: Edit) -> None:
        job = self._jobs.get(edit.job_id)
        if job is None or job.status_message_id is None:
            raise EditGone
        phase = self._phase.get(edit.job_id)
        try:
            # The button was posted with the message: it is only ever taken away.
            cancellable = None if phase in CANCELLABLE else False
            shown = await self.notifier.edit_status(job, edit.text, cancellable=cancellable)
        except DeliveryError as exc:
            if exc.transient:
                raise  # tried again next round
            log.info("job %s: status message cannot be edited: %s", job.id, exc)
            shown = False
        if edit.final or not shown:
            self._forget(edit.job_id)
        if not shown:
            raise EditGone

    def _forget(self, job_id: int) -> None:
        if self._phase.get(job_id) == Phase.ENDED:
            self._jobs.pop(job_id, None)
            self._phase.pop(job_id, None)
