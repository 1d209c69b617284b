"""`python -m bot ARGS` exactly as tests/launch_bot.py runs it, with aiosqlite's worker thread slowed.

On a loaded machine that thread can be scheduled late. Slowing it makes such timing happen every
time, so a drill can tell whether the bot waits for the thread before its event loop closes.
"""

from __future__ import annotations

import queue
import runpy
import time
from pathlib import Path
from typing import Any

import aiosqlite.core

DELAY = 0.3  # seconds the worker sleeps before each call it takes from its queue

_original_worker = aiosqlite.core._connection_worker_thread


class _SlowQueue:
    def __init__(self, inner: queue.Queue[Any]) -> None:
        self._inner = inner

    def get(self) -> Any:
        item = self._inner.get()
        time.sleep(DELAY)
        return item


def _slow_worker(tx: queue.Queue[Any]) -> None:
    _original_worker(_SlowQueue(tx))  # type: ignore[arg-type]


if __name__ == "__main__":
    aiosqlite.core._connection_worker_thread = _slow_worker  # looked up when each connection starts
    runpy.run_path(str(Path(__file__).resolve().parents[1] / "launch_bot.py"), run_name="__main__")
