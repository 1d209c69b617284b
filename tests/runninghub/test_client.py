"""Every client endpoint against the simulator on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json

import aiohttp
import pytest
from PIL import Image

from bot.runninghub import NodeInfo, RunningHubClient, TaskNotFound, TaskState
from bot.runninghub.simulator import SIMDATA_DIR, Simulator
from tests.samples import png_bytes

from .conftest import TEST_KEY, ManualSleep, WaitDone

Z_IMAGE = "2016195556967714818"
STYLE = "2014552598229032961"
SKETCH_APP = "1937000000000000001"


async def test_upload_returns_the_content_addressed_name(sim: Simulator, client: RunningHubClient) -> None:
    data = png_bytes()
    name = await client.upload(data, "Photo.PNG")
    assert name == f"api/{hashlib.sha256(data).hexdigest()}.png"
    assert sim.uploads[name] == data
    (request,) = sim.requests_to("/task/openapi/upload")
    assert request.form == {"apiKey": TEST_KEY, "fileType": "input"}
    assert request.file_name == "Photo.PNG" and request.file_size == len(data)
    assert request.headers["Authorization"] == f"Bearer {TEST_KEY}"


async def test_upload_file_type_is_passed(sim: Simulator, client: RunningHubClient) -> None:
    await client.upload(b"RIFF....WAVEfmt ", "voice.wav", file_type="audio")
    assert sim.requests_to("/task/openapi/upload")[0].form["fileType"] == "audio"


async def test_create_task_sends_the_documented_body(
    sim: Simulator, client: RunningHubClient, wait_done: WaitDone
) -> None:
    created = await client.create_task(
        Z_IMAGE,
        [NodeInfo("6", "text", "a lighthouse"), NodeInfo("3", "seed", 42), NodeInfo("5", "width", 768)],
        webhook_url="http://127.0.0.1:9/hook",
        instance_type="plus",
        add_metadata=False,
    )
    assert len(created.task_id) == 19 and created.task_id.isdigit()
    assert created.status == "QUEUED"
    assert created.prompt_tips == {
        "result": True,
        "error": None,
        "outputs_to_execute": ["9"],
        "node_errors": {},
    }
    (request,) = sim.creates()
    assert request.json == {
        "apiKey": TEST_KEY,
        "workflowId": Z_IMAGE,
        "nodeInfoList": [
            {"nodeId": "6", "fieldName": "text", "fieldValue": "a lighthouse"},
            {"nodeId": "3", "fieldName": "seed", "fieldValue": 42},
            {"nodeId": "5", "fieldName": "width", "fieldValue": 768},
        ],
        "webhookUrl": "http://127.0.0.1:9/hook",
        "instanceType": "plus",
        "addMetadata": False,
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == f"Bearer {TEST_KEY}"
    assert request.headers["X-Request-Id"]
    task = sim.tasks[created.task_id]
    assert task.workflow_id == Z_IMAGE and task.instance_type == "plus"
    await wait_done(client, created.task_id)


async def test_outputs_through_the_life_cycle_and_download(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession, wait_done: WaitDone
) -> None:
    image = await client.upload(png_bytes(), "source.png")
    style = await client.upload(png_bytes((0, 0, 255)), "style.png")
    created = await client.create_task(
        STYLE, [NodeInfo("21", "image", image), NodeInfo("24", "image", style)]
    )
    done = await wait_done(client, created.task_id)
    assert done.state is TaskState.SUCCEEDED
    assert done.consume_coins == sim.task_cost
    assert done.cost_seconds is not None and done.cost_seconds >= 0
    (output,) = done.files
    assert output.file_type == "png" and output.node_id == "30"
    async with session.get(output.url) as response:
        body = await response.read()
    with Image.open(io.BytesIO(body)) as picture:
        assert picture.format == "PNG" and picture.size == sim.image_size


async def test_status_follows_the_task(
    paused_sim: Simulator, paused_client: RunningHubClient, manual_sleep: ManualSleep
) -> None:
    created = await paused_client.create_task(Z_IMAGE, [])
    assert await paused_client.status(created.task_id) == "QUEUED"
    await manual_sleep.release_one()
    assert await paused_client.status(created.task_id) == "RUNNING"
    await manual_sleep.run_until(lambda: paused_sim.tasks[created.task_id].state == "SUCCESS")
    assert await paused_client.status(created.task_id) == "SUCCESS"


async def test_failed_task_outputs_name_node_and_exception(
    sim: Simulator, client: RunningHubClient, wait_done: WaitDone
) -> None:
    sim.fail_next_task()
    created = await client.create_task(Z_IMAGE, [NodeInfo("6", "text", "x")])
    done = await wait_done(client, created.task_id)
    assert done.state is TaskState.FAILED and done.files == []
    assert done.failed_reason is not None
    summary = done.failed_reason.summary()
    assert summary.startswith("node 3 (KSampler) failed: torch.OutOfMemoryError: Allocation on device 0")
    assert await client.status(created.task_id) == "FAILED"


async def test_cancel_ends_a_live_task_and_unknown_task_is_not_found(
    paused_sim: Simulator, paused_client: RunningHubClient, manual_sleep: ManualSleep
) -> None:
    queued = await paused_client.create_task(Z_IMAGE, [])
    await paused_client.cancel(queued.task_id)
    outputs = await paused_client.outputs(queued.task_id)
    assert outputs.state is TaskState.FAILED
    assert outputs.failed_reason is not None and "cancelled" in outputs.failed_reason.summary()
    assert paused_sim.tasks[queued.task_id].state == "FAILED"
    assert paused_sim.active_count() == 0

    running = await paused_client.create_task(Z_IMAGE, [])
    await manual_sleep.release_one()
    assert (await paused_client.outputs(running.task_id)).state is TaskState.RUNNING
    await paused_client.cancel(running.task_id)
    assert (await paused_client.outputs(running.task_id)).state is TaskState.FAILED
    assert await paused_client.status(running.task_id) == "FAILED"

    with pytest.raises(TaskNotFound) as caught:
        await paused_client.cancel("1234567890123456789")
    assert caught.value.code == 807


async def test_account_status_counts_tasks_and_coins(
    paused_sim: Simulator, paused_client: RunningHubClient, manual_sleep: ManualSleep
) -> None:
    before = await paused_client.account_status()
    assert before.api_type == "NORMAL" and before.current_task_counts == 0
    assert before.remain_coins == paused_sim.remain_coins and before.remain_money is None
    created = await paused_client.create_task(Z_IMAGE, [])
    during = await paused_client.account_status()
    assert during.current_task_counts == 1 and during.remain_coins == before.remain_coins
    await manual_sleep.run_until(lambda: paused_sim.tasks[created.task_id].state == "SUCCESS")
    after = await paused_client.account_status()
    assert after.current_task_counts == 0
    assert after.remain_coins == (before.remain_coins or 0) - paused_sim.task_cost
    assert paused_sim.requests_to("/uc/openapi/accountStatus")[0].json == {"apikey": TEST_KEY}


async def test_workflow_json_is_the_shipped_api_format(client: RunningHubClient) -> None:
    graph = await client.workflow_json(Z_IMAGE)
    assert graph == json.loads((SIMDATA_DIR / f"{Z_IMAGE}.json").read_text(encoding="utf-8"))
    assert graph["6"]["class_type"] == "CLIPTextEncode" and "text" in graph["6"]["inputs"]


async def test_app_nodes_and_run_app(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession, wait_done: WaitDone
) -> None:
    nodes = await client.app_nodes(SKETCH_APP)
    assert [(n["nodeId"], n["fieldName"], n["fieldType"]) for n in nodes] == [
        ("39", "image", "IMAGE"),
        ("52", "text", "STRING"),
        ("61", "steps", "INT"),
    ]
    (demo,) = sim.requests_to("/api/webapp/apiCallDemo")
    assert demo.method == "GET" and demo.query == {"apiKey": TEST_KEY, "webappId": SKETCH_APP}
    photo = await client.upload(png_bytes(), "me.jpg")
    created = await client.run_app(
        SKETCH_APP,
        [NodeInfo("39", "image", photo), NodeInfo("52", "text", "charcoal")],
        instance_type="default",
    )
    (request,) = sim.creates()
    assert request.path == "/task/openapi/ai-app/run"
    assert request.json["webappId"] == SKETCH_APP and request.json["instanceType"] == "default"
    done = await wait_done(client, created.task_id)
    assert [f.node_id for f in done.files] == ["70"]
    async with session.get(done.files[0].url) as response:
        assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")


async def test_base_url_trailing_slash_is_dropped(sim: Simulator, session: aiohttp.ClientSession) -> None:
    client = RunningHubClient(session, sim.base_url + "/", TEST_KEY)
    assert client.base_url == sim.base_url
    assert (await client.account_status()).api_type == "NORMAL"
