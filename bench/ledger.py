"""How fast can the ledger move job money, against what SQLite itself allows?

    python bench/ledger.py

On one temporary file opened by Database (WAL, synchronous=NORMAL, foreign keys on) it measures:
  - hold+charge pairs per second through Ledger: each pair is a job row and its hold in one
    transaction, then the charge in another (what every successful generation costs);
  - single-row transactions per second: BEGIN IMMEDIATE; INSERT one row; COMMIT, through the same
    aiosqlite connection;
and prints both and their ratio. The phases alternate so that drift affects both alike.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.db.ledger import MAX_AMOUNT, Ledger

PHASE_SECONDS = 2.0  # each phase runs this long; there are ROUNDS of each kind
ROUNDS = 3
G, M, MOD = 1, 2, 3


async def hold_charge_pairs(db: Database, ledger: Ledger, seconds: float) -> tuple[int, float]:
    pairs, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        async with db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO jobs (guild_id, channel_id, member_id, alias, state, cost, created_at,"
                " updated_at) VALUES (?, 1, ?, 'bench', 'pending', 1, 0, 0)",
                (G, M),
            )
            job_id = cursor.lastrowid
            assert job_id is not None
            await ledger.hold_in(conn, G, M, job_id, 1)
        async with db.transaction() as conn:
            await ledger.charge_in(conn, job_id, 1)
            await conn.execute("UPDATE jobs SET state = 'succeeded' WHERE id = ?", (job_id,))
        pairs += 1
    return pairs, elapsed


async def raw_transactions(db: Database, seconds: float) -> tuple[int, float]:
    conn = db.conn
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        await conn.execute("BEGIN IMMEDIATE")
        await conn.execute("INSERT INTO bench_rows (value) VALUES (?)", (count,))
        await conn.execute("COMMIT")
        count += 1
    return count, elapsed


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "bench.db")
        try:
            await db.execute("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
            ledger = Ledger(db, default_allowance=0)
            await ledger.set(G, M, MAX_AMOUNT, MOD, "bench")
            # warm up both paths (page cache, WAL file)
            await hold_charge_pairs(db, ledger, 0.2)
            await raw_transactions(db, 0.2)
            pairs = raw = 0
            pair_time = raw_time = 0.0
            for _ in range(ROUNDS):
                n, t = await hold_charge_pairs(db, ledger, PHASE_SECONDS)
                pairs, pair_time = pairs + n, pair_time + t
                n, t = await raw_transactions(db, PHASE_SECONDS)
                raw, raw_time = raw + n, raw_time + t
            problems = await check_invariants(db)
        finally:
            await db.close()
    pair_rate, raw_rate = pairs / pair_time, raw / raw_time
    print(f"ledger hold+charge pairs:      {pair_rate:10.1f}/s  ({pairs} pairs in {pair_time:.1f} s)")
    print(f"raw single-row transactions:   {raw_rate:10.1f}/s  ({raw} transactions in {raw_time:.1f} s)")
    print(f"ratio pairs / raw transactions: {pair_rate / raw_rate:.3f}"
          f"  (a pair is 2 transactions: at best 0.5)")
    print(f"books balance afterwards: {'yes' if not problems else problems[:3]}")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    asyncio.run(main())
