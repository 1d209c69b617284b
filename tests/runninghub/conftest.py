"""Fixtures: a simulator on 127.0.0.1, a client pointed at it, and fast fake sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from bot.runninghub import RunningHubClient, TaskOutputs, TaskState
from bot.runninghub.simulator import Simulator

# A key nothing else in the code base contains, so a leak is unambiguous.
TEST_KEY = "tk7f3c9a1e5b2d8f4a6c0e9b1d3f5a7c9"

WaitDone = Callable[[RunningHubClient, str], Awaitable[TaskOutputs]]


class FakeSleep:
    """Records the delays asked for and returns at once (yielding to the loop)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class ManualSleep:
    """A sleep that returns only when the test releases it: drives the simulator step by step."""

    def __init__(self) -> None:
        self.waiting: list[asyncio.Future[None]] = []
        self._arrived = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self._arrived.set()
        await future

    async def release_one(self) -> None:
        """Wake the oldest sleeper, waiting for one to arrive if needed, then let it run."""
        while True:
            self.waiting = [f for f in self.waiting if not f.done()]  # drop sleeps of cancelled tasks
            if self.waiting:
                break
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), 5)
        self.waiting.pop(0).set_result(None)
        for _ in range(5):
            await asyncio.sleep(0)

    async def run_until(self, done: Callable[[], bool]) -> None:
        """Release sleepers until `done()` holds (output files render in a worker thread)."""
        for _ in range(500):
            if done():
                return
            if any(not f.done() for f in self.waiting):
                await self.release_one()
            else:
                await asyncio.sleep(0.01)
        raise AssertionError("the simulator did not get there")


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(api_key=TEST_KEY, queue_seconds=0.03, run_seconds=0.06, image_size=(64, 48), seed=7)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def manual_sleep() -> ManualSleep:
    return ManualSleep()


@pytest.fixture
async def paused_sim(manual_sleep: ManualSleep) -> AsyncIterator[Simulator]:
    """A simulator whose tasks move on only when the test releases `manual_sleep`."""
    simulator = Simulator(api_key=TEST_KEY, sleep=manual_sleep, image_size=(32, 32), seed=11)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def paused_client(
    paused_sim: Simulator, session: aiohttp.ClientSession, fake_sleep: FakeSleep
) -> RunningHubClient:
    return RunningHubClient(session, paused_sim.base_url, TEST_KEY, request_timeout=2.0, sleep=fake_sleep)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def client(sim: Simulator, session: aiohttp.ClientSession, fake_sleep: FakeSleep) -> RunningHubClient:
    return RunningHubClient(session, sim.base_url, TEST_KEY, request_timeout=2.0, sleep=fake_sleep)


@pytest.fixture
def wait_done() -> WaitDone:
    async def wait(client: RunningHubClient, task_id: str) -> TaskOutputs:
        for _ in range(500):
            outputs = await client.outputs(task_id)
            if outputs.state in (TaskState.SUCCEEDED, TaskState.FAILED):
                return outputs
            await asyncio.sleep(0.01)
        raise AssertionError(f"task {task_id} did not finish")

    return wait
