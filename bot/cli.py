"""The command line: `python -m bot [run | generate | inspect | check | simulate | backup]`.

Every failure ends as one line on stderr (`error: ...`) and a non-zero exit code, never a
traceback: 1 for a failed command, 2 for bad settings, workflows.toml or usage, 130 for Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import re
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from bot import net
from bot.config import SIMULATOR_API_KEY, ConfigError, Settings, load_settings
from bot.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UserError
from bot.inspect_workflow import (
    check_app_inputs,
    check_workflow_inputs,
    inspect_nodes,
    render_table,
    render_toml,
)
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
    with_drawn_seed,
)
from bot.logs import SecretFilter, setup_logging
from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import AccountError, RunningHubError, TaskFailed, TransientError
from bot.runninghub.pool import key_tail
from bot.runninghub.types import CreatedTask, NodeInfo, TaskOutputs, TaskState
from bot.workflows import (
    IMAGE_OPTIONS,
    Workflow,
    WorkflowConfigError,
    load_workflows,
    parse_workflows,
    valid_alias,
)

log = logging.getLogger(__name__)

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
    async with net.client_session(net.runninghub_proxy(settings)) as session, contextlib.AsyncExitStack() as stack:
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
        proxy = None if settings is None or settings.use_simulator else settings.runninghub_proxy
        if proxy is not None:
            return (
                f"Cannot reach RunningHub at {where} through the proxy {proxy.address} ({exc.msg}); "
                "check RUNNINGHUB_PROXY, that the proxy is running, and RUNNINGHUB_BASE_URL."
            )
        return f"Cannot reach RunningHub at {where} ({exc.msg}); check RUNNINGHUB_BASE_URL and the network."
    return exc.user_message()


# -------------------------------------------------------------------------------------------------
# run


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    settings = load_settings()
    console.use_settings(settings)
    settings.require_discord()
    # Imported here so the one-shot commands never pay for discord.py's import.
    from bot import runner

    return runner.run(settings)


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
        if request.seed_drawn:
            console.note(f"seed {request.params['seed']} (drawn at random; --param seed=N repeats it)")
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
    request = with_drawn_seed(request, random.Random())
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
    candidates = inspect_nodes(data, app=args.app)
    if args.app:
        heading = f"AI app {target}: {len(candidates)} editable input(s)"
        block = render_toml(alias, candidates, webapp_id=target, description=f"AI app {target}")
    else:
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


async def _check_runninghub(
    settings: Settings, workflows: Sequence[tuple[str, Workflow]], console: Console
) -> bool:
    """Each (label, alias) against its live workflow; the label is the alias, or 'guild G alias'."""
    ok = True
    where = "the in-process simulator" if settings.use_simulator else settings.runninghub_base_url
    async with _runninghub(settings, max_attempts=2, request_timeout=15) as (first, session):
        # Every key of the pool, each shown by its last 4 characters only.
        keys = [SIMULATOR_API_KEY] if settings.use_simulator else list(settings.runninghub_api_keys)
        answering: RunningHubClient | None = None
        for index, api_key in enumerate(keys):
            client = first if index == 0 else RunningHubClient(
                session, first.base_url, api_key, max_attempts=2, request_timeout=15
            )
            try:
                account = await client.account_status()
            except RunningHubError as exc:
                console.print(f"RunningHub ({where}), key {key_tail(api_key)}: {_runninghub_message(exc, settings)}")
                ok = False
                continue
            coins = "unknown" if account.remain_coins is None else str(account.remain_coins)
            money = (
                f", money {account.remain_money} {account.currency or ''}".rstrip()
                if account.remain_money
                else ""
            )
            console.print(
                f"RunningHub ({where}), key {key_tail(api_key)}: reachable; account {account.api_type or '?'},"
                f" coins {coins}{money}, {account.current_task_counts} task(s) running"
            )
            answering = answering or client
        if answering is None:
            return False
        client = answering  # the workflows are the same for every key: checked once
        for label, workflow in workflows:
            if not workflow.enabled:
                console.print(f"  {label}: disabled, not checked")
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
                console.print(f"  {label}: {_runninghub_message(exc, settings)}")
                return False
            except RunningHubError as exc:
                console.print(f"  {label}: cannot fetch {workflow.target}: " + _runninghub_message(exc, settings))
                ok = False
                continue
            if problems:
                ok = False
                flag = " --app" if workflow.webapp_id else ""
                for problem in problems:
                    console.print(f"  {label}: {problem}")
                console.print(f"  {label}: see `python -m bot inspect{flag} {target_id}` for the right ids")
            else:
                console.print(f"  {label}: ok ({len(workflow.inputs)} input(s) match {workflow.target})")
    return ok


async def _server_aliases(path: Path) -> list[tuple[int, Workflow]]:
    """The aliases servers added with /workflow add, from the database."""
    from bot.db.database import Database
    from bot.db.workflow_store import WorkflowStore

    db = await Database.open(path)
    try:
        found = await WorkflowStore(db).server_aliases()
    finally:
        await db.close()
    return [(guild_id, w) for guild_id, aliases in sorted(found.items()) for w in aliases.values()]


async def _check_database(path: Path, console: Console) -> bool:
    from bot.db.database import Database, DatabaseError
    from bot.db.invariants import check_invariants

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
    for side, proxy in (("Discord", settings.discord_proxy), ("RunningHub", net.runninghub_proxy(settings))):
        if proxy is not None:
            console.print(f"settings: {side} is reached through the proxy {proxy.address}")
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
    to_check = [(w.alias, w) for w in registry.workflows.values()]
    has_database = settings.database_path.is_file()
    if has_database:
        ok = asyncio.run(_check_database(settings.database_path, console)) and ok
        server = asyncio.run(_server_aliases(settings.database_path))
        console.print(f"server aliases (added with /workflow add): {len(server)}")
        for guild_id, workflow in server:
            label = f"guild {guild_id} {workflow.alias}"
            console.print(f"  guild {guild_id}: {_describe_workflow(workflow)}")
            if workflow.alias in registry.workflows:
                console.print(f"  {label}: hidden by the workflows.toml alias of the same name; remove one")
                ok = False
            to_check.append((label, workflow))
    if not asyncio.run(_check_runninghub(settings, to_check, console)):
        ok = False
    if not has_database:
        console.print(f"database: {settings.database_path} does not exist yet (created on first run)")
    console.print("all good" if ok else "problems found")
    return EXIT_OK if ok else EXIT_FAILED


# -------------------------------------------------------------------------------------------------
# backup


def cmd_backup(args: argparse.Namespace, console: Console) -> int:
    from bot.db.backup import BackupError, backup

    settings = _settings(console)
    try:
        written = backup(settings.database_path, Path(args.path) if args.path else None)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    console.print(str(written))
    return EXIT_OK


# -------------------------------------------------------------------------------------------------
# simulate


def cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    setup_logging("INFO")  # the simulator needs no settings: it is its own RunningHub
    from bot.runninghub.simulator import SimDataError, load_workflow_files, serve_forever

    extra: dict[str, Any] = {}
    if args.workflows is not None:
        try:
            extra = load_workflow_files(Path(args.workflows))
        except SimDataError as exc:
            console.error(str(exc))
            return EXIT_USAGE
    try:
        asyncio.run(
            serve_forever(
                args.port,
                args.host,
                queue_seconds=args.queue_seconds,
                run_seconds=args.run_seconds,
                extra_workflows=extra,
            )
        )
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

    back = commands.add_parser(
        "backup", help="write a consistent copy of the database, also while the bot runs, and print its path"
    )
    back.add_argument(
        "path", nargs="?", metavar="PATH", help="the file (or folder) to write; default: backup-<UTC time>.db "
        "beside the database"
    )

    sim = commands.add_parser("simulate", help="serve the built-in RunningHub simulator")
    sim.add_argument(
        "--port", type=int, default=DEFAULT_SIMULATOR_PORT, help=f"default {DEFAULT_SIMULATOR_PORT}"
    )
    sim.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    sim.add_argument(
        "--queue-seconds", type=_seconds, default=1.0, metavar="S",
        help="how long a task waits queued (default 1; 0: it runs at once)",
    )  # fmt: skip
    sim.add_argument(
        "--run-seconds", type=_seconds, default=3.0, metavar="S", help="how long a task runs (default 3)"
    )
    sim.add_argument(
        "--workflows", metavar="DIR",
        help="a folder of API-format workflow files named <workflowId>.json, added to the built-in ones",
    )  # fmt: skip
    return parser


def _seconds(text: str) -> float:
    """A number of seconds from 0 to 86400, for argparse (a refusal becomes a usage error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 86400")
    return value


COMMANDS: Mapping[str, Callable[[argparse.Namespace, Console], int]] = {
    "run": cmd_run,
    "generate": cmd_generate,
    "inspect": cmd_inspect,
    "check": cmd_check,
    "simulate": cmd_simulate,
    "backup": cmd_backup,
}


def run_command(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run one command and return its exit code (argparse usage errors still exit 2 themselves)."""
    args = build_parser().parse_args(argv)
    if args.command == "inspect" and not valid_alias(args.alias):
        build_parser().error("--alias must be 1-32 characters of a-z, 0-9, - and _")
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
