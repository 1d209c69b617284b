"""The key pool: settings, the scheduler's use of every key's slots, uploads with the key that
creates the task, and a refused key leaving the pool. Two simulators stand for two accounts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import ConfigError, settings_from_mapping
from bot.db.journal import Job
from bot.governance.gate import Requester
from bot.jobs.reasons import reason_for_error
from bot.jobs.scheduler import assign
from bot.logs import SecretFilter
from bot.runninghub.client import RunningHubClient
from bot.runninghub.pool import KeyPool, PoolKey, key_fingerprint
from bot.runninghub.simulator import Simulator
from bot.texts import t
from bot.texts.jobs import health_report
from tests.jobs.conftest import World, no_sleep, png_bytes
from tests.waiting import eventually

KEY_A = "a" * 28 + "AAA1"
KEY_B = "b" * 28 + "BBB2"

# ---- settings ------------------------------------------------------------------------------------


def _settings(**env: str):  # type: ignore[no-untyped-def]
    return settings_from_mapping({"RUNNINGHUB_BASE_URL": "https://www.runninghub.cn", **env})


def test_one_concurrency_applies_to_every_key() -> None:
    settings = _settings(RUNNINGHUB_API_KEY=f"{KEY_A}, {KEY_B}", RUNNINGHUB_CONCURRENCY="3")
    assert settings.runninghub_pool() == [(KEY_A, 3), (KEY_B, 3)]
    assert settings.runninghub_concurrency == 6
    assert settings.runninghub_api_key == KEY_A


def test_a_concurrency_list_gives_each_key_its_own() -> None:
    settings = _settings(RUNNINGHUB_API_KEY=f"{KEY_A},{KEY_B}", RUNNINGHUB_CONCURRENCY="1, 4")
    assert settings.runninghub_pool() == [(KEY_A, 1), (KEY_B, 4)]


@pytest.mark.parametrize(
    ("keys", "concurrency", "variable"),
    [
        (f"{KEY_A},{KEY_B}", "1,2,3", "RUNNINGHUB_CONCURRENCY"),
        (f"{KEY_A},{KEY_B}", "1,x", "RUNNINGHUB_CONCURRENCY"),
        (f"{KEY_A},{KEY_B}", "0", "RUNNINGHUB_CONCURRENCY"),
        (f"{KEY_A},,{KEY_B}", "1", "RUNNINGHUB_API_KEY"),
        (f"{KEY_A},{KEY_A}", "1", "RUNNINGHUB_API_KEY"),
        (f"{KEY_A} {KEY_B}", "1", "RUNNINGHUB_API_KEY"),
    ],
)
def test_a_malformed_pool_is_one_line_naming_the_variable(keys: str, concurrency: str, variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(RUNNINGHUB_API_KEY=keys, RUNNINGHUB_CONCURRENCY=concurrency)
    message = str(caught.value)
    assert message.startswith(variable) and "\n" not in message
    assert KEY_A not in message and KEY_B not in message


def test_every_key_of_the_pool_is_kept_out_of_logs() -> None:
    settings = _settings(RUNNINGHUB_API_KEY=f"{KEY_A},{KEY_B}")
    assert KEY_A in settings.secrets() and KEY_B in settings.secrets()
    assert KEY_A not in repr(settings) and KEY_B not in repr(settings)
    redacted = SecretFilter(settings.secrets()).redact(f"keys {KEY_A} and {KEY_B}")
    assert KEY_A not in redacted and KEY_B not in redacted


# ---- assigning jobs to keys ----------------------------------------------------------------------


def _key(index: int, limit: int = 1) -> PoolKey:
    return PoolKey(index=index, key_id=f"k{index}", tail=f"…{index:04d}", concurrency=limit, client=None)  # type: ignore[arg-type]


def _job(job_id: int, pinned: str | None = None) -> Job:
    inputs = {"uploads": {"image": "api/x.png"}, "uploads_key": pinned} if pinned else {}
    return Job(id=job_id, guild_id=1, channel_id=1, member_id=job_id, alias="z", state="pending", inputs=inputs,
               cost=1, task_id=None, status_message_id=None, result_message_id=None, consume_coins=None, error=None,
               locale=None, source_job_id=None, attempts=0, next_attempt_at=0, created_at=0, updated_at=0,
               submitted_at=None, started_at=None, finished_at=None, delivered_at=None)


def _pinned(job: Job) -> str | None:
    return job.inputs.get("uploads_key")


def test_jobs_spread_over_the_keys_with_the_most_room_and_never_past_a_limit() -> None:
    a, b = _key(0, 1), _key(1, 2)
    plan = assign([_job(i) for i in range(1, 6)], {a: 1, b: 2}, _pinned)
    assert [(j.id, k.key_id) for j, k in plan] == [(1, "k1"), (2, "k0"), (3, "k1")]


def test_a_pinned_job_waits_for_its_own_key_and_keeps_no_one_else_waiting() -> None:
    a, b = _key(0), _key(1)
    plan = assign([_job(1, pinned="k0"), _job(2), _job(3)], {b: 1}, _pinned)
    assert [(j.id, k.key_id) for j, k in plan] == [(2, "k1")]
    plan = assign([_job(1, pinned="k0"), _job(2), _job(3)], {a: 1, b: 1}, _pinned)
    assert [(j.id, k.key_id) for j, k in plan] == [(1, "k0"), (2, "k1")]


def test_the_journal_records_a_fingerprint_never_the_key() -> None:
    fingerprint = key_fingerprint(KEY_A)
    assert len(fingerprint) == 12 and fingerprint not in KEY_A and KEY_A[-4:] not in fingerprint


# ---- two accounts through the job service ----------------------------------------------------------


@dataclass
class Pool:
    world: World
    sims: dict[str, Simulator]  # key -> the simulator that is its account
    told: list[str]


@pytest.fixture
async def pool(world: World) -> AsyncIterator[Pool]:
    sims = {KEY_A: Simulator(api_key=KEY_A, queue_seconds=0.02, run_seconds=0.3, concurrency=1),
            KEY_B: Simulator(api_key=KEY_B, queue_seconds=0.02, run_seconds=0.3, concurrency=1)}
    for sim in sims.values():
        await sim.start()
    keys = KeyPool([
        PoolKey(index=i, key_id=key_fingerprint(key), tail="…" + key[-4:], concurrency=1,
                client=RunningHubClient(world.session, sim.base_url, key, request_timeout=2.0, backoff_base=0.01,
                                        backoff_cap=0.05, sleep=no_sleep))
        for i, (key, sim) in enumerate(sims.items())
    ])
    told: list[str] = []

    async def tell(message: str, params: dict[str, object]) -> None:
        told.append(t(message, None, **params))

    await world.service.stop()
    world.service = world.new_service()
    world.service.pool = keys
    world.service.scheduler.pool = keys
    world.service.poller.pool = keys
    world.service.tell_moderators = tell
    world.service.start_loops()
    try:
        yield Pool(world, sims, told)
    finally:
        await world.service.stop()
        for sim in sims.values():
            await sim.stop()


def _busy(sims: dict[str, Simulator]) -> dict[str, int]:
    return {key[-4:]: sim.active_count() for key, sim in sims.items()}


async def test_two_keys_of_one_slot_run_two_jobs_at_once_never_two_on_one_key(pool: Pool) -> None:
    world, sims = pool.world, pool.sims
    seen: list[dict[str, int]] = []
    sampling = True

    async def sample() -> None:
        while sampling:
            seen.append(_busy(sims))
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    images = [png_bytes(color=(i * 40, 0, 0)) for i in range(4)]
    jobs = [await world.generate("upscale", member=10 + i, prompt=None, images=[images[i]]) for i in range(4)]
    for job in jobs:
        await eventually(lambda job=job: world.state_is(job.id, "delivered"), timeout=20)
    sampling = False
    await sampler

    assert max(sum(s.values()) for s in seen) == 2  # both keys in use at once
    assert all(n <= 1 for s in seen for n in s.values())  # never two on one key
    for sim in sims.values():
        assert sim.max_concurrent_seen == 1 and len(sim.creates()) == 2
    for job in jobs:
        done = await world.job(job.id)
        key = next(k for k in sims if key_fingerprint(k) == done.api_key_id)
        sim = sims[key]
        assert done.task_id in sim.tasks  # created with its key's account
        uploaded = done.inputs["uploads"]["image"]
        assert uploaded in sim.uploads  # its file went to the same account
        assert sim.uploads[uploaded] == images[jobs.index(job)]
        polled = [r for r in sim.requests_to("/task/openapi/outputs") if r.json.get("taskId") == done.task_id]
        assert polled and all(r.json.get("apiKey") == key for r in polled)
        other = next(s for k, s in sims.items() if k != key)
        assert not [r for r in other.requests_to("/task/openapi/outputs") if r.json.get("taskId") == done.task_id]
    await world.books_balance()


async def test_a_refused_key_leaves_the_pool_and_its_waiting_jobs_run_on_the_other(pool: Pool) -> None:
    world, sims = pool.world, pool.sims
    sims[KEY_A].fail_next_with_code(50, 802, path="/task/openapi/upload")
    sims[KEY_A].fail_next_with_code(50, 802, path="/task/openapi/create")
    images = [png_bytes(color=(0, i * 40, 0)) for i in range(3)]
    jobs = [await world.generate("upscale", member=20 + i, prompt=None, images=[images[i]]) for i in range(3)]
    for job in jobs:
        await eventually(lambda job=job: world.state_is(job.id, "delivered"), timeout=20)

    assert sims[KEY_A].creates() == [] and len(sims[KEY_B].creates()) == 3
    for job in jobs:
        assert (await world.job(job.id)).api_key_id == key_fingerprint(KEY_B)
    key_a = world.service.pool.keys[0]
    assert not key_a.active
    assert key_a.removed is not None and key_a.removed.code == 802
    reason = reason_for_error(key_a.removed)
    assert pool.told == [t("keypool.removed", None, key="…AAA1", reason=reason)]
    assert KEY_A not in pool.told[0]

    report = health_report(await world.service.health(), "en", now=0)
    assert t("health.key_removed", "en", key="…AAA1", reason=reason) in report
    assert "…BBB2" in report and KEY_B not in report and KEY_A not in report
    await world.books_balance()


async def test_health_shows_each_key_by_its_last_four_characters(pool: Pool) -> None:
    world, sims = pool.world, pool.sims
    health = await world.service.health()
    assert [k.tail for k in health.keys] == ["…AAA1", "…BBB2"]
    report = health_report(health, "en", now=0)
    for key, sim in sims.items():
        line = t("health.key", "en", key="…" + key[-4:], coins=f"{sim.remain_coins:,}", running=0, used=0, limit=1,
                 api_type="NORMAL")
        assert line in report
        assert key not in report and key[:-4] not in report
    assert t("health.queue", "en", waiting=0, active=0, limit=2) in report


async def test_a_rerun_of_a_job_with_files_runs_on_the_key_that_has_them(pool: Pool) -> None:
    world, sims = pool.world, pool.sims
    first = await world.generate("upscale", member=30, prompt=None, images=[png_bytes()])
    await eventually(lambda: world.state_is(first.id, "delivered"), timeout=20)
    done = await world.job(first.id)
    # Both keys are free: the re-run still goes to the account its file was uploaded to.
    for _ in range(3):
        starter = Requester(guild_id=done.guild_id, channel_id=done.channel_id, member_id=31, locale=None)
        again = await world.service.rerun(first.id, starter)
        await eventually(lambda again=again: world.state_is(again.id, "delivered"), timeout=20)
        assert (await world.job(again.id)).api_key_id == done.api_key_id
    assert sum(len(s.requests_to("/task/openapi/upload")) for s in sims.values()) == 1


async def test_an_edit_with_a_new_file_uploads_it_with_the_key_of_the_files_it_reuses(pool: Pool) -> None:
    world, sims = pool.world, pool.sims
    first = await world.generate("style-transfer", member=32, prompt=None,
                                 images=[png_bytes((1, 1, 1)), png_bytes((2, 2, 2))])
    await eventually(lambda: world.state_is(first.id, "delivered"), timeout=20)
    done = await world.job(first.id)
    starter = Requester(guild_id=done.guild_id, channel_id=done.channel_id, member_id=33, locale=None)
    again = await world.service.edit(first.id, starter, prompt=None, params=None)
    await eventually(lambda: world.state_is(again.id, "delivered"), timeout=20)
    rerun = await world.job(again.id)
    assert rerun.api_key_id == done.api_key_id
    assert rerun.inputs["uploads"] == done.inputs["uploads"] and rerun.inputs["uploads_key"] == done.api_key_id
    assert sum(len(s.requests_to("/task/openapi/upload")) for s in sims.values()) == 2  # the first job's two


async def test_the_spooled_files_are_removed_once_the_task_exists(pool: Pool, tmp_path: Path) -> None:
    world = pool.world
    job = await world.generate("upscale", member=40, prompt=None, images=[png_bytes()])
    assert world.service.spool.job_ids() == [job.id]
    await eventually(lambda: world.state_is(job.id, "delivered"), timeout=20)
    await world.service.sweep_spool()
    assert world.service.spool.job_ids() == []


async def test_a_key_slow_to_answer_its_create_holds_up_no_other_key(pool: Pool) -> None:
    world, sims = pool.world, pool.sims
    await world.service.stop()  # the test drives one pass itself
    sims[KEY_A].hang_next(1, path="/task/openapi/create", seconds=1.0)
    jobs = [await world.generate("z-image", member=10 + i) for i in range(2)]
    await world.service.scheduler.submit_ready()
    (slow,), (quick,) = sims[KEY_A].creates(), sims[KEY_B].creates()
    assert quick.at - slow.at < 0.5  # asked side by side, not after A's answer came a second later
    for job in jobs:
        assert (await world.job(job.id)).state in ("queued", "running")


async def test_a_job_pinned_to_a_busy_key_lets_the_next_job_of_its_member_take_the_free_one(pool: Pool) -> None:
    world = pool.world
    await world.service.stop()  # the test drives the passes itself
    scheduler = world.service.scheduler
    first = await world.generate("z-image", member=9)
    await scheduler.submit_ready()
    assert (await world.job(first.id)).api_key_id == key_fingerprint(KEY_A)  # key A's one slot is taken
    pinned = await world.generate("z-image", member=10)
    # Files uploaded with key A that are no longer on disk (a re-run's): it can run on key A only.
    inputs = {**pinned.inputs, "uploads": {"image": "api/cat.png"}, "uploads_key": key_fingerprint(KEY_A),
              "spooled": {}}
    await world.journal.db.execute("UPDATE jobs SET inputs = ? WHERE id = ?", (json.dumps(inputs), pinned.id))
    behind = await world.generate("z-image", member=10)
    await scheduler.submit_ready()  # one free slot (key B): the member's second job takes it
    assert (await world.job(pinned.id)).state == "pending"
    started = await world.job(behind.id)
    assert started.state in ("queued", "running") and started.api_key_id == key_fingerprint(KEY_B)
