"""`python -m bot backup`: copies taken while another process keeps writing are consistent."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.db.backup import backup, default_path
from bot.db.database import Database
from bot.db.invariants import check_invariants

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("crash_worker.py")
BACKUPS = 6


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(
        PYTHONPATH=str(ROOT),
        RUNNINGHUB_BASE_URL="simulator",
        DATABASE_PATH=str(tmp_path / "data" / "bot.db"),
    )
    return env


async def run_backup(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`python -m bot backup ARGS` as a separate process, in tmp_path (so no developer .env is read)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", *args,
        cwd=tmp_path, env=cli_env(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_backups_taken_while_another_process_writes_are_consistent(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.db"
    database.parent.mkdir()
    writer = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), "stream", str(database), "7", stdout=asyncio.subprocess.PIPE
    )
    assert writer.stdout is not None
    try:
        assert (await asyncio.wait_for(writer.stdout.readline(), timeout=30)).strip() == b"ready"
        copies: list[Path] = []
        for number in range(BACKUPS):
            await asyncio.sleep(0.1)
            target = tmp_path / f"copy-{number}.db"
            code, out, err = await run_backup(tmp_path, str(target))
            assert (code, err) == (0, ""), err
            assert out == f"{target}\n"  # the path, and only the path, on stdout
            copies.append(target)
        assert writer.returncode is None, "the writer stopped while the backups were taken"
    finally:
        with contextlib.suppress(ProcessLookupError):
            writer.kill()
        await writer.wait()

    rows = []
    for copy in copies:
        assert [n for n in os.listdir(tmp_path) if n.startswith(copy.name)] == [copy.name]  # no -wal, -shm, .part
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            rows.append(conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0])
        db = await Database.open(copy)  # what `check` and the bot would do with a restored file
        try:
            assert await check_invariants(db) == [], copy
        finally:
            await db.close()
    assert rows == sorted(rows) and rows[-1] > rows[0] > 0, f"the writer was not busy meanwhile: {rows}"


async def test_the_default_path_is_beside_the_database_with_a_utc_timestamp(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.db"
    db = await Database.open(database)
    await db.close()
    code, out, err = await run_backup(tmp_path)
    assert (code, err) == (0, "")
    written = Path(out.strip())
    assert written.parent == database.parent
    assert written.name.startswith("backup-") and written.name.endswith("Z.db")
    assert default_path(database, 0).name == "backup-19700101T000000Z.db"
    # A folder as PATH: the same name, in that folder.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert backup(database, elsewhere).parent == elsewhere


@pytest.mark.parametrize(
    ("make", "args", "words"),
    [
        (False, (), "there is no database at"),
        (True, ("data/bot.db",), "is the database itself"),
        (True, ("missing/folder/x.db",), "the folder missing/folder does not exist"),
        (True, ("taken.db",), "already exists"),
    ],
)
async def test_errors_are_one_line(tmp_path: Path, make: bool, args: tuple[str, ...], words: str) -> None:
    if make:
        db = await Database.open(tmp_path / "data" / "bot.db")
        await db.close()
    (tmp_path / "taken.db").write_bytes(b"keep me")
    code, out, err = await run_backup(tmp_path, *args)
    assert code == cli.EXIT_FAILED and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err
    assert (tmp_path / "taken.db").read_bytes() == b"keep me"

