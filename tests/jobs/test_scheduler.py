"""The scheduler's pass: what it reads when there is no room (the pool's submits are in test_keypool)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from bot.db.journal import Job
from bot.jobs.states import JobState
from tests.jobs.conftest import World


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.0, "run_seconds": 30.0, "concurrency": 1}])
async def test_a_pass_with_every_slot_taken_reads_no_waiting_job_and_submits_nothing(
    world: World, sim_options: dict
) -> None:
    jobs = [await world.generate("z-image", member=10 + i) for i in range(3)]
    scheduler = world.service.scheduler
    await scheduler.submit_ready()  # the one slot goes to the first job
    assert (await world.job(jobs[0].id)).state == JobState.RUNNING

    read: list[tuple[JobState, ...]] = []
    journal_read, heads_read = scheduler.journal.in_states, scheduler.journal.ready_heads

    async def spy(states: Iterable[JobState]) -> list[Job]:
        read.append(tuple(states))
        return await journal_read(states)

    async def heads_spy(now: float, per_member: int | None) -> list[Job]:
        read.append((JobState.PENDING,))
        return await heads_read(now, per_member)

    scheduler.journal.in_states = spy  # type: ignore[method-assign]
    scheduler.journal.ready_heads = heads_spy  # type: ignore[method-assign]
    await scheduler.submit_ready()
    assert read and not any(JobState.PENDING in states for states in read)  # a long queue is not read for nothing
    assert len(world.sim.creates()) == 1
    assert [(await world.job(j.id)).state for j in jobs[1:]] == [JobState.PENDING, JobState.PENDING]


async def test_ready_heads_are_each_members_oldest_due_jobs(world: World) -> None:
    journal = world.journal
    a = [await world.generate("z-image", member=10) for _ in range(3)]
    b = [await world.generate("z-image", member=11) for _ in range(2)]
    await journal.postpone(a[0].id, 60)  # not due for a minute: the member's next job heads the line
    now = world.service.clock()

    def ids(jobs: list[Job]) -> list[int]:
        return [job.id for job in jobs]

    assert ids(await journal.ready_heads(now, per_member=1)) == [a[1].id, b[0].id]
    assert ids(await journal.ready_heads(now, per_member=2)) == [a[1].id, a[2].id, b[0].id, b[1].id]
    assert ids(await journal.ready_heads(now, per_member=None)) == [a[1].id, a[2].id, b[0].id, b[1].id]
    due = await journal.next_attempt_after(now)
    assert due is not None and 59 < due - now <= 61
    assert await journal.next_attempt_after(due) is None
