"""The simulator's HTTP server: RunningHub's legacy and v2 endpoints, per-key accounts, the task
life cycle, the progress websocket, webhooks and faults."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.config import SIMULATOR_API_KEY
from bot.runninghub.errors import CODE_NAMES
from bot.runninghub.sim.media import (
    CONTENT_TYPES,
    EXTENSIONS,
    SAVE_KINDS,
    effective_values,
    render_outputs,
    save_nodes,
    sniff_extension,
)
from bot.runninghub.sim.model import (
    APP_FILE_TYPES,
    CREATE_PATH,
    FAIL_MARKER,
    FAILED,
    LOADER_FIELDS,
    NEVER_RUN_WORKFLOW_ID,
    PROGRESS_SOCKET_FAULTS,
    PROGRESS_SOCKET_PATH,
    QUEUED,
    RUN_APP_PATH,
    RUNNING,
    SIMDATA_DIR,
    SUCCESS,
    V2_QUERY_PATH,
    V2_RUN_APP_PATH,
    V2_RUN_WORKFLOW_PATH,
    V2_UPLOAD_PATH,
    WELL_FORMED_KEY,
    Fault,
    KeyAccount,
    RecordedRequest,
    SimTask,
    WebhookDelivery,
    cancelled_reason,
    envelope,
    failure_reason,
    load_json_dir,
)
from bot.runninghub.sim.progress import (
    failure_messages,
    now_ms,
    plan_nodes,
    run_plan,
    status_message,
    success_messages,
)
from bot.runninghub.types import MAX_UPLOAD_BYTES

log = logging.getLogger(__name__)

# Where the middleware leaves the request's record for the handler to complete.
_RECORD = web.RequestKey("record", RecordedRequest)
RENDER_LEAD = 1.0  # seconds before a run's end its output files start being made
# What a legacy code becomes in a v2 answer's string `errorCode` (the v2 table in the reference);
# codes without a v2 counterpart pass through as their legacy number.
V2_CODES = {301: "1007", 802: "1002", 803: "1101", 807: "1004", 809: "1008", 500: "1005"}
V2_MESSAGES = {
    "1002": "invalid API key",
    "1004": "task not found or expired",
    "1007": "invalid parameters",
    "1008": "file size limit exceeded",
    "1101": "node info error",
}
UPLOAD_TYPES = {
    "png": "image", "jpg": "image", "jpeg": "image", "webp": "image", "gif": "image", "bmp": "image",
    "mp4": "video", "mov": "video", "avi": "video", "mkv": "video", "webm": "video",
    "mp3": "audio", "wav": "audio", "flac": "audio", "ogg": "audio",
}  # fmt: skip


class Simulator:
    """An in-process RunningHub. Start it, point a client at `base_url`, inspect what it saw."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        keys: Iterable[str] = (),
        accept_any_key: bool = False,
        invalid_keys: Iterable[str] = (),
        free_keys: Iterable[str] = (),
        queue_seconds: float = 0.2,
        run_seconds: float = 0.5,
        concurrency: int | Mapping[str, int] = 1,
        workflows_dir: Path | None = None,
        extra_workflows: Mapping[str, dict[str, Any]] | None = None,
        image_size: tuple[int, int] = (512, 512),
        coins: int = 100_000,
        task_cost: int = 12,
        never_run: Iterable[str] = (NEVER_RUN_WORKFLOW_ID,),
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        webhook_attempts: int = 3,
        webhook_retry_seconds: float = 0.1,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
        progress_socket_fault: str | None = None,
        max_progress_sockets: int = 256,
    ) -> None:
        """Keys: `api_key` and `keys` are the accepted keys (default: SIMULATOR_API_KEY only);
        `accept_any_key=True` also accepts any other well-formed key (32 ASCII letters and digits),
        each its own account. `invalid_keys` answer 802, `free_keys` 801 (a free, non-member
        account). `concurrency` is per key: one number for every key, or {key: number} (keys not
        named get 1). `coins` is each account's starting balance.
        """
        listed = [k for k in (api_key, *keys) if k]
        self.api_key = listed[0] if listed else SIMULATOR_API_KEY
        self.accepted_keys: set[str] = set(listed) or {SIMULATOR_API_KEY}
        self.accept_any_key = accept_any_key
        self.queue_seconds = queue_seconds
        self.run_seconds = run_seconds
        self._starting_coins = coins
        self._accounts: dict[str, KeyAccount] = {}
        if isinstance(concurrency, Mapping):
            self._default_concurrency = 1
            for key, limit in concurrency.items():
                self.account(key).concurrency = limit
        else:
            self._default_concurrency = concurrency
        for key in invalid_keys:
            self.revoke_key(key)
        for key in free_keys:
            self.make_free_user(key)
        self.image_size = image_size
        self.task_cost = task_cost
        self.never_run = frozenset(never_run)
        self.max_upload_bytes = max_upload_bytes
        self.webhook_attempts = webhook_attempts
        self.webhook_retry_seconds = webhook_retry_seconds
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(seed)
        if progress_socket_fault not in (None, *PROGRESS_SOCKET_FAULTS):
            raise ValueError(f"progress_socket_fault must be None or one of {PROGRESS_SOCKET_FAULTS}")
        self.progress_socket_fault = progress_socket_fault
        self.max_progress_sockets = max_progress_sockets

        directory = workflows_dir or SIMDATA_DIR
        self.workflows: dict[str, dict[str, Any]] = load_json_dir(directory)
        self.workflows.update(extra_workflows or {})
        self.apps: dict[str, dict[str, Any]] = load_json_dir(directory / "apps")

        # observation, for tests
        self.requests: list[RecordedRequest] = []
        self.uploads: dict[str, bytes] = {}
        # Which keys uploaded each file (observed, not enforced: whether RunningHub lets another
        # account use an upload is undocumented).
        self.upload_keys: dict[str, set[str]] = {}
        self.tasks: dict[str, SimTask] = {}
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.max_concurrent_seen = 0  # over all keys together; per key: account(key).max_concurrent_seen
        self.progress_sockets_opened = 0

        self._faults: list[Fault] = []
        self._planned_failures: deque[dict[str, str] | None] = deque()
        self._download_rate: int | None = None
        self._output_sizes: dict[str, int] = {}
        self._output_count: int | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._delivering: set[str] = set()  # tasks whose webhook is still being tried
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.base_url = ""

        self.app = web.Application(middlewares=[self._middleware], client_max_size=4 * 1024 * 1024)
        self.app.router.add_post(CREATE_PATH, self._create)
        self.app.router.add_post(RUN_APP_PATH, self._run_app)
        self.app.router.add_post("/task/openapi/outputs", self._outputs)
        self.app.router.add_post("/task/openapi/status", self._status)
        self.app.router.add_post("/task/openapi/cancel", self._cancel)
        self.app.router.add_post("/task/openapi/upload", self._upload)
        self.app.router.add_post("/uc/openapi/accountStatus", self._account_status)
        self.app.router.add_post("/api/openapi/getJsonApiFormat", self._workflow_json)
        self.app.router.add_post("/task/openapi/getWebhookDetail", self._webhook_detail)
        self.app.router.add_post("/task/openapi/retryWebhook", self._retry_webhook)
        self.app.router.add_get("/api/webapp/apiCallDemo", self._api_call_demo)
        self.app.router.add_post(V2_RUN_WORKFLOW_PATH, self._v2_run_workflow)
        self.app.router.add_post(V2_RUN_APP_PATH, self._v2_run_app)
        self.app.router.add_post(V2_QUERY_PATH, self._v2_query)
        self.app.router.add_post(V2_UPLOAD_PATH, self._v2_upload)
        self.app.router.add_get("/openapi/v2/queue/status", self._v2_queue_status)
        self.app.router.add_get(PROGRESS_SOCKET_PATH, self._progress_socket)
        self.app.router.add_get("/sim/files/{task_id}/{name}", self._file)
        self.app.router.add_get("/sim/media/{name}", self._media)
        self.app.router.add_route("*", "/{tail:.*}", self._unknown_path)

    def __repr__(self) -> str:
        return f"Simulator(base_url={self.base_url!r}, tasks={len(self.tasks)})"

    # ----------------------------------------------------------------- life cycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        # No access log: apiCallDemo carries the key in its query string.
        self._runner = web.AppRunner(
            self.app, access_log=None, handler_cancellation=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        self._http = aiohttp.ClientSession()
        log.info("RunningHub simulator listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        self._stopping.set()
        # Open progress sockets would hold the server's shutdown: close them first.
        for socket in list(self._sockets):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(code=aiohttp.WSCloseCode.GOING_AWAY), 1.0)
        pending = [*self._runners.values(), *self._background]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- observation

    def creates(self) -> list[RecordedRequest]:
        """The create and ai-app/run requests received (faulted ones included)."""
        return [r for r in self.requests if r.path in (CREATE_PATH, RUN_APP_PATH)]

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def active_count(self, key: str | None = None) -> int:
        """Tasks queued or running: the account's own with `key`, else all."""
        return sum(
            1
            for task in self.tasks.values()
            if task.state in (QUEUED, RUNNING) and (key is None or task.api_key == key)
        )

    def requests_with_key(self, key: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.api_key == key]

    # ----------------------------------------------------------------- accounts (per key)

    def account(self, key: str) -> KeyAccount:
        """The key's account, made on first use (a key only reaches here once it is accepted)."""
        account = self._accounts.get(key)
        if account is None:
            account = self._accounts[key] = KeyAccount(key, remain_coins=self._starting_coins)
        return account

    def add_key(self, key: str, *, concurrency: int | None = None, coins: int | None = None) -> KeyAccount:
        """Accept `key` (even if it is not well-formed), optionally with its own limit and coins."""
        self.accepted_keys.add(key)
        account = self.account(key)
        if concurrency is not None:
            account.concurrency = concurrency
        if coins is not None:
            account.remain_coins = coins
        return account

    def revoke_key(self, key: str) -> None:
        """From now on the key gets 802 APIKEY_UNAUTHORIZED everywhere (deleted or expired)."""
        self.account(key).revoked = True

    def make_free_user(self, key: str, free: bool = True) -> None:
        """From now on the key gets 801 APIKEY_UNSUPPORTED_FREE_USER (its membership lapsed)."""
        self.account(key).free_user = free

    def restore_key(self, key: str) -> None:
        account = self.account(key)
        account.revoked = account.free_user = False

    def set_concurrency(self, key: str, limit: int | None) -> None:
        """The key's own limit; None: the simulator-wide `concurrency`."""
        self.account(key).concurrency = limit

    def concurrency_of(self, key: str) -> int:
        own = self.account(key).concurrency
        return self._default_concurrency if own is None else own

    @property
    def concurrency(self) -> int:
        """The limit of every key without its own (setting it changes them all at once)."""
        return self._default_concurrency

    @concurrency.setter
    def concurrency(self, limit: int) -> None:
        self._default_concurrency = limit

    @property
    def remain_coins(self) -> int:
        """The coins of the default key's account (`api_key`)."""
        return self.account(self.api_key).remain_coins

    @remain_coins.setter
    def remain_coins(self, coins: int) -> None:
        self.account(self.api_key).remain_coins = coins

    def _key_refusal(self, key: Any) -> int | None:
        """None when `key` may be used, else the code RunningHub answers: 802 or 801."""
        if not isinstance(key, str) or not key:
            return 802
        if key not in self.accepted_keys and not (self.accept_any_key and WELL_FORMED_KEY.fullmatch(key)):
            return 802
        account = self.account(key)
        if account.revoked:
            return 802
        if account.free_user:
            return 801
        return None

    # ----------------------------------------------------------------- fault injection

    def fail_next(self, n: int = 1, *, status: int = 500, path: str | None = None) -> None:
        """The next `n` matching requests get this HTTP status, without being processed."""
        self._faults.append(Fault("status", n, path, status=status))

    def fail_next_with_code(self, n: int, code: int, *, path: str | None = None) -> None:
        """The next `n` matching requests get HTTP 200 with this business code, unprocessed."""
        self._faults.append(Fault("code", n, path, code=code))

    def hang_next(self, n: int = 1, *, path: str | None = None, seconds: float = 3600) -> None:
        """The next `n` matching requests wait `seconds` (or until stop) before being processed."""
        self._faults.append(Fault("hang", n, path, seconds=seconds))

    def malformed_next(self, n: int = 1, *, path: str | None = None) -> None:
        """The next `n` matching requests get HTTP 200 with a body that is not JSON, unprocessed."""
        self._faults.append(Fault("malformed", n, path))

    def lose_answer_next(self, n: int = 1, *, path: str = CREATE_PATH, how: str = "reset") -> None:
        """Process the next `n` matching requests, then drop the answer.

        how="reset" closes the connection; how="garbage" answers 200 with a truncated body.
        """
        if how not in ("reset", "garbage"):
            raise ValueError("how must be 'reset' or 'garbage'")
        self._faults.append(Fault("lose", n, path, how=how))

    def fail_next_task(self, failed_reason: dict[str, str] | None = None) -> None:
        """The next created task ends FAILED with this ComfyUI failedReason (default: realistic)."""
        self._planned_failures.append(failed_reason)

    def slow_downloads(self, bytes_per_second: int | None) -> None:
        self._download_rate = bytes_per_second

    def set_output_count(self, count: int | None) -> None:
        """Each task makes `count` outputs (its first output node's kind, repeated); None resets."""
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        self._output_count = count

    def set_output_size(self, kind: str, size: int | None) -> None:
        """Make outputs of `kind` (image/audio/video/text) about `size` bytes of noise; None resets."""
        if kind not in EXTENSIONS:
            raise ValueError(f"kind must be one of {sorted(EXTENSIONS)}")
        if size is None:
            self._output_sizes.pop(kind, None)
        else:
            self._output_sizes[kind] = size

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ----------------------------------------------------------------- HTTP plumbing

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        record = RecordedRequest(request.method, request.path, dict(request.query), at=self._clock())
        record.headers = {
            name: request.headers[name]
            for name in ("Authorization", "Content-Type", "X-Request-Id")
            if name in request.headers
        }
        if request.can_read_body and not request.content_type.startswith("multipart/"):
            try:
                record.json = json.loads(await request.read())
            except ValueError:
                record.json = None
        record.api_key = self._presented_key(request, record.json)
        request[_RECORD] = record
        self.requests.append(record)

        fault = self._take_fault(request.path)
        if fault is None:
            return await handler(request)
        log.debug("simulator: fault %s on %s", fault.kind, request.path)
        if fault.kind == "status":
            return web.Response(status=fault.status, text=f"{fault.status} simulated server error")
        if fault.kind == "code":
            return envelope(fault.code)
        if fault.kind == "malformed":
            broken = '{"code": 0, "msg": "success", "data": {"fil'
            return web.Response(text=broken, content_type="application/json")
        if fault.kind == "hang":
            try:
                await asyncio.wait_for(self._stopping.wait(), fault.seconds)
                return web.Response(status=503, text="simulator stopping")
            except TimeoutError:
                return await handler(request)
        # "lose": do the work, then make sure the caller cannot read the answer.
        await handler(request)
        if fault.how == "garbage":
            return web.Response(status=200, text='{"code":0,"msg":"succ', content_type="application/json")
        if request.transport is not None:
            request.transport.abort()
        # aiohttp handles this like a client that went away: it closes the connection quietly.
        raise asyncio.CancelledError

    def _body(self, request: web.Request) -> dict[str, Any] | None:
        body = request[_RECORD].json
        return body if isinstance(body, dict) else None

    @staticmethod
    def _bearer(request: web.Request) -> str | None:
        """The Authorization header's key; one official script sends it without "Bearer"."""
        value = request.headers.get("Authorization", "").strip()
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        return value or None

    def _presented_key(self, request: web.Request, body: Any) -> str | None:
        """The key a request carries: the body's (legacy), the query's (apiCallDemo), else Bearer."""
        if request.path.startswith("/openapi/v2/"):
            return self._bearer(request)
        if isinstance(body, dict):
            for name in ("apiKey", "apikey"):
                if isinstance(body.get(name), str) and body[name]:
                    return str(body[name])
        return request.query.get("apiKey") or self._bearer(request)

    def _legacy_refusal(self, request: web.Request) -> web.Response | None:
        code = self._key_refusal(request[_RECORD].api_key)
        return None if code is None else envelope(code)

    async def _unknown_path(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"code": 412, "msg": "TOKEN_INVALID"})

    # ----------------------------------------------------------------- endpoints

    async def _create(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request)
        if body is None:
            return envelope(301)
        refusal = self._legacy_refusal(request)
        if refusal is not None:
            return refusal
        result = self._start_workflow(request[_RECORD].api_key or "", str(body.get("workflowId") or ""), body, "v1")
        if isinstance(result, SimTask):
            return envelope(0, self._created_data(result))
        return envelope(result[0], msg=result[1])

    def _start_workflow(
        self, key: str, workflow_id: str, body: dict[str, Any], family: str
    ) -> SimTask | tuple[int, str | None]:
        """Create a workflow task for `key`, or (code, msg) saying why not."""
        if not workflow_id:
            return 301, "PARAMS_INVALID: workflowId is required"
        workflow = self.workflows.get(workflow_id)
        if workflow is None:
            return 380, None
        if workflow_id in self.never_run:
            return 810, None
        problem = self._check_common(body)
        if problem is not None:
            return 301, problem
        nodes = body.get("nodeInfoList") or []
        error = self._check_workflow_nodes(workflow, nodes)
        if error:
            return 803, f"APIKEY_INVALID_NODE_INFO: {error}"
        refusal = self._check_capacity(key)
        if refusal is not None:
            return refusal, None
        return self._new_task(body, key=key, family=family, workflow_id=workflow_id, webapp_id=None)

    def _start_app(
        self, key: str, webapp_id: str, body: dict[str, Any], family: str
    ) -> SimTask | tuple[int, str | None]:
        """Create an AI-app task for `key`, or (code, msg) saying why not."""
        app = self.apps.get(webapp_id)
        if app is None:
            return 901, None
        problem = self._check_common(body)
        if problem is not None:
            return 301, problem
        if not isinstance(body.get("nodeInfoList"), list):
            return 301, "PARAMS_INVALID: nodeInfoList is required"
        error = self._check_app_nodes(app, body["nodeInfoList"])
        if error:
            return 803, f"APIKEY_INVALID_NODE_INFO: {error}"
        refusal = self._check_capacity(key)
        if refusal is not None:
            return refusal, None
        return self._new_task(body, key=key, family=family, workflow_id=None, webapp_id=webapp_id)

    async def _run_app(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request)
        if body is None:
            return envelope(301)
        refusal = self._legacy_refusal(request)
        if refusal is not None:
            return refusal
        result = self._start_app(request[_RECORD].api_key or "", str(body.get("webappId") or ""), body, "v1")
        if isinstance(result, SimTask):
            return envelope(0, self._created_data(result))
        return envelope(result[0], msg=result[1])

    async def _outputs(self, request: web.Request) -> web.StreamResponse:
        task = self._task_from(request)
        if isinstance(task, web.Response):
            return task
        code, data = self._outputs_answer(task)
        return envelope(code, data)

    async def _status(self, request: web.Request) -> web.StreamResponse:
        task = self._task_from(request)
        if isinstance(task, web.Response):
            return task
        return envelope(0, task.state)

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        task = self._task_from(request)
        if isinstance(task, web.Response):
            return task
        if task.state in (QUEUED, RUNNING):
            runner = self._runners.pop(task.task_id, None)
            if runner is not None:
                runner.cancel()
            task.cancelled = True
            self._end_failed(task, cancelled_reason())
        return envelope(0, None)

    async def _account_status(self, request: web.Request) -> web.StreamResponse:
        # The official example sends lower-case `apikey`, the SDK `apiKey` plus Bearer: all count.
        if self._body(request) is None and request[_RECORD].api_key is None:
            return envelope(301)
        refusal = self._legacy_refusal(request)
        if refusal is not None:
            return refusal
        key = request[_RECORD].api_key or ""
        return envelope(
            0,
            {
                "remainCoins": str(self.account(key).remain_coins),
                "currentTaskCounts": str(self.active_count(key)),
                "remainMoney": None,
                "currency": None,
                "apiType": "NORMAL",
            },
        )

    async def _workflow_json(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request)
        if body is None:
            return envelope(301)
        refusal = self._legacy_refusal(request)
        if refusal is not None:
            return refusal
        workflow = self.workflows.get(str(body.get("workflowId") or ""))
        if workflow is None:
            return envelope(380)
        return envelope(0, {"prompt": json.dumps(workflow, ensure_ascii=False)}, msg="SUCCESS")

    async def _api_call_demo(self, request: web.Request) -> web.StreamResponse:
        refusal = self._legacy_refusal(request)
        if refusal is not None:
            return refusal
        webapp_id = request.query.get("webappId", "")
        app = self.apps.get(webapp_id)
        if app is None:
            return envelope(901)
        curl = (
            f"curl -X POST {self.base_url}{RUN_APP_PATH} -H 'Content-Type: application/json' "
            f'-d \'{{"webappId": "{webapp_id}", "apiKey": "<your api key>", "nodeInfoList": [...]}}\''
        )
        return envelope(
            0,
            {
                "curl": curl,
                "webappName": app.get("webappName", ""),
                "statisticsInfo": app.get("statisticsInfo", {}),
                "nodeInfoList": app.get("nodeInfoList", []),
                "covers": app.get("covers", []),
                "tags": app.get("tags", []),
            },
        )

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        record = request[_RECORD]
        read = await self._read_multipart(request)
        if read is None:
            return envelope(301, msg="PARAMS_INVALID: multipart form expected")
        fields, content, total = read
        # The form's apiKey is the legacy upload's credential (no Authorization header needed).
        record.api_key = fields.get("apiKey") or self._bearer(request)
        refusal = self._legacy_refusal(request)
        if refusal is not None:
            return refusal
        if record.file_name is None:
            return envelope(301, msg="PARAMS_INVALID: file is required")
        if total > self.max_upload_bytes or content is None:
            return envelope(809)
        name = self._store_upload(content, record.file_name, prefix="api", key=record.api_key or "")
        return envelope(0, {"fileName": name, "fileType": fields.get("fileType", "input")})

    def _store_upload(self, content: bytes, file_name: str, *, prefix: str, key: str) -> str:
        """Keep the bytes under RunningHub's content-addressed name and return that name."""
        digest = hashlib.sha256(content).hexdigest()
        extension = Path(file_name).suffix.lower().lstrip(".")
        if extension == "zip" and prefix == "api":
            name = digest  # RunningHub names zip batches by the bare hash
        elif extension:
            name = f"{prefix}/{digest}.{extension}"
        else:
            name = f"{prefix}/{digest}"
        self.uploads[name] = content
        self.upload_keys.setdefault(name, set()).add(key)
        return name

    async def _read_multipart(self, request: web.Request) -> tuple[dict[str, str], bytes | None, int] | None:
        """(form fields, file bytes or None when over the limit, bytes sent), or None if not multipart."""
        record = request[_RECORD]
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError, KeyError):
            return None
        fields: dict[str, str] = {}
        content: bytes | None = None
        total = 0
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader):
                continue
            if part.name == "file":
                record.file_name = part.filename or "upload.bin"
                # Count every byte but keep at most the limit: a huge upload never sits in memory.
                chunks: list[bytes] = []
                while chunk := await part.read_chunk(64 * 1024):
                    total += len(chunk)
                    if total <= self.max_upload_bytes:
                        chunks.append(chunk)
                content = b"".join(chunks) if total <= self.max_upload_bytes else None
                record.file_size = total
            elif part.name:
                fields[part.name] = await part.text()
        record.form = fields
        return fields, content, total

    async def _file(self, request: web.Request) -> web.StreamResponse:
        task = self.tasks.get(request.match_info["task_id"])
        name = request.match_info["name"]
        if task is None or name not in task.files:
            return web.Response(status=404, text="not found")
        data = task.files[name]
        extension = name.rsplit(".", 1)[-1]
        response = web.StreamResponse(
            headers={
                "Content-Type": CONTENT_TYPES.get(extension, "application/octet-stream"),
                "Content-Length": str(len(data)),
            }
        )
        await response.prepare(request)
        rate = self._download_rate
        if rate:
            step = max(1, rate // 20)
            for offset in range(0, len(data), step):
                await response.write(data[offset : offset + step])
                await self._sleep(step / rate)
        else:
            await response.write(data)
        await response.write_eof()
        return response

    # ----------------------------------------------------------------- v2 endpoints

    def _v2_key(self, request: web.Request) -> tuple[str, dict[str, Any] | None]:
        """(the Bearer key, the v2 refusal to send, or None when the key may be used)."""
        key = request[_RECORD].api_key or ""
        code = self._key_refusal(key)
        return key, None if code is None else self._v2_error(code)

    def _v2_error(self, code: int, message: str | None = None, task_id: str = "") -> dict[str, Any]:
        """A v2 answer without a task: no envelope, `errorCode` a string."""
        error_code = V2_CODES.get(code, str(code))
        text = message or V2_MESSAGES.get(error_code) or CODE_NAMES.get(code, "unknown error")
        return {
            "taskId": task_id,
            "status": "",
            "errorCode": error_code,
            "errorMessage": text,
            "results": None,
            "clientId": "",
            "promptTips": "",
        }

    def _v2_task_answer(self, task: SimTask) -> dict[str, Any]:
        """A task in the /openapi/v2/query shape (also the v2 run answer and the v2 webhook)."""
        answer: dict[str, Any] = {
            "taskId": task.task_id,
            "status": task.state,
            "errorCode": "",
            "errorMessage": "",
            "failedReason": {},
            "usage": None,
            "results": None,
            "clientId": task.client_id,
            "promptTips": self._prompt_tips(task),
        }
        if task.state == FAILED and task.failed_reason is not None:
            answer["errorCode"] = "1000"
            answer["errorMessage"] = task.failed_reason.get("exception_message", "") or "unknown error"
            answer["failedReason"] = task.failed_reason
        elif task.state == SUCCESS:
            first = task.outputs[0] if task.outputs else {}
            answer["usage"] = {
                "consumeMoney": None,
                "consumeCoins": str(self.task_cost),
                "taskCostTime": first.get("taskCostTime", "0"),
                "thirdPartyConsumeMoney": None,
            }
            answer["results"] = [
                {
                    "url": item["fileUrl"],
                    "nodeId": item["nodeId"],
                    "outputType": item["fileType"],
                    "text": self._text_of(task, item) if item["fileType"] == "txt" else None,
                }
                for item in task.outputs
            ]
        return answer

    @staticmethod
    def _text_of(task: SimTask, item: dict[str, Any]) -> str:
        name = str(item["fileUrl"]).rsplit("/", 1)[-1]
        return task.files.get(name, b"").decode("utf-8", "replace")

    async def _v2_run(self, request: web.Request, target: str, *, app: bool) -> web.StreamResponse:
        key, refusal = self._v2_key(request)
        if refusal is not None:
            return web.json_response(refusal)
        body = self._body(request)
        if body is None:
            return web.json_response(self._v2_error(301))
        start = self._start_app if app else self._start_workflow
        result = start(key, target, body, "v2")
        if isinstance(result, SimTask):
            answer = self._v2_task_answer(result)
            # The run answer has the query's fields but no failedReason or usage (reference §3).
            del answer["failedReason"], answer["usage"]
            return web.json_response(answer)
        return web.json_response(self._v2_error(result[0], result[1]))

    async def _v2_run_workflow(self, request: web.Request) -> web.StreamResponse:
        return await self._v2_run(request, request.match_info["workflow_id"], app=False)

    async def _v2_run_app(self, request: web.Request) -> web.StreamResponse:
        return await self._v2_run(request, request.match_info["webapp_id"], app=True)

    async def _v2_query(self, request: web.Request) -> web.StreamResponse:
        key, refusal = self._v2_key(request)
        if refusal is not None:
            return web.json_response(refusal)
        body = self._body(request)
        if body is None or not body.get("taskId"):
            return web.json_response(self._v2_error(301, "taskId is required"))
        # Tasks made through the legacy endpoints are found here too (the official skill does so).
        task = self._own_task(key, body.get("taskId"))
        if task is None:
            return web.json_response(self._v2_error(807, task_id=str(body["taskId"])))
        return web.json_response(self._v2_task_answer(task))

    async def _v2_upload(self, request: web.Request) -> web.StreamResponse:
        record = request[_RECORD]
        code = self._key_refusal(record.api_key)
        if code == 802:
            # The v2 upload's own wording for an unknown key (its envelope says `message`).
            return web.json_response(
                {"code": 401, "message": "ApiKey verification failed: API Key不存在", "data": None}
            )
        if code is not None:
            return web.json_response({"code": code, "message": CODE_NAMES.get(code, "error"), "data": None})
        read = await self._read_multipart(request)
        if read is None or record.file_name is None:
            return web.json_response({"code": 1007, "message": "invalid parameters: file is required", "data": None})
        _fields, content, total = read
        if total > self.max_upload_bytes or content is None:
            return web.json_response({"code": 1008, "message": "file size limit exceeded", "data": None})
        file_name = record.file_name
        if Path(file_name).suffix.lower().lstrip(".") not in UPLOAD_TYPES:
            # The SDK sends raw bytes as `upload.bin`: name the file after what it really is.
            sniffed = sniff_extension(content)
            file_name = f"{Path(file_name).stem}.{sniffed}" if sniffed else file_name
        name = self._store_upload(content, file_name, prefix="openapi", key=record.api_key or "")
        extension = Path(name).suffix.lower().lstrip(".")
        data = {
            "type": UPLOAD_TYPES.get(extension, "file"),
            "download_url": f"{self.base_url}/sim/media/{name.split('/', 1)[-1]}",
            "fileName": name,
            "size": str(len(content)),
        }
        return web.json_response({"code": 0, "message": "success", "data": data})

    async def _v2_queue_status(self, request: web.Request) -> web.StreamResponse:
        key = request[_RECORD].api_key or ""
        code = self._key_refusal(key)
        if code == 802:
            # Undocumented; answered like the v2 upload's unknown key (401), which the SDK's
            # validate_api_key takes for "invalid".
            return envelope(401, msg="ApiKey verification failed: API Key不存在")
        if code is not None:
            return envelope(code)
        running = sum(1 for t in self.tasks.values() if t.api_key == key and t.state == RUNNING)
        queued = sum(1 for t in self.tasks.values() if t.api_key == key and t.state == QUEUED)
        return envelope(
            0,
            {
                "apiKeyType": "NORMAL",
                "concurrentLimit": self.concurrency_of(key),
                "runningCount": running,
                "queuedCount": queued,
                "totalCurrentTasks": running + queued,
            },
        )

    async def _media(self, request: web.Request) -> web.StreamResponse:
        """A v2 upload's `download_url`."""
        data = self.uploads.get("openapi/" + request.match_info["name"])
        if data is None:
            return web.Response(status=404, text="not found")
        extension = request.match_info["name"].rsplit(".", 1)[-1].lower()
        return web.Response(body=data, content_type=CONTENT_TYPES.get(extension, "application/octet-stream"))

    # ----------------------------------------------------------------- progress websocket

    async def _progress_socket(self, request: web.Request) -> web.StreamResponse:
        """ComfyUI's messages for one task, spread over its run (see `sim.progress`)."""
        task = self.tasks.get(request.query.get("taskId", ""))
        if task is None:
            return web.Response(status=404, text="unknown task")
        fault = self.progress_socket_fault
        if fault == "refuse":
            return web.Response(status=403, text="progress socket refused (simulated fault)")
        if len(self._sockets) >= self.max_progress_sockets or self._stopping.is_set():
            return web.Response(status=503, text="too many progress sockets")
        socket = web.WebSocketResponse(heartbeat=None, autoping=True)
        await socket.prepare(request)
        self._sockets.add(socket)
        self.progress_sockets_opened += 1
        # Reading the socket is how a client's close (or our own close on stop) is noticed; the
        # stream stops with it. "silent" accepts and says nothing: the client must notice itself.
        reader = asyncio.ensure_future(self._drain(socket))
        workers = [reader]
        if fault != "silent":
            stream = self._stream_progress(socket, task, close_early=fault == "close_early")
            workers.append(asyncio.ensure_future(stream))
        try:
            await asyncio.wait(workers, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._sockets.discard(socket)
            if not socket.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(socket.close(), 1.0)
        return socket

    @staticmethod
    async def _drain(socket: web.WebSocketResponse) -> None:
        with contextlib.suppress(ConnectionResetError, aiohttp.ClientConnectionResetError):
            async for _message in socket:
                pass  # clients have nothing to say on this socket

    async def _stream_progress(self, socket: web.WebSocketResponse, task: SimTask, *, close_early: bool) -> None:
        loop = asyncio.get_running_loop()
        queued_ahead = sum(1 for t in self.tasks.values() if t.state == QUEUED and t.created_at < task.created_at)
        await socket.send_json(status_message(queued_ahead, task.client_id))
        # A socket opened while the task waits in the queue hears nothing more until it runs.
        waiters = [asyncio.ensure_future(task.running.wait()), asyncio.ensure_future(task.ended.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if task.running_since is not None and task.state == RUNNING:
            graph = self.workflows.get(task.workflow_id or "") if task.workflow_id else None
            app_nodes = [str(i.get("nodeId")) for i in task.node_info_list] + self._output_nodes(task)
            plan = run_plan(plan_nodes(graph, app_nodes), self.run_seconds, task.task_id)
            elapsed = loop.time() - task.running_since
            # Joined late: the run's opening, then the node at work and its last step, not a replay.
            past = [m for at, m in plan if at <= elapsed]
            future = [(at, m) for at, m in plan if at > elapsed]
            catch_up = [m for m in past if m["type"] in ("execution_start", "execution_cached")]
            last_node = max((i for i, m in enumerate(past) if m["type"] == "executing"), default=None)
            if last_node is not None:
                catch_up += [past[last_node], *[m for m in past[last_node + 1 :] if m["type"] == "progress"][-1:]]
            sent = 0
            for message in catch_up:
                await socket.send_json(self._stamped(message))
                sent += 1
            for at, message in future:
                if close_early and sent >= 3:
                    await socket.close(code=aiohttp.WSCloseCode.INTERNAL_ERROR, message=b"simulated early close")
                    return
                delay = task.running_since + at - loop.time()
                if delay > 0 and not task.ended.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(task.ended.wait(), delay)
                # A failed or cancelled run stops where it is; a run that succeeded while this
                # socket lagged behind still reports every step, before the success.
                if task.ended.is_set() and task.state != SUCCESS:
                    break
                await socket.send_json(self._stamped(message))
                sent += 1
            if close_early:
                await socket.close(code=aiohttp.WSCloseCode.INTERNAL_ERROR, message=b"simulated early close")
                return
        # Bounded: a task ends by itself, is cancelled, or the simulator stops (which closes us).
        await task.ended.wait()
        if task.state == SUCCESS:
            names = [(item["nodeId"], item["fileUrl"].rsplit("/", 1)[-1]) for item in task.outputs]
            kinds = {extension: kind for kind, extension in EXTENSIONS.items()}
            outputs = [(node, kinds.get(name.rsplit(".", 1)[-1], "image"), name) for node, name in names]
            closing = success_messages(task.task_id, outputs)
        else:
            closing = failure_messages(task.task_id, task.failed_reason or {}, cancelled=task.cancelled)
        for message in closing:
            await socket.send_json(message)
        await socket.close()

    @staticmethod
    def _stamped(message: dict[str, Any]) -> dict[str, Any]:
        if message["type"] in ("execution_start", "execution_cached"):
            return {"type": message["type"], "data": {**message["data"], "timestamp": now_ms()}}
        return message

    # ----------------------------------------------------------------- validation

    def _check_common(self, body: dict[str, Any]) -> str | None:
        """The 301 message for a malformed create body, or None."""
        webhook = body.get("webhookUrl")
        if webhook not in (None, "") and not (
            isinstance(webhook, str) and webhook.startswith(("http://", "https://"))
        ):
            return "PARAMS_INVALID: webhookUrl must be an http(s) URL"
        if body.get("instanceType") not in (None, "", "default", "plus"):
            return "PARAMS_INVALID: instanceType must be default or plus"
        nodes = body.get("nodeInfoList")
        if nodes is not None and (
            not isinstance(nodes, list) or not all(isinstance(item, dict) for item in nodes)
        ):
            return "PARAMS_INVALID: nodeInfoList must be a list of objects"
        return None

    def _check_capacity(self, key: str) -> int | None:
        """421 when the key's account runs its own limit already, 416 when it has no coins."""
        if self.active_count(key) >= self.concurrency_of(key):
            return 421
        if self.account(key).remain_coins <= 0:
            return 416
        return None

    def _is_file_reference(self, value: Any) -> bool:
        return isinstance(value, str) and (value in self.uploads or value.startswith(("http://", "https://")))

    def _check_workflow_nodes(self, workflow: dict[str, Any], nodes: list[dict[str, Any]]) -> str | None:
        for item in nodes:
            node_id, field_name = str(item.get("nodeId", "")), str(item.get("fieldName", ""))
            node = workflow.get(node_id)
            if node is None:
                return f"node {node_id} is not in the workflow"
            if field_name not in node.get("inputs", {}):
                return f"node {node_id} ({node.get('class_type')}) has no input {field_name!r}"
            is_loader = (node.get("class_type"), field_name) in LOADER_FIELDS
            if is_loader and not self._is_file_reference(item.get("fieldValue")):
                return f"node {node_id} {field_name}: the value is not an uploaded file name or a URL"
        return None

    def _check_app_nodes(self, app: dict[str, Any], nodes: list[dict[str, Any]]) -> str | None:
        known = {(str(n["nodeId"]), str(n["fieldName"])): n for n in app.get("nodeInfoList", [])}
        for item in nodes:
            key = (str(item.get("nodeId", "")), str(item.get("fieldName", "")))
            spec = known.get(key)
            if spec is None:
                return f"node {key[0]} field {key[1]!r} is not an input of the app"
            is_file = spec.get("fieldType") in APP_FILE_TYPES
            if is_file and not self._is_file_reference(item.get("fieldValue")):
                return f"node {key[0]} {key[1]}: the value is not an uploaded file name or a URL"
        return None

    # ----------------------------------------------------------------- tasks

    def _task_from(self, request: web.Request) -> SimTask | web.Response:
        """The task a request names, or the refusal to send instead."""
        body = self._body(request)
        if body is None:
            return envelope(301)
        refusal = self._legacy_refusal(request)
        if refusal is not None:
            return refusal
        task = self._own_task(request[_RECORD].api_key, body.get("taskId"))
        return task if task is not None else envelope(807)

    def _own_task(self, key: str | None, task_id: Any) -> SimTask | None:
        """The task, if `key`'s account created it: another account's task is unknown to it."""
        task = self.tasks.get(str(task_id or ""))
        return task if task is not None and task.api_key == key else None

    def _new_task(
        self,
        body: dict[str, Any],
        *,
        key: str,
        family: str,
        workflow_id: str | None,
        webapp_id: str | None,
    ) -> SimTask:
        task_id = str(self._rng.randrange(10**18, 10**19))
        while task_id in self.tasks:
            task_id = str(self._rng.randrange(10**18, 10**19))
        task = SimTask(
            task_id=task_id,
            workflow_id=workflow_id,
            webapp_id=webapp_id,
            node_info_list=list(body.get("nodeInfoList") or []),
            created_at=self._clock(),
            webhook_url=body.get("webhookUrl") or None,
            instance_type=body.get("instanceType") or None,
            api_key=key,
            family=family,
            client_id=hashlib.md5(task_id.encode()).hexdigest(),
        )
        if self._planned_failures:
            task.planned_failure = self._planned_failures.popleft() or self._default_failure(task)
        elif any(isinstance(i.get("fieldValue"), str) and FAIL_MARKER in i["fieldValue"] for i in task.node_info_list):
            task.planned_failure = self._default_failure(task)
        if self.queue_seconds <= 0:  # no queue at all: the create answer already says RUNNING
            task.state, task.started_at = RUNNING, self._clock()
            task.running_since = asyncio.get_running_loop().time()
            task.running.set()
        self.tasks[task_id] = task
        self.max_concurrent_seen = max(self.max_concurrent_seen, self.active_count())
        account = self.account(key)
        account.max_concurrent_seen = max(account.max_concurrent_seen, self.active_count(key))
        runner = asyncio.get_running_loop().create_task(self._life(task))
        self._runners[task_id] = runner
        log.info("simulator: task %s created for %s", task_id, workflow_id or f"app {webapp_id}")
        return task

    def _output_nodes(self, task: SimTask) -> list[str]:
        if task.workflow_id is not None:
            graph = self.workflows.get(task.workflow_id, {})
            return [node_id for node_id, node in graph.items() if node.get("class_type") in SAVE_KINDS]
        return [str(o["nodeId"]) for o in self.apps.get(task.webapp_id or "", {}).get("outputs", [])]

    def _prompt_tips(self, task: SimTask) -> str:
        tips = {"result": True, "error": None, "outputs_to_execute": self._output_nodes(task), "node_errors": {}}
        return json.dumps(tips)

    def _created_data(self, task: SimTask) -> dict[str, Any]:
        return {
            "netWssUrl": self.progress_url(task) if task.state == RUNNING else None,
            "taskId": task.task_id,
            "clientId": task.client_id,
            "taskStatus": task.state,
            "promptTips": self._prompt_tips(task),
        }

    def progress_url(self, task: SimTask) -> str:
        """The task's `netWssUrl`: the simulator's progress websocket for this task."""
        host = self.base_url.split("://", 1)[-1]
        return f"ws://{host}{PROGRESS_SOCKET_PATH}?taskId={task.task_id}&clientId={task.client_id}"

    async def _life(self, task: SimTask) -> None:
        try:
            if task.state == QUEUED:
                await self._sleep(self.queue_seconds)
                task.state, task.started_at = RUNNING, self._clock()
                task.running_since = asyncio.get_running_loop().time()
                task.running.set()
            if task.planned_failure is not None:
                await self._sleep(self.run_seconds)
                self._end_failed(task, task.planned_failure)
                return
            # The files are made during the run's last RENDER_LEAD seconds: a task takes run_seconds,
            # as RunningHub's run time includes making its outputs (not run_seconds plus the render),
            # and a long run does not render at its start.
            lead = min(self.run_seconds, RENDER_LEAD)
            if self.run_seconds > lead:
                await self._sleep(self.run_seconds - lead)
            render = asyncio.ensure_future(asyncio.to_thread(self._render_outputs, task))
            try:
                await self._sleep(lead)
            except asyncio.CancelledError:
                render.cancel()
                raise
            files = await render
            elapsed = self._clock() - task.started_at
            task.files = {name: data for name, (_node, _ext, data) in files.items()}
            share, rest = divmod(self.task_cost, max(1, len(files)))
            task.outputs = [
                {
                    "fileUrl": f"{self.base_url}/sim/files/{task.task_id}/{name}",
                    "fileType": extension,
                    "taskCostTime": f"{elapsed:.2f}",
                    "nodeId": node_id,
                    "thirdPartyConsumeMoney": None,
                    "consumeMoney": None,
                    "consumeCoins": str(share + (rest if index == 0 else 0)),
                }
                for index, (name, (node_id, extension, _data)) in enumerate(files.items())
            ]
            task.state, task.finished_at = SUCCESS, self._clock()
            self.account(task.api_key).remain_coins -= self.task_cost
            self._runners.pop(task.task_id, None)
            task.ended.set()
            self._announce(task)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the simulator itself: end the task like ComfyUI would
            log.exception("simulator: task %s crashed", task.task_id)
            self._end_failed(task, failure_reason("", "Simulator", type(exc).__name__, str(exc)))

    def _end_failed(self, task: SimTask, reason: dict[str, str]) -> None:
        task.state, task.finished_at, task.failed_reason = FAILED, self._clock(), reason
        self._runners.pop(task.task_id, None)
        task.ended.set()
        self._announce(task)

    def _outputs_answer(self, task: SimTask) -> tuple[int, Any]:
        if task.state == QUEUED:
            return 813, None
        if task.state == RUNNING:
            return 804, {"netWssUrl": self.progress_url(task)}
        if task.state == FAILED:
            return 805, {"failedReason": task.failed_reason}
        return 0, task.outputs

    def _default_failure(self, task: SimTask) -> dict[str, str]:
        graph = self.workflows.get(task.workflow_id or "", {})
        node_id = next((n for n, node in graph.items() if node.get("class_type") == "KSampler"), None)
        node_id = node_id or next(iter(graph), "1")
        node_name = graph.get(node_id, {}).get("class_type", "KSampler")
        return failure_reason(
            node_id,
            node_name,
            "torch.OutOfMemoryError",
            "Allocation on device 0 would exceed allowed memory. (out of memory)\n"
            "Currently allocated     : 22.41 GiB\nRequested               : 1.50 GiB",
        )

    # ----------------------------------------------------------------- webhooks

    def _announce(self, task: SimTask, *, url: str | None = None) -> None:
        url = url or task.webhook_url
        if not url or self._stopping.is_set():
            return
        event_data: Any
        if task.family == "v2":
            # v2 tasks: eventData is an object in the /openapi/v2/query shape (one production
            # receiver reads it so); legacy tasks: the JSON string of the /outputs answer.
            event_data = self._v2_task_answer(task)
        else:
            code, data = self._outputs_answer(task)
            event_data = json.dumps({"code": code, "msg": CODE_NAMES.get(code, ""), "data": data})
        payload = {"event": "TASK_END", "taskId": task.task_id, "eventData": event_data}
        sender = asyncio.get_running_loop().create_task(self._post_webhook(task, url, payload))
        self._background.add(sender)
        sender.add_done_callback(self._background.discard)

    @staticmethod
    def webhook_id(task: SimTask) -> str:
        """The id getWebhookDetail gives a task's webhook event (retryWebhook takes it)."""
        return str(int(hashlib.sha256(f"webhook:{task.task_id}".encode()).hexdigest()[:15], 16))

    async def _webhook_detail(self, request: web.Request) -> web.StreamResponse:
        task = self._task_from(request)
        if isinstance(task, web.Response):
            return task
        deliveries = [d for d in self.webhook_deliveries if d.task_id == task.task_id]
        if not task.webhook_url or not deliveries:
            return envelope(0, None)  # no event (yet): the task had no webhookUrl or is not over
        last = deliveries[-1]
        if last.status is not None and 200 <= last.status < 300:
            status = "SUCCESS"
        elif task.task_id in self._delivering:
            status = "RETRYING"
        else:
            status = "FAILED"
        event = last.payload["eventData"]

        def stamp(at: float) -> str:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))

        return envelope(
            0,
            {
                "id": self.webhook_id(task),
                "userApiKey": "*" * 28 + task.api_key[-4:],  # masked, as RunningHub shows it
                "taskId": task.task_id,
                "webhookUrl": last.url,
                "eventData": event if isinstance(event, str) else json.dumps(event, ensure_ascii=False),
                "callbackStatus": status,
                "callbackResponse": last.response or (last.error or ""),
                "retryCount": len(deliveries) - 1,
                "createTime": stamp(deliveries[0].at),
                "updateTime": stamp(last.at),
            },
        )

    async def _retry_webhook(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request)
        if body is None:
            return envelope(301)
        refusal = self._legacy_refusal(request)
        if refusal is not None:
            return refusal
        key, wanted = request[_RECORD].api_key, str(body.get("webhookId") or "")
        task = next(
            (t for t in self.tasks.values() if t.api_key == key and t.webhook_url and self.webhook_id(t) == wanted),
            None,
        )
        url = body.get("webhookUrl") or (task.webhook_url if task else None)
        if task is None or task.state not in (SUCCESS, FAILED):
            return envelope(301, msg="PARAMS_INVALID: unknown webhookId")
        if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            return envelope(301, msg="PARAMS_INVALID: webhookUrl must be an http(s) URL")
        self._announce(task, url=url)
        return envelope(0, None)

    async def _post_webhook(self, task: SimTask, url: str, payload: dict[str, Any]) -> None:
        assert self._http is not None
        self._delivering.add(task.task_id)
        try:
            await self._deliver(task, url, payload)
        finally:
            self._delivering.discard(task.task_id)

    async def _deliver(self, task: SimTask, url: str, payload: dict[str, Any]) -> None:
        assert self._http is not None
        for attempt in range(1, self.webhook_attempts + 1):
            status: int | None = None
            error: str | None = None
            answer = ""
            try:
                async with self._http.post(url, json=payload, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    status = resp.status
                    answer = (await resp.text(errors="replace"))[:500]
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = type(exc).__name__
            delivery = WebhookDelivery(task.task_id, url, payload, attempt, status, error, answer, time.time())
            self.webhook_deliveries.append(delivery)
            if status is not None and 200 <= status < 300:
                return
            log.debug("simulator: webhook for task %s failed (attempt %d)", task.task_id, attempt)
            await self._sleep(self.webhook_retry_seconds)

    # ----------------------------------------------------------------- output files

    def _render_outputs(self, task: SimTask) -> dict[str, tuple[str, str, bytes]]:
        """name -> (node id, extension, bytes) for each output node. Runs in a worker thread."""
        if task.workflow_id is not None:
            graph = self.workflows[task.workflow_id]
            wanted = save_nodes(graph)
            values = effective_values(graph, task.node_info_list)
        else:
            app = self.apps[task.webapp_id or ""]
            wanted = [(str(o["nodeId"]), str(o["kind"])) for o in app.get("outputs", [])]
            values = {f"{i['nodeId']}.{i['fieldName']}": i.get("fieldValue") for i in task.node_info_list}
        if self._output_count is not None and wanted:
            wanted = [wanted[0]] * self._output_count
        return render_outputs(
            wanted, values, task.task_id, image_size=self.image_size, sizes=dict(self._output_sizes)
        )


async def serve_forever(port: int, host: str = "127.0.0.1", **options: Any) -> None:
    """Run a simulator until cancelled (Ctrl-C), printing how to point the bot at it.

    As a development tool it takes any well-formed key, each its own account.
    """
    options.setdefault("queue_seconds", 1.0)
    options.setdefault("run_seconds", 3.0)
    options.setdefault("accept_any_key", True)
    simulator = Simulator(**options)
    base_url = await simulator.start(host, port)
    any_key = " (or any 32 letters and digits)" if simulator.accept_any_key else ""
    print(f"RunningHub simulator listening on {base_url}")
    print(f"  RUNNINGHUB_BASE_URL={base_url}")
    print(f"  RUNNINGHUB_API_KEY={simulator.api_key}{any_key}")
    print(f"  timing: {simulator.queue_seconds:g} s queued, {simulator.run_seconds:g} s running")
    print(f"  workflows: {', '.join(sorted(simulator.workflows))}")
    print(f"  AI apps: {', '.join(sorted(simulator.apps))}")
    print(f"  a text input containing {FAIL_MARKER} makes the task fail")
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()
