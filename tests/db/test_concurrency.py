"""200 holds at once against a balance that covers exactly 50 of them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.db.ledger import InsufficientCoins, Ledger
from tests.db import insert_job

WORKER = Path(__file__).with_name("crash_worker.py")
G, M, MOD = 1, 2, 3
COST, COVERED, ATTEMPTS = 10, 50, 200


async def fund(path: Path) -> None:
    db = await Database.open(path)
    try:
        await Ledger(db, default_allowance=0).set(G, M, COST * COVERED, MOD, "exactly 50 jobs")
    finally:
        await db.close()


async def try_hold(db: Database, ledger: Ledger) -> bool:
    try:
        async with db.transaction() as conn:
            job_id = await insert_job(conn, G, M, COST)
            await ledger.hold_in(conn, G, M, job_id, COST)
        return True
    except InsufficientCoins:
        return False


async def assert_exactly_covered(path: Path) -> None:
    db = await Database.open(path)
    try:
        assert await check_invariants(db) == []
        row = await db.fetchone(
            "SELECT available, held FROM balances WHERE guild_id = ? AND member_id = ?", (G, M)
        )
        assert row is not None and tuple(row) == (0, COST * COVERED)
        jobs = await db.fetchone("SELECT COUNT(*) FROM jobs")
        holds = await db.fetchone("SELECT COUNT(*) FROM ledger WHERE kind = 'hold'")
        assert jobs is not None and holds is not None
        assert (jobs[0], holds[0]) == (COVERED, COVERED)  # refused holds left no job behind
    finally:
        await db.close()


async def test_tasks_on_one_database(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    await fund(path)
    db = await Database.open(path)
    try:
        ledger = Ledger(db, default_allowance=0)
        results = await asyncio.gather(*(try_hold(db, ledger) for _ in range(ATTEMPTS)))
    finally:
        await db.close()
    assert sum(results) == COVERED
    await assert_exactly_covered(path)


async def test_tasks_on_several_connections(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    await fund(path)
    dbs = [await Database.open(path) for _ in range(4)]
    try:
        ledgers = [Ledger(db, default_allowance=0) for db in dbs]
        results = await asyncio.gather(
            *(try_hold(dbs[i % len(dbs)], ledgers[i % len(dbs)]) for i in range(ATTEMPTS))
        )
    finally:
        for db in dbs:
            await db.close()
    assert sum(results) == COVERED
    await assert_exactly_covered(path)


async def test_several_processes(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    await fund(path)
    processes = 4
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER), "holds", str(path),
            *(str(n) for n in (ATTEMPTS // processes, COST, G, M)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).strip() == b"ready"
        # all of them are connected: start them together
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        held = 0
        for proc in procs:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
            assert proc.returncode == 0
            word, count = out.decode().split()
            assert word == "held"
            held += int(count)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert held == COVERED
    await assert_exactly_covered(path)
