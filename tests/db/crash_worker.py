"""A separate process that writes to a database file, for the crash and concurrency tests.

    python tests/db/crash_worker.py stream PATH SEED
        prints "ready", then runs ledger operations until it is killed (test_crash.py)
    python tests/db/crash_worker.py holds PATH COUNT COST GUILD MEMBER
        prints "ready", waits for a line on stdin, then tries COUNT holds of COST coins at once
        (each a new job row and its hold in one transaction) and prints "held N" (test_concurrency.py)
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.db.database import Database
from bot.db.ledger import PERIODS, InsufficientCoins, Ledger
from tests.db import Clock, at, insert_job

ACTIVE = ("pending", "submitting", "queued", "running", "unknown")
MEMBERS = [(guild, member) for guild in (1, 2) for member in (1, 2, 3, 4)]


class SteppingClock(Clock):
    """Moves forward a little every time it is read, so refill periods keep turning over."""

    def __call__(self) -> float:
        self.now += 900
        return self.now


async def stream(path: str, seed: int) -> None:
    rng = random.Random(seed)
    db = await Database.open(path)
    row = await db.fetchone("SELECT MAX(created_at) FROM ledger")
    start = float(row[0]) if row and row[0] is not None else at("2026-01-01T00:00")
    clock = SteppingClock(start)
    ledger = Ledger(db, default_allowance=200, clock=clock)
    open_jobs = [int(r[0]) for r in await db.fetchall(
        f"SELECT id FROM jobs WHERE state IN ({', '.join('?' * len(ACTIVE))})", ACTIVE
    )]
    print("ready", flush=True)
    while True:
        guild_id, member_id = rng.choice(MEMBERS)
        roll = rng.random()
        try:
            if roll < 0.30:
                cost = rng.randint(0, 80)
                async with db.transaction() as conn:
                    job_id = await insert_job(conn, guild_id, member_id, cost, now=clock())
                    await ledger.hold_in(conn, guild_id, member_id, job_id, cost)
                open_jobs.append(job_id)
            elif roll < 0.55 and open_jobs:
                job_id = open_jobs.pop(rng.randrange(len(open_jobs)))
                # the money and the move to a final state in one transaction, as the journal does
                async with db.transaction() as conn:
                    if rng.random() < 0.6:
                        await ledger.charge_in(conn, job_id, rng.randint(0, 50))
                        state = "succeeded"
                    else:
                        await ledger.release_in(conn, job_id, "failed")
                        state = rng.choice(["failed", "cancelled", "timed_out"])
                    await conn.execute("UPDATE jobs SET state = ? WHERE id = ?", (state, job_id))
            elif roll < 0.62 and open_jobs:
                async with db.transaction() as conn:
                    await conn.execute(
                        "UPDATE jobs SET state = ? WHERE id = ?", (rng.choice(ACTIVE), rng.choice(open_jobs))
                    )
            elif roll < 0.72:
                await ledger.grant(guild_id, member_id, rng.randint(1, 100), 9, "worker")
            elif roll < 0.82:
                await ledger.take(guild_id, member_id, rng.randint(1, 100), 9, None)
            elif roll < 0.87:
                await ledger.set(guild_id, member_id, rng.randint(0, 300), 9, None)
            elif roll < 0.90:
                await ledger.set_policy(guild_id, rng.randint(0, 300), rng.choice(PERIODS), 9)
            else:
                await ledger.balance(guild_id, member_id)
        except InsufficientCoins:
            pass


async def holds(path: str, count: int, cost: int, guild_id: int, member_id: int) -> None:
    db = await Database.open(path)
    ledger = Ledger(db, default_allowance=0)

    async def one() -> bool:
        try:
            async with db.transaction() as conn:
                job_id = await insert_job(conn, guild_id, member_id, cost)
                await ledger.hold_in(conn, guild_id, member_id, job_id, cost)
            return True
        except InsufficientCoins:
            return False

    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    results = await asyncio.gather(*(one() for _ in range(count)))
    await db.close()
    print(f"held {sum(results)}", flush=True)


def main(argv: list[str]) -> None:
    if argv[0] == "stream":
        asyncio.run(stream(argv[1], int(argv[2])))
    elif argv[0] == "holds":
        asyncio.run(holds(argv[1], *(int(a) for a in argv[2:6])))
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
