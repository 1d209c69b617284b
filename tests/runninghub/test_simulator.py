"""The simulator itself: life cycle, real output files, webhooks, concurrency and the shipped data."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import threading
import wave
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from bot.runninghub import NodeInfo, RunningHubClient, TaskOutputs, TaskState
from bot.runninghub.sim.model import SimTask
from bot.runninghub.simulator import NEVER_RUN_WORKFLOW_ID, SIMDATA_DIR, Simulator, serve_forever

from .conftest import TEST_KEY, FakeSleep, ManualSleep, WaitDone

Z_IMAGE = "2016195556967714818"
STYLE = "2014552598229032961"
UPSCALE = "1990000000000000001"
VOICE = "1990000000000000002"
ANIMATE = "1990000000000000003"
CAPTION_APP = "1937000000000000002"


async def download(session: aiohttp.ClientSession, url: str) -> bytes:
    async with session.get(url) as response:
        assert response.status == 200
        return await response.read()


# ----------------------------------------------------------------------------- shipped data

# node id -> (class_type, field) that workflows.toml relies on, per workflow (spec-workflows.md).
SHIPPED_FIELDS = {
    Z_IMAGE: {
        "6": ("CLIPTextEncode", "text"),
        "7": ("CLIPTextEncode", "text"),
        "3": ("KSampler", "seed"),
        "5": ("EmptyLatentImage", "width"),
        "9": ("SaveImage", "images"),
    },
    STYLE: {"21": ("LoadImage", "image"), "24": ("LoadImage", "image"), "30": ("SaveImage", "images")},
    UPSCALE: {
        "1": ("LoadImage", "image"),
        "3": ("UpscaleModelLoader", "model_name"),
        "9": ("SaveImage", "images"),
    },
    VOICE: {"10": ("LoadAudio", "audio"), "12": ("IndexTTS2Run", "speed"), "20": ("SaveAudio", "audio")},
    ANIMATE: {
        "52": ("LoadImage", "image"),
        "6": ("CLIPTextEncode", "text"),
        "55": ("WanImageToVideo", "length"),
    },
}


@pytest.mark.parametrize("workflow_id", sorted(SHIPPED_FIELDS))
def test_shipped_workflows_have_the_documented_nodes(workflow_id: str) -> None:
    graph = json.loads((SIMDATA_DIR / f"{workflow_id}.json").read_text(encoding="utf-8"))
    for node_id, (class_type, field) in SHIPPED_FIELDS[workflow_id].items():
        assert graph[node_id]["class_type"] == class_type
        assert field in graph[node_id]["inputs"]
        assert graph[node_id]["_meta"]["title"]
    for node in graph.values():  # every link points at a node of the same graph
        for value in node["inputs"].values():
            if isinstance(value, list):
                assert value[0] in graph and isinstance(value[1], int)


def test_shipped_defaults_match_the_workflow_table() -> None:
    z_image = json.loads((SIMDATA_DIR / f"{Z_IMAGE}.json").read_text(encoding="utf-8"))
    assert z_image["3"]["inputs"]["steps"] == 25
    assert (z_image["5"]["inputs"]["width"], z_image["5"]["inputs"]["height"]) == (1024, 1024)
    upscale = json.loads((SIMDATA_DIR / f"{UPSCALE}.json").read_text(encoding="utf-8"))
    assert upscale["3"]["inputs"]["model_name"] == "4x-UltraSharp.pth"
    animate = json.loads((SIMDATA_DIR / f"{ANIMATE}.json").read_text(encoding="utf-8"))
    assert animate["55"]["inputs"]["length"] == 49
    assert animate["6"]["inputs"]["text"] == "gentle camera motion"
    assert (
        animate["60"]["class_type"] == "VHS_VideoCombine" and animate["60"]["inputs"]["format"] == "image/gif"
    )
    assert (SIMDATA_DIR / f"{NEVER_RUN_WORKFLOW_ID}.json").is_file()


# ----------------------------------------------------------------------------- life cycle


async def test_life_cycle_queued_running_success_step_by_step(session: aiohttp.ClientSession) -> None:
    clock = ManualSleep()
    async with Simulator(api_key=TEST_KEY, sleep=clock, image_size=(32, 32)) as sim:
        client = RunningHubClient(session, sim.base_url, TEST_KEY)
        created = await client.create_task(Z_IMAGE, [NodeInfo("6", "text", "steps")])
        assert created.status == "QUEUED"
        assert (await client.outputs(created.task_id)).state is TaskState.QUEUED
        assert await client.status(created.task_id) == "QUEUED"
        assert clock.waiting  # the simulator waits out queue_seconds

        await clock.release_one()
        running = await client.outputs(created.task_id)
        assert running.state is TaskState.RUNNING and await client.status(created.task_id) == "RUNNING"
        task = sim.tasks[created.task_id]
        assert task.started_at is not None and task.finished_at is None

        await clock.release_one()
        for _ in range(100):  # rendering happens in a worker thread
            if task.state == "SUCCESS":
                break
            await asyncio.sleep(0.01)
        done = await client.outputs(created.task_id)
        assert done.state is TaskState.SUCCEEDED and await client.status(created.task_id) == "SUCCESS"
        assert task.finished_at is not None and task.finished_at >= task.started_at
        assert len(done.files) == 1


async def test_the_running_answer_has_a_wss_url() -> None:
    clock = ManualSleep()
    async with Simulator(api_key=TEST_KEY, sleep=clock) as paused, aiohttp.ClientSession() as http:
        client = RunningHubClient(http, paused.base_url, TEST_KEY)
        created = await client.create_task(Z_IMAGE, [])
        await clock.release_one()
        async with http.post(
            paused.base_url + "/task/openapi/outputs", json={"apiKey": TEST_KEY, "taskId": created.task_id}
        ) as response:
            answer = await response.json()
        assert answer["code"] == 804 and answer["msg"] == "APIKEY_TASK_IS_RUNNING"
        assert answer["data"]["netWssUrl"].startswith("ws://")


# ----------------------------------------------------------------------------- output files


async def test_text_to_image_outputs_a_png_that_depends_on_the_prompt(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession, wait_done: WaitDone
) -> None:
    pictures = []
    for prompt in ("a red fox", "a blue whale"):
        created = await client.create_task(Z_IMAGE, [NodeInfo("6", "text", prompt), NodeInfo("3", "seed", 1)])
        done = await wait_done(client, created.task_id)
        (output,) = done.files
        assert (output.file_type, output.node_id) == ("png", "9")
        body = await download(session, output.url)
        with Image.open(io.BytesIO(body)) as picture:
            assert picture.format == "PNG" and picture.size == (64, 48)
        pictures.append(body)
    assert pictures[0] != pictures[1]


async def test_voice_clone_outputs_a_playable_wav(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession, wait_done: WaitDone
) -> None:
    voice = await client.upload(b"RIFF\x00\x00\x00\x00WAVE", "me.wav")
    created = await client.create_task(
        VOICE, [NodeInfo("10", "audio", voice), NodeInfo("12", "text", "hello"), NodeInfo("12", "speed", 1.2)]
    )
    (output,) = (await wait_done(client, created.task_id)).files
    assert (output.file_type, output.node_id) == ("wav", "20")
    with wave.open(io.BytesIO(await download(session, output.url))) as audio:
        assert audio.getnchannels() == 1 and audio.getframerate() == 22_050 and audio.getnframes() > 1000


async def test_animate_outputs_an_animated_gif(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession, wait_done: WaitDone
) -> None:
    start = await client.upload(b"\x89PNG\r\n\x1a\nframe", "start.png")
    created = await client.create_task(
        ANIMATE, [NodeInfo("52", "image", start), NodeInfo("55", "length", 16)]
    )
    (output,) = (await wait_done(client, created.task_id)).files
    assert (output.file_type, output.node_id) == ("gif", "60")
    body = await download(session, output.url)
    assert body[:6] in (b"GIF87a", b"GIF89a")
    with Image.open(io.BytesIO(body)) as animation:
        assert animation.n_frames > 1


async def test_text_app_outputs_txt(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession, wait_done: WaitDone
) -> None:
    photo = await client.upload(b"\x89PNG\r\n\x1a\nphoto", "photo.png")
    created = await client.run_app(
        CAPTION_APP, [NodeInfo("5", "image", photo), NodeInfo("8", "language", "zh")]
    )
    (output,) = (await wait_done(client, created.task_id)).files
    assert (output.file_type, output.node_id) == ("txt", "12")
    assert (await download(session, output.url)).decode().startswith("Simulated RunningHub text output.")


async def test_big_noise_outputs_for_delivery_tests(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession, wait_done: WaitDone
) -> None:
    sim.set_output_size("image", 3_000_000)
    created = await client.create_task(Z_IMAGE, [])
    (output,) = (await wait_done(client, created.task_id)).files
    body = await download(session, output.url)
    assert 2_800_000 < len(body) < 3_300_000
    with Image.open(io.BytesIO(body)) as picture:
        picture.load()
    sim.set_output_size("image", None)
    again = await client.create_task(Z_IMAGE, [])
    (small,) = (await wait_done(client, again.task_id)).files
    assert len(await download(session, small.url)) < 100_000


async def test_a_task_makes_its_files_while_it_runs_so_it_lasts_run_seconds_not_more(
    session: aiohttp.ClientSession,
) -> None:
    clock = ManualSleep()
    async with Simulator(api_key=TEST_KEY, sleep=clock, image_size=(32, 32)) as sim:
        rendered = threading.Event()
        render = sim._render_outputs

        def spy(task: SimTask) -> dict[str, tuple[str, str, bytes]]:
            rendered.set()
            return render(task)

        sim._render_outputs = spy  # type: ignore[method-assign]
        created = await RunningHubClient(session, sim.base_url, TEST_KEY).create_task(Z_IMAGE, [])
        await clock.release_one()  # out of the queue: the run's time is passing now
        assert await asyncio.to_thread(rendered.wait, 5)  # the files are being made meanwhile
        task = sim.tasks[created.task_id]
        assert task.finished_at is None
        await clock.release_one()  # the run's time is up
        await clock.run_until(lambda: task.finished_at is not None)
        assert task.state == "SUCCESS" and len(task.files) == 1


async def test_unknown_file_is_404(sim: Simulator, session: aiohttp.ClientSession) -> None:
    async with session.get(sim.base_url + "/sim/files/1/nothing.png") as response:
        assert response.status == 404


# ----------------------------------------------------------------------------- uploads


async def test_zip_uploads_get_the_bare_hash(sim: Simulator, client: RunningHubClient) -> None:
    data = b"PK\x03\x04 batch"
    assert await client.upload(data, "batch.zip") == hashlib.sha256(data).hexdigest()


async def test_uploading_the_same_bytes_twice_gives_the_same_name(
    sim: Simulator, client: RunningHubClient
) -> None:
    first = await client.upload(b"same", "a.png")
    second = await client.upload(b"same", "b.png")
    assert first == second and len(sim.uploads) == 1


async def test_upload_without_multipart_is_301(sim: Simulator, session: aiohttp.ClientSession) -> None:
    async with session.post(sim.base_url + "/task/openapi/upload", json={"apiKey": TEST_KEY}) as response:
        answer = await response.json()
    assert answer["code"] == 301


# ----------------------------------------------------------------------------- webhooks


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict], list[int]]]:
    """A webhook receiver on loopback: (url, payloads received, statuses to answer first)."""
    received: list[dict] = []
    answers: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=answers.pop(0) if answers else 200, text="ok")

    app = web.Application()
    app.router.add_post("/hook/{secret}", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook/s3cr3t-path", received, answers
    await runner.cleanup()


async def wait_for(received: list[dict], count: int) -> None:
    for _ in range(300):
        if len(received) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} webhook deliveries, got {len(received)}")


async def test_webhook_event_data_parses_like_polling(
    sim: Simulator, client: RunningHubClient, wait_done: WaitDone, receiver
) -> None:
    url, received, _ = receiver
    created = await client.create_task(Z_IMAGE, [NodeInfo("6", "text", "hooked")], webhook_url=url)
    await wait_for(received, 1)
    (payload,) = received
    assert payload["event"] == "TASK_END" and payload["taskId"] == created.task_id
    assert isinstance(payload["eventData"], str)
    from_hook: TaskOutputs = RunningHubClient.parse_outputs(json.loads(payload["eventData"]))
    polled = await wait_done(client, created.task_id)
    assert from_hook == polled and from_hook.state is TaskState.SUCCEEDED
    (delivery,) = sim.webhook_deliveries
    assert (delivery.status, delivery.attempt) == (200, 1)


async def test_webhook_for_a_failed_task(
    sim: Simulator, client: RunningHubClient, wait_done: WaitDone, receiver
) -> None:
    url, received, _ = receiver
    sim.fail_next_task()
    created = await client.create_task(Z_IMAGE, [], webhook_url=url)
    await wait_for(received, 1)
    from_hook = RunningHubClient.parse_outputs(json.loads(received[0]["eventData"]))
    assert from_hook.state is TaskState.FAILED
    assert from_hook == await wait_done(client, created.task_id)


async def test_webhook_is_retried_when_the_receiver_fails(
    sim: Simulator, client: RunningHubClient, receiver
) -> None:
    url, received, answers = receiver
    answers.extend([500, 503])
    await client.create_task(Z_IMAGE, [], webhook_url=url)
    await wait_for(received, 3)
    assert [d.status for d in sim.webhook_deliveries] == [500, 503, 200]
    assert received[0] == received[2]


async def test_an_unreachable_webhook_never_blocks_the_simulator(
    sim: Simulator, client: RunningHubClient, wait_done: WaitDone
) -> None:
    created = await client.create_task(Z_IMAGE, [], webhook_url="http://127.0.0.1:9/hook")
    assert (await wait_done(client, created.task_id)).state is TaskState.SUCCEEDED
    assert (await client.account_status()).api_type == "NORMAL"


async def test_webhook_detail_and_retry(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession, receiver
) -> None:
    url, received, answers = receiver
    answers.extend([500])
    created = await client.create_task(Z_IMAGE, [], webhook_url=url)
    await wait_for(received, 2)

    async def call(path: str, body: dict) -> dict:
        async with session.post(sim.base_url + path, json={"apiKey": TEST_KEY, **body}) as response:
            return await response.json()

    # The receiver holds the payload before the simulator reads its answer: wait for the record.
    for _ in range(300):
        detail = (await call("/task/openapi/getWebhookDetail", {"taskId": created.task_id}))["data"]
        if detail is not None and detail["callbackStatus"] == "SUCCESS":
            break
        await asyncio.sleep(0.01)
    assert detail["taskId"] == created.task_id and detail["webhookUrl"] == url
    assert (detail["callbackStatus"], detail["retryCount"], detail["callbackResponse"]) == ("SUCCESS", 1, "ok")
    assert detail["eventData"] == received[-1]["eventData"]
    assert detail["userApiKey"].endswith(TEST_KEY[-4:]) and TEST_KEY not in detail["userApiKey"]
    assert detail["createTime"] <= detail["updateTime"]

    retried = await call("/task/openapi/retryWebhook", {"webhookId": detail["id"], "webhookUrl": url})
    assert retried == {"code": 0, "msg": "success", "data": None}
    await wait_for(received, 3)
    assert received[2] == received[1]
    unknown = await call("/task/openapi/retryWebhook", {"webhookId": "1", "webhookUrl": url})
    assert unknown["code"] == 301
    other = await client.create_task(Z_IMAGE, [])  # no webhookUrl: no event to show
    assert (await call("/task/openapi/getWebhookDetail", {"taskId": other.task_id})) == {
        "code": 0,
        "msg": "success",
        "data": None,
    }


async def test_webhook_detail_while_failing(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession
) -> None:
    created = await client.create_task(Z_IMAGE, [], webhook_url="http://127.0.0.1:9/hook")
    seen: list[str] = []
    for _ in range(500):
        async with session.post(
            sim.base_url + "/task/openapi/getWebhookDetail", json={"apiKey": TEST_KEY, "taskId": created.task_id}
        ) as response:
            detail = (await response.json())["data"]
        if detail is not None:
            seen.append(detail["callbackStatus"])
            if detail["callbackStatus"] == "FAILED":
                break
        await asyncio.sleep(0.01)
    assert set(seen) <= {"RETRYING", "FAILED"} and seen[-1] == "FAILED"
    assert detail["retryCount"] == sim.webhook_attempts - 1
    assert detail["callbackResponse"] == "ClientConnectorError"


# ----------------------------------------------------------------------------- concurrency


async def test_concurrency_limit_is_enforced_and_observed(
    session: aiohttp.ClientSession, fake_sleep: FakeSleep, manual_sleep: ManualSleep
) -> None:
    async with Simulator(api_key=TEST_KEY, concurrency=2, sleep=manual_sleep, image_size=(16, 16)) as sim:
        client = RunningHubClient(session, sim.base_url, TEST_KEY, sleep=fake_sleep)
        first = await client.create_task(Z_IMAGE, [])
        second = await client.create_task(Z_IMAGE, [])
        async with session.post(
            sim.base_url + "/task/openapi/create", json={"apiKey": TEST_KEY, "workflowId": Z_IMAGE}
        ) as response:
            assert await response.json() == {"code": 421, "msg": "TASK_QUEUE_MAXED", "data": None}
        assert sim.max_concurrent_seen == 2 and sim.active_count() == 2
        await manual_sleep.run_until(lambda: sim.active_count() == 0)
        assert {sim.tasks[first.task_id].state, sim.tasks[second.task_id].state} == {"SUCCESS"}
        third = await client.create_task(Z_IMAGE, [])
        assert third.task_id in sim.tasks and sim.max_concurrent_seen == 2


# ----------------------------------------------------------------------------- serving


async def test_serve_forever_prints_the_url_and_key(capsys: pytest.CaptureFixture[str]) -> None:
    server = asyncio.create_task(serve_forever(0, queue_seconds=0.01, run_seconds=0.01))
    try:
        printed = ""
        for _ in range(200):
            printed += capsys.readouterr().out
            if "RUNNINGHUB_API_KEY" in printed:
                break
            await asyncio.sleep(0.01)
        match = re.search(r"RUNNINGHUB_BASE_URL=(http://127\.0\.0\.1:\d+)", printed)
        assert match is not None
        key = re.search(r"RUNNINGHUB_API_KEY=(\S+)", printed)
        assert key is not None
        async with aiohttp.ClientSession() as http:
            status = await RunningHubClient(http, match.group(1), key.group(1)).account_status()
        assert status.api_type == "NORMAL"
    finally:
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server
