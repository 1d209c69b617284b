"""error_for_code maps every business code of the reference table (§10) to the right class and kind."""

from __future__ import annotations

import pytest

from bot.runninghub.errors import (
    CODE_NAMES,
    AccountError,
    CapacityError,
    ErrorKind,
    OutcomeUnknown,
    RequestError,
    RunningHubError,
    TaskFailed,
    TaskInProgress,
    TaskNotFound,
    TransientError,
    error_for_code,
)

# code -> (exact class, kind), one row per non-zero code of the reference's table.
TABLE: dict[int, tuple[type[RunningHubError], ErrorKind]] = {
    301: (RequestError, ErrorKind.FIX_REQUEST),
    380: (RequestError, ErrorKind.FIX_REQUEST),
    412: (RequestError, ErrorKind.FIX_REQUEST),
    415: (CapacityError, ErrorKind.TRANSIENT),
    416: (AccountError, ErrorKind.ACCOUNT),
    421: (CapacityError, ErrorKind.TRANSIENT),
    423: (TaskNotFound, ErrorKind.NOT_FOUND),
    433: (RequestError, ErrorKind.FIX_REQUEST),
    435: (RequestError, ErrorKind.FIX_REQUEST),
    436: (AccountError, ErrorKind.ACCOUNT),
    500: (TransientError, ErrorKind.TRANSIENT),
    801: (AccountError, ErrorKind.ACCOUNT),
    802: (AccountError, ErrorKind.ACCOUNT),
    803: (RequestError, ErrorKind.FIX_REQUEST),
    804: (TaskInProgress, ErrorKind.IN_PROGRESS),
    805: (TaskFailed, ErrorKind.TASK_FAILED),
    806: (AccountError, ErrorKind.ACCOUNT),
    807: (TaskNotFound, ErrorKind.NOT_FOUND),
    808: (TransientError, ErrorKind.TRANSIENT),
    809: (RequestError, ErrorKind.FIX_REQUEST),
    810: (RequestError, ErrorKind.FIX_REQUEST),
    811: (AccountError, ErrorKind.ACCOUNT),
    812: (AccountError, ErrorKind.ACCOUNT),
    813: (TaskInProgress, ErrorKind.IN_PROGRESS),
    814: (CapacityError, ErrorKind.TRANSIENT),
    901: (RequestError, ErrorKind.FIX_REQUEST),
    1000: (TransientError, ErrorKind.TRANSIENT),
    1001: (RequestError, ErrorKind.FIX_REQUEST),
    1002: (AccountError, ErrorKind.ACCOUNT),
    1003: (TransientError, ErrorKind.TRANSIENT),
    1004: (TaskNotFound, ErrorKind.NOT_FOUND),
    1005: (TransientError, ErrorKind.TRANSIENT),
    1006: (TransientError, ErrorKind.TRANSIENT),
    1007: (RequestError, ErrorKind.FIX_REQUEST),
    1008: (RequestError, ErrorKind.FIX_REQUEST),
    1009: (RequestError, ErrorKind.FIX_REQUEST),
    1010: (TransientError, ErrorKind.TRANSIENT),
    1011: (TransientError, ErrorKind.TRANSIENT),
    1012: (TransientError, ErrorKind.TRANSIENT),
    1013: (RequestError, ErrorKind.FIX_REQUEST),
    1014: (AccountError, ErrorKind.ACCOUNT),
    1015: (TransientError, ErrorKind.TRANSIENT),
    1101: (RequestError, ErrorKind.FIX_REQUEST),
    1501: (RequestError, ErrorKind.FIX_REQUEST),
    1504: (TransientError, ErrorKind.TRANSIENT),
    1505: (RequestError, ErrorKind.FIX_REQUEST),
    1520: (CapacityError, ErrorKind.TRANSIENT),
}


@pytest.mark.parametrize(("code", "expected"), sorted(TABLE.items()))
def test_error_for_code_maps_every_code(code: int, expected: tuple[type[RunningHubError], ErrorKind]) -> None:
    cls, kind = expected
    error = error_for_code(code, CODE_NAMES[code])
    assert type(error) is cls
    assert error.kind is kind
    assert error.code == code
    assert error.msg == CODE_NAMES[code]
    assert error.transient is (kind is ErrorKind.TRANSIENT)
    assert str(code) in str(error)
    sentence = error.user_message()
    assert sentence.endswith(".") and "\n" not in sentence


def test_the_table_covers_every_named_code() -> None:
    assert set(CODE_NAMES) - {0} == set(TABLE)


def test_capacity_errors_are_transient_and_request_errors_are_not() -> None:
    assert isinstance(error_for_code(421, "TASK_QUEUE_MAXED"), TransientError)
    assert not isinstance(error_for_code(803, "x"), TransientError)
    assert not isinstance(error_for_code(500, "UNKNOWN_ERROR"), CapacityError)


def test_unknown_codes_are_request_errors_and_empty_msg_gets_the_name() -> None:
    unknown = error_for_code(4242, "SOMETHING_NEW")
    assert type(unknown) is RequestError and unknown.code == 4242
    assert error_for_code(802, "").msg == "APIKEY_UNAUTHORIZED"


def test_805_carries_the_failed_reason() -> None:
    data = {
        "failedReason": {
            "node_id": "276",
            "node_name": "SONIC_PreData",
            "exception_type": "TypeError",
            "exception_message": "missing 2 required positional arguments: 'clip_vision' and 'vae'",
            "traceback": "[]",
        }
    }
    error = error_for_code(805, "APIKEY_TASK_STATUS_ERROR", data)
    assert isinstance(error, TaskFailed)
    assert error.failed_reason is not None
    assert error.failed_reason.node_id == "276"
    assert "node 276 (SONIC_PreData) failed: TypeError" in error.user_message()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (802, ["per site", "runninghub.ai", "runninghub.cn"]),
        (806, ["per site", "runninghub.ai", "runninghub.cn"]),
        (810, ["website", "runs it once"]),
        (803, ["python -m bot inspect WORKFLOW_ID"]),
        (421, ["concurrency is full"]),
        (415, ["concurrency is full"]),
        (416, ["lacks coins"]),
    ],
)
def test_user_messages_say_what_to_do(code: int, words: list[str]) -> None:
    sentence = error_for_code(code, CODE_NAMES[code]).user_message()
    for word in words:
        assert word in sentence


def test_outcome_unknown_keeps_its_diagnosis() -> None:
    error = OutcomeUnknown("answer lost", request_id="abc123", sent_at=12.5)
    assert error.kind is ErrorKind.OUTCOME_UNKNOWN and not error.transient
    assert error.request_id == "abc123" and error.sent_at == 12.5
    assert "abc123" in repr(error)
    assert "may or may not" in error.user_message()


def test_repr_shows_code_and_kind_but_not_data() -> None:
    error = error_for_code(803, "APIKEY_INVALID_NODE_INFO", {"secret": "do-not-show"})
    assert repr(error) == "RequestError(code=803, msg='APIKEY_INVALID_NODE_INFO', kind='fix_request')"
    assert "do-not-show" not in str(error)
