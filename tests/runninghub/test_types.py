"""Parsing of RunningHub values: outputs envelopes, failure reasons, account status."""

from __future__ import annotations

import pytest

from bot.runninghub import (
    AccountStatus,
    FailedReason,
    NodeInfo,
    OutputFile,
    RunningHubClient,
    TaskNotFound,
    TaskState,
    TransientError,
)

FAILED_REASON = {
    "node_id": "276",
    "node_name": "SONIC_PreData",
    "exception_type": "TypeError",
    "exception_message": (
        "SONIC_PreData.sampler_main() missing 2 required positional arguments: 'clip_vision' and 'vae'"
    ),
    "traceback": '["  File \\"/workspace/ComfyUI/execution.py\\", line 1, in x\\n"]',
    "current_inputs": "{}",
    "current_outputs": "{}",
}


def test_node_info_to_json() -> None:
    assert NodeInfo("6", "text", "a cat").to_json() == {
        "nodeId": "6",
        "fieldName": "text",
        "fieldValue": "a cat",
    }
    assert NodeInfo("3", "seed", 42).to_json()["fieldValue"] == 42


def test_parse_outputs_queued_and_running() -> None:
    queued = RunningHubClient.parse_outputs({"code": 813, "msg": "APIKEY_TASK_IS_QUEUED", "data": None})
    running = RunningHubClient.parse_outputs(
        {"code": 804, "msg": "APIKEY_TASK_IS_RUNNING", "data": {"netWssUrl": "wss://x"}}
    )
    assert queued.state is TaskState.QUEUED and queued.files == []
    assert running.state is TaskState.RUNNING and running.failed_reason is None


def test_parse_outputs_success_sums_coins_and_keeps_files_in_order() -> None:
    envelope = {
        "code": 0,
        "msg": "success",
        "data": [
            {
                "fileUrl": "https://rh-images.example/a/ComfyUI_00033_.png",
                "fileType": "PNG",
                "taskCostTime": "78",
                "nodeId": "9",
                "consumeCoins": "17",
                "consumeMoney": None,
                "thirdPartyConsumeMoney": None,
            },
            {"fileUrl": "https://rh-images.example/a/clip.mp4?sig=1", "nodeId": 60, "consumeCoins": 3},
            {"fileUrl": "https://rh-images.example/a/words.txt", "fileType": "txt", "text": "hello"},
        ],
    }
    outputs = RunningHubClient.parse_outputs(envelope)
    assert outputs.state is TaskState.SUCCEEDED
    assert outputs.files == [
        OutputFile("https://rh-images.example/a/ComfyUI_00033_.png", "png", "9"),
        OutputFile("https://rh-images.example/a/clip.mp4?sig=1", "mp4", "60"),
        OutputFile("https://rh-images.example/a/words.txt", "txt", None, "hello"),
    ]
    assert outputs.consume_coins == 20
    assert outputs.cost_seconds == 78.0


def test_parse_outputs_success_without_outputs_or_coins() -> None:
    outputs = RunningHubClient.parse_outputs({"code": 0, "msg": "success", "data": []})
    assert outputs.state is TaskState.SUCCEEDED
    assert outputs.files == [] and outputs.consume_coins is None and outputs.cost_seconds is None


def test_parse_outputs_failed_returns_the_reason() -> None:
    outputs = RunningHubClient.parse_outputs(
        {"code": 805, "msg": "APIKEY_TASK_STATUS_ERROR", "data": {"failedReason": FAILED_REASON}}
    )
    assert outputs.state is TaskState.FAILED
    assert outputs.failed_reason is not None
    assert outputs.failed_reason.summary() == (
        "node 276 (SONIC_PreData) failed: TypeError: SONIC_PreData.sampler_main() missing 2 required "
        "positional arguments: 'clip_vision' and 'vae'"
    )
    assert outputs.failed_reason.raw["traceback"].startswith("[")


def test_parse_outputs_other_codes_raise_typed_errors() -> None:
    with pytest.raises(TaskNotFound):
        RunningHubClient.parse_outputs({"code": 807, "msg": "APIKEY_TASK_NOT_FOUND", "data": None})


@pytest.mark.parametrize(
    "envelope",
    [
        {"msg": "no code"},
        {"code": "0", "data": []},
        {"code": 0, "data": {"fileUrl": "x"}},
        {"code": 0, "data": [{"fileType": "png"}]},
        ["not", "a", "dict"],
    ],
)
def test_parse_outputs_malformed_is_transient(envelope: object) -> None:
    with pytest.raises(TransientError):
        RunningHubClient.parse_outputs(envelope)  # type: ignore[arg-type]


def test_failed_reason_summary_without_traceback_and_cut() -> None:
    reason = FailedReason.from_json(
        {
            **FAILED_REASON,
            "exception_message": "boom\n" + "x" * 1000,
            "traceback": "Traceback (most recent...)",
        }
    )
    assert reason is not None
    summary = reason.summary()
    assert "Traceback" not in summary and "\n" not in summary
    assert summary.startswith("node 276 (SONIC_PreData) failed: TypeError: boom x")
    assert len(summary) < 400 and summary.endswith("…")


def test_failed_reason_variants() -> None:
    assert FailedReason.from_json(None) is None
    assert FailedReason.from_json({}) is None
    cancelled = FailedReason.from_json(
        {
            "node_id": "",
            "node_name": "",
            "exception_type": "InterruptedError",
            "exception_message": "cancelled",
        }
    )
    assert cancelled is not None and cancelled.summary() == "the task failed: InterruptedError: cancelled"
    as_string = FailedReason.from_json('{"node_id": "5", "exception_message": "oops"}')
    assert as_string is not None and as_string.summary() == "node 5 failed: oops"
    bare = FailedReason.from_json("something broke")
    assert bare is not None and bare.summary() == "the task failed: something broke"


def test_account_status_accepts_strings_and_ints() -> None:
    new = AccountStatus.from_json(
        {
            "remainCoins": "1234",
            "currentTaskCounts": "1",
            "remainMoney": None,
            "currency": None,
            "apiType": "NORMAL",
        }
    )
    old = AccountStatus.from_json(
        {"remainCoins": 99, "currentTaskCounts": 0, "remainMoney": "12.50", "currency": "CNY"}
    )
    assert new == AccountStatus(1234, 1, None, None, "NORMAL")
    assert old == AccountStatus(99, 0, "12.50", "CNY", None)
