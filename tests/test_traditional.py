"""Traditional Chinese: converted from the zh-CN catalog with OpenCC, reviewed, and pinned here."""

from __future__ import annotations

import string

import pytest

from bot.texts import CHINESE, messages, t, traditional_messages
from bot.texts.traditional import OVERRIDES, to_traditional


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_message_has_a_traditional_text_with_the_same_placeholders() -> None:
    converted = traditional_messages()
    assert converted.keys() == messages().keys()
    for key, text in converted.items():
        assert text.strip() and placeholders(text) == placeholders(messages()[key][CHINESE]), key
        if key.startswith("cmd."):
            assert 1 <= len(text) <= 100, key  # Discord's limit for descriptions


def test_nothing_the_overrides_replace_is_left_anywhere() -> None:
    for key, text in traditional_messages().items():
        for wrong in OVERRIDES:
            assert wrong not in text, (key, wrong)


# What OpenCC (s2twp) plus the overrides give for the command descriptions and the common replies,
# read through by hand. A change here means OpenCC or the catalog changed: read the new text again.
@pytest.mark.parametrize(
    ("key", "params", "expected"),
    [
        ("cmd.generate", {}, "用你的提示詞和檔案執行一個 RunningHub 工作流"),
        ("cmd.generate.workflow", {}, "要執行的工作流（輸入文字即可搜尋）"),
        ("cmd.generate.prompt", {}, "文字提示詞（適用於需要提示詞的工作流）"),
        ("cmd.generate.audio", {}, "輸入音訊"),
        ("cmd.generate.video", {}, "輸入影片"),
        ("cmd.generate.params", {}, "額外參數，例如 seed=42 steps=30（見 /workflows）"),
        ("cmd.balance", {}, "檢視金幣：可用、執行中任務佔用、下次補充時間"),
        ("cmd.quota.policy", {}, "設定本伺服器的金幣額度及補充週期"),
        ("cmd.health", {}, "RunningHub 帳戶、本地佇列和各狀態任務數（管理員）"),
        ("coins.balance.self", {"available": 7}, "你有 7 可用金幣。"),
        ("coins.balance.no_refill", {}, "本伺服器沒有自動補充。"),
        ("health.title", {}, "運作狀況"),
        (
            "error.moderator_only",
            {"command": "health"},
            "只有管理員（擁有「管理伺服器」權限或管理員身分組）才能使用 `/health`。",
        ),
        ("workflow.too_many_images", {"maximum": 3, "count": 4}, "最多只能提供 3 張圖片，收到了 4 張。"),
        (
            "workflow.param_unknown",
            {"name": "x", "alias": "a", "known": "seed"},
            "「x」不是「a」的參數；可用參數：seed。",
        ),
        ("job.error.resend_failed", {"job": "#3"}, "無法重新取得任務 #3 的結果，RunningHub 的連結可能已過期。"),
        ("job.state.running", {}, "執行中"),
        (
            "workflows.footer",
            {},
            '使用 /generate workflow:<名稱> 執行。參數寫法範例：params:"seed=42 steps=30"。',
        ),
    ],
)
def test_reviewed_conversions(key: str, params: dict[str, object], expected: str) -> None:
    assert t(key, "zh-TW", **params) == expected
    assert t(key, "zh-HK", **params) == expected


def test_text_from_outside_the_catalog_converts_too() -> None:
    assert to_traditional("只能上传视频文件") == "只能上傳影片檔案"
