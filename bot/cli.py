"""The command line: `python -m bot [run | generate | inspect | check | simulate]`.

Every failure ends as one line on stderr (`error: ...`) and a non-zero exit code, never a
traceback: 1 for a failed command, 2 for bad settings, workflows.toml or usage, 130 for Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect as pyinspect
import json
import logging
import math
import re
import sys
import unicodedata
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from bot.config import SIMULATOR_API_KEY, ConfigError, SecretFilter, Settings, load_settings
from bot.errors import UserError
from bot.jobs.pipeline import (
    InputFile,
    JobRequest,
    OutputTooLarge,
    build_node_info,
    check_file_size,
    download_output,
    submit,
    upload_inputs,
    validate_request,
    wait_for_task,
)
from bot.logs import setup_logging
from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import AccountError, RunningHubError, TaskFailed, TransientError
from bot.runninghub.types import CreatedTask, NodeInfo, TaskOutputs, TaskState
from bot.workflows import (
    IMAGE_OPTIONS,
    MAX_SAFE_INT,
    Workflow,
    WorkflowConfigError,
    WorkflowRegistry,
    load_workflows,
    parse_workflows,
)

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# The in-process simulator (RUNNINGHUB_BASE_URL=simulator) is quick but still shows both stages.
SIM_QUEUE_SECONDS, SIM_RUN_SECONDS, SIM_POLL_INTERVAL = 0.5, 1.5, 0.25
MAX_OUTPUT_BYTES = 2 * 1024**3  # the CLI writes to disk, so only a sanity cap
DEFAULT_SIMULATOR_PORT = 8765


class CommandError(Exception):
    """A command failed for a reason already phrased for the operator (one line)."""


class Console:
    """stdout for results, stderr for progress and errors; known secrets never get through."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._filter = SecretFilter([])
        self.settings: Settings | None = None  # once loaded: error lines may name the base URL

    def use_settings(self, settings: Settings) -> None:
        self.settings = settings
        self._filter = SecretFilter(settings.secrets())

    def print(self, text: str = "") -> None:
        self.out.write(self._filter.redact(text) + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.err.write(self._filter.redact(text) + "\n")
        self.err.flush()

    def error(self, text: str) -> None:
        line = " ".join(self._filter.redact(text).split())
        self.note(f"error: {line}")

    @property
    def err_is_tty(self) -> bool:
        return bool(getattr(self.err, "isatty", lambda: False)())


# -------------------------------------------------------------------------------------------------
# shared plumbing


def _settings(console: Console, *, quiet_logs: bool = True) -> Settings:
    settings = load_settings()
    console.use_settings(settings)
    # One-shot commands keep stderr for their own lines unless the operator asks for debug logs.
    level = settings.log_level if not quiet_logs or settings.log_level == "DEBUG" else "ERROR"
    setup_logging(level, settings.secrets())
    return settings


@asynccontextmanager
async def _runninghub(
    settings: Settings, *, max_attempts: int = 5, request_timeout: float = 30.0
) -> AsyncIterator[tuple[RunningHubClient, aiohttp.ClientSession]]:
    """A client for the configured RunningHub, starting the in-process simulator when asked."""
    async with aiohttp.ClientSession() as session, contextlib.AsyncExitStack() as stack:
        base_url, api_key = settings.runninghub_base_url, settings.runninghub_api_key
        if settings.use_simulator:
            from bot.runninghub.simulator import Simulator

            simulator = Simulator(queue_seconds=SIM_QUEUE_SECONDS, run_seconds=SIM_RUN_SECONDS)
            await stack.enter_async_context(simulator)
            base_url, api_key = simulator.base_url, SIMULATOR_API_KEY
        client = RunningHubClient(
            session, base_url, api_key, max_attempts=max_attempts, request_timeout=request_timeout
        )
        yield client, session


def _runninghub_message(exc: RunningHubError, settings: Settings | None) -> str:
    if isinstance(exc, TransientError) and exc.code is None and exc.msg.startswith("cannot connect"):
        where = (
            "the simulator" if settings is None or settings.use_simulator else settings.runninghub_base_url
        )
        return f"Cannot reach RunningHub at {where} ({exc.msg}); check RUNNINGHUB_BASE_URL and the network."
    return exc.user_message()


# -------------------------------------------------------------------------------------------------
# run


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    settings = _settings(console, quiet_logs=False)
    settings.require_discord()
    try:
        import bot.runner as runner
    except ModuleNotFoundError as exc:
        if exc.name != "bot.runner":
            raise
        console.error("the Discord bot is not built yet")
        return EXIT_USAGE
    try:
        result: Any = runner.run(settings)
        if pyinspect.iscoroutine(result):
            result = asyncio.run(result)
    except KeyboardInterrupt:
        console.note("stopped")
        return EXIT_OK
    return result if isinstance(result, int) else EXIT_OK


# -------------------------------------------------------------------------------------------------
# generate


@dataclass
class _Remote:
    """What the operator must hear about after Ctrl-C: which task, and whether it was cancelled."""

    task_id: str | None = None
    cancelled: bool = False


class Progress:
    """The one-line 'queued / running, N s' report on stderr.

    On a terminal the line is rewritten in place; in a log file a line is written when the state
    changes and then every 30 seconds.
    """

    def __init__(self, console: Console, task_id: str) -> None:
        self.console = console
        self.task_id = task_id
        self.tty = console.err_is_tty
        self._last_state: TaskState | None = None
        self._last_line_at = 0.0
        self._width = 0

    def __call__(self, outputs: TaskOutputs, elapsed: float) -> None:
        line = f"task {self.task_id}: {outputs.state.value}, {elapsed:.0f} s"
        if self.tty:
            self._width = max(self._width, len(line))
            self.console.err.write("\r" + line.ljust(self._width))
            self.console.err.flush()
        elif outputs.state != self._last_state or elapsed - self._last_line_at >= 30:
            self.console.note(line)
            self._last_line_at = elapsed
        self._last_state = outputs.state

    def finish(self) -> None:
        if self.tty and self._width:
            self.console.err.write("\n")
            self.console.err.flush()
            self._width = 0


def _read_input(option: str, raw_path: str) -> InputFile:
    path = Path(raw_path)
    try:
        check_file_size(option, path.name, path.stat().st_size)
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {raw_path}: {exc.strerror or exc}") from None
    return InputFile(option=option, filename=path.name, data=data)


def _collect_files(args: argparse.Namespace) -> dict[str, InputFile]:
    images = args.image or []
    if len(images) > len(IMAGE_OPTIONS):
        raise UserError("workflow.too_many_images", maximum=len(IMAGE_OPTIONS), count=len(images))
    files = {option: _read_input(option, p) for option, p in zip(IMAGE_OPTIONS, images, strict=False)}
    if args.audio:
        files["audio"] = _read_input("audio", args.audio)
    if args.video:
        files["video"] = _read_input("video", args.video)
    return files


async def _cancel_remote(client: RunningHubClient, remote: _Remote) -> None:
    if remote.task_id is None:
        return
    try:
        async with asyncio.timeout(15):
            await client.cancel(remote.task_id)
        remote.cancelled = True
    except (RunningHubError, TimeoutError) as exc:
        log.warning("could not cancel RunningHub task %s: %s", remote.task_id, exc)


async def _submit_once(
    client: RunningHubClient, workflow: Workflow, nodes: Sequence[NodeInfo], remote: _Remote
) -> CreatedTask:
    """Submit; a Ctrl-C while the create is in flight still learns the task id and cancels it."""
    pending = asyncio.ensure_future(submit(client, workflow, nodes))
    try:
        created = await asyncio.shield(pending)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(30):
                created = await pending
            remote.task_id = created.task_id
            await _cancel_remote(client, remote)
        raise
    remote.task_id = created.task_id
    return created


def _extension(file_type: str) -> str:
    clean = re.sub(r"[^a-z0-9]", "", file_type.lower())[:8]
    return clean or "bin"


async def _save_outputs(
    session: aiohttp.ClientSession, outputs: TaskOutputs, out_dir: Path, alias: str, task_id: str
) -> list[Path]:
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    paths: list[Path] = []
    for number, item in enumerate(outputs.files, start=1):
        path = out_dir / f"{alias}-{task_id}-{number}.{_extension(item.file_type)}"
        if not item.url and item.text is not None:
            path.write_text(item.text, encoding="utf-8")
            paths.append(path)
            continue
        partial = path.with_name(path.name + ".part")
        try:
            with partial.open("wb") as dest:
                await download_output(session, item.url, dest, max_bytes=MAX_OUTPUT_BYTES)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        paths.append(path)
    return paths


async def run_generate(
    settings: Settings,
    request: JobRequest,
    out_dir: Path,
    console: Console,
    remote: _Remote,
    *,
    poll_interval: float | None = None,
) -> list[Path]:
    """Upload, submit, wait and download one job; the remote task is cancelled on Ctrl-C."""
    workflow = request.workflow
    if poll_interval is None:
        poll_interval = SIM_POLL_INTERVAL if settings.use_simulator else settings.poll_interval
    async with _runninghub(settings) as (client, session):
        for option, item in request.files.items():
            console.note(f"uploading {option}: {item.filename} ({len(item.data) / 1024:.0f} KB)")
        uploaded = await upload_inputs(client, request)
        nodes = build_node_info(request, uploaded)
        created = await _submit_once(client, workflow, nodes, remote)
        console.note(f"submitted {workflow.alias} as RunningHub task {created.task_id}")
        progress = Progress(console, created.task_id)
        try:
            outputs = await wait_for_task(
                client,
                created.task_id,
                poll_interval=poll_interval,
                timeout=workflow.timeout,
                on_progress=progress,
            )
        except (asyncio.CancelledError, KeyboardInterrupt, TimeoutError):
            await _cancel_remote(client, remote)
            raise
        finally:
            progress.finish()
        remote.task_id = None  # finished: nothing left to cancel
        if outputs.state is TaskState.FAILED:
            raise TaskFailed("task failed", failed_reason=outputs.failed_reason)
        if not outputs.files:
            raise CommandError(
                f"task {created.task_id} succeeded without any output (no Save node in the workflow?)"
            )
        console.note(f"task {created.task_id} succeeded; downloading {len(outputs.files)} output(s)")
        return await _save_outputs(session, outputs, out_dir, workflow.alias, created.task_id)


def cmd_generate(args: argparse.Namespace, console: Console) -> int:
    settings = _settings(console)
    workflow = load_workflows(settings.workflows_path).get(args.alias)
    request = validate_request(workflow, prompt=args.prompt, files=_collect_files(args), params=args.param)
    remote = _Remote()
    try:
        paths = asyncio.run(run_generate(settings, request, Path(args.out), console, remote))
    except KeyboardInterrupt:
        if remote.task_id and remote.cancelled:
            console.error(f"interrupted; RunningHub task {remote.task_id} was cancelled")
        elif remote.task_id:
            console.error(
                f"interrupted; RunningHub task {remote.task_id} may still run: cancel it on the website"
            )
        else:
            console.error("interrupted")
        return EXIT_INTERRUPTED
    except TimeoutError:
        if remote.task_id is None:
            raise CommandError("RunningHub did not answer in time") from None
        state = "was cancelled" if remote.cancelled else "could not be cancelled"
        raise CommandError(
            f"task {remote.task_id} did not finish within its {workflow.timeout} s timeout and {state}"
        ) from None
    except OutputTooLarge as exc:
        raise CommandError(
            f"an output is larger than {MAX_OUTPUT_BYTES} bytes ({exc.size} seen); not saved"
        ) from None
    for path in paths:
        console.print(str(path))
    return EXIT_OK


# -------------------------------------------------------------------------------------------------
# inspect


MEDIA_LOADERS: Mapping[str, str] = {
    "LoadImage": "image",
    "LoadImageMask": "image",
    "LoadAudio": "audio",
    "VHS_LoadAudioUpload": "audio",
    "LoadVideo": "video",
    "VHS_LoadVideo": "video",
}
MEDIA_FIELDS = ("image", "audio", "video", "file")
TEXT_FIELDS = ("text", "prompt", "text_g", "text_l")
SEED_FIELDS = ("seed", "noise_seed")
# Numbers worth offering as params, with a sensible range: (kind, min, max).
NUMBER_RANGES: Mapping[str, tuple[str, float, float]] = {
    "steps": ("int", 1, 150),
    "cfg": ("float", 0.0, 30.0),
    "guidance": ("float", 0.0, 30.0),
    "denoise": ("float", 0.0, 1.0),
    "width": ("int", 64, 4096),
    "height": ("int", 64, 4096),
    "length": ("int", 1, 1000),
    "frames": ("int", 1, 1000),
    "num_frames": ("int", 1, 1000),
    "speed": ("float", 0.1, 4.0),
    "duration": ("float", 0.1, 600.0),
}
_APP_KINDS = {
    "IMAGE": "image",
    "AUDIO": "audio",
    "VIDEO": "video",
    "STRING": "text",
    "LIST": "text",
    "INT": "int",
    "FLOAT": "float",
    "BOOLEAN": "bool",
}


@dataclass
class Candidate:
    """One input of a workflow as `inspect` shows it, with the workflows.toml entry it suggests."""

    node_id: str
    class_type: str
    title: str
    field: str
    value: Any
    group: str  # media, text, seed, number, other
    kind: str
    name: str | None = None  # suggested input name; None = only listed in the table
    note: str | None = None  # why it is left out of (or commented in) the block


def _node_order(node_id: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[:.]", node_id))


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def _number_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return None


def _conditioning_sources(nodes: Mapping[str, Any], text_nodes: set[str]) -> tuple[set[str], set[str]]:
    """Text nodes wired (directly or through conditioning nodes) into samplers' positive/negative."""

    def trace(node_id: str, port: str, depth: int) -> str | None:
        if node_id in text_nodes:
            return node_id
        node = nodes.get(node_id)
        if depth > 6 or not isinstance(node, dict):
            return None
        inputs = node.get("inputs") or {}
        for key in (port, "conditioning", "conditioning_to", "conditioning_1"):
            if _is_link(inputs.get(key)):
                found = trace(str(inputs[key][0]), port, depth + 1)
                if found:
                    return found
        return None

    positive: set[str] = set()
    negative: set[str] = set()
    for node in nodes.values():
        inputs = node.get("inputs") or {}
        for port, bucket in (("positive", positive), ("negative", negative)):
            if _is_link(inputs.get(port)):
                found = trace(str(inputs[port][0]), port, 0)
                if found:
                    bucket.add(found)
    return positive, negative - positive


def _looks_negative(title: str) -> bool:
    lower = title.lower()
    return "negative" in lower or "负" in title or "反向" in title


def _looks_positive(title: str) -> bool:
    return "positive" in title.lower() or "正向" in title or "正面" in title


def _unique(base: str, taken: set[str], node_id: str) -> str:
    """`base`, else `base_<node id>`, else `base2`, `base3`...: always a valid input name."""
    base = base[:24]
    name = base if base not in taken else f"{base}_{re.sub(r'[^a-z0-9]', '_', node_id.lower())}"[:32]
    counter = 2
    while name in taken:
        name = f"{base}{counter}"
        counter += 1
    taken.add(name)
    return name


def _name_media(candidates: list[Candidate]) -> None:
    slots = {"image": list(IMAGE_OPTIONS), "audio": ["audio"], "video": ["video"]}
    for cand in candidates:
        if cand.group != "media":
            continue
        free = slots[cand.kind]
        if free:
            cand.name = free.pop(0)
        else:
            cand.note = (
                f"only {', '.join(IMAGE_OPTIONS if cand.kind == 'image' else [cand.kind])} can be filled"
            )


def inspect_workflow_nodes(nodes: Mapping[str, Any]) -> list[Candidate]:
    """The inputs an operator may want to expose, from an API-format workflow."""
    ordered = sorted(
        ((str(k), v) for k, v in nodes.items() if isinstance(v, dict)), key=lambda item: _node_order(item[0])
    )
    text_nodes = {
        node_id
        for node_id, node in ordered
        if node.get("class_type") not in MEDIA_LOADERS
        and any(isinstance((node.get("inputs") or {}).get(f), str) for f in TEXT_FIELDS)
    }
    positive, negative = _conditioning_sources(dict(ordered), text_nodes)

    candidates: list[Candidate] = []
    for node_id, node in ordered:
        class_type = str(node.get("class_type") or "?")
        title = str((node.get("_meta") or {}).get("title") or class_type)
        inputs = node.get("inputs") or {}
        if not isinstance(inputs, dict):
            continue
        media_kind = MEDIA_LOADERS.get(class_type)
        for field, value in inputs.items():
            if _is_link(value):
                continue
            base = dict(node_id=node_id, class_type=class_type, title=title, field=field, value=value)
            if media_kind and field in MEDIA_FIELDS and isinstance(value, str):
                candidates.append(Candidate(**base, group="media", kind=media_kind))
            elif field in TEXT_FIELDS and isinstance(value, str) and node_id in text_nodes:
                candidates.append(Candidate(**base, group="text", kind="text"))
            elif field in SEED_FIELDS and _number_kind(value) == "int":
                candidates.append(Candidate(**base, group="seed", kind="int"))
            elif _number_kind(value) is not None:
                candidates.append(Candidate(**base, group="number", kind=_number_kind(value) or "int"))
            elif isinstance(value, str) and not media_kind and "filename" not in field:
                candidates.append(Candidate(**base, group="other", kind="text"))

    _name_media(candidates)
    taken = {c.name for c in candidates if c.name}
    texts = [c for c in candidates if c.group == "text"]
    negatives = [
        c for c in texts if c.node_id in negative or (c.node_id not in positive and _looks_negative(c.title))
    ]
    positives = [c for c in texts if c not in negatives]
    prompt = next((c for c in positives if c.node_id in positive), None)
    prompt = prompt or next((c for c in positives if _looks_positive(c.title)), None)
    prompt = prompt or (positives[0] if positives else None)
    if prompt is not None:
        prompt.name = "prompt"
        taken.add("prompt")
    for cand in negatives:
        cand.name = _unique("negative", taken, cand.node_id)
    for cand in texts:
        if cand.name is None:
            cand.name = _unique("text", taken, cand.node_id)
    for cand in candidates:
        if cand.group == "seed":
            cand.name = _unique("seed", taken, cand.node_id)
        elif cand.group == "number" and cand.field in NUMBER_RANGES:
            kind = NUMBER_RANGES[cand.field][0]
            if kind == "int" and cand.kind == "float":
                continue
            cand.kind = kind
            cand.name = _unique(cand.field, taken, cand.node_id)
    return candidates


def inspect_app_nodes(items: Sequence[Mapping[str, Any]]) -> list[Candidate]:
    """The same for an AI app's nodeInfoList (apiCallDemo), whose fields are all meant to be set."""
    candidates: list[Candidate] = []
    for item in items:
        kind = _APP_KINDS.get(str(item.get("fieldType") or "").upper(), "text")
        field = str(item.get("fieldName") or "")
        value: Any = item.get("fieldValue")
        if kind in ("int", "float"):
            try:
                value = int(str(value)) if kind == "int" else float(str(value))
            except ValueError:
                kind = "text"
        elif kind == "bool":
            value = str(value).strip().lower() in ("true", "1", "yes")
        group = "media" if kind in ("image", "audio", "video") else "text" if kind == "text" else "number"
        if group == "number" and field in SEED_FIELDS:
            group = "seed"
        title = str(item.get("descriptionEn") or item.get("description") or item.get("nodeName") or "")
        candidates.append(
            Candidate(
                node_id=str(item.get("nodeId") or "?"),
                class_type=str(item.get("nodeName") or "?"),
                title=title,
                field=field,
                value=value if value is not None else "",
                group=group,
                kind=kind,
            )
        )
    _name_media(candidates)
    taken = {c.name for c in candidates if c.name}
    for cand in candidates:
        if cand.name is not None:
            continue
        if cand.group == "text" and "prompt" not in taken and not _looks_negative(cand.title):
            cand.name = "prompt"
            taken.add("prompt")
        elif cand.group == "text":
            cand.name = _unique("negative" if _looks_negative(cand.title) else "text", taken, cand.node_id)
        elif cand.group == "seed":
            cand.name = _unique("seed", taken, cand.node_id)
        else:
            cand.name = _unique(
                re.sub(r"[^a-z0-9_]", "_", cand.field.lower()) or "value", taken, cand.node_id
            )
            if not cand.name[0].isalpha():
                cand.name = _unique("p_" + cand.name, taken, cand.node_id)
    return candidates


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cell(value: Any, limit: int) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())  # no escapes
    if _width(text) > limit:
        while _width(text) > limit - 1:
            text = text[:-1]
        text += "…"
    return text


_GROUP_ORDER = {"media": 0, "text": 1, "seed": 2, "number": 3, "other": 4}


def render_table(candidates: Sequence[Candidate]) -> str:
    """Media loaders first, then text, seeds, numbers and other settings; node order within each."""
    candidates = sorted(candidates, key=lambda c: _GROUP_ORDER.get(c.group, 9))
    header = ("node", "class", "title", "field", "current value", "suggested input")
    rows = [header] + [
        (
            _cell(c.node_id, 12),
            _cell(c.class_type, 24),
            _cell(c.title, 36),
            _cell(c.field, 24),
            _cell(c.value, 36),
            c.name or (f"- ({c.note})" if c.note else "-"),
        )
        for c in candidates
    ]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, plus DEL must be escaped)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # Python's float repr is valid TOML (1.0, 0.65, 1e-07)
    return toml_string(str(value))


def _comment(text: str) -> str:
    """Text safe for a TOML comment: printable characters only, one line, cut short."""
    printable = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return " ".join(printable.split())[:60]


def render_toml(
    alias: str,
    candidates: Sequence[Candidate],
    *,
    workflow_id: str | None = None,
    webapp_id: str | None = None,
    description: str,
) -> str:
    """A [workflows.<alias>] block that parse_workflows accepts, from the named candidates."""
    lines = [f"[workflows.{alias}]"]
    if workflow_id:
        lines.append(f"workflow_id = {toml_string(workflow_id)}")
    else:
        lines.append(f"webapp_id = {toml_string(str(webapp_id))}")
    lines.append(
        f"description = {toml_string(description[:100])}   # shown to members (at most 100 characters)"
    )
    lines.append("cost = 10   # coins per run: set your own price")
    for cand in sorted(candidates, key=lambda c: (_GROUP_ORDER.get(c.group, 9), c.name != "prompt")):
        if cand.name is None:
            if cand.note:
                lines += [
                    "",
                    "# " + _comment(f"node {cand.node_id} ({cand.class_type}) {cand.field}: {cand.note}"),
                ]
            continue
        lines += [
            "",
            f"[[workflows.{alias}.inputs]]",
            f"name = {toml_string(cand.name)}",
            f"kind = {toml_string(cand.kind)}",
            f"node_id = {toml_string(cand.node_id)}   # {_node_label(cand)}",
            f"field = {toml_string(cand.field)}",
        ]
        lines += _input_limits(cand)
    return "\n".join(lines) + "\n"


def _node_label(cand: Candidate) -> str:
    same = cand.title in ("", cand.class_type)
    return _comment(cand.class_type if same else f"{cand.class_type}: {cand.title}")


def _input_limits(cand: Candidate) -> list[str]:
    if cand.group == "media" or cand.name == "prompt":
        return ["required = true"]
    if cand.group == "text":
        return [f"# workflow value: {_comment(json.dumps(cand.value, ensure_ascii=False))}"]
    if cand.group == "seed":
        return ["min = 0", f"max = {MAX_SAFE_INT}", "# no default: the workflow's own seed applies"]
    lines: list[str] = []
    value = cand.value
    if cand.kind in ("int", "float") and _number_kind(value) in ("int", "float") and math.isfinite(value):
        value = float(value) if cand.kind == "float" else int(value)
        if cand.field in NUMBER_RANGES:
            _, low, high = NUMBER_RANGES[cand.field]
            low, high = min(low, value), max(high, value)  # the current value must fit
            cast = int if cand.kind == "int" else float
            lines += [f"min = {_toml_value(cast(low))}", f"max = {_toml_value(cast(high))}"]
        if cand.kind == "int" and abs(value) > MAX_SAFE_INT:
            return lines
        lines.insert(0, f"default = {_toml_value(value)}")
    elif cand.kind == "bool" and isinstance(value, bool):
        lines.append(f"default = {_toml_value(value)}")
    return lines


def cmd_inspect(args: argparse.Namespace, console: Console) -> int:
    settings = _settings(console)
    target = args.id.strip()
    if not target.isdigit():
        raise CommandError(
            f"{args.id!r} is not an id: use the digits from the workflow's (or app's) web address"
        )
    alias = args.alias

    async def fetch() -> Any:
        async with _runninghub(settings) as (client, _session):
            return await (client.app_nodes(target) if args.app else client.workflow_json(target))

    data = asyncio.run(fetch())
    if args.app:
        candidates = inspect_app_nodes(data)
        heading = f"AI app {target}: {len(candidates)} editable input(s)"
        block = render_toml(alias, candidates, webapp_id=target, description=f"AI app {target}")
    else:
        candidates = inspect_workflow_nodes(data)
        heading = (
            f"Workflow {target}: {len(data)} node(s), {len(candidates)} settable input(s) (links left out)"
        )
        block = render_toml(alias, candidates, workflow_id=target, description=f"Workflow {target}")
    parse_workflows(block, "the suggested block")  # never print a block the bot would refuse
    console.print(heading)
    console.print()
    console.print(render_table(candidates) if candidates else "(no inputs with a plain value)")
    console.print()
    console.print(
        "Paste into data/workflows.toml, then rename the alias, write the description, set the cost "
        "and delete what members should not change:"
    )
    console.print()
    console.print(block.rstrip("\n"))
    return EXIT_OK


# -------------------------------------------------------------------------------------------------
# check


def _describe_workflow(workflow: Workflow) -> str:
    inputs = (
        ", ".join(i.name + ("" if i.required or i.is_param else "?") for i in workflow.inputs) or "no inputs"
    )
    state = "" if workflow.enabled else " [disabled]"
    limits = f"{workflow.cost} coins, timeout {workflow.timeout} s"
    return f"{workflow.alias}: {workflow.target}, {inputs}; {limits}{state}"


def check_workflow_inputs(workflow: Workflow, nodes: Mapping[str, Any]) -> list[str]:
    """Problems of an alias against its workflow's API JSON (empty when every input fits)."""
    problems: list[str] = []
    for item in workflow.inputs:
        node = nodes.get(item.node_id)
        if not isinstance(node, dict):
            problems.append(f"input '{item.name}': node {item.node_id} is not in the workflow")
            continue
        inputs = node.get("inputs") or {}
        class_type = node.get("class_type", "?")
        if item.field not in inputs:
            have = ", ".join(inputs) or "none"
            problems.append(
                f"input '{item.name}': node {item.node_id} ({class_type}) has no field '{item.field}'"
                f" (it has: {have})"
            )
        elif _is_link(inputs[item.field]):
            source = inputs[item.field][0]
            problems.append(
                f"input '{item.name}': node {item.node_id} field '{item.field}' is wired to node {source}; "
                "set the value on that node instead"
            )
    return problems


def check_app_inputs(workflow: Workflow, items: Sequence[Mapping[str, Any]]) -> list[str]:
    known = {(str(i.get("nodeId")), str(i.get("fieldName"))) for i in items}
    return [
        f"input '{item.name}': node {item.node_id} field '{item.field}' is not an editable field of the app"
        for item in workflow.inputs
        if (item.node_id, item.field) not in known
    ]


async def _check_runninghub(settings: Settings, registry: WorkflowRegistry, console: Console) -> bool:
    ok = True
    where = "the in-process simulator" if settings.use_simulator else settings.runninghub_base_url
    async with _runninghub(settings, max_attempts=2, request_timeout=15) as (client, _session):
        try:
            account = await client.account_status()
        except RunningHubError as exc:
            console.print(f"RunningHub ({where}): {_runninghub_message(exc, settings)}")
            return False
        coins = "unknown" if account.remain_coins is None else str(account.remain_coins)
        money = (
            f", money {account.remain_money} {account.currency or ''}".rstrip()
            if account.remain_money
            else ""
        )
        console.print(
            f"RunningHub ({where}): reachable; account {account.api_type or '?'}, coins {coins}{money}, "
            f"{account.current_task_counts} task(s) running"
        )
        for workflow in registry.workflows.values():
            if not workflow.enabled:
                console.print(f"  {workflow.alias}: disabled, not checked")
                continue
            target_id = workflow.workflow_id or workflow.webapp_id or ""
            try:
                if workflow.workflow_id:
                    problems = check_workflow_inputs(
                        workflow, await client.workflow_json(workflow.workflow_id)
                    )
                else:
                    problems = check_app_inputs(workflow, await client.app_nodes(target_id))
            except AccountError as exc:
                console.print(f"  {workflow.alias}: {_runninghub_message(exc, settings)}")
                return False
            except RunningHubError as exc:
                console.print(
                    f"  {workflow.alias}: cannot fetch {workflow.target}: "
                    + _runninghub_message(exc, settings)
                )
                ok = False
                continue
            if problems:
                ok = False
                flag = " --app" if workflow.webapp_id else ""
                for problem in problems:
                    console.print(f"  {workflow.alias}: {problem}")
                console.print(
                    f"  {workflow.alias}: see `python -m bot inspect{flag} {target_id}` for the right ids"
                )
            else:
                console.print(
                    f"  {workflow.alias}: ok ({len(workflow.inputs)} input(s) match {workflow.target})"
                )
    return ok


async def _check_database(path: Path, console: Console) -> bool:
    try:
        from bot.db.database import Database, DatabaseError
        from bot.db.invariants import check_invariants
    except ImportError:
        console.print("database: skipped (bot.db.invariants is not available in this build)")
        return True
    try:
        db = await Database.open(path)
    except DatabaseError as exc:
        console.print(f"database: {exc}")
        return False
    try:
        problems = await check_invariants(db)
    finally:
        await db.close()
    if not problems:
        console.print(f"database: {path}: the books balance")
        return True
    console.print(f"database: {path}: {len(problems)} problem(s)")
    for problem in problems:
        console.print(f"  {problem}")
    return False


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    ok = True
    try:
        settings = _settings(console)
    except ConfigError as exc:
        console.print(f"settings: {exc}")
        return EXIT_FAILED
    where = "simulator (in-process)" if settings.use_simulator else settings.runninghub_base_url
    console.print(f"settings: ok (RunningHub {where}, database {settings.database_path})")
    if not settings.discord_token:
        console.print("settings: DISCORD_TOKEN is not set; `python -m bot run` needs it")
        ok = False
    try:
        registry = load_workflows(settings.workflows_path)
    except WorkflowConfigError as exc:
        console.print(f"workflows: {exc}")
        return EXIT_FAILED
    console.print(f"workflows: {settings.workflows_path}: {len(registry)} alias(es)")
    for workflow in registry.workflows.values():
        console.print(f"  {_describe_workflow(workflow)}")
    if not asyncio.run(_check_runninghub(settings, registry, console)):
        ok = False
    if settings.database_path.is_file():
        ok = asyncio.run(_check_database(settings.database_path, console)) and ok
    else:
        console.print(f"database: {settings.database_path} does not exist yet (created on first run)")
    console.print("all good" if ok else "problems found")
    return EXIT_OK if ok else EXIT_FAILED


# -------------------------------------------------------------------------------------------------
# simulate


def cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    setup_logging("INFO")  # the simulator needs no settings: it is its own RunningHub
    from bot.runninghub.simulator import serve_forever

    try:
        asyncio.run(serve_forever(args.port, args.host))
    except KeyboardInterrupt:
        console.note("simulator stopped")
    except OSError as exc:
        raise CommandError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return EXIT_OK


# -------------------------------------------------------------------------------------------------
# entry point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A Discord bot that runs RunningHub workflows (settings: .env, aliases: workflows.toml).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the Discord bot (the default)")

    gen = commands.add_parser("generate", help="run one job from the command line, without Discord or coins")
    gen.add_argument("alias", metavar="ALIAS", help="a workflow alias from workflows.toml")
    gen.add_argument("--prompt", help="the prompt text")
    gen.add_argument(
        "--image", action="append", metavar="PATH", help="an image; repeat for image2 and image3"
    )
    gen.add_argument("--audio", metavar="PATH", help="an audio file")
    gen.add_argument("--video", metavar="PATH", help="a video file")
    gen.add_argument(
        "--param", action="append", metavar="K=V", help="a parameter, e.g. --param seed=42 (repeatable)"
    )
    gen.add_argument(
        "--out", default="outputs", metavar="DIR", help="where to write the outputs (default: outputs)"
    )

    ins = commands.add_parser(
        "inspect", help="list a workflow's input nodes and print a workflows.toml block"
    )
    ins.add_argument("id", metavar="WORKFLOW_ID", help="the workflow id (or AI app id with --app)")
    ins.add_argument("--app", action="store_true", help="the id is an AI app (webapp) id")
    ins.add_argument("--alias", default="my-workflow", help="alias to use in the printed block")

    commands.add_parser("check", help="validate .env and workflows.toml against RunningHub and the database")

    sim = commands.add_parser("simulate", help="serve the built-in RunningHub simulator")
    sim.add_argument(
        "--port", type=int, default=DEFAULT_SIMULATOR_PORT, help=f"default {DEFAULT_SIMULATOR_PORT}"
    )
    sim.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    return parser


COMMANDS: Mapping[str, Callable[[argparse.Namespace, Console], int]] = {
    "run": cmd_run,
    "generate": cmd_generate,
    "inspect": cmd_inspect,
    "check": cmd_check,
    "simulate": cmd_simulate,
}


def run_command(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run one command and return its exit code (argparse usage errors still exit 2 themselves)."""
    args = build_parser().parse_args(argv)
    if args.command == "inspect" and not re.match(r"^[a-z0-9][a-z0-9-]{0,31}$", args.alias):
        build_parser().error("--alias must be 1-32 lower-case letters, digits and dashes")
    console = console or Console()
    try:
        return COMMANDS[args.command or "run"](args, console)
    except (ConfigError, WorkflowConfigError) as exc:
        console.error(str(exc))
        return EXIT_USAGE
    except UserError as exc:
        console.error(exc.render())
        return EXIT_FAILED
    except RunningHubError as exc:
        console.error(_runninghub_message(exc, console.settings))
        return EXIT_FAILED
    except CommandError as exc:
        console.error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: still one line, never a traceback
        log.debug("unexpected failure", exc_info=True)
        console.error(f"unexpected failure: {type(exc).__name__}: {exc}")
        return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (`rhbot`, `python -m bot`): exits with the command's code."""
    code = run_command(argv)
    if code:
        raise SystemExit(code)
