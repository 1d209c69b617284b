"""Soak: 2,000 jobs through the whole bot, then the coin commands on a database of a busy year.

    python bench/soak.py            # about 3 minutes
    python bench/soak.py --quick    # under a minute (the smoke test runs a smaller one still)

1. `python -m bot run` in a child process (so its memory is its own) against the loopback fake
   Discord and the RunningHub simulator, both in this process. Members send /generate through the
   fake's gateway, at most --window jobs unfinished at a time, until --jobs are delivered.
     - RSS of the bot process after the warm-up (the first 10% of the jobs) -- the baseline --
       and at the end; goal: growth under 20 MB;
     - database bytes per job (the file after a clean stop, divided by the jobs), beside the
       bytes of the data the journal and ledger hold per job (the sum of their values' lengths):
       the rest is SQLite's pages and indexes.
2. A database with 1,000,000 ledger rows and 100,000 jobs (bulk SQL inserts, not the API): 1,000
   members, one of them with 100,000 rows. /balance (Ledger.balance + Ledger.policy) and /quota
   history (count + the newest page, and for the busiest member also the oldest page) are timed
   through the same calls the cogs make, p50 and p99 over random members; the baseline is the
   same calls on a database of 1,000 ledger rows and 100 jobs, in the same run. Goal: p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import percentile
from bot.db.database import Database
from bot.db.ledger import Ledger
from bot.runninghub.simulator import Simulator
from bot.texts.coins import PAGE_SIZE
from tests.fakediscord.server import FakeDiscord
from tests.harness import BotProcess, process_env

RSS_GOAL_MB = 20.0
P99_GOAL = 0.020
GUILD = 1


@dataclass
class Soak:
    jobs: int
    seconds: float
    rss_warm_kib: int
    rss_end_kib: int
    db_bytes: int
    data_bytes: int  # the values' own bytes in jobs, job_outputs, delivery_parts and ledger

    @property
    def growth_mb(self) -> float:
        return (self.rss_end_kib - self.rss_warm_kib) / 1024


@dataclass
class Timing:
    label: str
    baseline: list[float]
    loaded: list[float]


def process_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("VmRSS not found")


def delivered(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            row = conn.execute("SELECT COUNT(*) FROM jobs WHERE state = 'delivered'").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0])


def database_bytes(path: Path) -> int:
    """The file's size with everything checkpointed into it (no write-ahead log left beside it)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def data_bytes(path: Path) -> int:
    """The bytes the values themselves take (what any storage would need), summed over the tables."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        total = 0
        for table in ("jobs", "job_outputs", "delivery_parts", "ledger", "balances"):
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            expr = " + ".join(f"COALESCE(LENGTH(CAST({c} AS BLOB)), 0)" for c in columns)
            total += int(conn.execute(f"SELECT COALESCE(SUM({expr}), 0) FROM {table}").fetchone()[0])
    return total


async def soak(jobs: int, window: int, members: int, warmup: int) -> Soak:
    sim = Simulator(queue_seconds=0.0, run_seconds=0.05, concurrency=20, image_size=(32, 32))
    await sim.start()
    try:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Soak")
            channel = guild.add_channel("generate")
            people = [guild.add_member(f"member{i}") for i in range(members)]
            with tempfile.TemporaryDirectory(prefix="bench-soak-") as folder:
                env = process_env(
                    fake, Path(folder), RUNNINGHUB_BASE_URL=sim.base_url, RUNNINGHUB_API_KEY=sim.api_key,
                    RUNNINGHUB_CONCURRENCY="20", POLL_INTERVAL="0.2", DISCORD_GUILD_ID=str(guild.id),
                    DEFAULT_ALLOWANCE="1000000", LOG_LEVEL="WARNING",
                )
                database = Path(env["DATABASE_PATH"])
                identified = fake.identifies
                bot = BotProcess(env, Path(folder))
                try:
                    deadline = time.monotonic() + 60
                    while not (fake.identifies > identified and fake.connected):
                        if time.monotonic() > deadline:
                            raise SystemExit(f"the bot did not connect:\n{bot.output[-3000:]}")
                        await asyncio.sleep(0.05)
                    started = time.monotonic()
                    sent = done = 0
                    rss_warm = 0
                    while done < jobs:
                        done = await asyncio.to_thread(delivered, database)
                        if not rss_warm and done >= warmup:
                            rss_warm = process_rss_kib(bot.process.pid)
                        while sent < jobs and sent - done < window:
                            member = people[sent % members]
                            ix = await fake.invoke(member, channel, "generate",
                                                   {"workflow": "z-image", "prompt": f"soak picture {sent}"})
                            await ix.reply(timeout=30)  # as a member waits for the answer
                            sent += 1
                        if bot.process.poll() is not None:
                            raise SystemExit(f"the bot stopped:\n{bot.output[-3000:]}")
                        if time.monotonic() - started > jobs * 0.5 + 60:
                            raise SystemExit(f"only {done} of {jobs} jobs delivered:\n{bot.output[-6000:]}")
                        await asyncio.sleep(0.2)
                    seconds = time.monotonic() - started
                    await asyncio.sleep(1.0)  # the last deliveries' status edits settle
                    rss_end = process_rss_kib(bot.process.pid)
                    if await bot.stop() != 0:
                        raise SystemExit(f"the bot did not stop cleanly:\n{bot.output[-3000:]}")
                finally:
                    await bot.kill()
                return Soak(jobs, seconds, rss_warm, rss_end, database_bytes(database), data_bytes(database))
    finally:
        await sim.stop()


# --------------------------------------------------------------------------- a busy year's database


async def fill(db: Database, *, members: int, jobs: int, rows: int, heavy_rows: int) -> None:
    """Bulk SQL: balances, delivered jobs with their hold and charge, and grants for the rest.

    The indexes are dropped during the inserts and built again after (one sort instead of a million
    index updates), and foreign keys are off meanwhile: the rows are right by construction.
    """
    indexes = [(str(r[0]), str(r[1])) for r in await db.fetchall(
        "SELECT name, sql FROM sqlite_master"
        " WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('jobs', 'ledger')"
    )]
    await db.conn.execute("PRAGMA foreign_keys = OFF")
    async with db.transaction() as conn:
        for name, _sql in indexes:
            await conn.execute(f"DROP INDEX {name}")
        await conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)"
            " INSERT INTO balances (guild_id, member_id, available, held, refill_key, created_at)"
            " SELECT ?, i, 1000000, 0, 'start', 0 FROM n", (members, GUILD))
        await conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " INSERT INTO jobs (id, guild_id, channel_id, member_id, alias, state, inputs, cost, task_id,"
            " created_at, updated_at, submitted_at, finished_at, delivered_at)"
            " SELECT i, ?, 5, i % ?, 'z-image', 'delivered', '{\"prompt\": \"a cat\"}', 10, 'task' || i,"
            " i, i, i, i, i FROM n", (jobs, GUILD, members))
        await conn.execute(
            "INSERT INTO ledger (guild_id, member_id, kind, amount, held_change, balance_after, held_after,"
            " job_id, created_at) SELECT guild_id, member_id, 'hold', -10, 10, 1000000, 10, id, id FROM jobs")
        await conn.execute(
            "INSERT INTO ledger (guild_id, member_id, kind, amount, held_change, balance_after, held_after,"
            " job_id, consume_coins, created_at) SELECT guild_id, member_id, 'charge', 0, -10, 1000000, 0, id, 12,"
            " id FROM jobs")
        grants = rows - 2 * jobs
        heavy = min(heavy_rows, grants)
        await conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)"
            " INSERT INTO ledger (guild_id, member_id, kind, amount, held_change, balance_after, held_after,"
            " actor_id, reason, created_at)"
            " SELECT ?, CASE WHEN i < ? THEN 0 ELSE 1 + i % (? - 1) END, 'grant', 5, 0, 1000000, 0, 9, 'bench', i"
            " FROM n", (grants, GUILD, heavy, members))
        for _name, sql in indexes:
            await conn.execute(sql)
        # What the ledger keeps beside each balance as it writes a row (migration 008).
        await conn.execute(
            "UPDATE balances SET ledger_rows = (SELECT COUNT(*) FROM ledger l"
            " WHERE l.guild_id = balances.guild_id AND l.member_id = balances.member_id)")
    await db.conn.execute("PRAGMA foreign_keys = ON")
    await db.conn.execute("ANALYZE")


async def time_commands(db: Database, members: int, samples: int, seed: int) -> dict[str, list[float]]:
    ledger = Ledger(db, default_allowance=100)
    rng = random.Random(seed)
    out: dict[str, list[float]] = {"/balance": [], "/quota history": [], "/quota history (busiest, oldest page)": []}
    for _ in range(samples):
        member = rng.randrange(members)
        started = time.perf_counter()
        await ledger.balance(GUILD, member)
        await ledger.policy(GUILD)
        out["/balance"].append(time.perf_counter() - started)
        started = time.perf_counter()
        total = await ledger.count_history(GUILD, member)
        await ledger.history(GUILD, member, limit=PAGE_SIZE, offset=0, total=total)
        out["/quota history"].append(time.perf_counter() - started)
        started = time.perf_counter()
        total = await ledger.count_history(GUILD, 0)
        last_page = max(0, (total - 1) // PAGE_SIZE)
        await ledger.history(GUILD, 0, limit=PAGE_SIZE, offset=last_page * PAGE_SIZE, total=total)
        out["/quota history (busiest, oldest page)"].append(time.perf_counter() - started)
    return out


async def big_database(*, rows: int, jobs: int, samples: int) -> tuple[list[Timing], float]:
    with tempfile.TemporaryDirectory(prefix="bench-soak-db-") as folder:
        small = await Database.open(Path(folder) / "small.db")
        large = await Database.open(Path(folder) / "large.db")
        try:
            await fill(small, members=100, jobs=100, rows=1_000, heavy_rows=100)
            started = time.perf_counter()
            await fill(large, members=1_000, jobs=jobs, rows=rows, heavy_rows=rows // 10)
            filled = time.perf_counter() - started
            baseline: dict[str, list[float]] = {}
            loaded: dict[str, list[float]] = {}
            for round_ in range(2):  # alternate, so that drift on a shared machine hits both
                for target, into, members in ((small, baseline, 100), (large, loaded, 1_000)):
                    for label, values in (await time_commands(target, members, samples // 2, round_)).items():
                        into.setdefault(label, []).extend(values)
        finally:
            await small.close()
            await large.close()
    return [Timing(label, baseline[label], loaded[label]) for label in baseline], filled


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def main(*, jobs: int = 2000, window: int = 60, members: int = 100, rows: int = 1_000_000,
               db_jobs: int = 100_000, samples: int = 400) -> tuple[Soak, list[Timing]]:
    result = await soak(jobs, window, members, warmup=max(1, jobs // 10))
    timings, filled = await big_database(rows=rows, jobs=db_jobs, samples=samples)

    print(f"soak: {result.jobs} jobs through `python -m bot run`, the loopback Discord and the simulator"
          f" in {result.seconds:.0f} s ({result.jobs / result.seconds:.1f} jobs/s), {members} members,"
          f" at most {window} unfinished")
    print(f"  bot RSS after warm-up (baseline) {result.rss_warm_kib / 1024:.1f} MB, at the end"
          f" {result.rss_end_kib / 1024:.1f} MB: growth {result.growth_mb:+.1f} MB")
    per_job, data_per_job = result.db_bytes / result.jobs, result.data_bytes / result.jobs
    print(f"  database {result.db_bytes / 1024:.0f} KiB: {per_job:.0f} bytes per job; the values themselves"
          f" (baseline) {data_per_job:.0f} bytes per job; ratio {per_job / data_per_job:.2f}")
    verdict = "met" if result.growth_mb < RSS_GOAL_MB else "MISSED"
    print(f"goal RSS growth < {RSS_GOAL_MB:g} MB -> {result.growth_mb:+.1f} MB {verdict}")
    print(f"coins commands: {rows:,} ledger rows and {db_jobs:,} jobs (filled in {filled:.1f} s) vs a baseline"
          f" of 1,000 rows and 100 jobs, {samples} samples each")
    print(f"  {'command':<40} {'baseline p50':>12} {'p99':>9} {'loaded p50':>11} {'p99':>9} {'p99 ratio':>9}")
    for timing in timings:
        b50, b99 = percentile(timing.baseline, 50), percentile(timing.baseline, 99)
        l50, l99 = percentile(timing.loaded, 50), percentile(timing.loaded, 99)
        print(f"  {timing.label:<40} {ms(b50):>12} {ms(b99):>9} {ms(l50):>11} {ms(l99):>9} {l99 / b99:>8.2f}x")
    for timing in timings:
        p99 = percentile(timing.loaded, 99)
        print(f"goal {timing.label} p99 < {P99_GOAL * 1000:g} ms -> {ms(p99)} {'met' if p99 < P99_GOAL else 'MISSED'}")
    return result, timings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--window", type=int, default=60, help="jobs unfinished at a time")
    parser.add_argument("--quick", action="store_true", help="200 jobs and 100,000 ledger rows")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    if options.quick:
        asyncio.run(main(jobs=200, window=options.window, rows=100_000, db_jobs=10_000, samples=200))
    else:
        asyncio.run(main(jobs=options.jobs, window=options.window))
