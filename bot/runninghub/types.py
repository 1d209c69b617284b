"""Plain values exchanged with RunningHub, parsed once at the edge of the client."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# RunningHub refuses uploads over 30 MB (809 APIKEY_FILE_SIZE_EXCEEDED).
MAX_UPLOAD_BYTES = 30 * 1024 * 1024

_SUMMARY_MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class NodeInfo:
    """One `nodeInfoList` entry: set `field_name` of node `node_id` to `field_value`."""

    node_id: str
    field_name: str
    field_value: str | int | float | bool

    def to_json(self) -> dict[str, Any]:
        return {"nodeId": self.node_id, "fieldName": self.field_name, "fieldValue": self.field_value}


@dataclass(frozen=True)
class CreatedTask:
    task_id: str
    status: str  # as RunningHub said it: QUEUED, RUNNING, CREATE, ...
    prompt_tips: dict[str, Any] | None


class TaskState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class OutputFile:
    url: str
    file_type: str  # the extension RunningHub gave, lower-case: png, mp4, wav, txt, ...
    node_id: str | None
    text: str | None = None


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class FailedReason:
    """ComfyUI's execution-error object, as RunningHub passes it on (all values strings)."""

    node_id: str | None
    node_name: str | None
    exception_type: str | None
    exception_message: str | None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, value: Any) -> FailedReason | None:
        """Accept the dict RunningHub sends, a JSON string of it, or a bare message string."""
        if value is None or value == "" or value == {}:
            return None
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = None
            if not isinstance(decoded, dict):
                return cls(None, None, None, _text_or_none(value), {"message": value})
            value = decoded
        if not isinstance(value, dict):
            return cls(None, None, None, _text_or_none(value), {"message": value})
        return cls(
            node_id=_text_or_none(value.get("node_id")),
            node_name=_text_or_none(value.get("node_name")),
            exception_type=_text_or_none(value.get("exception_type")),
            exception_message=_text_or_none(value.get("exception_message")),
            raw=dict(value),
        )

    def summary(self) -> str:
        """One plain line: which node failed and why, without the traceback."""
        if self.node_id and self.node_name:
            where = f"node {self.node_id} ({self.node_name}) failed"
        elif self.node_id or self.node_name:
            where = f"node {self.node_id or self.node_name} failed"
        else:
            where = "the task failed"
        message = " ".join((self.exception_message or "").split())
        if len(message) > _SUMMARY_MESSAGE_LIMIT:
            message = message[: _SUMMARY_MESSAGE_LIMIT - 1].rstrip() + "…"
        if self.exception_type and message:
            return f"{where}: {self.exception_type}: {message}"
        if self.exception_type or message:
            return f"{where}: {self.exception_type or message}"
        return where


@dataclass(frozen=True)
class TaskOutputs:
    state: TaskState
    files: list[OutputFile]
    failed_reason: FailedReason | None
    consume_coins: int | None
    cost_seconds: float | None
    net_wss_url: str | None = None  # while running: the progress socket (may carry a token)


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return None


@dataclass(frozen=True)
class AccountStatus:
    remain_coins: int | None
    current_task_counts: int
    remain_money: str | None
    currency: str | None
    api_type: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccountStatus:
        """Values arrive as strings in the current API and as ints in an older one: take both."""
        money = data.get("remainMoney")
        return cls(
            remain_coins=_int_or_none(data.get("remainCoins")),
            current_task_counts=_int_or_none(data.get("currentTaskCounts")) or 0,
            remain_money=None if money is None else str(money),
            currency=_text_or_none(data.get("currency")),
            api_type=_text_or_none(data.get("apiType")),
        )
