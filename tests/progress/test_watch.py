"""ProgressWatch: one socket per running job, closed when the job ends, harmless when it fails."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.jobs.progress import ProgressWatch
from bot.runninghub.client import RunningHubClient
from bot.runninghub.progress import Progress


class Server:
    """Answers /ws?mode=stream|refuse|close|silent; counts the sockets open right now."""

    def __init__(self) -> None:
        self.open = 0
        self.most_open = 0
        self.base = ""
        self.release = asyncio.Event()

    async def endpoint(self, request: web.Request) -> web.StreamResponse:
        mode = request.query.get("mode", "stream")
        if mode == "refuse":
            return web.Response(status=403)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            if mode == "stream":
                await ws.send_str(json.dumps({"type": "executing", "data": {"node": "3"}}))
                for value in range(1, 5):
                    await ws.send_str(json.dumps({"type": "progress", "data": {"value": value, "max": 4, "node": "3"}}))
                await self.release.wait()
                await ws.send_str(json.dumps({"type": "execution_success", "data": {}}))
            elif mode == "silent":
                await self.release.wait()
            await ws.close()
        finally:
            self.open -= 1
        return ws

    def url(self, mode: str) -> str:
        return f"{self.base}/ws?mode={mode}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    app = web.Application()
    app.router.add_get("/ws", srv.endpoint)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.base = f"ws://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield srv
    finally:
        srv.release.set()
        await runner.cleanup()


async def settle(condition: object, timeout: float = 3.0) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_one_socket_per_job_closed_when_it_stops_running(server: Server) -> None:
    seen: list[tuple[int, Progress]] = []
    async with aiohttp.ClientSession() as session:
        client = RunningHubClient(session, "http://127.0.0.1:9", "k" * 32)
        watch = ProgressWatch(client, on_progress=lambda j, p: seen.append((j, p)))
        for _ in range(3):  # every poll hands the URL over again: still one socket per job
            for job in (1, 2, 3):
                watch.watch(job, None, server.url("stream"))
            await asyncio.sleep(0.05)
        await settle(lambda: server.open == 3)
        assert watch.open_count() == 3 and watch.opened == 3
        await settle(lambda: {j for j, p in seen if p.value == 4} == {1, 2, 3})
        assert watch.latest(2) is not None and watch.latest(2).value == 4  # type: ignore[union-attr]
        watch.stop(1)  # job 1 ended
        watch.keep_only({2})  # after a sweep only job 2 still runs
        await settle(lambda: server.open == 1 and watch.open_count() == 1)
        assert server.most_open == 3
        await watch.close()
        await settle(lambda: server.open == 0)


@pytest.mark.parametrize("mode", ["refuse", "close", "silent"])
async def test_a_failing_socket_is_dropped_and_retried_only_later(server: Server, mode: str) -> None:
    async with aiohttp.ClientSession() as session:
        client = RunningHubClient(session, "http://127.0.0.1:9", "k" * 32)
        now = [0.0]
        watch = ProgressWatch(client, on_progress=lambda j, p: None,
                              clock=lambda: now[0], idle_timeout=0.2, retry_after=20.0, max_attempts=2)
        watch.watch(1, None, server.url(mode))
        await settle(lambda: watch.open_count() == 0, timeout=5)
        watch.watch(1, None, server.url(mode))  # too soon: not opened again
        assert watch.opened == 1
        now[0] = 21.0
        watch.watch(1, None, server.url(mode))
        assert watch.opened == 2
        await settle(lambda: watch.open_count() == 0, timeout=5)
        now[0] = 100.0
        watch.watch(1, None, server.url(mode))  # out of attempts: the elapsed time it is
        assert watch.opened == 2 and watch.latest(1) is None
        await watch.close()
