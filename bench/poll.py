"""One poll sweep at scale: 1,000 active tasks behind 20 ms of network latency.

    python bench/poll.py                 # about 12 s
    python bench/poll.py --tasks 200     # smaller

The simulator runs in a child process with a middleware that delays every request by --latency
(20 ms), so its own work is not charged to the bot. 1,000 long-running tasks are created there,
and 1,000 journal rows in state 'running' (with their coins held and a status message each) are
written straight into a real SQLite file. Then the JobService's poller sweeps them: the first
sweep changes every status message ("running": handed to the StatusBoard, which paces the
actual edits per channel); the next ones find nothing new. For each sweep:
wall time, HTTP requests made (goal: one per task), database statements issued (goal: a
constant number per sweep, not per task), and CPU time per task. Statements are counted twice:
`Database.statements` (reads through fetch*/execute) and a wrapper on the connection that counts
every statement, transactions included (BEGIN, UPDATE, COMMIT...). Progress sockets are off:
this measures the poll sweep alone.

Side by side, in the same run: the floor for this concurrency, the same 1,000 POSTs to
/task/openapi/outputs sent by a bare aiohttp loop with the poller's parallelism (16) and no
database, parsing or status logic. The ratio sweep / floor is the poller's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import aiosqlite

from bench._support import CHANNEL, GUILD, Z_IMAGE_WORKFLOW, BenchNotifier, SimulatorProcess, World, open_world
from bot.config import SIMULATOR_API_KEY
from bot.jobs.states import JobState
from bot.runninghub.types import NodeInfo

MEMBERS = 100
PARALLEL = 16  # the Poller's default max_parallel
COST = 10


class StatementCounter:
    """Counts every statement sent on an aiosqlite connection, by its first word."""

    METHODS = ("execute", "executemany", "execute_fetchall", "execute_insert")

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.counts: Counter[str] = Counter()
        for name in self.METHODS:
            setattr(conn, name, self._counted(getattr(conn, name)))

    def _counted(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(sql: str, *args: Any, **kwargs: Any) -> Any:
            self.counts[sql.split(None, 1)[0].upper()] += 1
            return method(sql, *args, **kwargs)  # unchanged result: awaitable and async context manager

        return call

    def snapshot(self) -> Counter[str]:
        return Counter(self.counts)


class RequestCounter:
    """An aiohttp TraceConfig counting the requests a session sends."""

    def __init__(self) -> None:
        self.sent = 0
        self.config = aiohttp.TraceConfig()
        self.config.on_request_start.append(self._started)

    async def _started(self, *_args: Any) -> None:
        self.sent += 1


@dataclass
class Sweep:
    label: str
    wall: float
    cpu: float
    requests: int
    statements: Counter[str]  # at the connection, by first word
    db_statements: int  # Database.statements
    edits: int


async def create_tasks(world: World, count: int) -> list[str]:
    gate = asyncio.Semaphore(64)

    async def one(i: int) -> str:
        async with gate:
            created = await world.client.create_task(Z_IMAGE_WORKFLOW, [NodeInfo("6", "text", f"bench {i}")])
            return created.task_id

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def insert_running_jobs(world: World, task_ids: list[str]) -> None:
    """Journal rows as the scheduler leaves them after a submit, with their coins held, in one transaction."""
    now = time.time()
    async with world.db.transaction() as conn:
        for i, task_id in enumerate(task_ids):
            member = 1 + i % MEMBERS
            inputs = {
                "prompt": f"bench {i}",
                "params": {},
                "uploads": {},
                "nodes": [{"node_id": "6", "field_name": "text", "field_value": f"bench {i}"}],
            }
            cursor = await conn.execute(
                "INSERT INTO jobs (guild_id, channel_id, member_id, alias, state, inputs, cost, task_id,"
                " status_message_id, locale, created_at, updated_at, submitted_at, started_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (GUILD, CHANNEL, member, "z-image", JobState.RUNNING, json.dumps(inputs), COST, task_id, 50_000 + i,
                 "en-US", now, now, now, now),
            )
            assert cursor.lastrowid is not None
            await world.ledger.hold_in(conn, GUILD, member, cursor.lastrowid, COST)


async def measure_sweep(label: str, world: World, counter: StatementCounter, requests: RequestCounter) -> Sweep:
    before_statements, before_db = counter.snapshot(), world.db.statements
    before_requests, before_edits = requests.sent, world.service.status.edits.asked
    cpu, started = time.process_time(), time.perf_counter()
    await world.service.poller.sweep()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Sweep(label, wall, cpu, requests.sent - before_requests, counter.snapshot() - before_statements,
                 world.db.statements - before_db, world.service.status.edits.asked - before_edits)


async def bare_requests(base_url: str, task_ids: list[str]) -> tuple[float, float]:
    """The same POSTs with the same parallelism and nothing else: the floor."""
    gate = asyncio.Semaphore(PARALLEL)
    async with aiohttp.ClientSession() as http:

        async def one(task_id: str) -> None:
            async with gate:
                body = {"apiKey": SIMULATOR_API_KEY, "taskId": task_id}
                async with http.post(f"{base_url}/task/openapi/outputs", json=body) as response:
                    await response.json()

        await one(task_ids[0])  # connect first, as the bot's session already is
        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(t) for t in task_ids))
        return time.perf_counter() - started, time.process_time() - cpu


async def main(*, tasks: int = 1000, latency: float = 0.02, sweeps: int = 3) -> list[Sweep]:
    options = {"queue_seconds": 0.0, "run_seconds": 3600.0, "concurrency": tasks + 1}
    async with SimulatorProcess(options=options, latency=latency) as sim:
        with tempfile.TemporaryDirectory(prefix="bench-poll-") as folder:
            requests = RequestCounter()
            session = aiohttp.ClientSession(trace_configs=[requests.config])
            world = await open_world(Path(folder), sim.base_url, notifier=BenchNotifier(),
                                     env={"POLL_INTERVAL": "5"}, session=session,
                                     job_options={"progress_sockets": False})
            try:
                task_ids = await create_tasks(world, tasks)
                await insert_running_jobs(world, task_ids)
                counter = StatementCounter(world.db.conn)
                results = [await measure_sweep("first (edits)", world, counter, requests)]
                floors = []
                for number in range(2, sweeps + 1):
                    floors.append(await bare_requests(sim.base_url, task_ids))
                    results.append(await measure_sweep(f"steady #{number}", world, counter, requests))
                floors.append(await bare_requests(sim.base_url, task_ids))
                running = (await world.journal.counts_by_state()).get(JobState.RUNNING, 0)
            finally:
                await world.close()
    if running != tasks:
        raise SystemExit(f"expected {tasks} jobs still running after the sweeps, found {running}")

    floor, floor_cpu = min(floors)
    ideal = tasks * latency / PARALLEL
    print(f"poll sweep: {tasks} running tasks, {latency * 1000:.0f} ms latency per request,"
          f" {PARALLEL} requests in flight (the poller's max_parallel)")
    print(f"{'sweep':<15} {'wall':>8} {'/floor':>7} {'requests':>9} {'per task':>9} {'statements':>11}"
          f" {'Database.statements':>20} {'CPU/task':>9} {'edits':>6}  statements by kind")
    for s in results:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(s.statements.items())) or "-"
        total = sum(s.statements.values())
        print(f"{s.label:<15} {s.wall:>7.2f}s {s.wall / floor:>7.2f} {s.requests:>9} {s.requests / tasks:>9.2f}"
              f" {total:>11} {s.db_statements:>20} {s.cpu / tasks * 1e6:>7.0f}µs {s.edits:>6}  {kinds}")
    print(f"floor: the same {tasks} POSTs from a bare aiohttp loop, {PARALLEL} in flight: {floor:.2f} s,"
          f" CPU {floor_cpu / tasks * 1e6:.0f}µs/task (latency bound {ideal:.2f} s)")
    steady = results[1:] or results
    per_task = max(s.requests for s in results) / tasks
    constant = max(sum(s.statements.values()) for s in steady)
    print(f"goal: one request per task per sweep -> {per_task:.2f} {'met' if per_task <= 1 else 'MISSED'}")
    print(f"goal: statements per sweep constant, not per task -> steady sweeps issue {constant}"
          f" ({'met' if constant < tasks / 10 else 'MISSED'})")
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every request")
    parser.add_argument("--sweeps", type=int, default=3)
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    asyncio.run(main(tasks=options.tasks, latency=options.latency, sweeps=options.sweeps))
