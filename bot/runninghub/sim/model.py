"""The simulator's data: request records, tasks, faults, envelopes and ComfyUI failure reasons."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
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
V2_RUN_WORKFLOW_PATH = "/openapi/v2/run/workflow/{workflow_id}"
V2_RUN_APP_PATH = "/openapi/v2/run/ai-app/{webapp_id}"
V2_QUERY_PATH = "/openapi/v2/query"
V2_UPLOAD_PATH = "/openapi/v2/media/upload/binary"
PROGRESS_SOCKET_PATH = "/sim/ws"

# RunningHub issues 32-character keys of ASCII letters and digits (the API console shows them).
WELL_FORMED_KEY = re.compile(r"[A-Za-z0-9]{32}")
# A text input containing this makes the task fail like a ComfyUI node error: a way to see a
# failure from any client (the real SDK and CLI included) without reaching into the simulator.
FAIL_MARKER = "[sim:fail]"
PROGRESS_SOCKET_FAULTS = ("refuse", "close_early", "silent")

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
    # The key the request authenticated with (body apiKey/apikey, form apiKey, query apiKey or
    # Bearer, as the endpoint reads it), whether or not it was accepted; None when it sent none.
    api_key: str | None = None


@dataclass
class KeyAccount:
    """One API key's account: its own concurrency, coins and standing."""

    key: str
    remain_coins: int
    concurrency: int | None = None  # None: the simulator's own `concurrency`
    revoked: bool = False  # answers 802 APIKEY_UNAUTHORIZED
    free_user: bool = False  # answers 801 APIKEY_UNSUPPORTED_FREE_USER
    max_concurrent_seen: int = 0


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
    api_key: str = ""  # the key that created it; only that key may poll or cancel it
    family: str = "v1"  # "v1" (legacy endpoints) or "v2": decides the webhook's shape
    client_id: str = ""
    running_since: float | None = None  # event-loop time, for the progress socket's schedule
    running: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    ended: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    cancelled: bool = False


@dataclass
class WebhookDelivery:
    task_id: str
    url: str
    payload: dict[str, Any]
    attempt: int
    status: int | None  # HTTP status, or None when the POST itself failed
    error: str | None = None
    response: str = ""  # what the receiver answered (cut to 500 characters)
    at: float = 0.0  # wall-clock time (getWebhookDetail shows it)


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


class SimDataError(ValueError):
    """A workflow file the simulator cannot use; the message is one line naming the file."""


def load_workflow_files(directory: Path) -> dict[str, dict[str, Any]]:
    """`<workflowId>.json` files of API-format workflows, checked so a bad one is named at start."""
    if not directory.is_dir():
        raise SimDataError(f"{directory}: not a directory")
    workflows: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        if not path.stem.isdigit():
            raise SimDataError(f"{path}: the file name must be the workflow id (digits), like 1234.json")
        try:
            graph = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise SimDataError(f"{path}: cannot read it ({exc})") from None
        except ValueError as exc:
            raise SimDataError(f"{path}: not JSON ({exc})") from None
        problem = api_format_problem(graph)
        if problem:
            raise SimDataError(f"{path}: not an API-format workflow: {problem}")
        workflows[path.stem] = graph
    return workflows


def api_format_problem(graph: Any) -> str | None:
    """Why `graph` is not ComfyUI's API format ({node id: {class_type, inputs}}), or None."""
    if not isinstance(graph, Mapping) or not graph:
        return "expected an object of nodes (ComfyUI: Save (API Format))"
    if "nodes" in graph and "links" in graph:
        return "this is the UI format; export it with Save (API Format)"
    for node_id, node in graph.items():
        if not isinstance(node, Mapping) or not isinstance(node.get("class_type"), str):
            return f"node {node_id!r} has no class_type"
        if not isinstance(node.get("inputs", {}), Mapping):
            return f"node {node_id!r}: inputs must be an object"
    return None


def load_json_dir(directory: Path) -> dict[str, dict[str, Any]]:
    if not directory.is_dir():
        return {}
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.json"))
    }
