"""The progress websocket (`netWssUrl`): ComfyUI's messages over the run, and its fault switches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.runninghub.sim.progress import plan_nodes, run_plan
from bot.runninghub.simulator import Simulator

from .conftest import TEST_KEY

Z_IMAGE = "2016195556967714818"  # KSampler "3" with 25 steps, SaveImage "9"
CAPTION_APP = "1937000000000000002"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def start_running(http: aiohttp.ClientSession, sim: Simulator, body: dict[str, Any] | None = None) -> str:
    """Create a task and return its netWssUrl from the 804 answer once it runs."""
    payload = {"apiKey": TEST_KEY, "workflowId": Z_IMAGE, **(body or {})}
    async with http.post(sim.base_url + "/task/openapi/create", json=payload) as response:
        task_id = (await response.json())["data"]["taskId"]
    for _ in range(500):
        async with http.post(
            sim.base_url + "/task/openapi/outputs", json={"apiKey": TEST_KEY, "taskId": task_id}
        ) as response:
            answer = await response.json()
        if answer["code"] == 804:
            return str(answer["data"]["netWssUrl"])
        await asyncio.sleep(0.005)
    raise AssertionError("the task never ran")


async def read_all(http: aiohttp.ClientSession, url: str) -> tuple[list[dict[str, Any]], int | None]:
    """Every JSON message until the server closes (within 5 s), and the close code."""
    messages: list[dict[str, Any]] = []
    async with http.ws_connect(url) as socket:
        async with asyncio.timeout(5):
            async for message in socket:
                if message.type == aiohttp.WSMsgType.TEXT:
                    messages.append(message.json())
        return messages, socket.close_code


def types(messages: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in messages]


async def test_a_run_streams_comfyui_messages_then_success(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0.3, run_seconds=0.6, image_size=(16, 16)) as sim:
        body = {"apiKey": TEST_KEY, "workflowId": Z_IMAGE}
        async with http.post(sim.base_url + "/task/openapi/create", json=body) as response:
            task_id = (await response.json())["data"]["taskId"]
        task = sim.tasks[task_id]
        # Connected while still queued (the URL is advertised once it runs): it hears the whole run.
        messages, code = await read_all(http, sim.progress_url(task))

    assert code == aiohttp.WSCloseCode.OK
    first = messages[0]
    assert first == {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": task.client_id}}
    assert types(messages)[1:3] == ["execution_start", "execution_cached"]
    assert messages[1]["data"]["prompt_id"] == task_id and isinstance(messages[1]["data"]["timestamp"], int)

    executing = [m["data"]["node"] for m in messages if m["type"] == "executing"]
    assert executing[0] is not None and executing[-1] is None  # ComfyUI ends with executing {node: null}
    assert "3" in executing and executing.index("3") < executing.index("9")

    progress = [m["data"] for m in messages if m["type"] == "progress"]
    assert [p["value"] for p in progress] == list(range(1, 26))  # the KSampler's 25 steps, in order
    assert {(p["max"], p["node"], p["prompt_id"]) for p in progress} == {(25, "3", task_id)}

    (executed,) = [m["data"] for m in messages if m["type"] == "executed"]
    (image,) = executed["output"]["images"]
    assert executed["node"] == "9" and image["type"] == "output" and image["subfolder"] == ""
    assert image["filename"] == task.outputs[0]["fileUrl"].rsplit("/", 1)[-1]
    assert types(messages)[-2:] == ["execution_success", "executing"]
    assert messages[-2]["data"]["prompt_id"] == task_id


async def test_the_messages_are_spread_over_the_run_time(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=1.0, image_size=(16, 16)) as sim:
        url = await start_running(http, sim)
        arrivals: list[tuple[float, str]] = []
        loop = asyncio.get_running_loop()
        began = loop.time()
        async with http.ws_connect(url) as socket:
            async for message in socket:
                arrivals.append((loop.time() - began, message.json()["type"]))
    progress_times = [at for at, kind in arrivals if kind == "progress"]
    assert progress_times[0] < 0.5 < progress_times[-1]  # spread, not sent in one burst
    success_at = next(at for at, kind in arrivals if kind == "execution_success")
    assert success_at >= progress_times[-1] and success_at >= 0.9


async def test_a_failed_run_ends_with_execution_error(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=0.3) as sim:
        sim.fail_next_task()
        messages, _ = await read_all(http, await start_running(http, sim))
    error = messages[-1]
    assert error["type"] == "execution_error"
    data = error["data"]
    assert (data["node_id"], data["node_type"], data["exception_type"]) == ("3", "KSampler", "torch.OutOfMemoryError")
    assert "out of memory" in data["exception_message"] and isinstance(data["traceback"], list)
    assert "execution_success" not in types(messages)


async def test_a_cancel_ends_with_execution_interrupted(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=30) as sim:
        url = await start_running(http, sim)
        task_id = url.split("taskId=")[1].split("&")[0]
        async with http.ws_connect(url) as socket:
            assert (await socket.receive_json())["type"] == "status"
            await http.post(sim.base_url + "/task/openapi/cancel", json={"apiKey": TEST_KEY, "taskId": task_id})
            rest = [m.json() async for m in socket]
    assert types(rest)[-1] == "execution_interrupted" and rest[-1]["data"]["prompt_id"] == task_id


async def test_an_app_run_has_progress_too(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=0.3) as sim:
        photo = "https://example.invalid/photo.png"  # a URL is a valid loader value; never fetched
        body = {"apiKey": TEST_KEY, "webappId": CAPTION_APP, "nodeInfoList": [
            {"nodeId": "5", "fieldName": "image", "fieldValue": photo}]}  # fmt: skip
        async with http.post(sim.base_url + "/task/openapi/ai-app/run", json=body) as response:
            created = (await response.json())["data"]
        assert created["taskStatus"] == "RUNNING"
        messages, _ = await read_all(http, created["netWssUrl"])
    progress = [m["data"] for m in messages if m["type"] == "progress"]
    assert progress and progress[-1]["value"] == progress[-1]["max"]
    (executed,) = [m["data"] for m in messages if m["type"] == "executed"]
    assert executed["node"] == "12" and executed["output"]["text"][0].endswith(".txt")


async def test_joining_late_catches_up_without_replaying_everything(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=1.0, image_size=(16, 16)) as sim:
        url = await start_running(http, sim)
        await asyncio.sleep(0.6)
        messages, _ = await read_all(http, url)
    progress = [m["data"]["value"] for m in messages if m["type"] == "progress"]
    assert types(messages)[:2] == ["status", "execution_start"]
    assert progress[0] > 5 and progress[-1] == 25 and progress == sorted(progress)


# ----------------------------------------------------------------------------- faults and bounds


async def test_fault_refuse(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=5, progress_socket_fault="refuse") as sim:
        url = await start_running(http, sim)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url)
        assert refused.value.status == 403
        assert sim.progress_sockets_opened == 0


async def test_fault_close_early(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=2) as sim:
        sim.progress_socket_fault = "close_early"
        url = await start_running(http, sim)
        messages, code = await read_all(http, url)
        assert code == aiohttp.WSCloseCode.INTERNAL_ERROR
        assert types(messages) == ["status", "execution_start", "execution_cached", "executing"]
        assert sim.tasks[url.split("taskId=")[1].split("&")[0]].state == "RUNNING"  # the task goes on


async def test_fault_silent_sends_nothing_and_is_closed_on_stop(http: aiohttp.ClientSession) -> None:
    sim = Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=0.2, progress_socket_fault="silent")
    await sim.start()
    url = await start_running(http, sim)
    socket = await http.ws_connect(url)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(socket.receive(), 0.5)  # the task has ended meanwhile: still nothing
    await asyncio.wait_for(sim.stop(), 5)
    message = await asyncio.wait_for(socket.receive(), 2)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    await socket.close()


async def test_stop_closes_streaming_sockets(http: aiohttp.ClientSession) -> None:
    sim = Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=60)
    await sim.start()
    url = await start_running(http, sim)
    socket = await http.ws_connect(url)
    assert (await socket.receive_json())["type"] == "status"
    await asyncio.wait_for(sim.stop(), 5)
    async with asyncio.timeout(2):
        while (await socket.receive()).type == aiohttp.WSMsgType.TEXT:
            pass
    assert socket.closed or socket.close_code == aiohttp.WSCloseCode.GOING_AWAY
    await socket.close()


async def test_sockets_are_bounded_and_unknown_tasks_refused(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, queue_seconds=0, run_seconds=30, max_progress_sockets=2) as sim:
        url = await start_running(http, sim)
        first, second = await http.ws_connect(url), await http.ws_connect(url)
        with pytest.raises(aiohttp.WSServerHandshakeError) as full:
            await http.ws_connect(url)
        assert full.value.status == 503
        with pytest.raises(aiohttp.WSServerHandshakeError) as unknown:
            await http.ws_connect(sim.base_url.replace("http", "ws") + "/sim/ws?taskId=1")
        assert unknown.value.status == 404
        await first.close()
        await second.close()


def test_a_huge_sampler_sends_a_bounded_number_of_progress_messages() -> None:
    graph = {"1": {"class_type": "KSampler", "inputs": {"steps": 1000}}, "2": {"class_type": "SaveImage", "inputs": {}}}
    plan = run_plan(plan_nodes(graph, []), 10.0, "p")
    progress = [m["data"]["value"] for _, m in plan if m["type"] == "progress"]
    assert len(progress) == 50 and progress[-1] == 1000 and progress == sorted(progress)
    assert max(at for at, _ in plan) <= 9.5


def test_bad_fault_names_are_refused() -> None:
    with pytest.raises(ValueError, match="progress_socket_fault"):
        Simulator(progress_socket_fault="explode")
