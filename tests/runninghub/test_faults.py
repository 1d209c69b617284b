"""Injected faults: idempotent calls retry and recover; create and run are never sent twice."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from bot.runninghub import (
    CapacityError,
    NodeInfo,
    OutcomeUnknown,
    RunningHubClient,
    TaskNotFound,
    TaskState,
    TransientError,
)
from bot.runninghub.simulator import Simulator

from .conftest import TEST_KEY, FakeSleep, WaitDone

Z_IMAGE = "2016195556967714818"
OUTPUTS = "/task/openapi/outputs"
CREATE = "/task/openapi/create"


async def started(client: RunningHubClient) -> str:
    return (await client.create_task(Z_IMAGE, [NodeInfo("6", "text", "fault test")])).task_id


async def test_5xx_on_outputs_is_retried_until_success(
    sim: Simulator, client: RunningHubClient, fake_sleep: FakeSleep
) -> None:
    task_id = await started(client)
    sim.fail_next(3, status=502, path=OUTPUTS)
    outputs = await client.outputs(task_id)
    assert outputs.state in (TaskState.QUEUED, TaskState.RUNNING, TaskState.SUCCEEDED)
    assert len(sim.requests_to(OUTPUTS)) == 4
    assert len(fake_sleep.delays) == 3
    # full jitter under a capped exponential: attempt n waits at most base * 2^(n-1)
    for attempt, delay in enumerate(fake_sleep.delays, start=1):
        assert 0 <= delay <= min(20.0, 0.5 * 2 ** (attempt - 1))


async def test_backoff_is_capped(
    sim: Simulator, session: aiohttp.ClientSession, fake_sleep: FakeSleep
) -> None:
    client = RunningHubClient(
        session, sim.base_url, TEST_KEY, max_attempts=8, backoff_base=1.0, backoff_cap=2.5, sleep=fake_sleep
    )
    sim.fail_next(7, path="/task/openapi/status")
    with pytest.raises(TaskNotFound):
        await client.status("1000000000000000001")  # the eighth answer is a 807, after seven 500s
    assert len(fake_sleep.delays) == 7 and max(fake_sleep.delays) <= 2.5


async def test_retries_stop_after_max_attempts(
    sim: Simulator, session: aiohttp.ClientSession, fake_sleep: FakeSleep
) -> None:
    client = RunningHubClient(session, sim.base_url, TEST_KEY, max_attempts=3, sleep=fake_sleep)
    sim.fail_next(10, path="/uc/openapi/accountStatus")
    with pytest.raises(TransientError) as caught:
        await client.account_status()
    assert caught.value.transient and "HTTP 500" in caught.value.msg
    assert len(sim.requests) == 3 and len(fake_sleep.delays) == 2


async def test_business_500_and_808_are_retried(
    sim: Simulator, client: RunningHubClient, fake_sleep: FakeSleep
) -> None:
    sim.fail_next_with_code(1, 500, path="/uc/openapi/accountStatus")
    sim.fail_next_with_code(1, 808, path="/uc/openapi/accountStatus")
    status = await client.account_status()
    assert status.api_type == "NORMAL"
    assert len(sim.requests) == 3 and len(fake_sleep.delays) == 2


async def test_transient_upload_failure_is_retried(
    sim: Simulator, client: RunningHubClient, fake_sleep: FakeSleep
) -> None:
    sim.fail_next(1, path="/task/openapi/upload")
    sim.fail_next_with_code(1, 808, path="/task/openapi/upload")
    name = await client.upload(b"\x89PNG\r\n\x1a\nimage", "a.png")
    assert sim.uploads == {name: b"\x89PNG\r\n\x1a\nimage"}
    assert len(sim.requests_to("/task/openapi/upload")) == 3
    assert sim.requests_to("/task/openapi/upload")[-1].form["apiKey"] == TEST_KEY


async def test_hang_times_out_and_is_retried(
    sim: Simulator, session: aiohttp.ClientSession, fake_sleep: FakeSleep
) -> None:
    client = RunningHubClient(session, sim.base_url, TEST_KEY, request_timeout=0.2, sleep=fake_sleep)
    sim.hang_next(1, path="/api/openapi/getJsonApiFormat")
    graph = await client.workflow_json(Z_IMAGE)
    assert graph["9"]["class_type"] == "SaveImage"
    assert len(sim.requests_to("/api/openapi/getJsonApiFormat")) == 2
    assert len(fake_sleep.delays) == 1


async def test_malformed_json_is_transient_and_retried(
    sim: Simulator, client: RunningHubClient, fake_sleep: FakeSleep
) -> None:
    task_id = await started(client)
    sim.malformed_next(2, path=OUTPUTS)
    outputs = await client.outputs(task_id)
    assert outputs.state in (TaskState.QUEUED, TaskState.RUNNING, TaskState.SUCCEEDED)
    assert len(sim.requests_to(OUTPUTS)) == 3


async def test_malformed_json_every_time_ends_as_transient_error(
    sim: Simulator, session: aiohttp.ClientSession, fake_sleep: FakeSleep
) -> None:
    client = RunningHubClient(session, sim.base_url, TEST_KEY, max_attempts=2, sleep=fake_sleep)
    sim.malformed_next(5)
    with pytest.raises(TransientError) as caught:
        await client.status("1000000000000000001")
    assert "not valid JSON" in caught.value.msg
    assert len(sim.requests) == 2


@pytest.mark.parametrize("how", ["reset", "garbage"])
async def test_lost_create_answer_is_outcome_unknown_and_never_resent(
    sim: Simulator, client: RunningHubClient, fake_sleep: FakeSleep, how: str
) -> None:
    sim.lose_answer_next(how=how)
    with pytest.raises(OutcomeUnknown) as caught:
        await client.create_task(Z_IMAGE, [NodeInfo("6", "text", "lost")])
    assert len(sim.creates()) == 1
    assert len(sim.tasks) == 1  # the task does exist: that is why it must not be re-sent
    assert caught.value.request_id == sim.creates()[0].headers["X-Request-Id"]
    assert caught.value.sent_at > 0 and not caught.value.transient
    assert fake_sleep.delays == []


async def test_lost_run_app_answer_is_outcome_unknown(sim: Simulator, client: RunningHubClient) -> None:
    sim.lose_answer_next(path="/task/openapi/ai-app/run")
    with pytest.raises(OutcomeUnknown):
        await client.run_app("1937000000000000001", [NodeInfo("52", "text", "x")])
    assert len(sim.creates()) == 1 and len(sim.tasks) == 1


async def test_5xx_on_create_is_outcome_unknown_and_never_resent(
    sim: Simulator, client: RunningHubClient, fake_sleep: FakeSleep
) -> None:
    sim.fail_next(1, status=503, path=CREATE)
    with pytest.raises(OutcomeUnknown):
        await client.create_task(Z_IMAGE, [])
    assert len(sim.creates()) == 1 and fake_sleep.delays == []


async def test_malformed_create_answer_is_outcome_unknown(sim: Simulator, client: RunningHubClient) -> None:
    sim.malformed_next(1, path=CREATE)
    with pytest.raises(OutcomeUnknown):
        await client.create_task(Z_IMAGE, [])
    assert len(sim.creates()) == 1


async def test_create_timeout_is_outcome_unknown_and_the_task_may_exist(
    sim: Simulator, session: aiohttp.ClientSession, fake_sleep: FakeSleep, wait_done: WaitDone
) -> None:
    client = RunningHubClient(session, sim.base_url, TEST_KEY, request_timeout=0.2, sleep=fake_sleep)
    sim.hang_next(1, path=CREATE, seconds=0.6)
    with pytest.raises(OutcomeUnknown):
        await client.create_task(Z_IMAGE, [])
    assert len(sim.creates()) == 1 and fake_sleep.delays == []
    # The slow server goes on and creates the task after the client gave up.
    for _ in range(200):
        if sim.tasks:
            break
        await asyncio.sleep(0.01)
    (task_id,) = sim.tasks
    assert (await wait_done(client, task_id)).state is TaskState.SUCCEEDED


async def test_business_421_on_create_is_a_clean_capacity_error(
    sim: Simulator, client: RunningHubClient
) -> None:
    sim.fail_next_with_code(1, 421, path=CREATE)
    with pytest.raises(CapacityError):
        await client.create_task(Z_IMAGE, [])
    assert len(sim.creates()) == 1 and sim.tasks == {}


async def test_connection_refused_on_create_is_transient(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = RunningHubClient(session, f"http://127.0.0.1:{port}", TEST_KEY, request_timeout=2.0)
    with pytest.raises(TransientError) as caught:
        await client.create_task(Z_IMAGE, [])
    assert not isinstance(caught.value, OutcomeUnknown)
    assert "cannot connect" in caught.value.msg


async def test_fail_next_task_with_a_given_reason(
    sim: Simulator, client: RunningHubClient, wait_done: WaitDone
) -> None:
    sim.fail_next_task(
        {
            "node_id": "12",
            "node_name": "IndexTTS2Run",
            "exception_type": "RuntimeError",
            "exception_message": "reference audio is silent",
            "traceback": "[]",
            "current_inputs": "{}",
            "current_outputs": "{}",
        }
    )
    failing = await started(client)
    done = await wait_done(client, failing)
    assert done.state is TaskState.FAILED and done.failed_reason is not None
    assert (
        done.failed_reason.summary()
        == "node 12 (IndexTTS2Run) failed: RuntimeError: reference audio is silent"
    )
    healthy = await started(client)
    assert (await wait_done(client, healthy)).state is TaskState.SUCCEEDED


async def test_slow_downloads_still_deliver_every_byte(
    sim: Simulator, client: RunningHubClient, session: aiohttp.ClientSession, wait_done: WaitDone
) -> None:
    task_id = await started(client)
    done = await wait_done(client, task_id)
    expected = next(iter(sim.tasks[task_id].files.values()))
    sim.slow_downloads(len(expected) * 5)  # about five chunks a second... of a 0.2 s download
    async with session.get(done.files[0].url) as response:
        assert response.headers["Content-Length"] == str(len(expected))
        body = await response.read()
    assert body == expected


async def test_faults_on_any_path_and_only_the_next_calls(
    sim: Simulator, client: RunningHubClient, fake_sleep: FakeSleep
) -> None:
    sim.fail_next(2)  # path=None: whatever comes next
    assert (await client.account_status()).api_type == "NORMAL"
    assert (await client.account_status()).api_type == "NORMAL"
    assert len(sim.requests) == 4 and len(fake_sleep.delays) == 2
