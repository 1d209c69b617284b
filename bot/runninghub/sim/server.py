"""The simulator's HTTP server: RunningHub's legacy endpoints, task life cycle, webhooks, faults."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
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
)
from bot.runninghub.sim.model import (
    APP_FILE_TYPES,
    CREATE_PATH,
    FAILED,
    LOADER_FIELDS,
    NEVER_RUN_WORKFLOW_ID,
    QUEUED,
    RUN_APP_PATH,
    RUNNING,
    SIMDATA_DIR,
    SUCCESS,
    Fault,
    RecordedRequest,
    SimTask,
    WebhookDelivery,
    cancelled_reason,
    envelope,
    failure_reason,
    load_json_dir,
)
from bot.runninghub.types import MAX_UPLOAD_BYTES

log = logging.getLogger(__name__)

# Where the middleware leaves the request's record for the handler to complete.
_RECORD = web.RequestKey("record", RecordedRequest)


class Simulator:
    """An in-process RunningHub. Start it, point a client at `base_url`, inspect what it saw."""

    def __init__(
        self,
        *,
        api_key: str = SIMULATOR_API_KEY,
        queue_seconds: float = 0.2,
        run_seconds: float = 0.5,
        concurrency: int = 1,
        workflows_dir: Path | None = None,
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
    ) -> None:
        self.api_key = api_key
        self.queue_seconds = queue_seconds
        self.run_seconds = run_seconds
        self.concurrency = concurrency
        self.image_size = image_size
        self.remain_coins = coins
        self.task_cost = task_cost
        self.never_run = frozenset(never_run)
        self.max_upload_bytes = max_upload_bytes
        self.webhook_attempts = webhook_attempts
        self.webhook_retry_seconds = webhook_retry_seconds
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(seed)

        directory = workflows_dir or SIMDATA_DIR
        self.workflows: dict[str, dict[str, Any]] = load_json_dir(directory)
        self.apps: dict[str, dict[str, Any]] = load_json_dir(directory / "apps")

        # observation, for tests
        self.requests: list[RecordedRequest] = []
        self.uploads: dict[str, bytes] = {}
        self.tasks: dict[str, SimTask] = {}
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.max_concurrent_seen = 0

        self._faults: list[Fault] = []
        self._planned_failures: deque[dict[str, str] | None] = deque()
        self._download_rate: int | None = None
        self._output_sizes: dict[str, int] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
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
        self.app.router.add_get("/api/webapp/apiCallDemo", self._api_call_demo)
        self.app.router.add_get("/sim/files/{task_id}/{name}", self._file)
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

    def active_count(self) -> int:
        return sum(1 for task in self.tasks.values() if task.state in (QUEUED, RUNNING))

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

    def _key_ok(self, value: Any) -> bool:
        return isinstance(value, str) and value == self.api_key

    async def _unknown_path(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"code": 412, "msg": "TOKEN_INVALID"})

    # ----------------------------------------------------------------- endpoints

    async def _create(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request)
        if body is None:
            return envelope(301)
        if not self._key_ok(body.get("apiKey")):
            return envelope(802)
        workflow_id = str(body.get("workflowId") or "")
        if not workflow_id:
            return envelope(301, msg="PARAMS_INVALID: workflowId is required")
        workflow = self.workflows.get(workflow_id)
        if workflow is None:
            return envelope(380)
        if workflow_id in self.never_run:
            return envelope(810)
        problem = self._check_common(body)
        if problem is not None:
            return problem
        nodes = body.get("nodeInfoList") or []
        error = self._check_workflow_nodes(workflow, nodes)
        if error:
            return envelope(803, msg=f"APIKEY_INVALID_NODE_INFO: {error}")
        refusal = self._check_capacity()
        if refusal is not None:
            return refusal
        task = self._new_task(body, workflow_id=workflow_id, webapp_id=None)
        outputs = [node_id for node_id, node in workflow.items() if node.get("class_type") in SAVE_KINDS]
        return envelope(0, self._created_data(task, outputs))

    async def _run_app(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request)
        if body is None:
            return envelope(301)
        if not self._key_ok(body.get("apiKey")):
            return envelope(802)
        webapp_id = str(body.get("webappId") or "")
        app = self.apps.get(webapp_id)
        if app is None:
            return envelope(901)
        problem = self._check_common(body)
        if problem is not None:
            return problem
        if not isinstance(body.get("nodeInfoList"), list):
            return envelope(301, msg="PARAMS_INVALID: nodeInfoList is required")
        error = self._check_app_nodes(app, body["nodeInfoList"])
        if error:
            return envelope(803, msg=f"APIKEY_INVALID_NODE_INFO: {error}")
        refusal = self._check_capacity()
        if refusal is not None:
            return refusal
        task = self._new_task(body, workflow_id=None, webapp_id=webapp_id)
        return envelope(0, self._created_data(task, [o["nodeId"] for o in app.get("outputs", [])]))

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
            self._end_failed(task, cancelled_reason())
        return envelope(0, None)

    async def _account_status(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request)
        if body is None:
            return envelope(301)
        if not self._key_ok(body.get("apikey")):
            return envelope(802)
        return envelope(
            0,
            {
                "remainCoins": str(self.remain_coins),
                "currentTaskCounts": str(self.active_count()),
                "remainMoney": None,
                "currency": None,
                "apiType": "NORMAL",
            },
        )

    async def _workflow_json(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request)
        if body is None:
            return envelope(301)
        if not self._key_ok(body.get("apiKey")):
            return envelope(802)
        workflow = self.workflows.get(str(body.get("workflowId") or ""))
        if workflow is None:
            return envelope(380)
        return envelope(0, {"prompt": json.dumps(workflow, ensure_ascii=False)}, msg="SUCCESS")

    async def _api_call_demo(self, request: web.Request) -> web.StreamResponse:
        if not self._key_ok(request.query.get("apiKey")):
            return envelope(802)
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
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError, KeyError):
            return envelope(301, msg="PARAMS_INVALID: multipart form expected")
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
        if not self._key_ok(fields.get("apiKey")):
            return envelope(802)
        if record.file_name is None:
            return envelope(301, msg="PARAMS_INVALID: file is required")
        if total > self.max_upload_bytes or content is None:
            return envelope(809)
        digest = hashlib.sha256(content).hexdigest()
        extension = Path(record.file_name).suffix.lower().lstrip(".")
        if extension == "zip":
            name = digest  # RunningHub names zip batches by the bare hash
        elif extension:
            name = f"api/{digest}.{extension}"
        else:
            name = f"api/{digest}"
        self.uploads[name] = content
        return envelope(0, {"fileName": name, "fileType": fields.get("fileType", "input")})

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

    # ----------------------------------------------------------------- validation

    def _check_common(self, body: dict[str, Any]) -> web.Response | None:
        webhook = body.get("webhookUrl")
        if webhook not in (None, "") and not (
            isinstance(webhook, str) and webhook.startswith(("http://", "https://"))
        ):
            return envelope(301, msg="PARAMS_INVALID: webhookUrl must be an http(s) URL")
        if body.get("instanceType") not in (None, "", "default", "plus"):
            return envelope(301, msg="PARAMS_INVALID: instanceType must be default or plus")
        nodes = body.get("nodeInfoList")
        if nodes is not None and (
            not isinstance(nodes, list) or not all(isinstance(item, dict) for item in nodes)
        ):
            return envelope(301, msg="PARAMS_INVALID: nodeInfoList must be a list of objects")
        return None

    def _check_capacity(self) -> web.Response | None:
        if self.active_count() >= self.concurrency:
            return envelope(421)
        if self.remain_coins <= 0:
            return envelope(416)
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
        if not self._key_ok(body.get("apiKey")):
            return envelope(802)
        task = self.tasks.get(str(body.get("taskId") or ""))
        return task if task is not None else envelope(807)

    def _new_task(self, body: dict[str, Any], *, workflow_id: str | None, webapp_id: str | None) -> SimTask:
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
        )
        if self._planned_failures:
            task.planned_failure = self._planned_failures.popleft() or self._default_failure(task)
        self.tasks[task_id] = task
        self.max_concurrent_seen = max(self.max_concurrent_seen, self.active_count())
        runner = asyncio.get_running_loop().create_task(self._life(task))
        self._runners[task_id] = runner
        log.info("simulator: task %s created for %s", task_id, workflow_id or f"app {webapp_id}")
        return task

    def _created_data(self, task: SimTask, outputs_to_execute: list[str]) -> dict[str, Any]:
        tips = {"result": True, "error": None, "outputs_to_execute": outputs_to_execute, "node_errors": {}}
        return {
            "netWssUrl": None,
            "taskId": task.task_id,
            "clientId": hashlib.md5(task.task_id.encode()).hexdigest(),
            "taskStatus": QUEUED,
            "promptTips": json.dumps(tips),
        }

    async def _life(self, task: SimTask) -> None:
        try:
            await self._sleep(self.queue_seconds)
            task.state, task.started_at = RUNNING, self._clock()
            await self._sleep(self.run_seconds)
            if task.planned_failure is not None:
                self._end_failed(task, task.planned_failure)
                return
            files = await asyncio.to_thread(self._render_outputs, task)
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
            self.remain_coins -= self.task_cost
            self._runners.pop(task.task_id, None)
            self._announce(task)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the simulator itself: end the task like ComfyUI would
            log.exception("simulator: task %s crashed", task.task_id)
            self._end_failed(task, failure_reason("", "Simulator", type(exc).__name__, str(exc)))

    def _end_failed(self, task: SimTask, reason: dict[str, str]) -> None:
        task.state, task.finished_at, task.failed_reason = FAILED, self._clock(), reason
        self._runners.pop(task.task_id, None)
        self._announce(task)

    def _outputs_answer(self, task: SimTask) -> tuple[int, Any]:
        if task.state == QUEUED:
            return 813, None
        if task.state == RUNNING:
            host = self.base_url.split("://", 1)[-1]
            return 804, {"netWssUrl": f"ws://{host}/sim/ws?taskId={task.task_id}"}
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

    def _announce(self, task: SimTask) -> None:
        if not task.webhook_url or self._stopping.is_set():
            return
        code, data = self._outputs_answer(task)
        payload = {
            "event": "TASK_END",
            "taskId": task.task_id,
            "eventData": json.dumps({"code": code, "msg": CODE_NAMES.get(code, ""), "data": data}),
        }
        sender = asyncio.get_running_loop().create_task(self._post_webhook(task, task.webhook_url, payload))
        self._background.add(sender)
        sender.add_done_callback(self._background.discard)

    async def _post_webhook(self, task: SimTask, url: str, payload: dict[str, Any]) -> None:
        assert self._http is not None
        for attempt in range(1, self.webhook_attempts + 1):
            status: int | None = None
            error: str | None = None
            try:
                async with self._http.post(url, json=payload, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = type(exc).__name__
            delivery = WebhookDelivery(task.task_id, url, payload, attempt, status, error)
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
        return render_outputs(
            wanted, values, task.task_id, image_size=self.image_size, sizes=dict(self._output_sizes)
        )


async def serve_forever(port: int, host: str = "127.0.0.1", **options: Any) -> None:
    """Run a simulator until cancelled (Ctrl-C), printing how to point the bot at it."""
    options.setdefault("queue_seconds", 1.0)
    options.setdefault("run_seconds", 3.0)
    simulator = Simulator(**options)
    base_url = await simulator.start(host, port)
    print(f"RunningHub simulator listening on {base_url}")
    print(f"  RUNNINGHUB_BASE_URL={base_url}")
    print(f"  RUNNINGHUB_API_KEY={simulator.api_key}")
    print(f"  workflows: {', '.join(sorted(simulator.workflows))}")
    print(f"  AI apps: {', '.join(sorted(simulator.apps))}")
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()
