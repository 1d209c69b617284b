"""The texts around a result, without Discord: the re-run label and the details card in both languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.db.journal import Job
from bot.jobs.inputs import JobInputs
from bot.jobs.states import JobState
from bot.texts.results import FIELD_LIMIT, details_card, edit_title, rerun_label
from bot.workflows import load_workflows

ROOT = Path(__file__).resolve().parents[1]
Z_IMAGE = load_workflows(ROOT / "data" / "workflows.toml").get("z-image")


def job(state: JobState = JobState.DELIVERED, **fields: Any) -> Job:
    inputs = JobInputs(prompt="a cat", params={"seed": 1234, "steps": 30}, files={"image": "my cat.png"},
                       uploads={"image": "api/x.png"}, seed_drawn=True)
    values: dict[str, Any] = {
        "id": 7, "guild_id": 1, "channel_id": 2, "member_id": 3, "alias": "z-image", "state": state,
        "inputs": inputs.to_json(), "cost": 10, "task_id": "1990000000000000777", "status_message_id": None,
        "result_message_id": None, "consume_coins": 4, "error": None, "locale": "en-US", "source_job_id": None,
        "attempts": 0, "next_attempt_at": 0.0, "created_at": 100.0, "updated_at": 100.0, "submitted_at": 110.0,
        "started_at": 120.0, "finished_at": 185.0, "delivered_at": 190.0,
    }
    values.update(fields)
    return Job(**values)


def fields(card: Any) -> dict[str, str]:
    return {name: value for name, value, _inline in card.fields}


def test_the_rerun_label_names_the_price() -> None:
    assert rerun_label(20, "en") == "Re-run · 20 coins"
    assert rerun_label(20, "zh-CN") == "重新生成 · 20 金币"
    assert rerun_label(0, "en") == "Re-run · free"


def test_the_details_card_lists_everything_that_made_the_result() -> None:
    card = details_card(job(), Z_IMAGE, "en")
    shown = fields(card)
    assert card.title == "z-image #7"
    assert shown["Prompt"] == "a cat" and shown["Files"] == "image: my cat.png"
    assert shown["Params"] == '`negative="" steps=30 width=1024 height=1024`'  # defaults included
    assert shown["Seed"] == "1234 (drawn at random)"
    assert shown["RunningHub task"] == "`1990000000000000777`"
    assert shown["Time taken"] == "1 min 15 s"
    assert shown["Coins charged"] == "10 coins" and shown["RunningHub coins used"] == "4"


def test_the_details_card_in_chinese_and_for_jobs_not_finished_or_refunded() -> None:
    shown = fields(details_card(job(), Z_IMAGE, "zh-CN"))
    assert shown["种子"] == "1234（随机抽取）" and shown["扣除金币"] == "10 金币" and shown["消耗 RH币"] == "4"
    running = fields(details_card(job(JobState.RUNNING, finished_at=None, consume_coins=None, task_id=None),
                                  Z_IMAGE, "en"))
    assert running["Coins charged"] == "10 coins held until it ends"
    assert running["Time taken"] == running["RunningHub task"] == running["RunningHub coins used"] == "not known yet"
    failed = fields(details_card(job(JobState.FAILED), Z_IMAGE, "en"))
    assert failed["Coins charged"] == "none (10 coins returned)"


def test_the_card_survives_a_removed_alias_and_clips_long_values() -> None:
    long = JobInputs(prompt="x" * 5000, params={"style": "ink"}).to_json()
    shown = fields(details_card(job(inputs=long), None, "en"))
    assert len(shown["Prompt"]) == FIELD_LIMIT and shown["Params"] == '`style="ink"`'
    assert shown["Files"] == "none" and "Seed" not in shown


def test_modal_titles_fit_discord() -> None:
    assert len(edit_title(job(id=10**15, alias="a" * 32), "en")) <= 45
