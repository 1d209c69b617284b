"""The progress reader against a tiny websocket server: good stream, garbage, early close, silence."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.runninghub.client import RunningHubClient
from bot.runninghub.progress import Progress, ProgressLost, ProgressTracker, node_classes_of, read_progress

GRAPH = {
    "3": {"class_type": "KSampler", "inputs": {}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {}},
    "8": {"class_type": "VAEDecode", "inputs": {}},
    "9": {"class_type": "SaveImage", "inputs": {}},
}
CLASSES = node_classes_of(GRAPH)

Handler = Callable[[web.WebSocketResponse], Awaitable[None]]


def msg(kind: str, **data: object) -> str:
    return json.dumps({"type": kind, "data": data})


GOOD = [
    msg("status", status={"exec_info": {"queue_remaining": 1}}),
    msg("execution_start", prompt_id="p"),
    msg("execution_cached", nodes=["4"], prompt_id="p"),
    msg("executing", node="3", prompt_id="p"),
    *[msg("progress", value=v, max=20, node="3", prompt_id="p") for v in (1, 10, 20)],
    msg("executing", node="8", prompt_id="p"),
    msg("executing", node="9", prompt_id="p"),
    msg("executed", node="9", output={"images": []}, prompt_id="p"),
    msg("executing", node=None, prompt_id="p"),
    msg("execution_success", prompt_id="p"),
]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            if request.query.get("refuse"):
                return web.Response(status=403)
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await handler(ws)
            return ws

        app = web.Application()
        app.router.add_get("/ws", endpoint)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"ws://127.0.0.1:{port}/ws?clientId=abc&token=SECRET"

    yield start
    for runner in runners:
        await runner.cleanup()


async def collect(url: str, **options: object) -> list[Progress]:
    async with aiohttp.ClientSession() as session:
        return [p async for p in read_progress(session, url, node_classes=CLASSES, **options)]  # type: ignore[arg-type]


async def test_a_good_stream_gives_a_growing_percentage_and_the_node_at_work(serve) -> None:  # type: ignore[no-untyped-def]
    async def handler(ws: web.WebSocketResponse) -> None:
        for text in GOOD:
            await ws.send_str(text)
        await ws.send_bytes(b"\x00\x00\x00\x01preview")  # a preview frame is skipped

    seen = await collect(await serve(handler))
    percents = [p.percent for p in seen if p.percent is not None]
    assert percents == sorted(percents) and percents[-1] == 100.0
    sampling = [p for p in seen if p.node_class == "KSampler" and p.value is not None]
    assert [(p.value, p.maximum) for p in sampling] == [(1, 20), (10, 20), (20, 20)]
    # 1 of 4 nodes cached, KSampler half done: 1.5 of 4.
    assert sampling[1].percent == pytest.approx(37.5)
    assert seen[-1].finished and seen[-1].percent == 100.0


async def test_garbage_is_skipped_and_the_stream_goes_on(serve) -> None:  # type: ignore[no-untyped-def]
    async def handler(ws: web.WebSocketResponse) -> None:
        for text in ("not json", "[1,2]", '{"type": "progress"}', msg("progress", value="x", max=20),
                     msg("progress", value=5, max=0), msg("weird", a=1), msg("executing", node="3"),
                     msg("progress", value=5, max=10, node="3"), msg("execution_success")):
            await ws.send_str(text)

    seen = await collect(await serve(handler))
    assert [(p.node_class, p.value, p.maximum) for p in seen[:2]] == [("KSampler", None, None), ("KSampler", 5, 10)]
    assert seen[-1].percent == 100.0


async def test_an_early_close_raises_progress_lost_after_what_came(serve) -> None:  # type: ignore[no-untyped-def]
    async def handler(ws: web.WebSocketResponse) -> None:
        await ws.send_str(msg("executing", node="3"))
        await ws.send_str(msg("progress", value=3, max=20, node="3"))
        await ws.close()

    seen: list[Progress] = []
    url = await serve(handler)
    with pytest.raises(ProgressLost, match="closed before the run ended") as caught:
        async with aiohttp.ClientSession() as session:
            async for progress in read_progress(session, url, node_classes=CLASSES):
                seen.append(progress)
    assert seen[-1].value == 3
    assert "SECRET" not in str(caught.value)


async def test_silence_ends_the_reader_after_the_idle_timeout(serve) -> None:  # type: ignore[no-untyped-def]
    async def handler(ws: web.WebSocketResponse) -> None:
        await ws.send_str(msg("executing", node="3"))
        await asyncio.sleep(5)

    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(ProgressLost, match="silent"):
        await collect(await serve(handler), idle_timeout=0.2)
    assert loop.time() - began < 3


async def test_a_refused_or_unreachable_socket_raises_progress_lost_without_the_token(serve) -> None:  # type: ignore[no-untyped-def]
    async def handler(ws: web.WebSocketResponse) -> None:
        return None

    url = await serve(handler)
    with pytest.raises(ProgressLost, match="not opened") as refused:
        await collect(url + "&refuse=1")
    assert "SECRET" not in str(refused.value) and "403" in str(refused.value)
    with pytest.raises(ProgressLost, match="not opened") as unreachable:
        await collect("ws://127.0.0.1:9/ws?token=SECRET")
    assert "SECRET" not in str(unreachable.value)


async def test_the_client_reads_through_its_own_session_and_outputs_carry_the_url(serve) -> None:  # type: ignore[no-untyped-def]
    async def handler(ws: web.WebSocketResponse) -> None:
        for text in GOOD:
            await ws.send_str(text)

    url = await serve(handler)
    async with aiohttp.ClientSession() as session:
        client = RunningHubClient(session, "http://127.0.0.1:9", "k" * 32)
        seen = [p async for p in client.progress(url, node_classes=CLASSES)]
    assert seen[-1].percent == 100.0
    running = RunningHubClient.parse_outputs({"code": 804, "msg": "", "data": {"netWssUrl": url}})
    assert running.net_wss_url == url


def test_an_error_names_the_failing_node_class_from_the_message() -> None:
    tracker = ProgressTracker({})
    progress = tracker.feed(msg("execution_error", node_id="12", node_type="UpscaleModelLoader",
                                exception_message="boom"))
    assert progress is not None and progress.node_class == "UpscaleModelLoader" and progress.finished
