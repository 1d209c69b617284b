"""The simulator's data: request records, tasks, faults, envelopes and ComfyUI failure reasons."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.runninghub.errors import CODE_NAMES

SIMDATA_DIR = Path(__file__).resolve().parent.parent / "simdata"
# Exists, but "was never run on the web", so create answers 810.
NEVER_RUN_WORKFLOW_ID = "1999999999999999999"

CREATE_PATH = "/task/openapi/create"
RUN_APP_PATH = "/task/openapi/ai-app/run"

QUEUED, RUNNING, SUCCESS, FAILED = "QUEUED", "RUNNING", "SUCCESS", "FAILED"

# Loader fields whose value must name an uploaded file or a public URL.
LOADER_FIELDS = {
    ("LoadImage", "image"),
    ("LoadImageMask", "image"),
    ("LoadAudio", "audio"),
    ("LoadVideo", "video"),
    ("VHS_LoadVideo", "video"),
    ("VHS_LoadAudioUpload", "audio"),
}
APP_FILE_TYPES = {"IMAGE", "AUDIO", "VIDEO"}


@dataclass
class RecordedRequest:
    """One request the simulator received, as tests need to see it."""

    method: str
    path: str
    query: dict[str, str]
    json: Any = None  # the parsed JSON body, if any
    form: dict[str, str] = field(default_factory=dict)  # multipart fields, without the file
    file_name: str | None = None
    file_size: int | None = None
    at: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)  # Authorization, Content-Type, X-Request-Id


@dataclass
class SimTask:
    task_id: str
    workflow_id: str | None
    webapp_id: str | None
    node_info_list: list[dict[str, Any]]
    created_at: float
    webhook_url: str | None = None
    instance_type: str | None = None
    state: str = QUEUED
    started_at: float | None = None
    finished_at: float | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    failed_reason: dict[str, str] | None = None
    planned_failure: dict[str, str] | None = None
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class WebhookDelivery:
    task_id: str
    url: str
    payload: dict[str, Any]
    attempt: int
    status: int | None  # HTTP status, or None when the POST itself failed
    error: str | None = None


@dataclass
class Fault:
    kind: str  # "status", "code", "hang", "malformed", "lose"
    remaining: int
    path: str | None
    status: int = 500
    code: int = 0
    seconds: float = 0.0
    how: str = "reset"

    def matches(self, path: str) -> bool:
        if self.path is None:
            return True
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


def envelope(code: int, data: Any = None, *, msg: str | None = None) -> web.Response:
    text = msg if msg is not None else ("success" if code == 0 else CODE_NAMES.get(code, "ERROR"))
    return web.json_response({"code": code, "msg": text, "data": data})


def failure_reason(node_id: str, node_name: str, exception_type: str, message: str) -> dict[str, str]:
    """A ComfyUI execution error as RunningHub relays it: every value is a string."""
    traceback = [
        '  File "/workspace/ComfyUI/execution.py", line 496, in execute\n'
        "    output_data, output_ui, has_subgraph = await get_output_data(...)\n"
    ]
    return {
        "node_id": node_id,
        "node_name": node_name,
        "exception_type": exception_type,
        "exception_message": message,
        "traceback": json.dumps(traceback),
        "current_inputs": "{}",
        "current_outputs": "{}",
    }


def cancelled_reason() -> dict[str, str]:
    return failure_reason("", "", "InterruptedError", "The task was cancelled through the API.")


def load_json_dir(directory: Path) -> dict[str, dict[str, Any]]:
    if not directory.is_dir():
        return {}
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.json"))
    }
