"""Delivery: fetch a finished job's outputs (streamed, size-capped) and post them in its channel.

Files go out at most 10 a message and within the guild's upload limit; an image that is too large
is re-encoded to fit where possible; anything else too large goes out as RunningHub's link with a
note that it expires; text outputs are posted as text. A job is delivered once: the move to
`delivered` is compare-and-set, and a failed post is retried later with backoff.

A result may take several messages. Each one is journaled (delivery_parts) as soon as Discord has
accepted it, so a delivery cut short by a crash posts only the missing parts: a journaled part is
confirmed by fetching its message by id. Between a post and its journal row, the part's stable
nonce lets Discord hand back the message already posted instead of posting it twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from PIL import Image

from bot.db.journal import Job, JobOutput, Journal
from bot.db.ledger import Ledger
from bot.jobs.notifier import DeliveryError, Notifier, OutgoingFile
from bot.jobs.pipeline import OutputTooLarge, download_output
from bot.jobs.states import JobState
from bot.texts.jobs import (
    ResultContent,
    final_status,
    result_more_text,
    result_text,
    undelivered_notice,
    undelivered_status,
)

log = logging.getLogger(__name__)

IMAGE_TYPES = {"png", "jpg", "jpeg", "webp", "bmp"}
TEXT_TYPES = {"txt", "text", "json"}
MAX_FILES_PER_MESSAGE = 10
MAX_REQUEST_BYTES = 24 * 1024 * 1024  # Discord refuses a request over 25 MiB; keep a margin
IMAGE_FETCH_CAP = 64 * 1024 * 1024  # an image this large can still be re-encoded to fit
TEXT_CAP = 64 * 1024
GIVE_UP_AFTER = 8  # delivery attempts before a job is left for /resend
# Re-encoding decodes the whole picture (tens of MB for a 4K output): one at a time, not one per
# finished job, keeps memory flat when many large results finish together.
REENCODE_AT_ONCE = 1


@dataclass
class Prepared:
    files: list[OutgoingFile]
    links: list[str]
    texts: list[str]
    deliveries: dict[int, str]
    # RunningHub's links to the full-size originals of the images that were re-encoded to fit
    originals: list[str] = field(default_factory=list)


class Delivery:
    def __init__(
        self,
        journal: Journal,
        notifier: Notifier,
        session: aiohttp.ClientSession,
        *,
        clock: Callable[[], float] = time.time,
        retry_base: float = 5.0,
        on_given_up: Callable[[Job, int], Awaitable[None]] | None = None,
        show_status: Callable[[Job, str], None] | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        """`show_status(job, text)` puts the job's final text on its status message (the
        StatusBoard, which paces edits per channel); without it the message is edited here."""
        self.show_status = show_status
        self.ledger = ledger  # for the balance after the charge, in the result message
        self.journal = journal
        self.on_given_up = on_given_up  # told (job, attempts) when a delivery is left for /resend
        self.notifier = notifier
        self.session = session
        self.clock = clock
        self.retry_base = retry_base
        self._busy: set[int] = set()
        self._reencoding = asyncio.Semaphore(REENCODE_AT_ONCE)

    def busy(self, job_id: int) -> bool:
        return job_id in self._busy

    async def deliver(self, job_id: int) -> bool:
        """Deliver a succeeded job; True when it is delivered now (or was already)."""
        if job_id in self._busy:
            return False
        self._busy.add(job_id)
        try:
            return await self._deliver(job_id)
        finally:
            self._busy.discard(job_id)

    async def _deliver(self, job_id: int) -> bool:
        job = await self.journal.get(job_id, with_outputs=True)
        if job is None or job.state != JobState.SUCCEEDED:
            return False
        await self.journal.note_delivery_attempt(job.id)
        try:
            with tempfile.TemporaryDirectory(prefix=f"rhbot-job{job.id}-") as tmp:
                prepared = await self.prepare(job, Path(tmp))
                message_id = await self.post_parts(job, prepared)
        except DeliveryError as exc:
            attempts = job.delivery_attempts + 1
            if not exc.transient or attempts >= GIVE_UP_AFTER:
                log.error("job %s: delivery failed for good after %d attempts: %s", job.id, attempts, exc)
                await self.journal.delivery_failed(job.id, 10 * 365 * 86400)
                await self._gave_up(job, attempts)
            else:
                delay = min(300.0, self.retry_base * 2 ** (attempts - 1))
                log.warning("job %s: delivery failed (%s); retrying in %.0f s", job.id, exc, delay)
                await self.journal.delivery_failed(job.id, delay)
            return False
        await self.journal.delivered(job.id, message_id, prepared.deliveries)
        await self._finish_status(job)
        return True

    async def post_parts(self, job: Job, prepared: Prepared) -> int:
        """Post the parts not posted yet, journaling each; returns the first part's message id."""
        posted = await self.journal.delivery_parts(job.id)
        nonce = delivery_nonce(job)
        batches = batch_files(prepared.files)
        available = await self._available(job)
        first_id = 0
        for number, batch in enumerate(batches, start=1):
            message_id = posted.get(number)
            if message_id is not None and not await self.notifier.message_exists(job, message_id):
                log.info("job %s: part %d of its result was deleted; posting it again", job.id, number)
                await self.journal.forget_part(job.id, number)
                message_id = None
            if message_id is None:
                message_id = await self.notifier.post_result(
                    job, self.part_text(job, prepared, number, len(batches), available), batch,
                    first=number == 1, nonce=f"{nonce}p{number}",
                )
                await self.journal.record_part(job.id, number, message_id)
            if number == 1:
                first_id = message_id
        return first_id

    def part_text(self, job: Job, prepared: Prepared, number: int, parts: int, available: int | None = None) -> str:
        if number == 1:
            return self.compose(job, prepared, available)
        return result_more_text(job, number, parts)

    async def _gave_up(self, job: Job, attempts: int) -> None:
        """Tell the member the results wait for /resend (on the status message and in a notice),
        and whoever else listens (the modlog)."""
        if job.status_message_id is not None and self.show_status is not None:
            self.show_status(job, undelivered_status(job))
        try:
            await self.notifier.post_notice(job, undelivered_notice(job))
        except DeliveryError as exc:
            log.warning("job %s: could not say that its delivery gave up: %s", job.id, exc)
        if self.on_given_up is not None:
            await self.on_given_up(job, attempts)

    async def _available(self, job: Job) -> int | None:
        """The member's coins after the charge, for the result message (None without a ledger)."""
        if self.ledger is None:
            return None
        return (await self.ledger.balance(job.guild_id, job.member_id)).available


    async def _finish_status(self, job: Job) -> None:
        if job.status_message_id is None:
            return
        delivered = await self.journal.get(job.id)
        if self.show_status is not None:
            self.show_status(delivered or job, final_status(delivered or job, self.clock()))
            return
        try:
            await self.notifier.edit_status(job, final_status(delivered or job, self.clock()))
        except DeliveryError as exc:
            log.info("job %s: status message not updated: %s", job.id, exc)

    # ---- preparing the files --------------------------------------------------------------

    async def prepare(self, job: Job, folder: Path) -> Prepared:
        limit = self.notifier.upload_limit(job.guild_id)
        prepared = Prepared(files=[], links=[], texts=[], deliveries={})
        for output in job.outputs:
            await self._prepare_one(job, output, folder, limit, prepared)
        return prepared

    async def _prepare_one(self, job: Job, output: JobOutput, folder: Path, limit: int, out: Prepared) -> None:
        kind = output.file_type.lower().lstrip(".")
        if output.text is not None or kind in TEXT_TYPES:
            text = output.text if output.text is not None else await self._fetch_text(output.url)
            if text is not None:
                out.texts.append(text)
                out.deliveries[output.idx] = "text"
                return
        name = f"{job.alias}-{job.id}-{output.idx + 1}.{kind or 'bin'}"
        path = folder / name
        cap = max(limit, IMAGE_FETCH_CAP) if kind in IMAGE_TYPES else limit
        try:
            with path.open("wb") as fh:
                size = await download_output(self.session, output.url, fh, max_bytes=cap)
        except OutputTooLarge:
            out.links.append(output.url)
            out.deliveries[output.idx] = "link"
            return
        except Exception as exc:  # a network failure here is worth a retry of the whole delivery
            raise DeliveryError(f"downloading output {output.idx}: {exc}", transient=True) from exc
        if size > limit and kind in IMAGE_TYPES:
            async with self._reencoding:
                fitted = await asyncio.to_thread(reencode_to_fit, path, limit)
            if fitted is not None:
                path, size = fitted, fitted.stat().st_size
                out.originals.append(output.url)
        if size > limit:
            out.links.append(output.url)
            out.deliveries[output.idx] = "link"
            return
        out.files.append(OutgoingFile(filename=path.name, path=path, size=size))
        out.deliveries[output.idx] = "file"

    async def _fetch_text(self, url: str) -> str | None:
        buffer = io.BytesIO()
        try:
            await download_output(self.session, url, buffer, max_bytes=TEXT_CAP)
        except OutputTooLarge:
            return None
        except Exception as exc:
            raise DeliveryError(f"downloading a text output: {exc}", transient=True) from exc
        return buffer.getvalue().decode("utf-8", errors="replace")

    # ---- posting ---------------------------------------------------------------------------

    def compose(self, job: Job, prepared: Prepared, available: int | None = None) -> str:
        content = ResultContent(links=prepared.links, texts=prepared.texts, has_files=bool(prepared.files),
                                originals=prepared.originals, available=available)
        return result_text(job, content, self.clock())

    async def post(self, job: Job, prepared: Prepared) -> int:
        """Post the whole result again (/resend): every part, not journaled, no nonce."""
        batches = batch_files(prepared.files)
        available = await self._available(job)
        first_id = 0
        for number, batch in enumerate(batches, start=1):
            message_id = await self.notifier.post_result(
                job, self.part_text(job, prepared, number, len(batches), available), batch, first=number == 1
            )
            if number == 1:
                first_id = message_id
        return first_id


def delivery_nonce(job: Job) -> str:
    """The same for every attempt at delivering this job, and unlike any other database's job #N.

    Discord de-duplicates by author and nonce for a few minutes, so `rh{job.id}` alone would let a
    second deployment on the same bot account (or a fresh database) get an old message back
    instead of posting its own. Discord takes at most 25 characters; this is 18 before "p1".
    """
    seed = f"{job.guild_id}:{job.channel_id}:{job.id}:{job.created_at!r}"
    return "rh" + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()


def batch_files(files: list[OutgoingFile]) -> list[list[OutgoingFile]]:
    """Split into messages of at most 10 files and ~24 MiB each; always at least one (maybe empty)."""
    batches: list[list[OutgoingFile]] = [[]]
    total = 0
    for f in files:
        current = batches[-1]
        if current and (len(current) >= MAX_FILES_PER_MESSAGE or total + f.size > MAX_REQUEST_BYTES):
            batches.append([])
            total = 0
        batches[-1].append(f)
        total += f.size
    return batches


def reencode_to_fit(path: Path, limit: int) -> Path | None:
    """Re-encode an image as JPEG (then smaller) until it fits `limit`; None if it cannot be read."""
    try:
        with Image.open(path) as original:
            image = original.convert("RGB")
    except Exception:
        return None
    target = path.with_suffix(".jpg")
    scale = 1.0
    for _ in range(12):
        candidate = image if scale == 1.0 else image.resize(
            (max(1, int(image.width * scale)), max(1, int(image.height * scale))), Image.Resampling.LANCZOS
        )
        for quality in (90, 80, 70):
            buffer = io.BytesIO()
            candidate.save(buffer, "JPEG", quality=quality, optimize=True)
            if buffer.tell() <= limit:
                target.write_bytes(buffer.getvalue())
                return target
        scale *= 0.75
    return None
