"""A delivery that gives up after its retries: the member is told how to /resend, and /resend works."""

from __future__ import annotations

from collections.abc import Sequence

from bot.jobs.notifier import DeliveryError, OutgoingFile
from bot.jobs.states import JobState
from bot.texts import t
from bot.texts.format import mention
from tests.jobs.conftest import GUILD, World
from tests.waiting import eventually


async def test_a_delivery_that_gives_up_says_how_to_resend_and_resend_delivers_once(world: World) -> None:
    notifier = world.notifier
    post_result = notifier.post_result

    async def refused(job, text: str, files: Sequence[OutgoingFile], *, first: bool, nonce: str | None = None) -> int:
        raise DeliveryError("Discord answered 403 (50013): Missing Permissions", transient=False)

    notifier.post_result = refused  # type: ignore[method-assign]
    await world.service.start()
    job = await world.generate("z-image", member=12)
    about = {"alias": "z-image", "job": f"#{job.id}", "mention": mention(12)}
    expected = t("progress.notice.undelivered", "en", number=job.id, **about)

    async def told() -> bool:
        return any(m.text == expected for m in notifier.of("notice", job.id))

    await eventually(told, timeout=15)
    assert "/resend job:" in expected
    (status,) = notifier.of("status", job.id)
    await eventually(lambda: _is(status.edits[-1:] == [t("progress.status.undelivered", "en", **about)]))
    assert (await world.job(job.id)).state == JobState.SUCCEEDED  # charged, results kept for /resend

    notifier.post_result = post_result  # type: ignore[method-assign]
    await world.service.resend(job.id, guild_id=GUILD, actor_id=12, is_moderator=False)
    assert (await world.job(job.id)).state == JobState.DELIVERED
    assert len(notifier.of("result", job.id)) == 1
    await eventually(lambda: _is(status.edits[-1].startswith("✅")))
    rows = await world.db.fetchall("SELECT kind FROM ledger WHERE job_id = ? ORDER BY id", (job.id,))
    assert [r[0] for r in rows] == ["hold", "charge"]
    await world.books_balance()


async def _is(value: bool) -> bool:
    return value
