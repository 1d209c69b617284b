"""The simulator's v2 endpoints: run workflow / ai-app, query, binary upload, webhooks, shared tasks."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from bot.runninghub.simulator import Simulator
from tests.samples import png_bytes

from .conftest import TEST_KEY, ManualSleep

Z_IMAGE = "2016195556967714818"
STYLE = "2014552598229032961"
CAPTION_APP = "1937000000000000002"
BEARER = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    async with http.post(url, json=body, headers=BEARER if headers is None else headers) as response:
        assert response.status == 200
        return await response.json()


async def upload_v2(
    http: aiohttp.ClientSession, sim: Simulator, data: bytes, name: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name)
    async with http.post(
        sim.base_url + "/openapi/v2/media/upload/binary", data=form, headers=BEARER if headers is None else headers
    ) as response:
        assert response.status == 200
        return await response.json()


async def query_until_done(http: aiohttp.ClientSession, sim: Simulator, task_id: str) -> dict[str, Any]:
    for _ in range(500):
        answer = await post(http, sim.base_url + "/openapi/v2/query", {"taskId": task_id})
        if answer["status"] in ("SUCCESS", "FAILED"):
            return answer
        await asyncio.sleep(0.01)
    raise AssertionError("the task did not end")


async def test_v2_workflow_run_query_and_result_bytes(sim: Simulator, http: aiohttp.ClientSession) -> None:
    body = {"nodeInfoList": [{"nodeId": "6", "fieldName": "text", "fieldValue": "a v2 fox"}], "addMetadata": True}
    created = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", body)
    # No envelope: the task's own fields, errorCode a string.
    assert "code" not in created
    assert created["status"] == "QUEUED" and created["errorCode"] == "" and created["errorMessage"] == ""
    assert created["results"] is None and created["clientId"]
    assert json.loads(created["promptTips"])["outputs_to_execute"] == ["9"]
    task = sim.tasks[created["taskId"]]
    assert (task.family, task.api_key) == ("v2", TEST_KEY)

    done = await query_until_done(http, sim, created["taskId"])
    assert done["taskId"] == created["taskId"] and done["errorCode"] == ""
    (result,) = done["results"]
    assert (result["nodeId"], result["outputType"], result["text"]) == ("9", "png", None)
    assert done["usage"]["consumeCoins"] == str(sim.task_cost) and float(done["usage"]["taskCostTime"]) >= 0
    async with http.get(result["url"]) as response:
        picture = await response.read()
    with Image.open(io.BytesIO(picture)) as image:
        assert image.format == "PNG" and image.size == (64, 48)


async def test_v2_app_run_with_a_v2_upload_and_a_text_result(sim: Simulator, http: aiohttp.ClientSession) -> None:
    photo = png_bytes()
    uploaded = await upload_v2(http, sim, photo, "photo.png")
    digest = hashlib.sha256(photo).hexdigest()
    assert uploaded["code"] == 0 and uploaded["message"] == "success"
    data = uploaded["data"]
    assert data["fileName"] == f"openapi/{digest}.png" and data["type"] == "image" and data["size"] == str(len(photo))
    async with http.get(data["download_url"]) as response:  # the download_url serves the same bytes
        assert response.status == 200 and await response.read() == photo

    nodes = [{"nodeId": "5", "fieldName": "image", "fieldValue": data["fileName"]}]
    created = await post(http, f"{sim.base_url}/openapi/v2/run/ai-app/{CAPTION_APP}", {"nodeInfoList": nodes})
    assert created["status"] == "QUEUED"
    done = await query_until_done(http, sim, created["taskId"])
    (result,) = done["results"]
    assert result["outputType"] == "txt" and result["text"].startswith("Simulated RunningHub text output.")


async def test_v2_query_finds_legacy_tasks_and_legacy_outputs_find_v2_tasks(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    legacy = await post(http, sim.base_url + "/task/openapi/create", {"apiKey": TEST_KEY, "workflowId": Z_IMAGE}, {})
    assert (await query_until_done(http, sim, legacy["data"]["taskId"]))["status"] == "SUCCESS"
    v2 = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {})
    await query_until_done(http, sim, v2["taskId"])
    outputs = await post(
        http, sim.base_url + "/task/openapi/outputs", {"apiKey": TEST_KEY, "taskId": v2["taskId"]}, {}
    )
    assert outputs["code"] == 0 and outputs["data"][0]["fileType"] == "png"


async def test_v2_failure_and_cancel(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.fail_next_task()
    failed = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {})
    answer = await query_until_done(http, sim, failed["taskId"])
    assert answer["status"] == "FAILED" and answer["errorCode"] == "1000"
    assert answer["failedReason"]["exception_type"] == "torch.OutOfMemoryError"
    assert "out of memory" in answer["errorMessage"] and answer["results"] is None

    running = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {})
    cancel = await post(
        http, sim.base_url + "/task/openapi/cancel", {"apiKey": TEST_KEY, "taskId": running["taskId"]}, {}
    )
    assert cancel["code"] == 0
    cancelled = await post(http, sim.base_url + "/openapi/v2/query", {"taskId": running["taskId"]})
    assert cancelled["status"] == "FAILED" and cancelled["failedReason"]["exception_type"] == "InterruptedError"


async def test_the_fail_marker_fails_a_task_from_any_client(sim: Simulator, http: aiohttp.ClientSession) -> None:
    nodes = [{"nodeId": "6", "fieldName": "text", "fieldValue": "a cat [sim:fail]"}]
    created = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {"nodeInfoList": nodes})
    answer = await query_until_done(http, sim, created["taskId"])
    assert answer["status"] == "FAILED" and answer["failedReason"]["node_name"] == "KSampler"


@pytest.mark.parametrize(
    "path, body, code",
    [
        (f"/openapi/v2/run/workflow/{Z_IMAGE}", {"nodeInfoList": [{"nodeId": "66", "fieldName": "x"}]}, "1101"),
        ("/openapi/v2/run/workflow/123", {}, "380"),
        ("/openapi/v2/run/workflow/1999999999999999999", {}, "810"),
        ("/openapi/v2/run/ai-app/5", {"nodeInfoList": []}, "901"),
        (f"/openapi/v2/run/ai-app/{CAPTION_APP}", {}, "1007"),
        ("/openapi/v2/query", {"taskId": "1000000000000000001"}, "1004"),
        ("/openapi/v2/query", {}, "1007"),
    ],
)
async def test_v2_refusals_are_string_error_codes(
    sim: Simulator, http: aiohttp.ClientSession, path: str, body: dict[str, Any], code: str
) -> None:
    answer = await post(http, sim.base_url + path, body)
    assert answer["errorCode"] == code and answer["errorMessage"] and answer["status"] == ""
    assert "code" not in answer


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrongwrongwrongwrongwrongwrong00"}], ids=["none", "wrong"]
)
async def test_v2_needs_the_bearer_key(sim: Simulator, http: aiohttp.ClientSession, headers: dict[str, str]) -> None:
    run = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {}, headers)
    assert run["errorCode"] == "1002" and run["taskId"] == ""
    # A legacy-style body key does not authenticate a v2 call.
    query = await post(http, sim.base_url + "/openapi/v2/query", {"taskId": "1", "apiKey": TEST_KEY}, headers)
    assert query["errorCode"] == "1002"
    upload = await upload_v2(http, sim, b"x", "x.png", headers)
    assert upload == {"code": 401, "message": "ApiKey verification failed: API Key不存在", "data": None}
    assert sim.tasks == {} and sim.uploads == {}


async def test_v2_accepts_the_bare_key_without_bearer(sim: Simulator, http: aiohttp.ClientSession) -> None:
    created = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {}, {"Authorization": TEST_KEY})
    assert created["status"] == "QUEUED"


async def test_v2_upload_limits(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, max_upload_bytes=1000) as sim:
        assert (await upload_v2(http, sim, b"x" * 1001, "big.png"))["code"] == 1008
        form = aiohttp.FormData()
        form.add_field("other", "x")
        async with http.post(sim.base_url + "/openapi/v2/media/upload/binary", data=form, headers=BEARER) as r:
            assert (await r.json())["code"] == 1007
        async with http.get(sim.base_url + "/sim/media/nothing.png") as r:
            assert r.status == 404


async def test_v2_respects_the_key_concurrency(http: aiohttp.ClientSession, manual_sleep: ManualSleep) -> None:
    async with Simulator(api_key=TEST_KEY, sleep=manual_sleep) as sim:
        first = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {})
        second = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {})
        assert first["status"] == "QUEUED" and second["errorCode"] == "421"
        async with http.get(sim.base_url + "/openapi/v2/queue/status", headers=BEARER) as response:
            queue = await response.json()
        assert queue["data"] == {
            "apiKeyType": "NORMAL",
            "concurrentLimit": 1,
            "runningCount": 0,
            "queuedCount": 1,
            "totalCurrentTasks": 1,
        }


async def test_zero_queue_seconds_answers_running_with_the_socket_url(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=5) as sim:
        body = {"apiKey": TEST_KEY, "workflowId": Z_IMAGE}
        legacy = await post(http, sim.base_url + "/task/openapi/create", body, {})
        assert legacy["data"]["taskStatus"] == "RUNNING"
        assert legacy["data"]["netWssUrl"].startswith(sim.base_url.replace("http://", "ws://") + "/sim/ws?taskId=")
        sim.concurrency = 2
        v2 = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {})
        assert v2["status"] == "RUNNING"


# ----------------------------------------------------------------------------- v2 webhooks


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", received
    await runner.cleanup()


async def test_a_v2_task_webhook_carries_the_query_shape_as_an_object(
    sim: Simulator, http: aiohttp.ClientSession, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = receiver
    created = await post(http, f"{sim.base_url}/openapi/v2/run/workflow/{Z_IMAGE}", {"webhookUrl": url})
    polled = await query_until_done(http, sim, created["taskId"])
    for _ in range(300):
        if received:
            break
        await asyncio.sleep(0.01)
    (payload,) = received
    assert payload["event"] == "TASK_END" and payload["taskId"] == created["taskId"]
    assert payload["eventData"] == polled  # an object, exactly what /openapi/v2/query answers
