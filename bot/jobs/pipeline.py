"""The job stages shared by `/generate` and `python -m bot generate`.

validate -> upload -> build nodeInfoList -> submit -> (wait) -> download. No Discord and no
database here: the Discord side adds coins and the journal around these steps, the command line
runs them straight through.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

import aiohttp

from bot.errors import UserError
from bot.jobs.inputs import JobInputs, target_of, with_seed
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
class Reused:
    """A file an earlier job uploaded: a re-run or an edit sends RunningHub's copy again."""

    filename: str  # as the member named it
    remote: str  # RunningHub's fileName


@dataclass(frozen=True)
class JobRequest:
    """A request that passed every check that can be made before coins move."""

    workflow: Workflow
    prompt: str | None
    files: Mapping[str, InputFile]
    params: Mapping[str, Any]
    reused: Mapping[str, Reused] = field(default_factory=dict)
    seed_drawn: bool = False  # params["seed"] was drawn by the bot (see bot/jobs/inputs.py)
    source_job_id: int | None = None  # the job this one re-runs or edits
    uploads_key: str | None = None  # the pool key whose account holds the `reused` files


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
    reused: Mapping[str, Reused] | None = None,
) -> JobRequest:
    """Every check that needs no network: one UserError (catalog key) for the first problem found.

    `reused` are files of an earlier job, already at RunningHub; they count as given.
    """
    prompt = prompt.strip() if prompt is not None else None
    prompt = prompt or None
    reused = dict(reused or {})
    accepted = ", ".join(i.name for i in workflow.option_inputs) or "-"

    given = ([("prompt", prompt)] if prompt is not None else []) + [(o, f) for o, f in files.items()]
    given += [(o, r) for o, r in reused.items() if o not in files]
    for option, _value in given:
        item = workflow.input(option)
        if item is None or item.is_param:
            raise UserError(
                "workflow.option_not_taken", alias=workflow.alias, option=option, accepted=accepted
            )

    for item in workflow.option_inputs:
        present = item.name in files or item.name in reused or (item.name == "prompt" and prompt is not None)
        if item.required and not present:
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

    return JobRequest(workflow=workflow, prompt=prompt, files=dict(files), params=values,
                      reused={o: r for o, r in reused.items() if o not in files})


def with_drawn_seed(request: JobRequest, rng: random.Random) -> JobRequest:
    """The request with a random seed when its alias takes one and none was given (see bot/jobs/inputs.py)."""
    params, drawn = with_seed(request.workflow, request.params, rng)
    return replace(request, params=params, seed_drawn=request.seed_drawn or drawn)


async def upload_inputs(client: RunningHubClient, request: JobRequest) -> dict[str, str]:
    """Upload each file (one at a time); option name -> RunningHub fileName, reused files included."""
    uploaded = {option: item.remote for option, item in request.reused.items()}
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


def job_record(request: JobRequest, uploaded: Mapping[str, str]) -> JobInputs:
    """What the journal keeps of the job: enough to show it, run it again or edit it."""
    names = {option: item.filename for option, item in request.reused.items()}
    names.update({option: item.filename for option, item in request.files.items()})
    nodes = build_node_info(request, uploaded)
    return JobInputs(
        prompt=request.prompt,
        params=dict(request.params),
        files=names,
        uploads=dict(uploaded),
        nodes=tuple({"node_id": n.node_id, "field_name": n.field_name, "field_value": n.field_value} for n in nodes),
        seed_drawn=request.seed_drawn,
        target=target_of(request.workflow),
    )


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
