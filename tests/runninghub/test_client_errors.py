"""Business errors from the simulator arrive as the right typed errors, and are not retried."""

from __future__ import annotations

import aiohttp
import pytest

from bot.runninghub import (
    MAX_UPLOAD_BYTES,
    AccountError,
    CapacityError,
    ErrorKind,
    NodeInfo,
    RequestError,
    RunningHubClient,
    TaskNotFound,
)
from bot.runninghub.simulator import NEVER_RUN_WORKFLOW_ID, Simulator

from .conftest import TEST_KEY, FakeSleep, ManualSleep

Z_IMAGE = "2016195556967714818"
UPSCALE = "1990000000000000001"
VOICE = "1990000000000000002"
UNKNOWN_TASK = "1000000000000000001"


@pytest.fixture
def wrong_key_client(
    sim: Simulator, session: aiohttp.ClientSession, fake_sleep: FakeSleep
) -> RunningHubClient:
    return RunningHubClient(session, sim.base_url, "wrongwrongwrongwrongwrongwrong00", sleep=fake_sleep)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.upload(b"abc", "a.png"),
        lambda c: c.create_task(Z_IMAGE, []),
        lambda c: c.run_app("1937000000000000001", []),
        lambda c: c.outputs(UNKNOWN_TASK),
        lambda c: c.status(UNKNOWN_TASK),
        lambda c: c.cancel(UNKNOWN_TASK),
        lambda c: c.account_status(),
        lambda c: c.workflow_json(Z_IMAGE),
        lambda c: c.app_nodes("1937000000000000001"),
    ],
    ids=[
        "upload",
        "create",
        "run_app",
        "outputs",
        "status",
        "cancel",
        "account",
        "workflow_json",
        "app_nodes",
    ],
)
async def test_wrong_key_is_802_on_every_endpoint(
    sim: Simulator, wrong_key_client: RunningHubClient, fake_sleep: FakeSleep, call
) -> None:
    with pytest.raises(AccountError) as caught:
        await call(wrong_key_client)
    assert caught.value.code == 802 and caught.value.kind is ErrorKind.ACCOUNT
    assert "per site" in caught.value.user_message()
    assert len(sim.requests) == 1 and fake_sleep.delays == []  # not retried
    assert sim.tasks == {} and sim.uploads == {}


async def test_803_for_a_node_id_not_in_the_workflow(sim: Simulator, client: RunningHubClient) -> None:
    with pytest.raises(RequestError) as caught:
        await client.create_task(Z_IMAGE, [NodeInfo("999", "text", "x")])
    assert caught.value.code == 803 and "999" in caught.value.msg
    assert "python -m bot inspect WORKFLOW_ID" in caught.value.user_message()
    assert sim.tasks == {}


async def test_803_for_a_field_the_node_does_not_have(sim: Simulator, client: RunningHubClient) -> None:
    with pytest.raises(RequestError) as caught:
        await client.create_task(Z_IMAGE, [NodeInfo("6", "prompt", "x")])
    assert caught.value.code == 803
    assert sim.tasks == {}


async def test_803_for_a_load_image_value_that_is_not_uploaded(
    sim: Simulator, client: RunningHubClient
) -> None:
    with pytest.raises(RequestError) as caught:
        await client.create_task(UPSCALE, [NodeInfo("1", "image", "api/not-uploaded.png")])
    assert caught.value.code == 803 and "node 1" in caught.value.msg
    name = await client.upload(b"\x89PNG\r\n\x1a\nrest", "x.png")
    ok = await client.create_task(UPSCALE, [NodeInfo("1", "image", name)])
    assert ok.task_id in sim.tasks


async def test_loader_fields_accept_a_public_url(sim: Simulator, client: RunningHubClient) -> None:
    created = await client.create_task(
        VOICE, [NodeInfo("10", "audio", "https://example.com/voice.wav"), NodeInfo("12", "text", "hi")]
    )
    assert created.task_id in sim.tasks


async def test_app_803_and_901(sim: Simulator, client: RunningHubClient) -> None:
    with pytest.raises(RequestError) as bad_node:
        await client.run_app("1937000000000000001", [NodeInfo("40", "image", "x")])
    with pytest.raises(RequestError) as bad_image:
        await client.run_app("1937000000000000001", [NodeInfo("39", "image", "not-uploaded.png")])
    with pytest.raises(RequestError) as no_app:
        await client.run_app("42", [])
    with pytest.raises(RequestError) as no_app_demo:
        await client.app_nodes("42")
    assert (bad_node.value.code, bad_image.value.code) == (803, 803)
    assert (no_app.value.code, no_app_demo.value.code) == (901, 901)
    assert sim.tasks == {}


async def test_809_is_refused_before_sending(sim: Simulator, client: RunningHubClient) -> None:
    with pytest.raises(RequestError) as caught:
        await client.upload(b"\0" * (MAX_UPLOAD_BYTES + 1), "big.png")
    assert caught.value.code == 809 and "30 MB" in caught.value.user_message()
    assert sim.requests == []


async def test_809_from_the_server_when_the_client_limit_is_bypassed(
    sim: Simulator, client: RunningHubClient, fake_sleep: FakeSleep
) -> None:
    client.max_upload_bytes = MAX_UPLOAD_BYTES * 2  # pretend the client forgot its own check
    with pytest.raises(RequestError) as caught:
        await client.upload(b"\0" * (MAX_UPLOAD_BYTES + 1), "big.png")
    assert caught.value.code == 809
    (request,) = sim.requests_to("/task/openapi/upload")
    assert request.file_size == MAX_UPLOAD_BYTES + 1
    assert sim.uploads == {} and fake_sleep.delays == []
    exactly = await client.upload(b"\1" * MAX_UPLOAD_BYTES, "limit.png")
    assert len(sim.uploads[exactly]) == MAX_UPLOAD_BYTES


async def test_810_for_a_workflow_never_run_on_the_web(sim: Simulator, client: RunningHubClient) -> None:
    with pytest.raises(RequestError) as caught:
        await client.create_task(NEVER_RUN_WORKFLOW_ID, [])
    assert caught.value.code == 810 and "runs it once" in caught.value.user_message()
    assert (await client.workflow_json(NEVER_RUN_WORKFLOW_ID))["9"]["class_type"] == "SaveImage"


async def test_380_for_an_unknown_workflow(sim: Simulator, client: RunningHubClient) -> None:
    with pytest.raises(RequestError) as on_create:
        await client.create_task("1111111111111111111", [])
    with pytest.raises(RequestError) as on_json:
        await client.workflow_json("1111111111111111111")
    assert on_create.value.code == 380 and on_json.value.code == 380
    assert len(sim.creates()) == 1


async def test_807_for_an_unknown_task(
    sim: Simulator, client: RunningHubClient, fake_sleep: FakeSleep
) -> None:
    for call in (client.outputs, client.status, client.cancel):
        with pytest.raises(TaskNotFound) as caught:
            await call(UNKNOWN_TASK)
        assert caught.value.code == 807 and caught.value.kind is ErrorKind.NOT_FOUND
    assert len(sim.requests) == 3 and fake_sleep.delays == []


async def test_412_for_an_unknown_path(sim: Simulator, session: aiohttp.ClientSession) -> None:
    # A base URL with a stray path segment makes every path unknown.
    client = RunningHubClient(session, sim.base_url + "/api", TEST_KEY)
    with pytest.raises(RequestError) as caught:
        await client.account_status()
    assert caught.value.code == 412 and caught.value.msg == "TOKEN_INVALID"
    async with session.post(sim.base_url + "/api/openapi/upload", json={}) as response:
        assert response.status == 200
        assert await response.json() == {"code": 412, "msg": "TOKEN_INVALID"}


async def test_421_over_the_account_concurrency(
    paused_sim: Simulator, paused_client: RunningHubClient, fake_sleep: FakeSleep, manual_sleep: ManualSleep
) -> None:
    first = await paused_client.create_task(Z_IMAGE, [])
    with pytest.raises(CapacityError) as caught:
        await paused_client.create_task(Z_IMAGE, [])
    assert caught.value.code == 421 and caught.value.msg == "TASK_QUEUE_MAXED"
    assert caught.value.transient and "concurrency is full" in caught.value.user_message()
    assert len(paused_sim.creates()) == 2 and len(paused_sim.tasks) == 1 and fake_sleep.delays == []
    await manual_sleep.run_until(lambda: paused_sim.tasks[first.task_id].state == "SUCCESS")
    second = await paused_client.create_task(Z_IMAGE, [])
    assert second.task_id != first.task_id
    assert paused_sim.max_concurrent_seen == 1


async def test_416_when_the_account_has_no_coins(sim: Simulator, client: RunningHubClient) -> None:
    sim.remain_coins = 0
    with pytest.raises(AccountError) as caught:
        await client.create_task(Z_IMAGE, [])
    assert caught.value.code == 416 and "lacks coins" in caught.value.user_message()


async def test_301_for_a_bad_webhook_url(sim: Simulator, client: RunningHubClient) -> None:
    with pytest.raises(RequestError) as caught:
        await client.create_task(Z_IMAGE, [], webhook_url="ftp://nope")
    assert caught.value.code == 301
