"""Status-message edits, coalesced per channel so a busy channel stays within Discord's limits.

Discord allows about 5 message edits per 5 s per channel. Every job asks for the text its status
should show (`show`); this scheduler decides when each edit goes out:

- One edit at a time per channel, and the next no sooner than `interval` after the last one
  finished: at most 1/interval edits per second per channel, whatever the load.
- Only a text that differs from what the message shows is sent; asking again for a text not yet
  sent replaces it (the message jumps to the newest text, the ones between are never sent).
- A change of *phase* (waiting position, queued, running, ended) goes before any change of
  progress (percentage, node), the oldest first: so phase changes wait only for each other.
- Progress takes what is left, the status edited longest ago first (a round-robin): with n
  statuses in a channel each one's progress is refreshed about every n * interval seconds
  (Discord's limit allows no more), and never more often than `min_progress_gap`.

Discord-free and driven by `clock`: `due(now)` is the whole decision, `run()` only sleeps and
sends, so tests use a fake clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

INTERVAL = 1.1  # seconds between edits in one channel: under Discord's 5 per 5 s, with margin
MIN_PROGRESS_GAP = 2.0  # seconds between progress-only edits of one status, even in a quiet channel


class EditGone(Exception):
    """The message cannot be edited any more (deleted, no access): forget the status."""


@dataclass
class _Status:
    job_id: int
    channel_id: int
    wanted: str
    shown: str | None
    urgent: bool  # the phase changed since the message was last edited
    changed_at: float  # when `wanted` first differed from `shown`
    edited_at: float
    final: bool = False  # forget it once this text is shown


@dataclass(frozen=True)
class Edit:
    job_id: int
    channel_id: int
    text: str
    waited: float  # how long the change was due before it went out (its staleness)
    final: bool
    urgent: bool


class StatusEdits:
    def __init__(
        self,
        send: Callable[[Edit], Awaitable[None]],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = INTERVAL,
        min_progress_gap: float = MIN_PROGRESS_GAP,
    ) -> None:
        """`send(edit)` edits the job's status message (a final one also removes its buttons); it
        raises EditGone when it never can, any other exception to be tried again next round."""
        self.send = send
        self.clock = clock
        self.interval = interval
        self.min_progress_gap = min_progress_gap
        self._statuses: dict[int, _Status] = {}
        self._free_at: dict[int, float] = {}  # channel -> when its next edit may start
        self._busy: set[int] = set()  # channels with an edit in flight
        self._wake = asyncio.Event()
        self._deadline: float | None = None  # when run() looks again unwoken (None: only when woken)
        self.sent = 0  # edits that reached their message
        self.asked = 0  # new texts asked for (each a change from the text wanted before)
        self.longest_wait = 0.0
        self.passes = 0  # times run() looked for due edits

    # ---- what jobs ask for -------------------------------------------------------------------

    def show(self, job_id: int, channel_id: int, text: str, *, phase_changed: bool, final: bool = False) -> None:
        """Ask for the job's status message to read `text` (`phase_changed`: due at once).

        `final`: the job ended; the status is forgotten once this text is shown.
        """
        now = self.clock()
        status = self._statuses.get(job_id)
        if status is None:
            # Not posted by this process (a restart): what the message shows is unknown.
            self._statuses[job_id] = _Status(job_id, channel_id, text, None, True, now, 0.0, final)
            self.asked += 1
            self._nudge(self._statuses[job_id])
            return
        if text == status.shown:
            status.wanted, status.urgent = text, False
            if final:
                del self._statuses[job_id]
            return
        becomes_urgent = (phase_changed or final) and not (status.urgent or status.final)
        if status.wanted == status.shown or becomes_urgent:  # the clock of this change starts now
            status.changed_at = now
        if text != status.wanted:
            self.asked += 1
        status.wanted = text
        status.urgent = status.urgent or phase_changed or final
        status.final = status.final or final
        self._nudge(status)

    def _nudge(self, status: _Status) -> None:
        """Wake run() only when this status may be due before run() looks again by itself: progress
        arrives many times a second, and each wake costs a pass over every status."""
        if status.channel_id in self._busy:
            return  # the edit on its way wakes run() when it ends
        at = self._eligible_at(status)
        if at is None:
            return
        at = max(at, self._free_at.get(status.channel_id, 0.0))
        if self._deadline is None or at < self._deadline:
            self._wake.set()

    def posted(self, job_id: int, channel_id: int, text: str) -> None:
        """The status message was just posted with `text` (nothing to edit yet)."""
        now = self.clock()
        self._statuses[job_id] = _Status(job_id, channel_id, text, text, False, now, now)

    def forget(self, job_id: int) -> None:
        self._statuses.pop(job_id, None)

    def shown(self, job_id: int) -> str | None:
        status = self._statuses.get(job_id)
        return status.shown if status is not None else None

    def tracked(self) -> int:
        return len(self._statuses)

    # ---- the decision ------------------------------------------------------------------------

    def _channel_load(self) -> dict[int, int]:
        load: dict[int, int] = {}
        for status in self._statuses.values():
            load[status.channel_id] = load.get(status.channel_id, 0) + 1
        return load

    def _eligible_at(self, status: _Status) -> float | None:
        """When the status may be edited next; None while it shows what it should."""
        if status.wanted == status.shown:
            return None
        if status.urgent or status.final:
            return status.changed_at
        return max(status.changed_at, status.edited_at + self.min_progress_gap)

    def _waited(self, status: _Status, now: float, load: int) -> float:
        """How long the change has waited beyond its due time (its staleness)."""
        if status.urgent or status.final:
            return max(0.0, now - status.changed_at)
        # Progress is due once per round of the channel: n statuses share 1/interval edits a second.
        return max(0.0, now - max(status.changed_at, status.edited_at + load * self.interval))

    def due(self, now: float) -> list[Edit]:
        """The edits to start now: at most one per channel. Phase changes first, the oldest first;
        then progress, the status edited longest ago first."""
        load = self._channel_load()
        best: dict[int, tuple[tuple[int, float], _Status]] = {}
        for status in self._statuses.values():
            channel = status.channel_id
            if channel in self._busy or self._free_at.get(channel, 0.0) > now:
                continue
            at = self._eligible_at(status)
            if at is None or at > now:
                continue
            urgent = status.urgent or status.final
            key = (0, status.changed_at) if urgent else (1, status.edited_at)
            if channel not in best or key < best[channel][0]:
                best[channel] = (key, status)
        edits = []
        for channel, (_key, status) in best.items():
            waited = self._waited(status, now, load[channel])
            edits.append(Edit(status.job_id, channel, status.wanted, waited, status.final, status.urgent))
            # A phase change that arrives while this edit is on its way is due again at once.
            status.urgent = False
        return edits

    def next_wake(self, now: float) -> float | None:
        """The earliest time something may become due (None: nothing pending)."""
        soonest: float | None = None
        for status in self._statuses.values():
            if status.channel_id in self._busy:
                continue
            at = self._eligible_at(status)
            if at is None:
                continue
            at = max(at, self._free_at.get(status.channel_id, 0.0))
            soonest = at if soonest is None else min(soonest, at)
        return soonest

    # ---- sending -----------------------------------------------------------------------------

    async def run(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._wake.clear()
                self.passes += 1
                now = self.clock()
                for edit in self.due(now):
                    self._busy.add(edit.channel_id)
                    task = asyncio.create_task(self._send(edit), name=f"status-edit-{edit.job_id}")
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                wake = self.next_wake(now)
                self._deadline = wake
                # asyncio.timeout, not wait_for: on 3.11 a wait_for cancelled at the wrong moment
                # could leave this loop stuck "cancelling" at shutdown.
                try:
                    async with asyncio.timeout(None if wake is None else max(0.005, wake - self.clock())):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            for task in tasks:
                task.cancel()

    async def flush(self, limit: float) -> None:
        """At shutdown: send what is still due (ends first), at the usual pace, for at most `limit` s."""
        try:
            async with asyncio.timeout(limit):
                while True:
                    now = self.clock()
                    edits = self.due(now)
                    if edits:
                        for edit in edits:
                            self._busy.add(edit.channel_id)
                        await asyncio.gather(*(self._send(edit) for edit in edits))
                        continue
                    wake = self.next_wake(now)
                    if wake is None or not any(s.urgent or s.final for s in self._statuses.values()
                                               if s.wanted != s.shown):
                        return
                    await asyncio.sleep(max(0.005, wake - now))
        except TimeoutError:
            log.info("%d status messages left unedited at shutdown", self.pending())

    def pending(self) -> int:
        return sum(1 for s in self._statuses.values() if s.wanted != s.shown)

    async def _send(self, edit: Edit) -> None:
        ok = False
        try:
            await self.send(edit)
            ok = True
        except EditGone:
            self._statuses.pop(edit.job_id, None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("job %s: status edit failed (%s); trying again later", edit.job_id, exc)
            self.failed(edit)
        finally:
            self._busy.discard(edit.channel_id)
            self._free_at[edit.channel_id] = self.clock() + self.interval
            self._wake.set()
        if ok:
            self.edited(edit)

    def edited(self, edit: Edit) -> None:
        """Record an edit that reached the message (run() calls it; tests driving `due` may too)."""
        self.sent += 1
        self.longest_wait = max(self.longest_wait, edit.waited)
        status = self._statuses.get(edit.job_id)
        if status is None:
            return
        now = self.clock()
        status.shown, status.edited_at = edit.text, now
        if status.final and status.wanted == edit.text:
            del self._statuses[edit.job_id]
            return
        if status.wanted != status.shown:
            status.changed_at = now  # a newer text arrived while this one was on its way

    def failed(self, edit: Edit) -> None:
        status = self._statuses.get(edit.job_id)
        if status is not None:
            status.urgent = status.urgent or edit.urgent

    def mark_sent(self, edit: Edit) -> None:
        """For tests that drive `due` themselves: the channel's edit finished now."""
        self._free_at[edit.channel_id] = self.clock() + self.interval
        self.edited(edit)
