"""An async client for RunningHub's legacy OpenAPI (`/task/openapi/*` and friends).

Every answer is an envelope `{code, msg, data}`, usually with HTTP 200 even for errors, so the
client always checks `code` and turns non-zero codes into the typed errors of `errors.py`.
Calls that cannot start a task are retried on transient failures with capped exponential
backoff and full jitter; create and ai-app/run are sent at most once, because a lost answer
may hide a task that is already running (and costing money).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import mimetypes
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import aiohttp

from bot.runninghub.errors import (
    OutcomeUnknown,
    RequestError,
    TransientError,
    error_for_code,
)
from bot.runninghub.progress import IDLE_TIMEOUT, Progress, read_progress
from bot.runninghub.types import (
    MAX_UPLOAD_BYTES,
    AccountStatus,
    CreatedTask,
    FailedReason,
    NodeInfo,
    OutputFile,
    TaskOutputs,
    TaskState,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

CODE_SUCCESS = 0
CODE_RUNNING = 804
CODE_FAILED = 805
CODE_QUEUED = 813
CODE_FILE_TOO_LARGE = 809


class _AnswerLost(Exception):
    """Internal: the request may have reached RunningHub but no usable answer came back."""

    def __init__(self, reason: str, *, sent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


class RunningHubClient:
    """One RunningHub account, reached through a caller-owned aiohttp session."""

    # Instance attribute so a test can bypass the client-side check and see the server's 809.
    max_upload_bytes: int = MAX_UPLOAD_BYTES

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        *,
        request_timeout: float = 30.0,
        upload_timeout: float = 300.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._request_timeout = request_timeout
        self._upload_timeout = upload_timeout
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"RunningHubClient(base_url={self.base_url!r})"

    __str__ = __repr__

    # ----------------------------------------------------------------- public calls

    async def upload(self, data: bytes, filename: str, *, file_type: str = "input") -> str:
        """Upload a file; returns the name to put in a loader node (`api/<64 hex>.<ext>`).

        Content-addressed on RunningHub's side, so retrying a transient failure is safe.
        """
        if len(data) > self.max_upload_bytes:
            raise RequestError(
                f"file {filename!r} is {len(data)} bytes, over RunningHub's 30 MB upload limit",
                code=CODE_FILE_TOO_LARGE,
            )

        def form() -> aiohttp.FormData:
            # A fresh FormData per attempt: aiohttp consumes it when sending.
            payload = aiohttp.FormData()
            payload.add_field("apiKey", self._api_key)
            payload.add_field("fileType", file_type)
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            # A stream, not raw bytes: aiohttp would copy a large bytes body in one blocking write.
            payload.add_field("file", io.BytesIO(data), filename=filename, content_type=content_type)
            return payload

        def file_name(envelope: dict[str, Any]) -> str:
            name = _data_dict(envelope, "/task/openapi/upload").get("fileName")
            if not isinstance(name, str) or not name:
                raise TransientError("upload answer has no fileName")
            return name

        return await self._retrying(
            "POST", "/task/openapi/upload", file_name, form=form, time_limit=self._upload_timeout
        )

    async def create_task(
        self,
        workflow_id: str,
        node_info_list: Sequence[NodeInfo],
        *,
        webhook_url: str | None = None,
        instance_type: str | None = None,
        add_metadata: bool | None = None,
    ) -> CreatedTask:
        """Start a workflow. Sent once: a lost answer raises OutcomeUnknown, never a retry."""
        body: dict[str, Any] = {
            "workflowId": str(workflow_id),
            "nodeInfoList": [item.to_json() for item in node_info_list],
        }
        if webhook_url:
            body["webhookUrl"] = webhook_url
        if instance_type:
            body["instanceType"] = instance_type
        if add_metadata is not None:
            body["addMetadata"] = add_metadata
        return await self._start("/task/openapi/create", body)

    async def run_app(
        self,
        webapp_id: str,
        node_info_list: Sequence[NodeInfo],
        *,
        webhook_url: str | None = None,
        instance_type: str | None = None,
    ) -> CreatedTask:
        """Start an AI app ("webapp"). Same at-most-once rule as `create_task`."""
        body: dict[str, Any] = {
            "webappId": str(webapp_id),
            "nodeInfoList": [item.to_json() for item in node_info_list],
        }
        if webhook_url:
            body["webhookUrl"] = webhook_url
        if instance_type:
            body["instanceType"] = instance_type
        return await self._start("/task/openapi/ai-app/run", body)

    async def outputs(self, task_id: str) -> TaskOutputs:
        """The task's whole state: queued, running, succeeded with files, or failed with a reason."""
        return await self._retrying(
            "POST", "/task/openapi/outputs", self.parse_outputs, body={"taskId": str(task_id)}, check=False
        )

    @staticmethod
    def parse_outputs(envelope: dict[str, Any]) -> TaskOutputs:
        """Interpret an `/outputs` envelope (also the webhook's decoded `eventData`)."""
        if not isinstance(envelope, dict) or not isinstance(envelope.get("code"), int):
            raise TransientError("outputs answer is not a {code, msg, data} envelope")
        code, data = envelope["code"], envelope.get("data")
        if code == CODE_QUEUED:
            return TaskOutputs(TaskState.QUEUED, [], None, None, None)
        if code == CODE_RUNNING:
            url = data.get("netWssUrl") if isinstance(data, dict) else None
            return TaskOutputs(TaskState.RUNNING, [], None, None, None, url if isinstance(url, str) and url else None)
        if code == CODE_FAILED:
            reason = FailedReason.from_json(data.get("failedReason")) if isinstance(data, dict) else None
            return TaskOutputs(TaskState.FAILED, [], reason, None, None)
        if code != CODE_SUCCESS:
            raise error_for_code(code, str(envelope.get("msg") or ""), data)
        if data is None:
            data = []  # success without an output node
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise TransientError("outputs answer data is not a list of files")
        files: list[OutputFile] = []
        coins: int | None = None
        cost: float | None = None
        for item in data:
            url = item.get("fileUrl")
            if not isinstance(url, str) or not url:
                raise TransientError("an outputs item has no fileUrl")
            file_type = str(item.get("fileType") or _extension(url)).lower().lstrip(".")
            node_id = item.get("nodeId")
            text = item.get("text")
            files.append(
                OutputFile(
                    url=url,
                    file_type=file_type,
                    node_id=None if node_id is None else str(node_id),
                    text=text if isinstance(text, str) else None,
                )
            )
            item_coins = _number(item.get("consumeCoins"))
            if item_coins is not None:
                coins = (coins or 0) + int(item_coins)
            item_cost = _number(item.get("taskCostTime"))
            if item_cost is not None:
                cost = item_cost if cost is None else max(cost, item_cost)
        return TaskOutputs(TaskState.SUCCEEDED, files, None, coins, cost)

    def progress(self, net_wss_url: str, *, node_classes: Mapping[str, str] | None = None,
                 idle_timeout: float = IDLE_TIMEOUT) -> AsyncIterator[Progress]:
        """The running task's progress from its `netWssUrl`, through this client's session."""
        return read_progress(self._session, net_wss_url, node_classes=node_classes, idle_timeout=idle_timeout)

    async def status(self, task_id: str) -> str:
        """QUEUED, RUNNING, SUCCESS or FAILED (CREATE is possible but undocumented)."""

        def parse(envelope: dict[str, Any]) -> str:
            data = envelope.get("data")
            if not isinstance(data, str) or not data:
                raise TransientError("status answer data is not a string")
            return data.upper()

        return await self._retrying("POST", "/task/openapi/status", parse, body={"taskId": str(task_id)})

    async def cancel(self, task_id: str) -> None:
        """Stop a queued or running task; an unknown task raises TaskNotFound (807)."""
        await self._retrying(
            "POST", "/task/openapi/cancel", lambda _envelope: None, body={"taskId": str(task_id)}
        )

    async def account_status(self) -> AccountStatus:
        # This endpoint spells the body key in lower case.
        return await self._retrying(
            "POST",
            "/uc/openapi/accountStatus",
            lambda envelope: AccountStatus.from_json(_data_dict(envelope, "/uc/openapi/accountStatus")),
            body={"apikey": self._api_key},
            key_in_body=False,
        )

    async def workflow_json(self, workflow_id: str) -> dict[str, Any]:
        """The workflow in ComfyUI API format: node id -> {class_type, inputs, _meta}."""
        return await self._retrying(
            "POST", "/api/openapi/getJsonApiFormat", _workflow_prompt, body={"workflowId": str(workflow_id)}
        )

    async def app_nodes(self, webapp_id: str) -> list[dict[str, Any]]:
        """The AI app's editable nodes (`nodeInfoList` of apiCallDemo)."""
        return await self._retrying(
            "GET",
            "/api/webapp/apiCallDemo",
            _app_nodes,
            params={"apiKey": self._api_key, "webappId": str(webapp_id)},
            key_in_body=False,
        )

    # ----------------------------------------------------------------- plumbing

    def _headers(self, *, request_id: str | None = None, json_body: bool = True) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._api_key}"}
        if json_body:
            headers["Content-Type"] = "application/json"
        if request_id:
            headers["X-Request-Id"] = request_id
        return headers

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]") if self._api_key else text

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
        return random.uniform(0.0, min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1)))

    async def _retrying(
        self,
        method: str,
        path: str,
        parse: Callable[[dict[str, Any]], T],
        *,
        body: dict[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        time_limit: float | None = None,
        key_in_body: bool = True,
        check: bool = True,
    ) -> T:
        """An idempotent call: transient failures (also of `parse`) are retried up to max_attempts."""
        if body is not None and key_in_body:
            body = {"apiKey": self._api_key, **body}
        for attempt in range(1, self._max_attempts + 1):
            try:
                try:
                    envelope = await self._send(
                        method, path, body=body, params=params, form=form, time_limit=time_limit
                    )
                except _AnswerLost as lost:
                    raise TransientError(lost.reason) from None
                return parse(self._check(envelope) if check else envelope)
            except TransientError as exc:
                if attempt >= self._max_attempts:
                    log.warning("%s %s failed after %d attempts: %s", method, path, attempt, exc)
                    raise
                delay = self._backoff(attempt)
                log.debug("%s %s attempt %d failed (%s); retry in %.2fs", method, path, attempt, exc, delay)
                await self._sleep(delay)
        raise AssertionError("unreachable")  # the loop always returns or raises

    async def _start(self, path: str, body: dict[str, Any]) -> CreatedTask:
        """Create or run: exactly one send. Lost answers become OutcomeUnknown."""
        request_id = uuid.uuid4().hex
        sent_at = time.time()
        try:
            envelope = await self._send(
                "POST", path, body={"apiKey": self._api_key, **body}, request_id=request_id
            )
        except _AnswerLost as lost:
            if not lost.sent:
                # Nothing reached RunningHub (connection refused): safe to try again later.
                raise TransientError(lost.reason) from None
            log.warning("%s answer lost (request %s): %s", path, request_id, lost.reason)
            raise OutcomeUnknown(
                f"the answer to {path} was lost ({lost.reason})", request_id=request_id, sent_at=sent_at
            ) from None
        envelope = self._check(envelope)  # clean business errors: known not to have created a task
        data = envelope.get("data")
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not isinstance(data, dict) or task_id is None or str(task_id) == "":
            raise OutcomeUnknown(
                f"{path} answered success without a taskId", request_id=request_id, sent_at=sent_at
            )
        log.info("started RunningHub task %s via %s", task_id, path)
        return CreatedTask(
            task_id=str(task_id),
            status=str(data.get("taskStatus") or "").upper(),
            prompt_tips=_prompt_tips(data.get("promptTips")),
        )

    def _check(self, envelope: dict[str, Any]) -> dict[str, Any]:
        code = envelope["code"]
        if code == CODE_SUCCESS:
            return envelope
        raise error_for_code(code, str(envelope.get("msg") or ""), envelope.get("data"))

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        time_limit: float | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """One HTTP exchange, returning a well-formed envelope.

        Raises `_AnswerLost` when no usable answer came back (the request may have been
        processed), a typed error for an HTTP status that says the request was not processed.
        """
        url = self.base_url + path
        kwargs: dict[str, Any] = {
            "headers": self._headers(request_id=request_id, json_body=body is not None),
            "timeout": aiohttp.ClientTimeout(total=time_limit or self._request_timeout),
        }
        if params is not None:
            kwargs["params"] = dict(params)
        if form is not None:
            kwargs["data"] = form()
        elif body is not None:
            kwargs["data"] = json.dumps(body, ensure_ascii=False).encode()
        log.debug("%s %s", method, path)
        try:
            async with self._session.request(method, url, **kwargs) as response:
                status = response.status
                raw = await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.ClientHttpProxyError) as exc:
            # The connection (or a proxy's tunnel to RunningHub) never opened, so nothing was sent.
            raise _AnswerLost(f"cannot connect: {self._describe(exc)}", sent=False) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise _AnswerLost(self._describe(exc)) from None
        log.debug("%s %s -> HTTP %d, %d bytes", method, path, status, len(raw))
        if status >= 500:
            raise _AnswerLost(f"HTTP {status}")
        if status in (408, 429):
            raise TransientError(f"HTTP {status}")
        if status != 200:
            raise RequestError(f"HTTP {status} from {path}")
        if self._api_key:
            # Answers may echo the key (apiCallDemo's curl example does): keep it out of msg and data.
            raw = raw.replace(self._api_key.encode(), b"[redacted]")
        try:
            envelope = json.loads(raw)
        except ValueError:
            raise _AnswerLost("the answer is not valid JSON") from None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("code"), int):
            raise _AnswerLost("the answer is not a {code, msg, data} envelope")
        return envelope

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError) and not str(exc):
            return "timed out"
        text = self._redact(str(exc)) or "no detail"
        return f"{type(exc).__name__}: {text}"


def _data_dict(envelope: dict[str, Any], path: str) -> dict[str, Any]:
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise TransientError(f"{path} answer data is not an object")
    return data


def _workflow_prompt(envelope: dict[str, Any]) -> dict[str, Any]:
    prompt = _data_dict(envelope, "/api/openapi/getJsonApiFormat").get("prompt")
    if isinstance(prompt, str):
        try:
            prompt = json.loads(prompt)
        except ValueError:
            raise TransientError("workflow prompt is not valid JSON") from None
    if not isinstance(prompt, dict):
        raise TransientError("workflow answer has no prompt object")
    return prompt


def _app_nodes(envelope: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = _data_dict(envelope, "/api/webapp/apiCallDemo").get("nodeInfoList")
    if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
        raise TransientError("apiCallDemo answer has no nodeInfoList")
    return nodes


def _prompt_tips(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _extension(url: str) -> str:
    tail = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1] if "." in tail else ""
