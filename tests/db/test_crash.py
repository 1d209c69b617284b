"""A writer killed at random points leaves books that balance."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from pathlib import Path

from bot.db.database import Database
from bot.db.invariants import ACTIVE_STATES, check_invariants
from bot.db.ledger import Ledger

WORKER = Path(__file__).with_name("crash_worker.py")
ROUNDS = 15


async def test_killing_a_writer_at_random_points_keeps_the_books(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    rows_seen = 0
    for round_number in range(ROUNDS):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER), "stream", str(path), str(seed + round_number),
            stdout=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        assert line.strip() == b"ready", f"seed {seed}: the worker did not start"
        await asyncio.sleep(rng.uniform(0.02, 0.25))
        proc.send_signal(signal.SIGKILL)
        assert await proc.wait() == -signal.SIGKILL, f"seed {seed}: the worker ended by itself"

        db = await Database.open(path)
        try:
            problems = await check_invariants(db)
            assert problems == [], f"seed {seed}, round {round_number}: {problems}"
            row = await db.fetchone("SELECT COUNT(*) FROM ledger")
            assert row is not None
            assert row[0] >= rows_seen  # committed rows survive the kill
            rows_seen = row[0]
        finally:
            await db.close()
    assert rows_seen > ROUNDS, f"seed {seed}: the worker hardly wrote ({rows_seen} rows)"

    # what a restart does with the jobs left mid-flight: settle them; then nothing is held
    db = await Database.open(path)
    try:
        ledger = Ledger(db, default_allowance=200)
        placeholders = ", ".join("?" * len(ACTIVE_STATES))
        left = await db.fetchall(f"SELECT id FROM jobs WHERE state IN ({placeholders})", ACTIVE_STATES)
        for (job_id,) in left:
            async with db.transaction() as conn:
                assert await ledger.release_in(conn, job_id, "restart")
                await conn.execute("UPDATE jobs SET state = 'failed' WHERE id = ?", (job_id,))
        assert await check_invariants(db) == []
        held = await db.fetchone("SELECT COALESCE(SUM(held), 0) FROM balances")
        assert held is not None and held[0] == 0
    finally:
        await db.close()
