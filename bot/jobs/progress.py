"""Progress sockets for running jobs: at most one per running task, never in the way of a job.

The poller hands over a task's `netWssUrl` each time it sees the task running (`watch`). A socket
is opened once per job, kept while the job runs and closed when it ends (`stop`) or is no longer
among the running jobs (`keep_only`, after every sweep), so there are never more sockets than
running tasks. A socket that is refused, closes early or falls silent is simply dropped (and
tried again a few times, later); the job never waits for it, and its status shows the elapsed
time instead. Polling alone decides how a job ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import RunningHubError
from bot.runninghub.progress import IDLE_TIMEOUT, Progress, ProgressLost, node_classes_of

log = logging.getLogger(__name__)

RETRY_AFTER = 20.0  # seconds before a lost socket is opened again
MAX_ATTEMPTS = 3  # sockets per job before its status keeps to the elapsed time
GRAPH_TIMEOUT = 10.0  # seconds to fetch a workflow's node classes before opening without them


@dataclass
class _Watch:
    attempts: int = 0
    retry_at: float = 0.0
    finished: bool = False  # ComfyUI said the run ended: nothing more to hear


class ProgressWatch:
    def __init__(
        self,
        client: RunningHubClient,
        *,
        on_progress: Callable[[int, Progress], None],
        clock: Callable[[], float] = time.monotonic,
        idle_timeout: float = IDLE_TIMEOUT,
        retry_after: float = RETRY_AFTER,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        """`on_progress(job_id, progress)` is called for every new value (it must not block)."""
        self.client = client
        self.on_progress = on_progress
        self.clock = clock
        self.idle_timeout = idle_timeout
        self.retry_after = retry_after
        self.max_attempts = max_attempts
        self._sockets: dict[int, asyncio.Task[None]] = {}
        self._watches: dict[int, _Watch] = {}
        self._latest: dict[int, Progress] = {}
        self._graphs: dict[str, dict[str, str]] = {}
        self.opened = 0  # sockets opened so far (for tests and /health)

    def latest(self, job_id: int) -> Progress | None:
        return self._latest.get(job_id)

    def open_count(self) -> int:
        return len(self._sockets)

    def watch(self, job_id: int, workflow_id: str | None, url: str | None,
              client: RunningHubClient | None = None) -> None:
        """The job's task runs: open its socket unless one is open, or it was lost too often.

        `workflow_id`: the RunningHub workflow whose graph names the nodes (None for an AI app).
        """
        if url is None or job_id in self._sockets:
            return
        state = self._watches.setdefault(job_id, _Watch())
        if state.finished or state.attempts >= self.max_attempts or self.clock() < state.retry_at:
            return
        state.attempts += 1
        self.opened += 1
        # `client`: the key that created the task (its account owns the workflow); default ours.
        task = asyncio.create_task(self._read(job_id, workflow_id, url, client or self.client),
                                   name=f"progress-{job_id}")
        self._sockets[job_id] = task
        task.add_done_callback(lambda done: self._closed(job_id, done))

    def stop(self, job_id: int) -> None:
        """The job ended (or left the running state): close its socket and forget it."""
        task = self._sockets.pop(job_id, None)
        if task is not None:
            task.cancel()
        self._watches.pop(job_id, None)
        self._latest.pop(job_id, None)

    def keep_only(self, running: set[int]) -> None:
        """Close the sockets of jobs that are not running any more (whatever ended them)."""
        for job_id in [j for j in {*self._sockets, *self._watches} if j not in running]:
            self.stop(job_id)

    async def close(self) -> None:
        tasks = list(self._sockets.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sockets.clear()

    def _closed(self, job_id: int, task: asyncio.Task[None]) -> None:
        if self._sockets.get(job_id) is task:
            del self._sockets[job_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("job %s: progress reader failed", job_id, exc_info=task.exception())

    async def _read(self, job_id: int, workflow_id: str | None, url: str, client: RunningHubClient) -> None:
        classes = await self._node_classes(workflow_id, client)
        try:
            async for progress in client.progress(url, node_classes=classes, idle_timeout=self.idle_timeout):
                self._latest[job_id] = progress
                self.on_progress(job_id, progress)
        except ProgressLost as exc:
            state = self._watches.get(job_id)
            if state is not None:
                state.retry_at = self.clock() + self.retry_after
            log.info("job %s: %s; showing the elapsed time instead", job_id, exc)
            return
        state = self._watches.get(job_id)
        if state is not None:
            state.finished = True

    async def _node_classes(self, workflow_id: str | None, client: RunningHubClient) -> dict[str, str]:
        """node id -> class_type of the workflow, fetched once per workflow."""
        if workflow_id is None:
            return {}  # an AI app: the node classes come only from the messages themselves
        if workflow_id not in self._graphs:
            try:
                graph = await asyncio.wait_for(client.workflow_json(workflow_id), GRAPH_TIMEOUT)
            except (RunningHubError, TimeoutError) as exc:
                log.info("workflow %s: node classes unavailable (%s)", workflow_id, exc)
                return {}
            self._graphs[workflow_id] = node_classes_of(graph)
        return self._graphs[workflow_id]
