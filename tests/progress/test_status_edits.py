"""The per-channel status-edit scheduler, driven by a fake clock (no Discord, no sleeping)."""

from __future__ import annotations

import asyncio
import itertools

from bot.jobs.status_edits import INTERVAL, Edit, EditGone, StatusEdits

CHANNEL, OTHER = 10, 20


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _never(edit: Edit) -> None:
    raise AssertionError("tests here drive due() themselves")


def board(clock: Clock) -> StatusEdits:
    return StatusEdits(_never, clock=clock)


def step(edits: StatusEdits, clock: Clock, log: list[tuple[float, Edit]]) -> None:
    """One scheduling moment: every due edit is carried out at once."""
    for edit in edits.due(clock.now):
        log.append((clock.now, edit))
        edits.mark_sent(edit)


def test_200_running_jobs_in_one_channel_stay_under_one_edit_a_second_and_phase_changes_wait_under_30s() -> None:
    clock = Clock()
    edits = board(clock)
    jobs = range(1, 201)
    for job in jobs:
        edits.posted(job, CHANNEL, f"#{job} running 0%")
    log: list[tuple[float, Edit]] = []
    percent = dict.fromkeys(jobs, 0)
    started = clock.now
    # 600 s: progress every second for every job; every 3 s one job ends (a phase change).
    for tick in range(6000):
        clock.now = started + tick * 0.1
        if tick % 10 == 0:
            for job in list(percent):
                percent[job] += 1
                edits.show(job, CHANNEL, f"#{job} running {percent[job]}%", phase_changed=False)
        if tick % 30 == 0 and tick and percent:
            ended = min(percent)
            del percent[ended]
            edits.show(ended, CHANNEL, f"#{ended} done", phase_changed=True, final=True)
        step(edits, clock, log)
    times = [at for at, _ in log]
    # At most one edit per INTERVAL in the channel, so never more than 5 in any 5 s window.
    assert all(b - a >= INTERVAL - 1e-9 for a, b in itertools.pairwise(times))
    assert max(sum(1 for t in times if s <= t < s + 5) for s in times) <= 5
    assert len(log) >= 500  # and the budget is used, not wasted
    # The first "running" edit of every job and every "done" edit: within 30 s of being asked for.
    phase = [e for _, e in log if e.urgent or e.final]
    assert phase and max(e.waited for e in phase) <= 30
    assert all(any(e.job_id == job and e.text.endswith("done") for _, e in log) for job in range(1, 101))
    # Progress of a job is refreshed about once a round of the channel (200 statuses x INTERVAL).
    progress_gaps = _gaps([at for at, e in log if e.job_id == 150 and "running" in e.text])
    assert progress_gaps and max(progress_gaps) <= 200 * INTERVAL + 35


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_an_unchanged_text_is_never_sent_and_a_change_back_cancels_the_edit() -> None:
    clock = Clock()
    edits = board(clock)
    edits.posted(1, CHANNEL, "running 10%")
    log: list[tuple[float, Edit]] = []
    for _ in range(50):
        clock.now += 1
        edits.show(1, CHANNEL, "running 10%", phase_changed=False)
        step(edits, clock, log)
    assert log == []
    edits.show(1, CHANNEL, "running 20%", phase_changed=False)
    edits.show(1, CHANNEL, "running 10%", phase_changed=False)  # back to what is shown
    clock.now += 60
    step(edits, clock, log)
    assert log == []


def test_only_the_newest_text_goes_out_and_channels_do_not_wait_for_each_other() -> None:
    clock = Clock()
    edits = board(clock)
    edits.posted(1, CHANNEL, "a")
    edits.posted(2, OTHER, "a")
    for text in ("b", "c", "d"):
        edits.show(1, CHANNEL, text, phase_changed=True)
    edits.show(2, OTHER, "z", phase_changed=True)
    due = edits.due(clock.now)
    assert sorted((e.channel_id, e.text) for e in due) == [(CHANNEL, "d"), (OTHER, "z")]


def test_the_stalest_change_goes_first() -> None:
    clock = Clock()
    edits = board(clock)
    for job in (1, 2, 3):
        edits.posted(job, CHANNEL, "waiting")
    edits.show(2, CHANNEL, "queued", phase_changed=True)
    clock.now += 1
    edits.show(3, CHANNEL, "queued", phase_changed=True)
    edits.show(1, CHANNEL, "queued", phase_changed=True)
    order = []
    for _ in range(3):
        (edit,) = edits.due(clock.now)
        order.append(edit.job_id)
        edits.mark_sent(edit)
        clock.now += INTERVAL
    assert order[0] == 2 and sorted(order[1:]) == [1, 3]


def test_no_status_goes_staler_than_30s_with_200_jobs_changing_phase_over_ten_minutes() -> None:
    # 200 jobs, each moving waiting -> queued -> running -> done at its own times over 600 s.
    clock = Clock()
    edits = board(clock)
    start = clock.now
    plan: list[tuple[float, int, str]] = []
    for job in range(200):
        begin = job * 3.0
        plan += [(begin, job, "queued"), (begin + 5, job, "running"), (begin + 40, job, "done")]
        edits.posted(job, CHANNEL, "waiting")
    plan.sort()
    log: list[tuple[float, Edit]] = []
    index = 0
    for tick in range(7000):
        clock.now = start + tick * 0.1
        while index < len(plan) and plan[index][0] <= clock.now - start:
            _, job, phase = plan[index]
            edits.show(job, CHANNEL, phase, phase_changed=True, final=phase == "done")
            index += 1
        step(edits, clock, log)
    assert max(e.waited for _, e in log) <= 30
    assert edits.tracked() == 0  # every status reached its final text and was forgotten


async def test_run_sends_through_the_callback_and_forgets_a_message_that_is_gone() -> None:
    sent: list[tuple[int, str]] = []
    done = asyncio.Event()

    async def send(edit: Edit) -> None:
        if edit.job_id == 2:
            raise EditGone
        sent.append((edit.job_id, edit.text))
        done.set()

    edits = StatusEdits(send, interval=0.01)
    edits.posted(1, CHANNEL, "a")
    edits.posted(2, OTHER, "a")
    edits.show(2, OTHER, "b", phase_changed=True)
    edits.show(1, CHANNEL, "b", phase_changed=True, final=True)
    runner = asyncio.create_task(edits.run())
    try:
        await asyncio.wait_for(done.wait(), 2)
        for _ in range(50):
            if edits.tracked() == 0:
                break
            await asyncio.sleep(0.01)
    finally:
        runner.cancel()
    assert sent == [(1, "b")]
    assert edits.tracked() == 0


async def test_a_failed_edit_is_tried_again() -> None:
    attempts: list[str] = []

    async def send(edit: Edit) -> None:
        attempts.append(edit.text)
        if len(attempts) == 1:
            raise RuntimeError("Discord answered 503")

    edits = StatusEdits(send, interval=0.01)
    edits.posted(1, CHANNEL, "a")
    edits.show(1, CHANNEL, "b", phase_changed=True)
    runner = asyncio.create_task(edits.run())
    try:
        for _ in range(200):
            if edits.shown(1) == "b":
                break
            await asyncio.sleep(0.01)
    finally:
        runner.cancel()
    assert attempts == ["b", "b"] and edits.shown(1) == "b"


async def test_progress_for_a_channel_waiting_its_turn_does_not_wake_the_sender_yet_the_newest_text_goes_out() -> None:
    sent: list[tuple[int, str]] = []

    async def send(edit: Edit) -> None:
        sent.append((edit.job_id, edit.text))

    edits = StatusEdits(send, interval=0.1, min_progress_gap=0.0)
    for job in range(10):
        edits.posted(job, CHANNEL, "0%")
    runner = asyncio.create_task(edits.run())
    try:
        for percent in range(1, 51):  # 500 progress reports in 0.25 s, while the channel waits its turn
            for job in range(10):
                edits.show(job, CHANNEL, f"{percent}%", phase_changed=False)
                await asyncio.sleep(0)  # each report arrives on its own, as socket frames do
            await asyncio.sleep(0.005)
        for _ in range(300):
            if all(edits.shown(job) == "50%" for job in range(10)):
                break
            await asyncio.sleep(0.02)
    finally:
        runner.cancel()
    assert all(edits.shown(job) == "50%" for job in range(10))  # every status caught up in the end
    assert edits.passes < 100  # a pass per edit and per timer, not one per report (500 before)
