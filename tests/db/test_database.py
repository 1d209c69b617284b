"""The connection owner: migrations, settings and transactions on real files."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.db.database import Database, DatabaseError, migration_files, schema_version


async def test_fresh_file_is_migrated_to_the_newest_version(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "bot.db"
    db = await Database.open(path)
    try:
        row = await db.fetchone("PRAGMA user_version")
        assert row is not None and row[0] == schema_version()
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"guild_policy", "balances", "jobs", "job_outputs", "ledger", "meta"} <= tables
    finally:
        await db.close()
    assert path.exists()


async def test_reopening_applies_nothing_and_keeps_the_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bot.db"
    with caplog.at_level(logging.INFO, logger="bot.db.database"):
        db = await Database.open(path)
        await db.set_meta("commands", "abc")
        await db.close()
        first = [r.getMessage() for r in caplog.records if "applying migration" in r.getMessage()]
        assert len(first) == len(migration_files())
        caplog.clear()
        db = await Database.open(path)
    try:
        assert not [r for r in caplog.records if "applying migration" in r.getMessage()]
        assert await db.get_meta("commands") == "abc"
        row = await db.fetchone("PRAGMA user_version")
        assert row is not None and row[0] == schema_version()
    finally:
        await db.close()


async def test_wal_and_foreign_keys_are_on(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        mode = await db.fetchone("PRAGMA journal_mode")
        keys = await db.fetchone("PRAGMA foreign_keys")
        timeout = await db.fetchone("PRAGMA busy_timeout")
        assert mode is not None and mode[0] == "wal"
        assert keys is not None and keys[0] == 1
        assert timeout is not None and timeout[0] >= 1000
        # foreign keys are enforced: an output for a job that does not exist is refused
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO job_outputs (job_id, idx, url) VALUES (999, 0, 'u')")
    finally:
        await db.close()
    # WAL is a property of the file: a plain connection sees it too
    plain = sqlite3.connect(tmp_path / "bot.db")
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        plain.close()


async def test_a_database_newer_than_the_bot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    plain = sqlite3.connect(path)
    plain.execute(f"PRAGMA user_version = {schema_version() + 1}")
    plain.close()
    with pytest.raises(DatabaseError, match="newer than this bot knows"):
        await Database.open(path)


async def test_several_openers_of_a_fresh_file_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    # a fresh file: each opener switches it to WAL and migrates it, racing the others
    opened = await asyncio.gather(*(Database.open(path) for _ in range(8)), return_exceptions=True)
    dbs = [db for db in opened if isinstance(db, Database)]
    try:
        assert len(dbs) == len(opened), [e for e in opened if not isinstance(e, Database)]
        for db in dbs:
            row = await db.fetchone("PRAGMA user_version")
            assert row is not None and row[0] == schema_version()
    finally:
        for db in dbs:
            await db.close()


async def test_a_failed_transaction_writes_nothing_and_the_next_one_works(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
                raise RuntimeError("boom")
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO meta (key, value) VALUES ('b', '1')")
                await conn.execute("INSERT INTO meta (key, value) VALUES ('b', '2')")
        await db.set_meta("c", "3")
        rows = await db.fetchall("SELECT key, value FROM meta")
        assert [tuple(r) for r in rows] == [("c", "3")]
    finally:
        await db.close()


async def test_a_transaction_cancelled_while_waiting_for_the_lock_leaves_the_connection_usable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.db"
    first = await Database.open(path)
    second = await Database.open(path)
    try:
        entered = asyncio.Event()
        release = asyncio.Event()

        async def hold_the_file() -> None:
            async with first.transaction() as conn:
                await conn.execute("INSERT INTO meta (key, value) VALUES ('first', '1')")
                entered.set()
                await release.wait()

        async def blocked_writer() -> None:
            async with second.transaction() as conn:
                await conn.execute("INSERT INTO meta (key, value) VALUES ('lost', '1')")

        holder = asyncio.create_task(hold_the_file())
        await entered.wait()
        waiter = asyncio.create_task(blocked_writer())
        await asyncio.sleep(0.1)  # the waiter is now inside BEGIN IMMEDIATE, on busy_timeout
        waiter.cancel()
        release.set()
        await holder
        with pytest.raises(asyncio.CancelledError):
            await waiter
        # the cancelled BEGIN finished in aiosqlite's thread; it must have been rolled back
        await second.set_meta("second", "2")
        rows = await second.fetchall("SELECT key FROM meta ORDER BY key")
        assert [r[0] for r in rows] == ["first", "second"]
    finally:
        await first.close()
        await second.close()


async def test_a_transaction_cancelled_inside_rolls_back(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        inside = asyncio.Event()

        async def writer() -> None:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO meta (key, value) VALUES ('lost', '1')")
                inside.set()
                await asyncio.sleep(30)

        task = asyncio.create_task(writer())
        await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await db.set_meta("kept", "1")
        rows = await db.fetchall("SELECT key FROM meta")
        assert [r[0] for r in rows] == ["kept"]
    finally:
        await db.close()


def _files(*numbers: int) -> list[tuple[int, str, str]]:
    return [(n, f"{n:03d}_t{n}.sql", f"CREATE TABLE t{n} (x INTEGER);") for n in numbers]


async def test_a_migration_numbered_below_one_already_applied_is_still_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Numbers are reserved per piece of work and land in any order: 7 may be applied before 3 exists.
    import bot.db.database as database

    path = tmp_path / "bot.db"
    monkeypatch.setattr(database, "migration_files", lambda: _files(1, 2, 7))
    db = await Database.open(path)
    await db.close()
    monkeypatch.setattr(database, "migration_files", lambda: _files(1, 2, 3, 7))
    db = await Database.open(path)
    try:
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"t1", "t2", "t3", "t7"} <= tables
        applied = [r[0] for r in await db.fetchall("SELECT number FROM schema_migrations ORDER BY number")]
        assert applied == [1, 2, 3, 7]
        row = await db.fetchone("PRAGMA user_version")
        assert row is not None and row[0] == 7
    finally:
        await db.close()


async def test_a_database_from_before_the_migrations_table_keeps_what_it_had(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.db.database as database

    path = tmp_path / "bot.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE t1 (x INTEGER)")
    plain.execute("CREATE TABLE t2 (x INTEGER)")
    plain.execute("PRAGMA user_version = 2")
    plain.commit()
    plain.close()
    monkeypatch.setattr(database, "migration_files", lambda: _files(1, 2, 7))
    db = await Database.open(path)  # would fail with "table t1 already exists" if 1 ran again
    try:
        applied = [r[0] for r in await db.fetchall("SELECT number FROM schema_migrations ORDER BY number")]
        assert applied == [1, 2, 7]
    finally:
        await db.close()
