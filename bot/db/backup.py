"""`python -m bot backup`: a consistent copy of the database, taken while the bot runs.

SQLite's online backup API copies the pages inside one read transaction, so the copy is the
database as of one instant, whatever the bot writes meanwhile. A plain file copy is not: it can
catch a write halfway, and it misses what still sits in the -wal file.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


class BackupError(Exception):
    """The backup could not be written; the message is one line for the operator."""


def default_path(database: Path, now: float | None = None) -> Path:
    """backup-<UTC timestamp>.db in the database's own folder (data/ by default)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return database.parent / f"backup-{stamp}.db"


def backup(database: Path, target: Path | None = None) -> Path:
    """Copy `database` to `target` (a file, a folder, or None for the default); return the path written."""
    if not database.is_file():
        raise BackupError(f"there is no database at {database} (DATABASE_PATH) to back up")
    if target is None:
        target = default_path(database)
    elif target.is_dir():
        target = target / default_path(database).name
    if target.exists():
        if target.resolve() == database.resolve():
            raise BackupError(f"{target} is the database itself: name another file")
        raise BackupError(f"{target} already exists: name a new file (a backup never overwrites)")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    # Written under a temporary name and renamed at the end: a half-written file never looks like a backup.
    partial = target.with_name(target.name + ".part")
    try:
        source = sqlite3.connect(f"file:{database}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open the database {database}: {exc}") from None
    try:
        partial.unlink(missing_ok=True)
        copy = sqlite3.connect(partial)
        try:
            # pages=-1 (all in one step): one read transaction, so one instant. In WAL mode the bot
            # keeps writing meanwhile; a stepwise copy would restart after every write it sees.
            source.backup(copy, pages=-1)
            # A backup is one self-contained file: no -wal or -shm beside it.
            copy.execute("PRAGMA journal_mode=DELETE").fetchone()
            verdict = copy.execute("PRAGMA integrity_check").fetchone()
        finally:
            copy.close()
        if verdict is None or verdict[0] != "ok":
            raise BackupError(f"the copy failed its integrity check ({verdict[0] if verdict else 'no answer'})")
        partial.replace(target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write the backup {target}: {exc}") from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write the backup {target}: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    return target
