"""Drill: the database cannot be written at start-up.

`python -m bot run` must stop at once with one clear line naming DATABASE_PATH: no traceback,
no retry loop, and no connection to Discord. Tests often run as root, for whom a chmod'ed folder
is still writable: as root the folder is made read-only with a read-only bind mount in a private
mount namespace (`unshare -m`), which binds root too; /proc is read-only for everyone.

The bot runs through tests/drills/slow_sqlite_launch.py, which slows aiosqlite's worker thread the
way a busy machine may (otherwise it is exactly `python -m bot run`): a failed open must not leave
that thread to print a traceback after the one-line error once the event loop has closed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.db.database import Database
from tests.harness import ROOT, SHIPPED_WORKFLOWS, UNUSED_RUNNINGHUB

LAUNCHER = Path(__file__).resolve().parent / "slow_sqlite_launch.py"
AS_ROOT = os.geteuid() == 0
# sh -c SCRIPT sh FOLDER COMMAND...: bind FOLDER read-only in a private mount namespace, then run COMMAND.
READ_ONLY_BIND = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'

def read_only(folder: Path) -> list[str]:
    """Make `folder` read-only for the bot; returns the prefix to run the bot's command with."""
    if not AS_ROOT:
        folder.chmod(0o555)
        return []
    prefix = ["unshare", "-m", "sh", "-c", READ_ONLY_BIND, "sh", str(folder)]
    if shutil.which("unshare") is None or subprocess.run([*prefix, "true"], capture_output=True).returncode:
        pytest.skip("running as root without mount namespaces: no way to make a folder read-only for root")
    return prefix


def run_bot(database: Path, cwd: Path, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.update({
        "DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GxYzAb.drill-token-never-used-0123456789",
        "RUNNINGHUB_BASE_URL": UNUSED_RUNNINGHUB,
        "RUNNINGHUB_API_KEY": "0123456789abcdef0123456789abcdef",
        "DATABASE_PATH": str(database),
        "WORKFLOWS_PATH": str(SHIPPED_WORKFLOWS),
        # Were it to get past the database, it would fail to reach Discord: an error, never a hang.
        "FAKE_DISCORD_API_BASE": UNUSED_RUNNINGHUB + "/api/v10",
        "FAKE_DISCORD_GATEWAY": "ws://127.0.0.1:9/gateway",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    })
    command = [*prefix, sys.executable, str(LAUNCHER), "run"]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def check_one_clear_line(result: subprocess.CompletedProcess[str], database: Path) -> None:
    assert result.returncode not in (0, None)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and str(database) in lines[0]
    assert "connected as" not in result.stdout  # it never got as far as Discord


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_database_path_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be")
    database = tmp_path / "data" / "bot.db"
    check_one_clear_line(run_bot(database, tmp_path), database)


def test_database_in_proc_which_nobody_may_write(tmp_path: Path) -> None:
    database = Path("/proc/rhbot-drill.db")
    check_one_clear_line(run_bot(database, tmp_path), database)


def test_read_only_folder_without_a_database(folder: Path) -> None:
    prefix = read_only(folder)
    database = folder / "bot.db"
    check_one_clear_line(run_bot(database, folder.parent, prefix), database)
    assert not database.exists()


async def create_database(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


def test_read_only_folder_with_an_existing_database(folder: Path) -> None:
    database = folder / "bot.db"
    asyncio.run(create_database(database))  # a working install...
    assert not list(folder.glob("bot.db-*"))  # (closed cleanly: no -wal / -shm left)
    before = database.read_bytes()
    prefix = read_only(folder)  # ...whose folder became read-only: SQLite cannot create -wal / -shm there
    check_one_clear_line(run_bot(database, folder.parent, prefix), database)
    assert database.read_bytes() == before


def test_the_read_only_folder_really_is_read_only_for_the_bot(folder: Path) -> None:
    """Guards the drills above: they only mean something if the bot's process cannot write there."""
    prefix = read_only(folder)
    probe = "import pathlib, sys; pathlib.Path(sys.argv[1], 'probe').write_text('x')"
    result = subprocess.run([*prefix, sys.executable, "-c", probe, str(folder)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0
    assert "PermissionError" in result.stderr or "Read-only file system" in result.stderr, result.stderr
    assert not (folder / "probe").exists()
