"""The one place that owns the SQLite connection: settings, migrations and transactions."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message is one line for the operator."""


def migration_files() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every `migrations/NNN_name.sql`, in order.

    Numbers are reserved per piece of work and may land in any order, so gaps are allowed; each
    migration is recorded by number once applied (see `Database.migrate`).
    """
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("bot.db").joinpath("migrations").iterdir():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        number = int(name.split("_", 1)[0])
        found.append((number, name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if len(set(numbers)) != len(numbers) or (numbers and numbers[0] < 1):
        raise DatabaseError(f"migrations must have distinct positive numbers, found {numbers}")
    return found


def schema_version() -> int:
    """The user_version of a fully migrated database: the highest migration number."""
    return max((n for n, _, _ in migration_files()), default=0)


class Database:
    """One aiosqlite connection in WAL mode with foreign keys on.

    Writers go through `transaction()`, which serialises them with an asyncio lock (one
    connection cannot run two transactions at once) and uses BEGIN IMMEDIATE so that other
    processes on the same file wait on `busy_timeout` instead of failing mid-transaction.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self.statements = 0  # statements issued through `execute`/`fetch*` (benchmarks read it)

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"cannot create the folder for DATABASE_PATH {path}: {exc.strerror}"
                ) from None
        try:
            if str(path) != ":memory:":
                # Open it once without aiosqlite first. When aiosqlite's own connect fails, its worker
                # thread still has to report its stop to this event loop; if we raise and asyncio.run
                # closes the loop first, that thread dies printing a traceback after our one-line error.
                await asyncio.to_thread(_probe, path)
            conn = await aiosqlite.connect(path, isolation_level=None)
        except Exception as exc:
            raise DatabaseError(f"cannot open the database {path}: {exc}") from None
        db = cls(conn, path)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA busy_timeout=10000")
            await db._use_wal()
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await db.migrate()
        except DatabaseError:
            await conn.close()
            raise
        except Exception as exc:
            await conn.close()
            raise DatabaseError(f"cannot use the database {path}: {exc}") from None
        return db

    async def _use_wal(self) -> None:
        """Switch the file to WAL (a no-op once it is).

        Switching a fresh file fails at once with "database is locked", without waiting on
        busy_timeout, while another connection is switching it too: retry for a few seconds.
        """
        for _ in range(50):
            try:
                async with self.conn.execute("PRAGMA journal_mode=WAL") as cur:
                    row = await cur.fetchone()
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    raise
            else:
                if row is not None and str(row[0]).lower() in ("wal", "memory"):
                    return
            await asyncio.sleep(0.1)
        raise DatabaseError(f"cannot switch the database {self.path} to WAL mode: it stays locked")

    async def close(self) -> None:
        await self.conn.close()

    async def migrate(self) -> int:
        """Apply every migration not applied yet, in number order, in one transaction.

        Each applied number is recorded in `schema_migrations`, so a migration numbered below one
        already applied (work that landed later than a higher number) is still applied.
        `user_version` holds the highest number, for a quick check and for older tools.
        """
        files = migration_files()
        known = {number for number, _, _ in files}
        newest = max(known, default=0)
        current = await self._user_version()
        if current > newest:
            raise DatabaseError(
                f"the database {self.path} is at schema version {current}, newer than this bot knows ({newest})"
            )
        if current == newest and known <= await self._applied():
            return current
        async with self.transaction() as conn:
            # read again under the write lock: another process may have migrated meanwhile
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL)"
            )
            applied = await self._applied()
            if not applied:
                # A database from before this table: its migrations were 1..user_version, gapless.
                current = await self._user_version()
                applied = {n for n in known if n <= current}
                await conn.executemany(
                    "INSERT INTO schema_migrations (number, name) VALUES (?, ?)",
                    [(n, name) for n, name, _ in files if n in applied],
                )
            if applied - known:
                raise DatabaseError(
                    f"the database {self.path} has migrations {sorted(applied - known)} that this bot does not know"
                )
            for number, name, sql in files:
                if number in applied:
                    continue
                log.info("applying migration %s", name)
                for statement in _split_sql(sql):
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_migrations (number, name) VALUES (?, ?)", (number, name))
            await conn.execute(f"PRAGMA user_version = {newest}")
        return newest

    async def _applied(self) -> set[int]:
        try:
            rows = await self.conn.execute_fetchall("SELECT number FROM schema_migrations")
        except sqlite3.OperationalError:  # no such table yet
            return set()
        return {int(r[0]) for r in rows}

    async def _user_version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any exception), one writer at a time."""
        async with self._lock:
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                await self.conn.execute("COMMIT")
            except BaseException:
                # Not an explicit ROLLBACK: sqlite3's rollback() is a no-op when no transaction is
                # open (BEGIN failed, or SQLite already rolled back after an error), so it never
                # hides the original exception. aiosqlite runs calls in order, so after a
                # cancelled BEGIN or COMMIT this runs once that statement has finished.
                await self.conn.rollback()
                raise

    async def execute(self, sql: str, params: tuple | list = ()) -> int:
        """One write statement in a transaction of its own; returns the rows it changed.

        The connection is in autocommit mode, so one statement is already atomic: no BEGIN and
        COMMIT (two more trips to aiosqlite's thread). Through the lock all the same: on the shared
        connection it could otherwise land inside another coroutine's open transaction.
        """
        self.statements += 1
        async with self._lock:
            cursor = await self.conn.execute(sql, params)
            return cursor.rowcount

    async def fetchall(self, sql: str, params: tuple | list = ()) -> list[aiosqlite.Row]:
        self.statements += 1
        # one trip to aiosqlite's thread; a cursor takes three (execute, fetch, close)
        return list(await self.conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: tuple | list = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def get_meta(self, key: str) -> str | None:
        row = await self.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def _split_sql(sql: str) -> list[str]:
    """Split a migration file on `;` at line ends (our files have no semicolons inside strings)."""
    statements, current = [], []
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") or not stripped:
            continue
        current.append(line)
        if stripped.endswith(";"):
            statements.append("\n".join(current))
            current = []
    if current:
        statements.append("\n".join(current))
    return statements


def _probe(path: Path) -> None:
    """Open and close the file with plain sqlite3 (creating it if missing), in a worker thread."""
    sqlite3.connect(path).close()


def now() -> float:
    return time.time()
