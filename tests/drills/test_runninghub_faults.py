"""Drills: RunningHub down, hanging, answering 5xx, broken JSON, and "queue full" for stretches.

The job service runs in this process without Discord (a recording notifier), against the
simulator and a real SQLite file. Jobs must wait out the trouble and then complete; a task that
actually finished is charged exactly its cost, never refunded; nothing is created twice.
A create whose answer is lost (5xx, broken JSON, no answer) is the one exception, by design:
the task may exist, so the job is 'unknown', holds its coins and is never sent again.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.journal import Job
from bot.jobs.states import JobState
from bot.runninghub.simulator import CREATE_PATH, Simulator
from tests.drills.support import ledger_rows, prompt_of
from tests.jobs.conftest import GUILD, World, open_world, png_bytes
from tests.waiting import eventually

UPLOAD_PATH = "/task/openapi/upload"
OUTPUTS_PATH = "/task/openapi/outputs"
CONCURRENCY = 2
COST = 10  # z-image


def closed_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Like tests/jobs' world, but the simulator is NOT started: each drill starts it when it wants."""
    port = closed_port()
    base_url = f"http://127.0.0.1:{port}"
    sim = Simulator(queue_seconds=0.1, run_seconds=0.4, concurrency=CONCURRENCY)
    # Short timeouts so a hang costs a fraction of a second; retries as in production, only faster.
    built = await open_world(tmp_path, sim, base_url=base_url, concurrency=CONCURRENCY, client_options={
        "request_timeout": 0.5, "upload_timeout": 0.5, "backoff_base": 0.02, "backoff_cap": 0.1})
    built.service.scheduler.backoff_base = 0.02
    built.sim_port = port  # type: ignore[attr-defined]
    try:
        yield built
    finally:
        await built.close()


async def start_sim(world: World) -> None:
    await world.sim.start(port=world.sim_port)  # type: ignore[attr-defined]


async def check_charged_once(world: World, jobs: list[Job]) -> None:
    """Delivered once, charged exactly the cost, never released; one task per job at RunningHub."""
    for job in jobs:
        done = await world.job(job.id)
        assert done.state == JobState.DELIVERED, (job.id, done.state, done.error)
        assert await ledger_rows(world.db, job.id) == [("hold", -COST, COST), ("charge", 0, -COST)]
        assert done.consume_coins is not None  # RunningHub's own figure, recorded beside the charge
        assert len(world.notifier.of("result", job.id)) == 1
        prompt = job.inputs["prompt"]
        assert sum(prompt_of(t.node_info_list) == prompt for t in world.sim.tasks.values()) == 1
    await world.books_balance()


async def check_cost_charged(world: World, job_id: int) -> None:
    job = await world.job(job_id)
    assert job.state == JobState.DELIVERED and len(world.notifier.of("result", job_id)) == 1
    assert await ledger_rows(world.db, job_id) == [("hold", -job.cost, job.cost), ("charge", 0, -job.cost)]


async def test_runninghub_refusing_connections_then_coming_up(world: World) -> None:
    await world.service.start()
    jobs = [await world.generate("z-image", member=m, prompt=f"offline {m}") for m in (1, 2, 3)]
    # A job with files waits too: they are kept on disk and uploaded once RunningHub answers.
    styled = await world.generate("style-transfer", member=4, prompt=None,
                                  images=[png_bytes(), png_bytes((0, 0, 9))])

    # The scheduler keeps trying and backing off; the jobs wait, holding their coins.
    await eventually(lambda: _attempts_at_least(world, jobs[0].id, 2), timeout=10)
    health = await world.service.health()
    assert health.keys[0].account is None and health.keys[0].error
    assert health.waiting == 4
    for job in jobs:
        assert (await world.job(job.id)).state == "pending"
        assert await ledger_rows(world.db, job.id) == [("hold", -COST, COST)]
    assert (await world.job(styled.id)).state == "pending"
    assert (await world.ledger.balance(GUILD, 4)).held == 20

    await start_sim(world)
    for job in [*jobs, styled]:
        await eventually(lambda job=job: world.state_is(job.id, JobState.DELIVERED), timeout=20)
    await check_charged_once(world, jobs)
    assert (await world.service.health()).keys[0].account is not None


async def _attempts_at_least(world: World, job_id: int, count: int) -> bool:
    return (await world.job(job_id)).attempts >= count


async def test_runninghub_hanging_on_uploads_and_polls(world: World) -> None:
    await start_sim(world)
    await world.service.start()
    world.sim.hang_next(2, path=UPLOAD_PATH, seconds=60)  # two uploads never answer; the retries do
    styled = await world.generate("style-transfer", member=1, prompt=None,
                                  images=[png_bytes((1, 2, 3)), png_bytes((4, 5, 6))])
    jobs = [await world.generate("z-image", member=m, prompt=f"hang {m}") for m in (2, 3)]
    await eventually(lambda: world.state_is(jobs[-1].id, "queued", "running"), timeout=10)
    # Now every poll hangs for a while: longer than the tasks take, so they finish unwatched.
    world.sim.hang_next(8, path=OUTPUTS_PATH, seconds=60)
    for job in jobs:
        await eventually(lambda job=job: world.state_is(job.id, JobState.DELIVERED), timeout=30)
    await eventually(lambda: world.state_is(styled.id, JobState.DELIVERED), timeout=30)
    assert len(world.sim.requests_to(UPLOAD_PATH)) == 4  # two hung, two answered
    assert len(world.sim.uploads) == 2
    await check_charged_once(world, jobs)
    await check_cost_charged(world, styled.id)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_runninghub_5xx_and_broken_json_on_polls_and_uploads(world: World, status: int) -> None:
    await start_sim(world)
    await world.service.start()
    world.sim.fail_next(3, status=status, path=UPLOAD_PATH)
    world.sim.malformed_next(1, path=UPLOAD_PATH)
    styled = await world.generate("style-transfer", member=1, prompt=None,
                                  images=[png_bytes((7, 8, 9)), png_bytes((9, 8, 7))])
    jobs = [await world.generate("z-image", member=m, prompt=f"{status} {m}") for m in (2, 3, 4)]
    await eventually(lambda: world.state_is(jobs[0].id, "queued", "running"), timeout=10)
    # A stretch of broken answers to every poll, longer than a task takes.
    world.sim.fail_next(15, status=status, path=OUTPUTS_PATH)
    world.sim.malformed_next(5, path=OUTPUTS_PATH)
    for job in [*jobs, styled]:
        await eventually(lambda job=job: world.state_is(job.id, JobState.DELIVERED), timeout=30)
    await check_charged_once(world, jobs)
    await check_cost_charged(world, styled.id)
    assert not world.notifier.of("notice")  # nobody was told their job failed


@pytest.mark.parametrize("code", [421, 415])
async def test_queue_full_for_stretches_leaves_jobs_pending_then_runs_them(world: World, code: int) -> None:
    await start_sim(world)
    world.sim.fail_next_with_code(5, code, path=CREATE_PATH)
    jobs = [await world.generate("z-image", member=m % 4, prompt=f"busy {code} {m}") for m in range(8)]
    await world.service.start()
    await eventually(lambda: _any_delivered(world, jobs), timeout=20)
    world.sim.fail_next_with_code(5, code, path=CREATE_PATH)  # a second stretch, with jobs still waiting
    for job in jobs:
        await eventually(lambda job=job: world.state_is(job.id, JobState.DELIVERED), timeout=30)
    assert len(world.sim.creates()) == 10 + len(jobs)  # each refusal, then exactly one real create each
    assert sum([(await world.job(job.id)).attempts for job in jobs]) == 10
    assert world.sim.max_concurrent_seen <= CONCURRENCY
    await check_charged_once(world, jobs)


async def _any_delivered(world: World, jobs: list[Job]) -> bool:
    return any([await world.state_is(job.id, JobState.DELIVERED) for job in jobs])


@pytest.mark.parametrize("fault", ["500", "502", "503", "malformed", "hang", "lost"])
async def test_a_create_without_a_usable_answer_is_unknown_and_never_sent_again(world: World, fault: str) -> None:
    await start_sim(world)
    if fault == "malformed":
        world.sim.malformed_next(1, path=CREATE_PATH)
    elif fault == "hang":
        world.sim.hang_next(1, path=CREATE_PATH, seconds=0.8)  # answered after the client gave up
    elif fault == "lost":
        world.sim.lose_answer_next(1, path=CREATE_PATH)
    else:
        world.sim.fail_next(1, status=int(fault), path=CREATE_PATH)
    await world.service.start()
    job = await world.generate("z-image", member=5, prompt=f"create {fault}")
    later = await world.generate("z-image", member=6, prompt=f"after {fault}")
    await eventually(lambda: world.state_is(job.id, JobState.UNKNOWN), timeout=10)
    await eventually(lambda: world.state_is(later.id, JobState.DELIVERED), timeout=20)  # the queue goes on
    await asyncio.sleep(1.0)  # many scheduler and poller passes
    creates = [r for r in world.sim.creates() if prompt_of(r.json["nodeInfoList"]) == f"create {fault}"]
    assert len(creates) == 1
    assert await ledger_rows(world.db, job.id) == [("hold", -COST, COST)]  # held until someone decides
    health = await world.service.health()
    assert [j.id for j in health.unknown] == [job.id]
    assert (await world.job(job.id)).state == JobState.UNKNOWN and not world.notifier.of("result", job.id)
    await check_charged_once(world, [later])


async def test_a_task_that_fails_at_runninghub_is_refunded_once(world: World) -> None:
    # The other side of "never refund a finished task": a real failure is refunded, polls flaky or not.
    await start_sim(world)
    await world.service.start()
    world.sim.fail_next_task()
    job = await world.generate("z-image", member=7, prompt="out of memory")
    await eventually(lambda: world.state_is(job.id, "queued", "running"), timeout=10)
    world.sim.fail_next(4, status=502, path=OUTPUTS_PATH)
    await eventually(lambda: world.state_is(job.id, JobState.FAILED), timeout=20)
    assert await ledger_rows(world.db, job.id) == [("hold", -COST, COST), ("release", COST, -COST)]
    await world.books_balance()


async def test_a_lost_create_holds_the_only_slot_only_while_runninghub_runs_it(world: World) -> None:
    world.sim.concurrency = 1
    world.sim.run_seconds = 1.0
    world.service = world.new_service(RUNNINGHUB_CONCURRENCY="1")
    world.service.scheduler.backoff_base = 0.02
    await start_sim(world)
    world.sim.lose_answer_next(1, path=CREATE_PATH)  # RunningHub starts the task; the answer is lost
    await world.service.start()
    lost = await world.generate("z-image", member=1, prompt="answer lost")
    await eventually(lambda: world.state_is(lost.id, JobState.UNKNOWN), timeout=10)
    after = await world.generate("z-image", member=2, prompt="next in line")
    await eventually(lambda: world.state_is(after.id, JobState.DELIVERED), timeout=8)  # not 1200 s later
    # ...and not before the lost task had ended: the account never ran two at once.
    (task,) = [t for t in world.sim.tasks.values() if prompt_of(t.node_info_list) == "answer lost"]
    assert task.finished_at is not None
    nexts = [r for r in world.sim.creates() if prompt_of(r.json["nodeInfoList"]) == "next in line"]
    assert nexts and all(r.at >= task.finished_at for r in nexts)
    assert world.sim.max_concurrent_seen == 1
    await check_charged_once(world, [after])
    assert await ledger_rows(world.db, lost.id) == [("hold", -COST, COST)]
