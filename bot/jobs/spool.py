"""Members' input files, kept on disk from /generate until the job's task is created.

Uploads happen at submit time, with the key that will create the task: RunningHub file names are
per account, and with a queue the key is only known when a slot frees. Keeping the files here
(instead of in memory) also lets a job waiting in the queue survive a restart, and lets a job whose
key was taken out of the pool be uploaded again for another key.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Collection, Mapping
from pathlib import Path

log = logging.getLogger(__name__)


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, job_id: int) -> Path:
        return self.root / str(job_id)

    async def save(self, job_id: int, files: Mapping[str, tuple[str, bytes]]) -> dict[str, str]:
        """Write option -> (file name, bytes); returns option -> the name to `load` it by."""

        if not files:
            return {}

        def write() -> dict[str, str]:
            folder = self._folder(job_id)
            folder.mkdir(parents=True, exist_ok=True)
            names: dict[str, str] = {}
            for option, (filename, data) in files.items():
                path = folder / Path(filename).name
                path.write_bytes(data)
                names[option] = f"{job_id}/{path.name}"
            return names

        return await asyncio.to_thread(write)

    async def load(self, name: str) -> bytes:
        path = self.root / name
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise FileNotFoundError(name)
        return await asyncio.to_thread(path.read_bytes)

    def job_ids(self) -> list[int]:
        if not self.root.is_dir():
            return []
        return [int(p.name) for p in self.root.iterdir() if p.is_dir() and p.name.isdigit()]

    async def discard(self, job_ids: Collection[int]) -> None:
        """Remove the files of jobs that no longer need them (their task exists or they ended)."""

        def remove() -> None:
            for job_id in job_ids:
                shutil.rmtree(self._folder(job_id), ignore_errors=True)

        if job_ids:
            await asyncio.to_thread(remove)
