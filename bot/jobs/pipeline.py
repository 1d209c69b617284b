"""The job stages shared by `/generate` and `python -m bot generate`.

validate -> upload -> build nodeInfoList -> submit -> (wait) -> download. No Discord and no
database here: the Discord side adds coins and the journal around these steps, the command line
runs them straight through.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import aiohttp

from bot.errors import UserError
from bot.media import MAX_UPLOAD_BYTES, sniff
from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import RequestError, RunningHubError, TransientError
from bot.runninghub.types import CreatedTask, NodeInfo, TaskOutputs, TaskState
from bot.workflows import OPTION_KINDS, Workflow, parse_params

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class InputFile:
    option: str  # image, image2, image3, audio or video
    filename: str  # as the member named it; only shown back in messages
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class JobRequest:
    """A request that passed every check that can be made before coins move."""

    workflow: Workflow
    prompt: str | None
    files: Mapping[str, InputFile]
    params: Mapping[str, Any]


class OutputTooLarge(Exception):
    """An output is bigger than the caller accepts; `size` is what was seen so far (or announced)."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"output is larger than allowed ({size} bytes seen)")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def check_file_size(option: str, filename: str, size: int) -> None:
    """Refuse a file over RunningHub's upload limit (callers may check before reading it)."""
    if size > MAX_UPLOAD_BYTES:
        raise UserError(
            "workflow.file_too_large",
            filename=filename,
            size_mb=_megabytes(size),
            limit_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        )


def _check_file(item: InputFile, expected_kind: str) -> None:
    if not item.data:
        raise UserError("workflow.file_empty", filename=item.filename, option=item.option)
    check_file_size(item.option, item.filename, len(item.data))
    found = sniff(item.data)
    if found is None:
        raise UserError(f"workflow.file_unknown_{expected_kind}", filename=item.filename, option=item.option)
    kind, extension = found
    if kind != expected_kind:
        raise UserError(
            f"workflow.file_not_{expected_kind}",
            filename=item.filename,
            option=item.option,
            detected=extension.upper(),
        )


def validate_request(
    workflow: Workflow,
    *,
    prompt: str | None,
    files: Mapping[str, InputFile],
    params: str | Sequence[str] | None,
) -> JobRequest:
    """Every check that needs no network: one UserError (catalog key) for the first problem found."""
    prompt = prompt.strip() if prompt is not None else None
    prompt = prompt or None
    accepted = ", ".join(i.name for i in workflow.option_inputs) or "-"

    given = ([("prompt", prompt)] if prompt is not None else []) + [(o, f) for o, f in files.items()]
    for option, _value in given:
        item = workflow.input(option)
        if item is None or item.is_param:
            raise UserError(
                "workflow.option_not_taken", alias=workflow.alias, option=option, accepted=accepted
            )

    for item in workflow.option_inputs:
        if item.required and item.name not in files and not (item.name == "prompt" and prompt is not None):
            raise UserError("workflow.input_missing", alias=workflow.alias, option=item.name)

    for option, input_file in files.items():
        _check_file(input_file, OPTION_KINDS[option])

    prompt_input = workflow.input("prompt")
    if prompt is not None and prompt_input is not None:
        limit = prompt_input.max_length
        if limit is not None and len(prompt) > limit:
            raise UserError(
                "workflow.prompt_too_long", length=len(prompt), alias=workflow.alias, maximum=limit
            )

    values = parse_params(workflow, params)
    for item in workflow.params:
        if item.required and item.name not in values:
            raise UserError("workflow.param_missing", alias=workflow.alias, name=item.name)

    return JobRequest(workflow=workflow, prompt=prompt, files=dict(files), params=values)


async def upload_inputs(client: RunningHubClient, request: JobRequest) -> dict[str, str]:
    """Upload each file (one at a time); option name -> RunningHub fileName."""
    uploaded: dict[str, str] = {}
    for option, item in request.files.items():
        found = sniff(item.data)
        extension = found[1] if found else "bin"
        # Named by the real content, so RunningHub stores it with the right extension.
        uploaded[option] = await client.upload(item.data, f"{option}.{extension}")
        log.debug("uploaded %s (%d bytes) as %s", option, len(item.data), uploaded[option])
    return uploaded


def build_node_info(request: JobRequest, uploaded: Mapping[str, str]) -> list[NodeInfo]:
    """The nodeInfoList: given values, else defaults; inputs with neither are left to the workflow."""
    nodes: list[NodeInfo] = []
    for item in request.workflow.inputs:
        value: Any
        if item.name == "prompt":
            value = request.prompt
        elif item.is_param:
            value = request.params.get(item.name)
        else:
            value = uploaded.get(item.name)
        if value is None:
            value = item.default
        if value is None:
            continue
        nodes.append(NodeInfo(node_id=item.node_id, field_name=item.field, field_value=value))
    return nodes


async def submit(
    client: RunningHubClient,
    workflow: Workflow,
    nodes: Sequence[NodeInfo],
    *,
    webhook_url: str | None = None,
) -> CreatedTask:
    """Start the task (sent once: see RunningHubClient.create_task)."""
    # "default" is RunningHub's own default; only "plus" needs saying.
    instance_type = workflow.instance_type if workflow.instance_type == "plus" else None
    if workflow.workflow_id is not None:
        return await client.create_task(
            workflow.workflow_id, nodes, webhook_url=webhook_url, instance_type=instance_type
        )
    assert workflow.webapp_id is not None
    return await client.run_app(
        workflow.webapp_id, nodes, webhook_url=webhook_url, instance_type=instance_type
    )


async def download_output(
    session: aiohttp.ClientSession,
    url: str,
    dest: BinaryIO,
    *,
    max_bytes: int,
    timeout: float = 300,  # noqa: ASYNC109 - a per-download limit, part of the shared API
) -> int:
    """Stream `url` into `dest`; returns the byte count. Stops with OutputTooLarge past max_bytes.

    Network trouble and 5xx raise TransientError (try again later); other HTTP errors raise
    RequestError (the link is gone or refused).
    """
    written = 0
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            if response.status >= 500 or response.status in (408, 429):
                raise TransientError(f"output download answered HTTP {response.status}")
            if response.status != 200:
                raise RequestError(f"output download answered HTTP {response.status}")
            announced = response.content_length
            if announced is not None and announced > max_bytes:
                raise OutputTooLarge(announced)
            async for chunk in response.content.iter_chunked(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise OutputTooLarge(written)
                dest.write(chunk)
    except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
        detail = str(exc) or type(exc).__name__
        raise TransientError(f"output download failed after {written} bytes: {detail}") from None
    return written


async def wait_for_task(
    client: RunningHubClient,
    task_id: str,
    *,
    poll_interval: float,
    timeout: float,  # noqa: ASYNC109 - the workflow's own task timeout
    on_progress: Callable[[TaskOutputs, float], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TaskOutputs:
    """Poll until the task succeeds or fails (returned, not raised); TimeoutError past `timeout`.

    A failed poll is not a failed task: transient errors are logged and the poll is repeated.
    """
    started = clock()
    while True:
        try:
            outputs = await client.outputs(task_id)
        except RunningHubError as exc:
            if not exc.transient:
                raise
            log.warning("polling task %s failed (%s); trying again", task_id, exc)
        else:
            if outputs.state in (TaskState.SUCCEEDED, TaskState.FAILED):
                return outputs
            if on_progress is not None:
                on_progress(outputs, clock() - started)
        if clock() - started >= timeout:
            raise TimeoutError(f"task {task_id} did not finish within {timeout:g} seconds")
        await sleep(poll_interval)
