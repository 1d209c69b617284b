"""Typed RunningHub errors: one class per way the caller must react.

RunningHub answers business errors as HTTP 200 with a non-zero `code`; `error_for_code` turns
every code of the reference table into the class that says what to do next (retry later, fix
the request, fix the account, give up on the task). Messages never contain the API key: the
client redacts RunningHub's `msg` before it gets here, and nothing here ever sees the key.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot.runninghub.types import FailedReason


class ErrorKind(StrEnum):
    TRANSIENT = "transient"  # retry later
    IN_PROGRESS = "in_progress"  # the task is still queued or running
    FIX_REQUEST = "fix_request"  # the request itself must change
    ACCOUNT = "account"  # key, membership or money
    TASK_FAILED = "task_failed"
    NOT_FOUND = "not_found"
    OUTCOME_UNKNOWN = "outcome_unknown"  # a create may or may not have happened


# Names RunningHub uses in `msg` (the simulator answers with these too).
CODE_NAMES: dict[int, str] = {
    0: "SUCCESS",
    301: "PARAMS_INVALID",
    380: "WORKFLOW_NOT_EXISTS",
    412: "TOKEN_INVALID",
    415: "TASK_INSTANCE_MAXED",
    416: "TASK_CREATE_FAILED_BY_NOT_ENOUGH_WALLET",
    421: "TASK_QUEUE_MAXED",
    423: "TASK_NOT_FOUNED",
    433: "VALIDATE_PROMPT_FAILED",
    435: "TASK_USER_EXCLAPI_INSTANCE_NOT_FOUND",
    436: "TASK_USER_EXCLAPI_REQUIRED",
    500: "UNKNOWN_ERROR",
    801: "APIKEY_UNSUPPORTED_FREE_USER",
    802: "APIKEY_UNAUTHORIZED",
    803: "APIKEY_INVALID_NODE_INFO",
    804: "APIKEY_TASK_IS_RUNNING",
    805: "APIKEY_TASK_STATUS_ERROR",
    806: "APIKEY_USER_NOT_FOUND",
    807: "APIKEY_TASK_NOT_FOUND",
    808: "APIKEY_UPLOAD_FAILED",
    809: "APIKEY_FILE_SIZE_EXCEEDED",
    810: "WORKFLOW_NOT_SAVED_OR_NOT_RUNNING",
    811: "CORPAPIKEY_INVALID",
    812: "CORPAPIKEY_INSUFFICIENT_FUNDS",
    813: "APIKEY_TASK_IS_QUEUED",
    814: "PERSONAL_QUEUE_COUNT_LIMIT",
    901: "WEBAPP_NOT_EXISTS",
    1000: "unknown error",
    1001: "invalid URL",
    1002: "invalid API key",
    1003: "rate limit exceeded",
    1004: "task not found or expired",
    1005: "internal server error",
    1006: "task execution timed out",
    1007: "invalid parameters",
    1008: "file size limit exceeded",
    1009: "HTTP method not supported",
    1010: "service unavailable",
    1011: "system busy",
    1012: "upstream service error",
    1013: "file processing failed",
    1014: "standard-model API needs an enterprise-shared key",
    1015: "generation failed",
    1101: "node info error",
    1501: "content moderation rejected",
    1504: "model timed out",
    1505: "photorealistic real people prohibited",
    1520: "TASK_USER_CONCURRENT_LIMIT",
}


class RunningHubError(Exception):
    """A RunningHub call did not give what was asked. `msg` is RunningHub's text or ours."""

    kind: ErrorKind = ErrorKind.FIX_REQUEST

    def __init__(self, msg: str, *, code: int | None = None, data: Any = None) -> None:
        self.code = code
        self.msg = msg
        self.data = data
        super().__init__(self._text())

    def _text(self) -> str:
        if self.code is None:
            return f"RunningHub: {self.msg}"
        return f"RunningHub error {self.code}: {self.msg}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, msg={self.msg!r}, kind={self.kind.value!r})"

    @property
    def transient(self) -> bool:
        return self.kind is ErrorKind.TRANSIENT

    def user_message(self) -> str:
        """One plain English sentence for an operator or CLI user."""
        specific = _USER_MESSAGES.get(self.code) if self.code is not None else None
        if specific:
            return specific
        return _KIND_MESSAGES[self.kind].format(code=self.code, msg=self.msg)


class TransientError(RunningHubError):
    kind = ErrorKind.TRANSIENT


class CapacityError(TransientError):
    """The account's task slots are full (421/415/814): back off and submit again later."""


class TaskInProgress(RunningHubError):
    """804/813 outside `outputs`: the task is still queued or running."""

    kind = ErrorKind.IN_PROGRESS


class RequestError(RunningHubError):
    kind = ErrorKind.FIX_REQUEST


class AccountError(RunningHubError):
    kind = ErrorKind.ACCOUNT


class TaskNotFound(RunningHubError):
    kind = ErrorKind.NOT_FOUND


class TaskFailed(RunningHubError):
    kind = ErrorKind.TASK_FAILED

    def __init__(
        self, msg: str, *, code: int | None = 805, data: Any = None, failed_reason: FailedReason | None = None
    ) -> None:
        self.failed_reason = failed_reason
        super().__init__(msg, code=code, data=data)

    def user_message(self) -> str:
        if self.failed_reason is not None:
            return f"The RunningHub task failed: {self.failed_reason.summary()}."
        return super().user_message()


class OutcomeUnknown(RunningHubError):
    """A create/run was sent but its answer was lost: a task may exist (and cost money).

    Never retry blindly; `request_id` and `sent_at` help find the task later.
    """

    kind = ErrorKind.OUTCOME_UNKNOWN

    def __init__(
        self,
        msg: str,
        *,
        code: int | None = None,
        data: Any = None,
        request_id: str = "",
        sent_at: float = 0.0,
    ) -> None:
        self.request_id = request_id
        self.sent_at = sent_at
        super().__init__(msg, code=code, data=data)

    def __repr__(self) -> str:
        return f"OutcomeUnknown(msg={self.msg!r}, request_id={self.request_id!r}, sent_at={self.sent_at!r})"


_CLASS_BY_CODE: dict[int, type[RunningHubError]] = {
    **dict.fromkeys((421, 415, 814, 1520), CapacityError),
    **dict.fromkeys((500, 808, 1000, 1003, 1005, 1006, 1010, 1011, 1012, 1015, 1504), TransientError),
    **dict.fromkeys(
        (301, 380, 412, 433, 435, 803, 809, 810, 901, 1001, 1007, 1008, 1009, 1013, 1101, 1501, 1505),
        RequestError,
    ),
    **dict.fromkeys((401, 416, 436, 801, 802, 806, 811, 812, 1002, 1014), AccountError),
    **dict.fromkeys((807, 423, 1004), TaskNotFound),
    **dict.fromkeys((804, 813), TaskInProgress),
}


def error_for_code(code: int, msg: str, data: Any = None) -> RunningHubError:
    """The typed error for a non-zero business code; unknown codes are request errors."""
    msg = msg or CODE_NAMES.get(code, "")
    if code == 805:
        reason = FailedReason.from_json(data.get("failedReason")) if isinstance(data, dict) else None
        return TaskFailed(msg, code=code, data=data, failed_reason=reason)
    cls = _CLASS_BY_CODE.get(code, RequestError)
    return cls(msg, code=code, data=data)


_SITE_HINT = (
    "keys are per site, so a runninghub.ai key does not work on runninghub.cn and the reverse: "
    "check RUNNINGHUB_API_KEY and RUNNINGHUB_BASE_URL"
)

_USER_MESSAGES: dict[int, str] = {
    301: "RunningHub rejected a missing or invalid parameter in the request.",
    380: "RunningHub has no workflow with that id: check workflow_id in workflows.toml.",
    412: "RunningHub does not know that API path (412 TOKEN_INVALID): the base URL or path is wrong.",
    415: "The RunningHub account's concurrency is full (no free machine): it will be retried later.",
    416: "The RunningHub account lacks coins (or money) to start the task: top it up on the website.",
    421: "The RunningHub account's concurrency is full (too many tasks at once): it will be retried later.",
    423: "RunningHub does not know that task (it may have been purged).",
    433: "ComfyUI on RunningHub rejected the workflow's inputs as invalid.",
    435: "The exclusive RunningHub key has no machine of the requested instance type.",
    436: "The RunningHub exclusive membership has expired.",
    801: "RunningHub's API needs a paid membership; this account is a free one.",
    802: f"RunningHub rejected the API key as wrong, disabled or expired; {_SITE_HINT}.",
    803: (
        "A node id or field name does not match the RunningHub workflow (or a file input is not an "
        "uploaded file): run `python -m bot inspect WORKFLOW_ID` and fix workflows.toml."
    ),
    806: f"RunningHub found no user for the API key; {_SITE_HINT}.",
    807: "RunningHub does not know that task id.",
    809: "The file is larger than RunningHub's 30 MB upload limit.",
    810: (
        "RunningHub refuses to run this workflow through the API until a person opens it on the "
        "RunningHub website and runs it once."
    ),
    811: "RunningHub rejected the enterprise API key as invalid.",
    812: "The RunningHub enterprise wallet is empty: top it up on the website.",
    814: "The RunningHub personal queue is full (over 1000 waiting tasks): the task will be retried later.",
    901: "RunningHub has no AI app with that id: check webapp_id in workflows.toml.",
}

_KIND_MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.TRANSIENT: "RunningHub is temporarily unavailable ({msg}); try again later.",
    ErrorKind.IN_PROGRESS: "The RunningHub task is still queued or running.",
    ErrorKind.FIX_REQUEST: "RunningHub rejected the request ({code}: {msg}).",
    ErrorKind.ACCOUNT: "RunningHub refused the account ({code}: {msg}); check the key and membership.",
    ErrorKind.TASK_FAILED: "The RunningHub task failed ({msg}).",
    ErrorKind.NOT_FOUND: "RunningHub does not know that task.",
    ErrorKind.OUTCOME_UNKNOWN: (
        "The answer from RunningHub was lost after the request was sent, so a task may or may not "
        "have started; it was not sent again."
    ),
}
