"""Why a job ended reaches a Chinese member in Chinese: one test per kind of RunningHub failure.

Each job runs through the real service and the simulator; the notice (or the refusal) must be
exactly the zh-CN catalog rendering, so no English operator text can slip in.
"""

from __future__ import annotations

import pytest

from bot.jobs.reasons import reason_for_error, reason_for_failure
from bot.jobs.states import UNFINISHED, JobState
from bot.runninghub.errors import OutcomeUnknown, TransientError, error_for_code
from bot.runninghub.sim.model import CREATE_PATH
from bot.runninghub.types import FailedReason
from bot.texts import Msg, t
from bot.texts.format import duration
from bot.texts.jobs import final_status
from tests.jobs.conftest import World, png_bytes
from tests.waiting import eventually

ZH = "zh-CN"


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def failed_notice(world: World, job_id: int) -> str:
    await eventually(lambda: world.state_is(job_id, JobState.FAILED))
    await eventually(lambda: _notified(world, job_id))
    (notice,) = world.notifier.of("notice", job_id)
    return notice.text


async def _notified(world: World, job_id: int) -> bool:
    return bool(world.notifier.of("notice", job_id))


def expected_failure(job_id: int, reason: Msg, coins: int = 10) -> str:
    return t("job.notice.failed", ZH, mention="<@1>", job=f"#{job_id}", alias="z-image", coins=coins,
             reason=reason.render(ZH))


async def test_a_node_error_805_reads_in_chinese_with_the_node_class_and_first_line(world: World) -> None:
    await world.service.start()
    world.sim.fail_next_task({
        "node_id": "3", "node_name": "KSampler", "exception_type": "RuntimeError",
        "exception_message": "CUDA out of memory\nTraceback (most recent call last):\n  File x.py",
    })
    job = await world.generate("z-image", member=1, locale=ZH)
    text = await failed_notice(world, job.id)
    reason = Msg("job.reason.node", {"node": "3", "name": "KSampler", "error": "RuntimeError: CUDA out of memory"})
    assert text == expected_failure(job.id, reason)
    assert "节点 3（KSampler）出错" in text and "Traceback" not in text
    await world.books_balance()


async def test_a_changed_workflow_803_reads_in_chinese(world: World) -> None:
    await world.service.start()
    world.sim.fail_next_with_code(1, 803, path=CREATE_PATH)
    job = await world.generate("z-image", member=1, locale=ZH)
    text = await failed_notice(world, job.id)
    assert text == expected_failure(job.id, Msg("job.reason.workflow_changed"))
    assert "inspect" not in text and "workflows.toml" not in text  # no operator hints


async def test_runninghub_out_of_coins_reads_in_chinese(world: World) -> None:
    await world.service.start()
    world.sim.fail_next_with_code(1, 416, path=CREATE_PATH)
    job = await world.generate("z-image", member=1, locale=ZH)
    text = await failed_notice(world, job.id)
    assert text == expected_failure(job.id, Msg("job.reason.no_coins"))
    assert "RH币" in text


async def test_a_content_check_refusal_reads_in_chinese(world: World) -> None:
    await world.service.start()
    world.sim.fail_next_with_code(1, 1501, path=CREATE_PATH)
    job = await world.generate("z-image", member=1, locale=ZH)
    text = await failed_notice(world, job.id)
    assert text == expected_failure(job.id, Msg("job.reason.content_check"))


async def test_files_runninghub_refuses_are_explained_in_chinese_and_the_hold_comes_back(world: World) -> None:
    # Files go to RunningHub when the job's turn comes (with the key that runs it), so a refusal
    # arrives as the job's failure notice.
    await world.service.start()
    world.sim.fail_next_with_code(1, 809, path="/task/openapi/upload")
    job = await world.generate("upscale", member=1, prompt=None, images=[png_bytes()], locale=ZH)
    text = await failed_notice(world, job.id)
    assert text == t("job.notice.failed", ZH, mention="<@1>", job=f"#{job.id}", alias="upscale", coins=10,
                     reason=t("job.reason.file_too_large", ZH))
    assert has_chinese(text) and "809" not in text
    assert (await world.ledger.balance(1001, 1)).held == 0
    await world.books_balance()


async def test_a_transport_failure_on_upload_keeps_the_job_waiting_with_its_hold(world: World) -> None:
    await world.service.start()
    world.sim.fail_next(50, status=503, path="/task/openapi/upload")
    job = await world.generate("upscale", member=1, prompt=None, images=[png_bytes()], locale=ZH)
    await eventually(lambda: _attempted(world, job.id))
    assert (await world.job(job.id)).state == JobState.PENDING  # tried again later, never failed for it
    assert (await world.ledger.balance(1001, 1)).held == 10
    await world.books_balance()


async def _attempted(world: World, job_id: int) -> bool:
    return (await world.job(job_id)).attempts >= 1


async def test_a_cancel_reads_in_chinese_on_the_status_message(world: World) -> None:
    await world.service.start()
    world.sim.run_seconds = 30
    job = await world.generate("z-image", member=1, locale=ZH)
    await eventually(lambda: world.state_is(job.id, JobState.QUEUED, JobState.RUNNING))
    await world.service.cancel(job.id, guild_id=1001, actor_id=1, is_moderator=False)
    ended = await world.job(job.id)
    (status,) = world.notifier.of("status", job.id)
    assert status.edits[-1] == final_status(ended, now=0)  # finished_at fixes the elapsed time
    assert "已取消，已退还金币" in final_status(ended, now=0)


async def test_a_timeout_notice_reads_in_chinese(world: World) -> None:
    job = await world.generate("z-image", member=1, locale=ZH)
    assert await world.journal.end(job.id, UNFINISHED, JobState.TIMED_OUT, None)
    await world.service.housekeeping()  # sends the notices a previous pass did not
    (notice,) = world.notifier.of("notice", job.id)
    assert notice.text == t("job.notice.timed_out", ZH, mention="<@1>", job=f"#{job.id}", alias="z-image",
                            coins=10, limit=duration(world.registry.for_guild(job.guild_id).timeout_for("z-image"), ZH))
    assert "分" in notice.text


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (error_for_code(1505, ""), "job.reason.content_check"),
        (error_for_code(812, ""), "job.reason.no_coins"),
        (error_for_code(380, ""), "job.reason.workflow_gone"),
        (error_for_code(802, ""), "job.reason.account"),
        (TransientError("connection refused"), "job.reason.transport"),
        (OutcomeUnknown("reset"), "job.reason.transport"),
        (ConnectionResetError(), "job.reason.transport"),
        (ValueError("a bug"), "job.reason.internal"),
    ],
)
def test_every_error_maps_to_a_catalog_reason_written_in_both_languages(error: BaseException, key: str) -> None:
    reason = reason_for_error(error)
    assert reason.key == key
    assert has_chinese(reason.render(ZH)) and not has_chinese(reason.render("en"))


def test_a_failure_report_carrying_a_content_check_code_is_a_content_check() -> None:
    failed = FailedReason.from_json({"errorCode": "1501", "exception_message": "content moderation rejected"})
    assert reason_for_failure(failed) == Msg("job.reason.content_check")
    assert reason_for_failure(None) == Msg("job.reason.unknown")


def test_a_stored_reason_survives_the_database_round_trip_and_old_text_stays_readable() -> None:
    reason = Msg("job.reason.node", {"node": "3", "name": "KSampler", "error": "boom"})
    assert Msg.from_json(reason.to_json()) == reason
    legacy = Msg.from_json("The RunningHub task failed: node 3 failed.")
    assert legacy is not None and legacy.render(ZH) == "The RunningHub task failed: node 3 failed."
