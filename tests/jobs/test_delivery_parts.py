"""A result of several messages: each part journaled as it is posted, and only missing parts posted again."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.db.journal import Job
from bot.jobs.notifier import DeliveryError, OutgoingFile
from tests.jobs.conftest import World
from tests.jobs.fakes import RecordingNotifier
from tests.waiting import eventually


@pytest.fixture
def sim_options() -> dict[str, object]:
    return {"queue_seconds": 0.02, "run_seconds": 0.05, "concurrency": 1, "image_size": (16, 16)}


class FailingPart(RecordingNotifier):
    """Fails the post of one part number, once per entry in `failures`."""

    def __init__(self, failures: list[int]) -> None:
        super().__init__()
        self.failures = failures
        self.part = 0

    async def post_result(
        self, job: Job, text: str, files: Sequence[OutgoingFile], *, first: bool, nonce: str | None = None
    ) -> int:
        part = int(nonce.rsplit("p", 1)[1]) if nonce else 0
        if part in self.failures:
            self.failures.remove(part)
            raise DeliveryError("503 from Discord", transient=True)
        return await super().post_result(job, text, files, first=first, nonce=nonce)


def _files(notifier: RecordingNotifier, job_id: int) -> list[bytes]:
    return [data for m in notifier.of("result", job_id) for _, data in m.files]


async def _use(world: World, notifier: RecordingNotifier) -> None:
    await world.service.stop()
    world.notifier = notifier
    world.service = world.new_service(notifier)
    world.service.start_loops()


async def test_twelve_outputs_go_out_in_two_parts_each_journaled(world: World) -> None:
    await world.service.start()
    world.sim.set_output_count(12)
    job = await world.generate("z-image", member=1)
    await eventually(lambda: world.state_is(job.id, "delivered"))
    results = world.notifier.of("result", job.id)
    assert [len(m.files) for m in results] == [10, 2]
    files = _files(world.notifier, job.id)
    assert len(files) == 12 and len(set(files)) == 12  # twelve different pictures, each once
    assert await world.journal.delivery_parts(job.id) == {1: results[0].id, 2: results[1].id}
    assert (await world.job(job.id)).result_message_id == results[0].id
    assert [m.nonce for m in results] == [results[0].nonce[:-1] + "1", results[0].nonce[:-1] + "2"]


async def test_a_delivery_cut_after_the_first_part_posts_only_the_second(world: World) -> None:
    notifier = FailingPart([2])
    await _use(world, notifier)
    world.sim.set_output_count(12)
    job = await world.generate("z-image", member=2)
    await eventually(lambda: world.state_is(job.id, "delivered"))
    results = notifier.of("result", job.id)
    assert [len(m.files) for m in results] == [10, 2]  # part 1 once, part 2 once (on the second attempt)
    assert len(set(_files(notifier, job.id))) == 12
    assert notifier.lookups == [results[0].id]  # part 1 confirmed by its id, not searched for
    assert (await world.job(job.id)).delivery_attempts == 2
    await world.books_balance()


async def test_a_part_deleted_before_the_retry_is_posted_again(world: World) -> None:
    notifier = FailingPart([2])
    await _use(world, notifier)
    first_posts: list[int] = []
    original = notifier.post_result

    async def post_and_delete(job: Job, text: str, files: Sequence[OutgoingFile], *, first: bool,
                              nonce: str | None = None) -> int:
        message_id = await original(job, text, files, first=first, nonce=nonce)
        if first and not first_posts:
            first_posts.append(message_id)
            notifier.deleted.add(message_id)  # a moderator removed it while part 2 was failing
        return message_id

    notifier.post_result = post_and_delete  # type: ignore[method-assign]
    world.sim.set_output_count(12)
    job = await world.generate("z-image", member=3)
    await eventually(lambda: world.state_is(job.id, "delivered"))
    results = notifier.of("result", job.id)
    assert [len(m.files) for m in results] == [10, 10, 2]  # part 1, part 1 again, part 2
    parts = await world.journal.delivery_parts(job.id)
    assert parts == {1: results[1].id, 2: results[2].id}
    assert (await world.job(job.id)).result_message_id == results[1].id
