"""`python -m bot`: generate / inspect / check / simulate / run, in-process and as real processes.

Every test runs with cwd = tmp_path and an explicit environment, so a `.env` in the repository
never leaks in. In-process runs call `bot.cli.main`; the asyncio tests host a simulator on a
port in the test's loop and run the CLI in a worker thread (it calls `asyncio.run` itself).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from PIL import Image

from bot import cli, inspect_workflow
from bot.config import SIMULATOR_API_KEY, settings_from_mapping
from bot.jobs.pipeline import InputFile, validate_request
from bot.runninghub.simulator import Simulator
from bot.runninghub.types import TaskOutputs, TaskState
from bot.workflows import load_workflows, parse_workflows
from tests.samples import png_bytes

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / "data" / "workflows.toml"
OUR_PREFIXES = ("RUNNINGHUB_", "DISCORD_", "WEBHOOK_", "DATABASE_", "WORKFLOWS_", "POLL_", "LOG_LEVEL")


def is_png(path: Path) -> bool:
    with Image.open(path) as picture:
        return picture.format == "PNG"


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """The CLI configures the root logger; give the next test the one it had."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """cwd = tmp_path, none of our settings from outside, workflows from the repository."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(OUR_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WORKFLOWS_PATH", str(WORKFLOWS))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.db"))
    monkeypatch.setenv("POLL_INTERVAL", "0.05")
    # The in-process simulator's stages, shortened for tests.
    monkeypatch.setattr(cli, "SIM_QUEUE_SECONDS", 0.05)
    monkeypatch.setattr(cli, "SIM_RUN_SECONDS", 0.1)
    monkeypatch.setattr(cli, "SIM_POLL_INTERVAL", 0.02)
    return monkeypatch


@pytest.fixture
async def sim(env: pytest.MonkeyPatch) -> AsyncIterator[Simulator]:
    simulator = Simulator(queue_seconds=0.05, run_seconds=0.1, image_size=(48, 32), seed=11)
    await simulator.start()
    env.setenv("RUNNINGHUB_BASE_URL", simulator.base_url)
    env.setenv("RUNNINGHUB_API_KEY", SIMULATOR_API_KEY)
    yield simulator
    await simulator.stop()


def run_main(argv: list[str]) -> int:
    try:
        cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


async def run_in_thread(*argv: str) -> int:
    return await asyncio.to_thread(run_main, list(argv))


async def until_running(sim: Simulator) -> None:
    """Wait (at most 30 s) until the simulator has a task in the RUNNING stage."""
    for _ in range(1500):
        if any(t.state == "RUNNING" for t in sim.tasks.values()):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no task reached RUNNING")


def error_line(err: str) -> str:
    """The single `error:` line (and nothing that looks like a traceback)."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert err.rstrip("\n").splitlines()[-1] == errors[0]
    return errors[0]


def process_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(OUR_PREFIXES)}
    base.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        WORKFLOWS_PATH=str(WORKFLOWS),
        DATABASE_PATH=str(tmp_path / "bot.db"),
    )
    base.update(settings)
    return base


# ------------------------------------------------------------------------------------------- generate


async def test_generate_style_transfer_against_a_simulator_on_a_port(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.png").write_bytes(source := png_bytes((250, 10, 10)))
    (tmp_path / "b.png").write_bytes(style := png_bytes((10, 10, 250)))
    out = tmp_path / "results"

    code = await run_in_thread(
        "generate", "style-transfer", "--image", "a.png", "--image", "b.png", "--out", str(out)
    )

    captured = capsys.readouterr()
    assert code == 0, captured.err
    uploads = sim.requests_to("/task/openapi/upload")
    assert len(uploads) == 2
    names = {data: name for name, data in sim.uploads.items()}
    (create,) = sim.creates()
    assert create.json["workflowId"] == "2014552598229032961"
    assert create.json["nodeInfoList"] == [
        {"nodeId": "21", "fieldName": "image", "fieldValue": names[source]},
        {"nodeId": "24", "fieldName": "image", "fieldValue": names[style]},
    ]
    (task_id,) = sim.tasks
    assert sim.requests_to("/task/openapi/outputs")  # it polled
    paths = [Path(line) for line in captured.out.splitlines()]
    assert paths == [out / f"style-transfer-{task_id}-1.png"]
    assert all(is_png(p) for p in paths)
    assert not list(out.glob("*.part"))
    assert "\r" not in captured.err  # not a terminal: plain progress lines
    assert f"task {task_id}: queued" in captured.err or f"task {task_id}: running" in captured.err


def test_generate_z_image_with_the_in_process_simulator(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    code = run_main(["generate", "z-image", "--prompt", "a lighthouse at dusk", "--param", "seed=7"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (line,) = captured.out.splitlines()
    path = Path(line)
    assert path.parent == Path("outputs") and path.name.startswith("z-image-") and path.suffix == ".png"
    assert is_png(tmp_path / path)
    assert "drawn at random" not in captured.err  # the seed was given


def test_generate_as_a_real_process_with_the_simulator(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "generate", "z-image", "--prompt", "a lighthouse", "--out", "out"],
        cwd=tmp_path,
        env=process_env(tmp_path, RUNNINGHUB_BASE_URL="simulator"),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert is_png(tmp_path / line)
    assert "Traceback" not in result.stderr and "submitted z-image as RunningHub task" in result.stderr
    assert re.search(r"seed \d+ \(drawn at random", result.stderr)  # no seed given: one is drawn and shown


# ------------------------------------------------------------------------------------------- Ctrl-C


async def test_cancelling_the_run_cancels_the_remote_task(sim: Simulator, tmp_path: Path) -> None:
    sim.run_seconds = 60
    settings = settings_from_mapping(
        {"RUNNINGHUB_BASE_URL": sim.base_url, "RUNNINGHUB_API_KEY": SIMULATOR_API_KEY}
    )
    workflow = load_workflows(WORKFLOWS).get("z-image")
    request = validate_request(workflow, prompt="a long one", files={}, params=None)
    remote = cli._Remote()
    console = cli.Console(io.StringIO(), io.StringIO())
    job = asyncio.create_task(
        cli.run_generate(settings, request, tmp_path, console, remote, poll_interval=0.02)
    )
    await until_running(sim)
    job.cancel()  # what asyncio.run does with the main task on Ctrl-C
    with pytest.raises(asyncio.CancelledError):
        await job
    (task_id,) = sim.tasks
    cancels = sim.requests_to("/task/openapi/cancel")
    assert [c.json["taskId"] for c in cancels] == [task_id]
    assert remote.task_id == task_id and remote.cancelled
    assert sim.tasks[task_id].state == "FAILED"


async def test_cancelling_while_the_create_is_in_flight_still_cancels_the_task(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.run_seconds = 60
    sim.hang_next(1, path="/task/openapi/create", seconds=0.3)  # then it is processed: a task exists
    settings = settings_from_mapping(
        {"RUNNINGHUB_BASE_URL": sim.base_url, "RUNNINGHUB_API_KEY": SIMULATOR_API_KEY}
    )
    request = validate_request(load_workflows(WORKFLOWS).get("z-image"), prompt="x", files={}, params=None)
    remote = cli._Remote()
    console = cli.Console(io.StringIO(), io.StringIO())
    job = asyncio.create_task(
        cli.run_generate(settings, request, tmp_path, console, remote, poll_interval=0.02)
    )
    for _ in range(500):
        if sim.creates():
            break
        await asyncio.sleep(0.01)
    assert sim.creates() and not sim.tasks  # the create was sent and has not been answered yet
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    (task_id,) = sim.tasks
    assert [c.json["taskId"] for c in sim.requests_to("/task/openapi/cancel")] == [task_id]
    assert remote.cancelled and sim.tasks[task_id].state == "FAILED"


async def test_ctrl_c_on_a_real_process_cancels_the_remote_task(sim: Simulator, tmp_path: Path) -> None:
    sim.run_seconds = 60
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "generate",
        "z-image",
        "--prompt",
        "slow",
        cwd=tmp_path,
        env=process_env(
            tmp_path,
            RUNNINGHUB_BASE_URL=sim.base_url,
            RUNNINGHUB_API_KEY=SIMULATOR_API_KEY,
            POLL_INTERVAL="0.05",
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):
            await until_running(sim)
            process.send_signal(signal.SIGINT)
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
    err = stderr.decode()
    assert process.returncode == 130, err
    (task_id,) = sim.tasks
    assert [c.json["taskId"] for c in sim.requests_to("/task/openapi/cancel")] == [task_id]
    assert error_line(err) == f"error: interrupted; RunningHub task {task_id} was cancelled"
    assert stdout == b""


# ------------------------------------------------------------------------------------------- bad input


def write_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png_bytes((1, 2, 3)))
    (tmp_path / "notes.png").write_text("shopping list: eggs, milk\n")
    wav = io.BytesIO()
    import wave

    with wave.open(wav, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 50)
    (tmp_path / "voice.png").write_bytes(wav.getvalue())
    with (tmp_path / "huge.png").open("wb") as big:  # sparse: 31 MB on paper, nothing on disk
        big.write(png_bytes((1, 1, 1)))
        big.truncate(31 * 1024 * 1024)


BAD_INPUTS = [
    (
        ["generate", "nope", "--prompt", "x"],
        "There is no workflow named 'nope'; available: animate, style-transfer",
    ),
    (["generate", "style-transfer", "--image", "a.png"], "The workflow 'style-transfer' needs 'image2'."),
    (["generate", "z-image"], "The workflow 'z-image' needs 'prompt'."),
    (["generate", "upscale", "--image", "notes.png"], "'notes.png' (image) is not a supported image"),
    (["generate", "upscale", "--image", "voice.png"], "is not an image: its content is WAV"),
    (
        ["generate", "upscale", "--image", "huge.png"],
        "'huge.png' is 31.0 MB; RunningHub accepts at most 30 MB",
    ),
    (
        ["generate", "z-image", "--prompt", "x", "--param", "steps=500"],
        "'steps' must be at most 60, not 500.",
    ),
    (
        ["generate", "z-image", "--prompt", "x", "--param", "colour=red"],
        "'colour' is not a parameter of 'z-image'",
    ),
    (["generate", "z-image", "--prompt", "x" * 1501], "The prompt is 1501 characters long"),
    (["generate", "z-image", "--prompt", "x", "--image", "a.png"], "does not take 'image'"),
    (["generate", "upscale"] + ["--image", "a.png"] * 4, "At most 3 images can be given, got 4."),
    (["generate", "upscale", "--image", "missing.png"], "cannot read missing.png: No such file or directory"),
]


@pytest.mark.parametrize(("argv", "words"), BAD_INPUTS, ids=[a[1] for a, _ in BAD_INPUTS])
async def test_bad_input_is_one_sentence_and_nothing_is_sent(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    write_bad_inputs(tmp_path)
    code = await run_in_thread(*argv)
    captured = capsys.readouterr()
    assert code == 1
    assert words in error_line(captured.err)
    assert captured.out == ""
    assert sim.requests == []  # refused before anything reached RunningHub
    assert not (tmp_path / "outputs").exists()


async def test_unreachable_runninghub(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], unused_tcp_port: int
) -> None:
    env.setenv("RUNNINGHUB_BASE_URL", f"http://127.0.0.1:{unused_tcp_port}")
    env.setenv("RUNNINGHUB_API_KEY", "k" * 32)
    code = await run_in_thread("generate", "z-image", "--prompt", "x")
    line = error_line(capsys.readouterr().err)
    assert code == 1
    assert line.startswith(f"error: Cannot reach RunningHub at http://127.0.0.1:{unused_tcp_port}")


async def test_wrong_key_mentions_the_two_sites_and_never_the_key(
    sim: Simulator, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "wrongkey0000000000000000000000ab"
    env.setenv("RUNNINGHUB_API_KEY", wrong)
    code = await run_in_thread("generate", "z-image", "--prompt", "x")
    captured = capsys.readouterr()
    line = error_line(captured.err)
    assert code == 1
    assert "runninghub.ai" in line and "runninghub.cn" in line and "key" in line
    assert wrong not in captured.err + captured.out
    assert sim.tasks == {}


CUSTOM = """
[workflows.draft]
workflow_id = "1999999999999999999"
description = "Never run on the website"
cost = 1

[[workflows.draft.inputs]]
name = "prompt"
kind = "text"
node_id = "6"
field = "text"
required = true

[workflows.typo]
workflow_id = "2016195556967714818"
description = "z-image with a wrong node id"
cost = 1

[[workflows.typo.inputs]]
name = "prompt"
kind = "text"
node_id = "66"
field = "text"
required = true
"""


@pytest.mark.parametrize(
    ("alias", "words"),
    [
        ("draft", "a person opens it on the RunningHub website and runs it once"),
        ("typo", "run `python -m bot inspect WORKFLOW_ID`"),
    ],
)
async def test_workflow_problems_reported_by_runninghub(
    sim: Simulator,
    env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    alias: str,
    words: str,
) -> None:
    (tmp_path / "workflows.toml").write_text(CUSTOM)
    env.setenv("WORKFLOWS_PATH", str(tmp_path / "workflows.toml"))
    code = await run_in_thread("generate", alias, "--prompt", "x")
    assert code == 1
    assert words in error_line(capsys.readouterr().err)
    assert sim.tasks == {}


async def test_a_failed_task_shows_the_node_and_exception(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.fail_next_task(
        {
            "node_id": "3",
            "node_name": "KSampler",
            "exception_type": "torch.OutOfMemoryError",
            "exception_message": "CUDA out of memory",
            "traceback": "File x.py, line 1",
        }
    )
    code = await run_in_thread("generate", "z-image", "--prompt", "x")
    captured = capsys.readouterr()
    assert code == 1
    assert error_line(captured.err) == (
        "error: The RunningHub task failed: node 3 (KSampler) failed: "
        "torch.OutOfMemoryError: CUDA out of memory."
    )
    assert captured.out == "" and not (tmp_path / "outputs").exists()


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"RUNNINGHUB_BASE_URL": "ftp://example.com"}, "RUNNINGHUB_BASE_URL must be"),
        ({"RUNNINGHUB_BASE_URL": "https://www.runninghub.cn"}, "RUNNINGHUB_API_KEY is not set"),
        ({"RUNNINGHUB_BASE_URL": "simulator", "POLL_INTERVAL": "soon"}, "POLL_INTERVAL must be a number"),
    ],
)
def test_bad_settings_exit_2_with_one_line(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], settings: dict[str, str], words: str
) -> None:
    for name, value in settings.items():
        env.setenv(name, value)
    assert run_main(["generate", "z-image", "--prompt", "x"]) == 2
    assert words in error_line(capsys.readouterr().err)


def test_a_bad_workflows_file_exits_2_naming_alias_and_key(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.toml").write_text(CUSTOM.replace("cost = 1", "cost = -3", 1))
    env.setenv("WORKFLOWS_PATH", str(tmp_path / "bad.toml"))
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    assert run_main(["generate", "draft", "--prompt", "x"]) == 2
    line = error_line(capsys.readouterr().err)
    assert "workflow 'draft'" in line and "key 'cost'" in line and "whole number >= 0" in line


def test_a_dotenv_in_the_working_directory_is_read(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("RUNNINGHUB_BASE_URL=gopher://nowhere\n")
    assert run_main(["generate", "z-image", "--prompt", "x"]) == 2
    assert "gopher://nowhere" in error_line(capsys.readouterr().err)


# ------------------------------------------------------------------------------------------- inspect


def toml_block(out: str) -> str:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("[workflows."))
    return "\n".join(lines[start:]) + "\n"


def test_inspect_style_transfer_lists_21_and_24_and_prints_a_valid_block(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    assert run_main(["inspect", "2014552598229032961"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line[:1].isdigit()}
    assert "LoadImage" in rows["21"] and "image" in rows["21"]
    assert "LoadImage" in rows["24"]
    workflow = parse_workflows(toml_block(out)).get("my-workflow")
    assert workflow.workflow_id == "2014552598229032961"
    image, image2 = workflow.input("image"), workflow.input("image2")
    assert image is not None and (image.node_id, image.field, image.required) == ("21", "image", True)
    assert image2 is not None and (image2.node_id, image2.field) == ("24", "image")
    prompt, negative = workflow.input("prompt"), workflow.input("negative")
    assert prompt is not None and prompt.node_id == "6"
    assert negative is not None and negative.node_id == "7"
    seed = workflow.input("seed")
    assert seed is not None and seed.default == 88412873 and seed.node_id == "3"  # the workflow's own value


def test_inspect_follows_conditioning_links_and_names_numbers(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    assert run_main(["inspect", "1990000000000000003", "--alias", "animate-2"]) == 0
    workflow = parse_workflows(toml_block(capsys.readouterr().out)).get("animate-2")
    assert [(i.name, i.node_id, i.field) for i in workflow.option_inputs] == [
        ("image", "52", "image"),
        ("prompt", "6", "text"),
    ]
    length = workflow.input("length")
    assert length is not None and (length.node_id, length.default) == ("55", 49)
    negative = workflow.input("negative")
    assert negative is not None and negative.node_id == "7"  # found through WanImageToVideo


def test_inspect_an_ai_app(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    assert run_main(["inspect", "--app", "1937000000000000001"]) == 0
    workflow = parse_workflows(toml_block(capsys.readouterr().out)).get("my-workflow")
    assert workflow.webapp_id == "1937000000000000001"
    assert [(i.name, i.kind, i.node_id) for i in workflow.inputs] == [
        ("image", "image", "39"),
        ("prompt", "text", "52"),
        ("steps", "int", "61"),
    ]


def test_inspect_of_an_unknown_workflow(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    assert run_main(["inspect", "123"]) == 1
    assert "no workflow with that id" in error_line(capsys.readouterr().err)
    assert run_main(["inspect", "abc"]) == 1
    assert "is not an id" in error_line(capsys.readouterr().err)


def test_inspect_pure_helpers_handle_awkward_graphs() -> None:
    graph = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "a.png", "upload": "image"}},
        "2": {"class_type": "LoadImage", "inputs": {"image": "b.png"}},
        "3": {"class_type": "LoadImage", "inputs": {"image": "c.png"}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "d.png"}},
        "5": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": 'say "hi"\n\x7f', "clip": ["9", 1]},
            "_meta": {"title": "反向提示词"},
        },
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "pos", "clip": ["9", 1]}},
        "7": {
            "class_type": "KSampler",
            "inputs": {"seed": 2**63, "steps": 500, "cfg": 8, "positive": ["6", 0], "negative": ["5", 0]},
        },
        "8": {"class_type": "Other", "inputs": {"steps": 4}},
        "10": {"class_type": "LoadAudio", "inputs": {"audio": "x.wav"}},
    }
    candidates = inspect_workflow.inspect_workflow_nodes(graph)
    named = {c.name: (c.node_id, c.field) for c in candidates if c.name}
    assert (
        named["image"] == ("1", "image")
        and named["image3"] == ("3", "image")
        and named["audio"] == ("10", "audio")
    )
    assert named["prompt"] == ("6", "text") and named["negative"] == ("5", "text")
    assert named["steps"] == ("7", "steps") and named["steps_8"] == ("8", "steps")
    assert any(c.node_id == "4" and c.name is None and c.note for c in candidates)
    block = inspect_workflow.render_toml("x", candidates, workflow_id="1", description="Test")
    workflow = parse_workflows(block).get("x")
    steps = workflow.input("steps")
    assert steps is not None and steps.default == 500 and steps.max == 500  # widened to fit the current value
    cfg = workflow.input("cfg")
    assert cfg is not None and cfg.kind == "float" and cfg.default == 8.0
    table = inspect_workflow.render_table(candidates)
    assert "反向提示词" in table and "\n\n" not in table


# ------------------------------------------------------------------------------------------- check


def test_check_all_good_with_the_simulator_and_a_database(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.db.database import Database

    async def make_db() -> None:
        db = await Database.open(tmp_path / "bot.db")
        await db.close()

    asyncio.run(make_db())
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    env.setenv("DISCORD_TOKEN", "token.for.the.check.test")
    code = run_main(["check"])
    out = capsys.readouterr().out
    assert code == 0, out
    for alias in ("z-image", "style-transfer", "upscale", "voice-clone", "animate"):
        assert f"  {alias}: ok" in out
    assert "coins 100000" in out and "0 task(s) running" in out
    assert "the books balance" in out and out.rstrip().endswith("all good")
    assert "token.for.the.check.test" not in out


def test_check_names_the_wrong_alias_and_points_at_inspect(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "workflows.toml").write_text(CUSTOM)
    env.setenv("WORKFLOWS_PATH", str(tmp_path / "workflows.toml"))
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    code = run_main(["check"])
    out = capsys.readouterr().out
    assert code == 1
    assert "DISCORD_TOKEN is not set" in out
    assert "  typo: input 'prompt': node 66 is not in the workflow" in out
    assert "  typo: see `python -m bot inspect 2016195556967714818`" in out
    assert "  draft: ok" in out
    assert "does not exist yet" in out and out.rstrip().endswith("problems found")


def test_check_validates_the_server_aliases_stored_in_the_database(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.db.database import Database
    from bot.db.workflow_store import WorkflowStore
    from bot.workflows import SERVER, Workflow, WorkflowInput

    good = load_workflows(WORKFLOWS).get("z-image")
    good = Workflow(**{**good.__dict__, "alias": "cats", "origin": SERVER})
    broken = Workflow(
        alias="dogs",
        description="d",
        cost=1,
        workflow_id="2016195556967714818",
        inputs=(WorkflowInput(name="prompt", kind="text", node_id="66", field="text", required=True),),
        origin=SERVER,
    )

    async def make_db() -> None:
        db = await Database.open(tmp_path / "bot.db")
        store = WorkflowStore(db)
        assert await store.add(111, good, actor_id=1) and await store.add(222, broken, actor_id=1)
        await db.close()

    asyncio.run(make_db())
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    env.setenv("DISCORD_TOKEN", "token.for.the.check.test")
    code = run_main(["check"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "server aliases (added with /workflow add): 2" in out
    assert "  guild 111 cats: ok (6 input(s) match workflow 2016195556967714818)" in out
    assert "  guild 222 dogs: input 'prompt': node 66 is not in the workflow" in out
    assert "  z-image: ok" in out and out.rstrip().endswith("problems found")


async def test_check_with_a_wrong_key_and_with_runninghub_down(
    sim: Simulator, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], unused_tcp_port: int
) -> None:
    env.setenv("DISCORD_TOKEN", "x")
    env.setenv("RUNNINGHUB_API_KEY", "not-the-key-0000000000000000000a")
    assert await run_in_thread("check") == 1
    out = capsys.readouterr().out
    assert "runninghub.ai" in out and "not-the-key" not in out
    env.setenv("RUNNINGHUB_BASE_URL", f"http://127.0.0.1:{unused_tcp_port}")
    assert await run_in_thread("check") == 1
    assert "Cannot reach RunningHub" in capsys.readouterr().out


async def test_check_shows_each_key_of_the_pool_by_its_last_four_characters(
    sim: Simulator, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good, other, refused = SIMULATOR_API_KEY, "goodkey2" + "0" * 20 + "GOD2", "badkey00" + "0" * 20 + "BAD3"
    sim.add_key(other, coins=777)
    sim.revoke_key(refused)
    env.setenv("DISCORD_TOKEN", "x")
    env.setenv("RUNNINGHUB_API_KEY", f"{good},{other},{refused}")
    assert await run_in_thread("check") == 1  # one key is refused: not all good
    out = capsys.readouterr().out
    assert f"key …{good[-4:]}: reachable; account NORMAL, coins 100000, 0 task(s) running" in out
    assert "key …GOD2: reachable; account NORMAL, coins 777, 0 task(s) running" in out
    assert "key …BAD3: RunningHub rejected the API key" in out
    assert "  z-image: ok" in out  # the workflows are checked with a key that answers
    for key in (good, other, refused):
        assert key[:-4] not in out and key[-5:] not in out


# ------------------------------------------------------------------------------------------- run / simulate


def test_run_without_a_token(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("RUNNINGHUB_BASE_URL", "simulator")
    assert run_main([]) == 2
    assert "DISCORD_TOKEN" in error_line(capsys.readouterr().err)


async def test_simulate_serves_until_ctrl_c(tmp_path: Path, unused_tcp_port: int) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "simulate",
        "--port",
        str(unused_tcp_port),
        cwd=tmp_path,
        env=process_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(30):
            assert process.stdout is not None
            first = (await process.stdout.readline()).decode()
            assert f"http://127.0.0.1:{unused_tcp_port}" in first
            process.send_signal(signal.SIGINT)
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0
    assert "Traceback" not in stderr.decode()


def test_usage_errors_exit_2(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["generate"]) == 2
    assert run_main(["inspect", "1", "--alias", "Bad Alias"]) == 2
    assert run_main(["frobnicate"]) == 2


# ------------------------------------------------------------------------------------------- progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_rewrites_one_line_on_a_terminal_and_writes_lines_otherwise() -> None:
    queued = TaskOutputs(TaskState.QUEUED, [], None, None, None)
    running = TaskOutputs(TaskState.RUNNING, [], None, None, None)

    terminal = FakeTerminal()
    progress = cli.Progress(cli.Console(io.StringIO(), terminal), "42")
    for state, elapsed in ((queued, 0.0), (queued, 5.0), (running, 12.4)):
        progress(state, elapsed)
    progress.finish()
    assert terminal.getvalue().count("\r") == 3 and terminal.getvalue().endswith("\n")
    assert "task 42: running, 12 s" in terminal.getvalue()

    log_file = io.StringIO()
    progress = cli.Progress(cli.Console(io.StringIO(), log_file), "42")
    for state, elapsed in ((queued, 0.0), (queued, 5.0), (queued, 31.0), (running, 32.0), (running, 40.0)):
        progress(state, elapsed)
    progress.finish()
    assert log_file.getvalue().splitlines() == [
        "task 42: queued, 0 s",
        "task 42: queued, 31 s",
        "task 42: running, 32 s",
    ]


def test_input_files_keep_their_names_for_messages(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(png_bytes((0, 0, 0)))
    item = cli._read_input("image", str(tmp_path / "cat.png"))
    assert item == InputFile("image", "cat.png", png_bytes((0, 0, 0)))
