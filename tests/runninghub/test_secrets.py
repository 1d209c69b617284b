"""The API key never shows in the client's repr, in any raised error, or in a log record."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Awaitable

import aiohttp
import pytest
from aiohttp import web

from bot.runninghub import MAX_UPLOAD_BYTES, NodeInfo, RunningHubClient, RunningHubError
from bot.runninghub.simulator import Simulator

from .conftest import TEST_KEY, FakeSleep, WaitDone

Z_IMAGE = "2016195556967714818"


def assert_clean(error: BaseException) -> None:
    texts = [str(error), repr(error), str(error.args)]
    if isinstance(error, RunningHubError):
        texts += [error.msg, error.user_message()]
    for text in texts:
        assert TEST_KEY not in text, text


def assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "nothing was logged: the check would prove nothing"
    for record in caplog.records:
        assert TEST_KEY not in record.getMessage()
        assert TEST_KEY not in str(record.args)
        if record.exc_info:
            assert TEST_KEY not in logging.Formatter().formatException(record.exc_info)


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def echoing_server() -> AsyncIterator[str]:
    """A misbehaving server that repeats the caller's key back in `msg`."""

    async def echo(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else dict(request.query)
        key = body.get("apiKey") or body.get("apikey")
        return web.json_response({"code": 802, "msg": f"key {key} is not valid here", "data": {"key": key}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def test_client_repr_hides_the_key(sim: Simulator, client: RunningHubClient) -> None:
    assert TEST_KEY not in repr(client) and TEST_KEY not in str(client)
    assert sim.base_url in repr(client)


async def test_no_error_and_no_log_record_carries_the_key(
    sim: Simulator,
    session: aiohttp.ClientSession,
    fake_sleep: FakeSleep,
    wait_done: WaitDone,
    echoing_server: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = RunningHubClient(
        session, sim.base_url, TEST_KEY, request_timeout=0.3, max_attempts=2, sleep=fake_sleep
    )
    wrong_site = RunningHubClient(session, sim.base_url + "/x", TEST_KEY, sleep=fake_sleep)
    nowhere = RunningHubClient(
        session, f"http://127.0.0.1:{dead_port()}", TEST_KEY, max_attempts=2, sleep=fake_sleep
    )
    echo = RunningHubClient(session, echoing_server, TEST_KEY, sleep=fake_sleep)

    # a successful round trip logs too
    created = await client.create_task(Z_IMAGE, [NodeInfo("6", "text", "secret test")])
    await wait_done(client, created.task_id)
    await client.app_nodes("1937000000000000001")

    sim.fail_next_task()
    failing = await client.create_task(Z_IMAGE, [])
    await wait_done(client, failing.task_id)
    raised: list[BaseException] = []

    async def expect_failure(call: Awaitable[object]) -> None:
        try:
            await call
        except RunningHubError as error:
            raised.append(error)
        else:
            raise AssertionError("the call did not fail")

    await expect_failure(client.upload(b"\0" * (MAX_UPLOAD_BYTES + 1), "big.png"))
    await expect_failure(client.create_task(Z_IMAGE, [NodeInfo("404", "text", "x")]))
    sim.lose_answer_next()
    await expect_failure(client.create_task(Z_IMAGE, []))
    sim.fail_next(1, path="/task/openapi/ai-app/run")
    await expect_failure(client.run_app("1937000000000000001", []))
    sim.hang_next(5, path="/api/webapp/apiCallDemo")
    await expect_failure(client.app_nodes("1937000000000000001"))  # the key is in this URL's query
    sim.malformed_next(5, path="/task/openapi/status")
    await expect_failure(client.status(created.task_id))
    await expect_failure(client.outputs("1000000000000000001"))
    await expect_failure(client.cancel("1000000000000000001"))
    await expect_failure(wrong_site.account_status())
    await expect_failure(nowhere.app_nodes("1937000000000000001"))
    await expect_failure(nowhere.create_task(Z_IMAGE, []))
    await expect_failure(echo.account_status())
    await expect_failure(echo.app_nodes("1"))
    await expect_failure(echo.create_task(Z_IMAGE, []))

    for error in raised:
        assert_clean(error)
    echoed = raised[-1]
    assert "[redacted]" in echoed.msg and echoed.data == {"key": "[redacted]"}
    assert_logs_clean(caplog)
