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
    journal_read = scheduler.journal.in_states

    async def spy(states: Iterable[JobState]) -> list[Job]:
        read.append(tuple(states))
        return await journal_read(states)

    scheduler.journal.in_states = spy  # type: ignore[method-assign]
    await scheduler.submit_ready()
    assert read and not any(JobState.PENDING in states for states in read)  # a long queue is not read for nothing
    assert len(world.sim.creates()) == 1
    assert [(await world.job(j.id)).state for j in jobs[1:]] == [JobState.PENDING, JobState.PENDING]
