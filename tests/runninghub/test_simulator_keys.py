"""The simulator's API keys: well-formed keys, 801/802 per key, per-key concurrency and accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.config import SIMULATOR_API_KEY
from bot.runninghub import RunningHubClient
from bot.runninghub.simulator import Simulator

from .conftest import TEST_KEY, ManualSleep

Z_IMAGE = "2016195556967714818"
KEY_A = "a" * 16 + "0123456789abcdef"
KEY_B = "B" * 16 + "0123456789ABCDEF"
KEY_C = "c1" * 16


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    async with http.post(url, json=body, headers=headers) as response:
        assert response.status == 200
        return await response.json()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def open_sim(manual_sleep: ManualSleep) -> AsyncIterator[Simulator]:
    """Any well-formed key, tasks held until the test releases them."""
    async with Simulator(accept_any_key=True, sleep=manual_sleep, image_size=(16, 16), seed=3) as simulator:
        yield simulator


async def create(http: aiohttp.ClientSession, sim: Simulator, key: str) -> dict[str, Any]:
    return await post(http, sim.base_url + "/task/openapi/create", {"apiKey": key, "workflowId": Z_IMAGE})


async def account(http: aiohttp.ClientSession, sim: Simulator, key: str) -> dict[str, Any]:
    return await post(http, sim.base_url + "/uc/openapi/accountStatus", {"apikey": key})


# ----------------------------------------------------------------------------- which keys


@pytest.mark.parametrize("key", [KEY_A, KEY_B, KEY_C, SIMULATOR_API_KEY])
async def test_any_well_formed_key_is_accepted(open_sim: Simulator, http: aiohttp.ClientSession, key: str) -> None:
    answer = await account(http, open_sim, key)
    assert answer["code"] == 0 and answer["data"]["currentTaskCounts"] == "0"
    created = await create(http, open_sim, key)
    assert created["code"] == 0 and created["data"]["taskStatus"] == "QUEUED"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "short",
        "a" * 31,
        "a" * 33,
        "not-the-key-0000000000000000000a",  # 32 characters, but a dash
        "ключ" * 8,  # 32 letters, not ASCII
        " " + "a" * 31,
    ],
    ids=["empty", "short", "31", "33", "dash", "cyrillic", "space"],
)
async def test_a_malformed_key_gets_802(open_sim: Simulator, http: aiohttp.ClientSession, key: str) -> None:
    assert await create(http, open_sim, key) == {"code": 802, "msg": "APIKEY_UNAUTHORIZED", "data": None}
    assert (await account(http, open_sim, key))["code"] == 802
    assert open_sim.tasks == {}


async def test_no_key_at_all_gets_802(open_sim: Simulator, http: aiohttp.ClientSession) -> None:
    answer = await post(http, open_sim.base_url + "/task/openapi/create", {"workflowId": Z_IMAGE})
    assert answer["code"] == 802
    assert open_sim.requests[-1].api_key is None


async def test_the_default_simulator_takes_only_its_own_keys(http: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=TEST_KEY, keys=[KEY_A]) as sim:
        assert (await account(http, sim, TEST_KEY))["code"] == 0  # listed, even at 33 characters
        assert (await account(http, sim, KEY_A))["code"] == 0
        assert (await account(http, sim, KEY_B))["code"] == 802  # well-formed, but not this account's
        sim.add_key(KEY_B)
        assert (await account(http, sim, KEY_B))["code"] == 0


async def test_revoked_and_free_keys_per_key(http: aiohttp.ClientSession) -> None:
    async with Simulator(accept_any_key=True, invalid_keys=[KEY_A], free_keys=[KEY_B]) as sim:
        assert await create(http, sim, KEY_A) == {"code": 802, "msg": "APIKEY_UNAUTHORIZED", "data": None}
        assert await create(http, sim, KEY_B) == {"code": 801, "msg": "APIKEY_UNSUPPORTED_FREE_USER", "data": None}
        assert (await account(http, sim, KEY_B))["code"] == 801
        assert (await create(http, sim, KEY_C))["code"] == 0  # the others are unaffected

        sim.revoke_key(KEY_C)
        assert (await account(http, sim, KEY_C))["code"] == 802
        sim.restore_key(KEY_C)
        sim.restore_key(KEY_A)
        sim.make_free_user(KEY_B, False)
        assert [(await account(http, sim, k))["code"] for k in (KEY_A, KEY_B, KEY_C)] == [0, 0, 0]


async def test_a_revoked_key_cannot_poll_or_cancel_its_running_task(
    open_sim: Simulator, http: aiohttp.ClientSession
) -> None:
    task_id = (await create(http, open_sim, KEY_A))["data"]["taskId"]
    open_sim.revoke_key(KEY_A)
    for path in ("/task/openapi/outputs", "/task/openapi/status", "/task/openapi/cancel"):
        answer = await post(http, open_sim.base_url + path, {"apiKey": KEY_A, "taskId": task_id})
        assert answer["code"] == 802, path
    answer = await post(
        http, open_sim.base_url + "/openapi/v2/query", {"taskId": task_id}, Authorization=f"Bearer {KEY_A}"
    )
    assert answer["errorCode"] == "1002" and answer["status"] == ""


async def test_the_key_is_read_from_bearer_and_form_too(open_sim: Simulator, http: aiohttp.ClientSession) -> None:
    # The SDK sends accountStatus with `apiKey` plus Bearer; newer docs allow Bearer alone.
    answer = await post(http, open_sim.base_url + "/uc/openapi/accountStatus", {}, Authorization=f"Bearer {KEY_B}")
    assert answer["code"] == 0
    form = aiohttp.FormData()
    form.add_field("apiKey", KEY_C)
    form.add_field("fileType", "input")
    form.add_field("file", b"\x89PNG\r\n\x1a\nx", filename="x.png")
    async with http.post(open_sim.base_url + "/task/openapi/upload", data=form) as response:
        assert (await response.json())["code"] == 0
    assert [r.api_key for r in open_sim.requests] == [KEY_B, KEY_C]
    (name,) = open_sim.uploads
    assert open_sim.upload_keys == {name: {KEY_C}}
    assert open_sim.requests_with_key(KEY_C)[0].path == "/task/openapi/upload"


# ----------------------------------------------------------------------------- per-key accounts


async def test_concurrency_is_per_key(http: aiohttp.ClientSession, manual_sleep: ManualSleep) -> None:
    async with Simulator(
        keys=[KEY_A, KEY_B, KEY_C], concurrency={KEY_A: 1, KEY_B: 2}, sleep=manual_sleep, image_size=(8, 8)
    ) as sim:
        assert (await create(http, sim, KEY_A))["code"] == 0
        assert (await create(http, sim, KEY_A))["code"] == 421  # A is full...
        assert (await create(http, sim, KEY_B))["code"] == 0  # ...which does not touch B
        assert (await create(http, sim, KEY_B))["code"] == 0
        assert (await create(http, sim, KEY_B))["code"] == 421
        assert (await create(http, sim, KEY_C))["code"] == 0  # not named: 1
        assert (await create(http, sim, KEY_C))["code"] == 421
        assert [sim.active_count(k) for k in (KEY_A, KEY_B, KEY_C)] == [1, 2, 1]
        assert sim.active_count() == 4 and sim.max_concurrent_seen == 4
        assert [sim.account(k).max_concurrent_seen for k in (KEY_A, KEY_B, KEY_C)] == [1, 2, 1]
        assert [(await account(http, sim, k))["data"]["currentTaskCounts"] for k in (KEY_A, KEY_B, KEY_C)] == [
            "1",
            "2",
            "1",
        ]

        sim.set_concurrency(KEY_A, 3)
        assert (await create(http, sim, KEY_A))["code"] == 0
        sim.concurrency = 5  # the simulator-wide default: C has none of its own
        assert sim.concurrency_of(KEY_C) == 5 and sim.concurrency_of(KEY_A) == 3
        assert (await create(http, sim, KEY_C))["code"] == 0


async def test_coins_are_per_key(http: aiohttp.ClientSession, manual_sleep: ManualSleep) -> None:
    async with Simulator(keys=[KEY_A, KEY_B], coins=500, task_cost=12, sleep=manual_sleep, image_size=(8, 8)) as sim:
        await create(http, sim, KEY_A)
        await manual_sleep.run_until(lambda: sim.active_count() == 0)
        a, b = (await account(http, sim, KEY_A))["data"], (await account(http, sim, KEY_B))["data"]
        assert (a["remainCoins"], b["remainCoins"]) == ("488", "500")
        assert sim.remain_coins == 488  # the first key is the default account
        sim.account(KEY_B).remain_coins = 0
        assert (await create(http, sim, KEY_B))["code"] == 416
        assert (await create(http, sim, KEY_A))["code"] == 0


async def test_a_task_belongs_to_the_key_that_made_it(open_sim: Simulator, http: aiohttp.ClientSession) -> None:
    task_id = (await create(http, open_sim, KEY_A))["data"]["taskId"]
    assert open_sim.tasks[task_id].api_key == KEY_A
    # Another account does not see it: RunningHub answers 807 (unknown task) to a foreign key.
    for path in ("/task/openapi/outputs", "/task/openapi/status", "/task/openapi/cancel"):
        answer = await post(http, open_sim.base_url + path, {"apiKey": KEY_B, "taskId": task_id})
        assert answer["code"] == 807, path
    assert open_sim.tasks[task_id].state == "QUEUED"  # the foreign cancel did nothing
    own = await post(http, open_sim.base_url + "/task/openapi/outputs", {"apiKey": KEY_A, "taskId": task_id})
    assert own["code"] == 813
    polls = [r for r in open_sim.requests_to("/task/openapi/outputs") if r.json["taskId"] == task_id]
    assert [r.api_key for r in polls] == [KEY_B, KEY_A]


async def test_the_bot_client_works_with_any_key(open_sim: Simulator, http: aiohttp.ClientSession) -> None:
    client = RunningHubClient(http, open_sim.base_url, KEY_C)
    status = await client.account_status()
    assert status.current_task_counts == 0 and status.remain_coins == 100_000
    created = await client.create_task(Z_IMAGE, [])
    assert (await client.account_status()).current_task_counts == 1
    assert {r.api_key for r in open_sim.requests} == {KEY_C}
    assert open_sim.tasks[created.task_id].api_key == KEY_C
