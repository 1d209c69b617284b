"""The job pipeline end to end without Discord: simulator, real SQLite, recording notifier."""

from __future__ import annotations

import asyncio

import pytest
from PIL import Image

from bot.errors import UserError
from bot.governance.gate import Requester
from bot.jobs.inputs import JobInputs
from bot.jobs.states import JobState
from bot.jobs.webhook import WebhookReceiver
from tests.jobs.conftest import CHANNEL, GUILD, World, png_bytes
from tests.samples import wav_bytes
from tests.waiting import eventually


async def balance(world: World, member: int) -> tuple[int, int]:
    b = await world.ledger.balance(GUILD, member)
    return b.available, b.held


async def test_text_to_image_is_delivered_and_charged(world: World) -> None:
    await world.service.start()
    job = await world.generate("z-image", member=1, prompt="a cat")
    assert await balance(world, 1) == (90, 10)  # held while it runs
    await eventually(lambda: world.state_is(job.id, JobState.DELIVERED))

    results = world.notifier.of("result", job.id)
    assert len(results) == 1
    name, data = results[0].files[0]
    assert data.startswith(b"\x89PNG") and name.endswith(".png")
    assert "<@1>" in results[0].text and f"#{job.id}" in results[0].text
    # the create carried the prompt on node 6
    (create,) = world.sim.creates()
    assert {"nodeId": "6", "fieldName": "text", "fieldValue": "a cat"} in create.json["nodeInfoList"]
    assert await balance(world, 1) == (90, 0)
    done = await world.job(job.id)
    assert done.consume_coins is not None and all(o.delivery == "file" for o in done.outputs)
    await world.books_balance()


async def test_style_transfer_uploads_both_images_onto_nodes_21_and_24(world: World) -> None:
    await world.service.start()
    source, style = png_bytes((255, 0, 0)), png_bytes((0, 0, 255))
    job = await world.generate("style-transfer", member=2, prompt=None, images=[source, style])
    await eventually(lambda: world.state_is(job.id, JobState.DELIVERED))
    names = {data: name for name, data in world.sim.uploads.items()}
    assert source in names and style in names
    nodes = world.sim.creates()[0].json["nodeInfoList"]
    assert {"nodeId": "21", "fieldName": "image", "fieldValue": names[source]} in nodes
    assert {"nodeId": "24", "fieldName": "image", "fieldValue": names[style]} in nodes
    assert world.notifier.of("result", job.id)[0].files


async def test_failed_task_is_explained_and_refunded(world: World) -> None:
    await world.service.start()
    world.sim.fail_next_task({"node_id": "276", "node_name": "SONIC_PreData", "exception_type": "TypeError",
                              "exception_message": "missing 2 required positional arguments", "traceback": "[]"})
    job = await world.generate("z-image", member=3)
    await eventually(lambda: world.state_is(job.id, JobState.FAILED))
    await eventually(lambda: _has_notice(world, job.id))
    notice = world.notifier.of("notice", job.id)[0].text
    assert "276" in notice and "SONIC_PreData" in notice and "TypeError" in notice
    assert "Traceback" not in notice and "execution.py" not in notice
    assert await balance(world, 3) == (100, 0)
    await world.books_balance()


async def test_a_notice_that_fails_is_retried_without_editing_the_status_again(world: World) -> None:
    world.notifier.fail_notices = 2
    await world.service.start()
    world.sim.fail_next_task()
    job = await world.generate("z-image", member=19)
    await eventually(lambda: _has_notice(world, job.id), timeout=15)
    assert len(world.notifier.of("notice", job.id)) == 1
    status = world.notifier.of("status", job.id)[0]
    assert [e for e in status.edits if "failed" in e] == [status.edits[-1]]  # the ending shown once
    assert (await world.job(job.id)).notified_at is not None


async def _has_notice(world: World, job_id: int) -> bool:
    return bool(world.notifier.of("notice", job_id))


async def test_concurrency_one_is_fair_across_members_and_never_exceeded(world: World) -> None:
    # member 1 queues three jobs before members 2 and 3 queue one each
    jobs = [await world.generate("z-image", member=1, prompt=f"a{i}") for i in range(3)]
    jobs.append(await world.generate("z-image", member=2, prompt="b"))
    jobs.append(await world.generate("z-image", member=3, prompt="c"))
    await world.service.start()
    for job in jobs:
        await eventually(lambda job=job: world.state_is(job.id, JobState.DELIVERED), timeout=20)
    assert world.sim.max_concurrent_seen == 1
    prompts = [next(n["fieldValue"] for n in c.json["nodeInfoList"] if n["nodeId"] == "6") for c in world.sim.creates()]
    # round-robin: a member's second job waits until every other member had one
    assert prompts[:3] == ["a0", "b", "c"]
    assert sorted(prompts[3:]) == ["a1", "a2"]
    await world.books_balance()


async def test_capacity_refusals_leave_jobs_pending_until_a_slot_frees(world: World) -> None:
    world.sim.fail_next_with_code(3, 421, path="/task/openapi/create")
    world.service.scheduler.backoff_base = 0.02
    await world.service.start()
    job = await world.generate("z-image", member=1)
    await eventually(lambda: world.state_is(job.id, JobState.DELIVERED))
    assert len(world.sim.creates()) == 4  # three refusals, then the real one
    assert len(world.sim.tasks) == 1
    assert (await world.job(job.id)).attempts == 3


async def test_lost_create_answer_becomes_unknown_and_is_never_resubmitted(world: World) -> None:
    world.sim.lose_answer_next(1)
    await world.service.start()
    job = await world.generate("z-image", member=4)
    await eventually(lambda: world.state_is(job.id, JobState.UNKNOWN))
    await asyncio.sleep(0.5)  # several scheduler and poller passes
    assert len(world.sim.creates()) == 1
    assert len(world.sim.tasks) == 1  # it really was created
    assert await balance(world, 4) == (90, 10)  # held until a moderator decides
    health = await world.service.health()
    assert [j.id for j in health.unknown] == [job.id]
    await eventually(lambda: _has_notice(world, job.id))
    await world.books_balance()


async def test_poll_errors_do_not_fail_the_job(world: World) -> None:
    await world.service.start()
    job = await world.generate("z-image", member=5)
    await eventually(lambda: world.state_is(job.id, "queued", "running"))
    world.sim.fail_next(6, status=502, path="/task/openapi/outputs")
    world.sim.malformed_next(3, path="/task/openapi/outputs")
    await eventually(lambda: world.state_is(job.id, JobState.DELIVERED), timeout=15)
    assert await balance(world, 5) == (90, 0)
    charges = [e for e in await world.ledger.history(GUILD, 5, limit=50) if e.kind == "charge"]
    assert len(charges) == 1
    await world.books_balance()


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.05, "run_seconds": 30, "concurrency": 1}])
async def test_timeout_cancels_at_runninghub_and_refunds(world: World, sim_options: dict) -> None:
    workflow = world.registry.get("z-image")
    object.__setattr__(workflow, "timeout", 1)
    await world.service.start()
    job = await world.generate("z-image", member=6)
    await eventually(lambda: world.state_is(job.id, JobState.TIMED_OUT), timeout=10)
    assert world.sim.requests_to("/task/openapi/cancel")
    assert await balance(world, 6) == (100, 0)
    await eventually(lambda: _has_notice(world, job.id))
    await world.books_balance()


async def test_restart_while_running_delivers_and_charges_exactly_once(world: World) -> None:
    await world.service.start()
    job = await world.generate("z-image", member=7)
    await eventually(lambda: world.state_is(job.id, "queued", "running"))
    await world.service.stop()  # the process "dies" with the task at RunningHub
    await asyncio.sleep(0.4)  # the task finishes while nobody watches
    world.service = world.new_service()
    await world.service.start()
    await eventually(lambda: world.state_is(job.id, JobState.DELIVERED))
    await asyncio.sleep(0.3)
    assert len(world.notifier.of("result", job.id)) == 1
    assert len(world.sim.creates()) == 1
    assert await balance(world, 7) == (90, 0)
    await world.books_balance()


async def test_crash_mid_submit_is_unknown_after_restart(world: World) -> None:
    job = await world.generate("z-image", member=8)
    assert await world.journal.claim_submit(job.id)  # the create was "in flight" when we died
    await world.service.start()
    await eventually(lambda: world.state_is(job.id, JobState.UNKNOWN))
    await asyncio.sleep(0.2)
    assert world.sim.creates() == []


async def test_failed_post_is_retried_and_delivered_once(world: World) -> None:
    world.notifier.fail_results = 2
    await world.service.start()
    job = await world.generate("z-image", member=9)
    await eventually(lambda: world.state_is(job.id, JobState.DELIVERED), timeout=15)
    assert len(world.notifier.of("result", job.id)) == 1
    assert await balance(world, 9) == (90, 0)


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.02, "run_seconds": 0.05, "concurrency": 1,
                                          "image_size": (1800, 1800)}])
async def test_image_over_the_upload_limit_is_reencoded_to_fit(world: World, sim_options: dict) -> None:
    world.sim.set_output_size("image", 3 * 1024 * 1024)  # incompressible noise PNG
    world.notifier.limit = 1024 * 1024
    await world.service.start()
    job = await world.generate("z-image", member=10)
    await eventually(lambda: world.state_is(job.id, JobState.DELIVERED), timeout=20)
    result = world.notifier.of("result", job.id)[0]
    name, data = result.files[0]
    assert len(data) <= 1024 * 1024 and data.startswith(b"\xff\xd8")  # a JPEG now
    assert name.endswith(".jpg")


async def test_audio_too_large_goes_out_as_a_link(world: World, tmp_path) -> None:
    world.sim.set_output_size("audio", 2 * 1024 * 1024)
    world.notifier.limit = 512 * 1024
    await world.service.start()
    workflow = world.registry.get("voice-clone")
    from bot.jobs.pipeline import InputFile, validate_request

    wav = next(iter(world.sim.uploads.values()), None) or wav_bytes()
    request = validate_request(workflow, prompt="hello there", files={"audio": InputFile("audio", "me.wav", wav)},
                               params=None)
    job = await world.service.intake(request, guild_id=GUILD, channel_id=1, member_id=11, locale="en-US")
    await eventually(lambda: world.state_is(job.id, JobState.DELIVERED), timeout=15)
    result = world.notifier.of("result", job.id)[0]
    assert result.files == []
    assert "/sim/files/" in result.text and "expire" in result.text
    assert (await world.job(job.id)).outputs[0].delivery == "link"


async def test_cancel_refunds_and_stops_the_task(world: World) -> None:
    await world.service.start()
    job = await world.generate("z-image", member=12)
    await eventually(lambda: world.state_is(job.id, "queued", "running"))
    with pytest.raises(UserError) as refused:
        await world.service.cancel(job.id, guild_id=GUILD, actor_id=99, is_moderator=False)
    assert refused.value.key == "job.error.not_yours"
    cancelled = await world.service.cancel(job.id, guild_id=GUILD, actor_id=12, is_moderator=False)
    assert cancelled.state == "cancelled"
    assert world.sim.requests_to("/task/openapi/cancel")
    assert await balance(world, 12) == (100, 0)
    await asyncio.sleep(0.4)
    assert (await world.job(job.id)).state == "cancelled"  # the poller did not revive it
    await world.books_balance()


def nodes_of(create: object) -> dict[tuple[str, str], object]:
    return {(n["nodeId"], n["fieldName"]): n["fieldValue"] for n in create.json["nodeInfoList"]}  # type: ignore[attr-defined]


async def test_rerun_is_a_new_job_with_the_same_inputs_and_a_new_drawn_seed(world: World) -> None:
    await world.service.start()
    first = await world.generate("z-image", member=13, prompt="a red fox", params="steps=30")
    await eventually(lambda: world.state_is(first.id, JobState.DELIVERED))
    again = await world.service.rerun(first.id, Requester(GUILD, CHANNEL, 13, None))
    await eventually(lambda: world.state_is(again.id, JobState.DELIVERED))
    assert again.id != first.id and again.source_job_id == first.id
    before, after = (nodes_of(c) for c in world.sim.creates())
    assert before.pop(("3", "seed")) != after.pop(("3", "seed"))  # the drawn seed is drawn again
    assert before == after and after[("6", "text")] == "a red fox" and after[("3", "steps")] == 30
    assert len(world.sim.uploads) == 0  # nothing re-uploaded (text-only here)
    assert await balance(world, 13) == (80, 0)
    # the seed each job used is the one it shows
    for job, create in zip((first, again), world.sim.creates(), strict=True):
        inputs = JobInputs.from_json((await world.job(job.id)).inputs)
        assert inputs.seed_drawn and nodes_of(create)[("3", "seed")] == inputs.seed
        assert f"`{inputs.seed}`" in world.notifier.of("result", job.id)[0].text


async def test_a_typed_seed_is_kept_by_a_rerun_and_the_files_are_not_uploaded_again(world: World) -> None:
    await world.service.start()
    first = await world.generate("z-image", member=16, prompt="a fox", params="seed=1234")
    again = await world.service.rerun(first.id, Requester(GUILD, CHANNEL, 16, None))
    await eventually(lambda: world.state_is(again.id, JobState.DELIVERED))
    assert [nodes_of(c)[("3", "seed")] for c in world.sim.creates()] == [1234, 1234]

    style = await world.generate("style-transfer", member=16, prompt=None,
                                 images=[png_bytes((255, 0, 0)), png_bytes((0, 0, 255))])
    # Its files reach RunningHub when its task is created; a re-run (offered on the result) reuses them.
    await eventually(lambda: world.state_is(style.id, JobState.DELIVERED))
    uploads = dict(world.sim.uploads)
    restyled = await world.service.rerun(style.id, Requester(GUILD, CHANNEL, 16, None))
    await eventually(lambda: world.state_is(restyled.id, JobState.DELIVERED))
    assert world.sim.uploads == uploads
    assert nodes_of(world.sim.creates()[-1]) == nodes_of(world.sim.creates()[-2])
    kept = JobInputs.from_json((await world.job(restyled.id)).inputs)
    assert kept.files == {"image": "image.png", "image2": "image2.png"}


async def test_edit_starts_from_the_shown_prompt_and_seed_and_charges_once(world: World) -> None:
    await world.service.start()
    first = await world.generate("z-image", member=17, prompt="a cat", params="steps=30")
    await eventually(lambda: world.state_is(first.id, JobState.DELIVERED))
    source, prompt, params = await world.service.edit_form(first.id, GUILD)
    seed = JobInputs.from_json(source.inputs).seed
    assert (prompt, params) == ("a cat", f"seed={seed} steps=30")

    edited = await world.service.edit(first.id, Requester(GUILD, CHANNEL, 17, None), prompt="a dog", params=params)
    await eventually(lambda: world.state_is(edited.id, JobState.DELIVERED))
    created = nodes_of(world.sim.creates()[-1])
    assert created[("6", "text")] == "a dog" and created[("3", "seed")] == seed and created[("3", "steps")] == 30
    record = JobInputs.from_json((await world.job(edited.id)).inputs)
    assert record.seed_drawn  # still the bot's draw: a re-run of the edit varies it again
    rows = await world.db.fetchall("SELECT kind FROM ledger WHERE job_id = ? ORDER BY id", (edited.id,))
    assert [r[0] for r in rows] == ["hold", "charge"]

    changed = await world.service.edit(first.id, Requester(GUILD, CHANNEL, 17, None), prompt="a dog", params="seed=5")
    await eventually(lambda: world.state_is(changed.id, JobState.DELIVERED))
    assert nodes_of(world.sim.creates()[-1])[("3", "seed")] == 5
    assert not JobInputs.from_json((await world.job(changed.id)).inputs).seed_drawn


async def test_an_edit_with_bad_params_is_refused_and_holds_nothing(world: World) -> None:
    await world.service.start()
    first = await world.generate("z-image", member=18, prompt="a cat")
    await eventually(lambda: world.state_is(first.id, JobState.DELIVERED))
    jobs_before = await world.db.fetchone("SELECT COUNT(*) FROM jobs")
    for bad in ("steps=999", "colour=red", "steps"):
        with pytest.raises(UserError):
            await world.service.edit(first.id, Requester(GUILD, CHANNEL, 18, None), prompt="a dog", params=bad)
    assert await world.db.fetchone("SELECT COUNT(*) FROM jobs") == jobs_before
    assert await balance(world, 18) == (90, 0)
    with pytest.raises(UserError) as refused:
        await world.service.rerun(first.id, Requester(GUILD + 1, CHANNEL, 18, None))
    assert refused.value.key == "job.error.not_found"


async def test_reruns_pass_the_start_gate_before_anything_is_held(world: World) -> None:
    await world.service.start()
    first = await world.generate("z-image", member=19, prompt="a cat")
    await eventually(lambda: world.state_is(first.id, JobState.DELIVERED))
    world.service.max_unfinished = 0
    with pytest.raises(UserError) as refused:
        await world.service.rerun(first.id, Requester(GUILD, CHANNEL, 19, None))
    assert refused.value.key == "job.error.too_many"
    assert await balance(world, 19) == (90, 0)
    assert len(world.sim.creates()) == 1


async def test_resend_posts_again_without_running_or_charging(world: World) -> None:
    await world.service.start()
    job = await world.generate("z-image", member=14)
    await eventually(lambda: world.state_is(job.id, JobState.DELIVERED))
    await world.service.resend(job.id, guild_id=GUILD, actor_id=14, is_moderator=False)
    results = world.notifier.of("result", job.id)
    assert len(results) == 2 and results[0].files[0][1] == results[1].files[0][1]
    assert len(world.sim.creates()) == 1
    assert await balance(world, 14) == (90, 0)


async def test_not_enough_coins_creates_nothing(world: World) -> None:
    await world.ledger.set(GUILD, 15, 5, actor_id=1, reason="test")
    with pytest.raises(UserError) as refused:
        await world.generate("z-image", member=15)
    assert "5" in refused.value.render()
    assert await balance(world, 15) == (5, 0)
    assert world.sim.creates() == [] and world.sim.uploads == {}
    await world.books_balance()


async def test_per_member_cap_on_unfinished_jobs(world: World) -> None:
    for i in range(3):
        await world.generate("z-image", member=16, prompt=f"p{i}")
    with pytest.raises(UserError) as refused:
        await world.generate("z-image", member=16)
    assert refused.value.key == "job.error.too_many"
    assert await balance(world, 16) == (70, 30)


async def test_an_unconfirmed_start_does_not_count_against_the_cap(world: World) -> None:
    world.sim.lose_answer_next(1)
    await world.service.start()
    lost = await world.generate("z-image", member=18, prompt="lost")
    await eventually(lambda: world.state_is(lost.id, JobState.UNKNOWN))
    jobs = [await world.generate("z-image", member=18, prompt=f"p{i}") for i in range(3)]
    assert len(jobs) == 3  # three more waiting or running beside the unknown one
    with pytest.raises(UserError):
        await world.generate("z-image", member=18)


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.05, "run_seconds": 0.2, "concurrency": 1}])
@pytest.mark.parametrize("service_env", [{"WEBHOOK_URL": "http://127.0.0.1:1/rh", "WEBHOOK_SECRET": "s" * 24,
                                          "POLL_INTERVAL": "30"}])
async def test_webhook_wakes_the_poller(world: World, sim_options: dict, service_env: dict) -> None:
    receiver = WebhookReceiver("s" * 24, world.service.on_webhook, world.service.spawn)
    await receiver.start("127.0.0.1", 0)
    port = receiver._runner.addresses[0][1]  # type: ignore[union-attr]
    world.service.settings = world.service.settings.__class__(
        **{**world.service.settings.__dict__, "webhook_url": f"http://127.0.0.1:{port}/rh"}
    )
    try:
        await world.service.start()
        job = await world.generate("z-image", member=17)
        # the poll interval is 30 s: only the webhook can make this quick
        await eventually(lambda: world.state_is(job.id, JobState.DELIVERED), timeout=8)
        assert receiver.received >= 1
        create = world.sim.creates()[0]
        assert create.json["webhookUrl"].endswith(f"/rh/{'s' * 24}?job={job.id}")
    finally:
        await receiver.stop()


async def test_webhook_with_a_wrong_secret_changes_nothing(world: World) -> None:
    import aiohttp

    woken: list[str] = []

    async def on_end(task_id: str, job_id: int | None) -> None:
        woken.append(task_id)

    receiver = WebhookReceiver("right-secret-0123456789", on_end, lambda coro, name: asyncio.ensure_future(coro))
    await receiver.start("127.0.0.1", 0)
    port = receiver._runner.addresses[0][1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            bad = await session.post(f"http://127.0.0.1:{port}/rh/wrong", json={"taskId": "1", "event": "TASK_END"})
            good = await session.post(f"http://127.0.0.1:{port}/rh/right-secret-0123456789?job=3",
                                      json={"taskId": "77", "event": "TASK_END", "eventData": "{}"})
        assert bad.status == 404 and good.status == 200
        await asyncio.sleep(0.05)
        assert woken == ["77"]
    finally:
        await receiver.stop()


def test_png_helper_makes_real_images() -> None:
    import io

    assert Image.open(io.BytesIO(png_bytes())).size == (32, 32)
