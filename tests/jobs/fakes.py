"""A Notifier that records what the job pipeline would post to Discord, with injectable failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count

from bot.db.journal import Job
from bot.jobs.notifier import DeliveryError, OutgoingFile


@dataclass
class Posted:
    id: int
    kind: str  # status | result | notice
    job_id: int
    channel_id: int
    text: str
    files: list[tuple[str, bytes]] = field(default_factory=list)
    first: bool = False
    nonce: str | None = None
    edits: list[str] = field(default_factory=list)


class RecordingNotifier:
    def __init__(self, upload_limit: int = 10 * 1024 * 1024) -> None:
        self.limit = upload_limit
        self.messages: list[Posted] = []
        self.modlog: list[tuple[int, int, str]] = []  # (guild, channel, text) of moderator notices
        self.fail_results = 0  # next N post_result calls fail transiently
        self.fail_notices = 0  # next N post_notice calls fail transiently
        self._ids = count(1000)
        self.deleted: set[int] = set()  # ids of messages a moderator deleted
        self.lookups: list[int] = []  # ids asked about with message_exists

    def upload_limit(self, guild_id: int) -> int:
        return self.limit

    def _post(self, kind: str, job: Job, text: str, **extra: object) -> Posted:
        message = Posted(id=next(self._ids), kind=kind, job_id=job.id, channel_id=job.channel_id, text=text,
                         **extra)  # type: ignore[arg-type]
        self.messages.append(message)
        return message

    async def post_status(self, job: Job, text: str) -> int | None:
        return self._post("status", job, text).id

    async def edit_status(self, job: Job, text: str, *, cancellable: bool | None = None) -> bool:
        for message in self.messages:
            if message.id == job.status_message_id:
                message.edits.append(text)
                return True
        return False

    async def post_result(
        self, job: Job, text: str, files: Sequence[OutgoingFile], *, first: bool, nonce: str | None = None
    ) -> int:
        if self.fail_results > 0:
            self.fail_results -= 1
            raise DeliveryError("503 from Discord", transient=True)
        payload = [(f.filename, f.path.read_bytes()) for f in files]
        return self._post("result", job, text, files=payload, first=first, nonce=nonce).id

    async def message_exists(self, job: Job, message_id: int) -> bool:
        self.lookups.append(message_id)
        return any(m.id == message_id and m.id not in self.deleted for m in self.messages)

    async def post_notice(self, job: Job, text: str) -> int | None:
        if self.fail_notices > 0:
            self.fail_notices -= 1
            raise DeliveryError("503 from Discord", transient=True)
        return self._post("notice", job, text).id

    def guild_locale(self, guild_id: int) -> str | None:
        return None

    async def post_modlog(self, guild_id: int, channel_id: int, text: str) -> None:
        self.modlog.append((guild_id, channel_id, text))

    def of(self, kind: str, job_id: int | None = None) -> list[Posted]:
        return [m for m in self.messages if m.kind == kind and (job_id is None or m.job_id == job_id)]
