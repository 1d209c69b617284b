"""The shared job stages: validation refusals, nodeInfoList, upload/submit, downloads, waiting."""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from bot.config import SIMULATOR_API_KEY
from bot.errors import UserError
from bot.jobs.pipeline import (
    InputFile,
    JobRequest,
    OutputTooLarge,
    Reused,
    build_node_info,
    download_output,
    job_record,
    submit,
    upload_inputs,
    validate_request,
    wait_for_task,
    with_drawn_seed,
)
from bot.media import MAX_UPLOAD_BYTES
from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import RequestError, TaskNotFound, TransientError
from bot.runninghub.simulator import Simulator
from bot.runninghub.types import NodeInfo, TaskOutputs, TaskState
from bot.workflows import WorkflowRegistry, load_workflows, parse_workflows
from tests.samples import png_bytes, wav_bytes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registry() -> WorkflowRegistry:
    return load_workflows(ROOT / "data" / "workflows.toml")


def image(option: str, data: bytes | None = None, name: str | None = None) -> InputFile:
    return InputFile(option, name or f"{option}.png", png_bytes() if data is None else data)


# ---------------------------------------------------------------------------------------- validation


def refusal(registry: WorkflowRegistry, alias: str, **kwargs: object) -> UserError:
    kwargs.setdefault("prompt", None)
    kwargs.setdefault("files", {})
    kwargs.setdefault("params", None)
    with pytest.raises(UserError) as info:
        validate_request(registry.get(alias), **kwargs)  # type: ignore[arg-type]
    assert info.value.render("zh-CN")
    return info.value


def test_refuses_an_option_the_workflow_does_not_take(registry: WorkflowRegistry) -> None:
    error = refusal(
        registry, "style-transfer", prompt="a cat", files={"image": image("image"), "image2": image("image2")}
    )
    assert error.key == "workflow.option_not_taken"
    assert error.render() == "The workflow 'style-transfer' does not take 'prompt'; it takes: image, image2."
    error = refusal(registry, "z-image", prompt="a cat", files={"image": image("image")})
    assert error.key == "workflow.option_not_taken" and error.params["option"] == "image"


def test_refuses_a_missing_required_input(registry: WorkflowRegistry) -> None:
    error = refusal(registry, "style-transfer", files={"image": image("image")})
    assert error.key == "workflow.input_missing" and error.params["option"] == "image2"
    assert refusal(registry, "z-image").params["option"] == "prompt"
    assert refusal(registry, "z-image", prompt="   \n").key == "workflow.input_missing"


def test_refuses_files_by_their_content_not_their_name(registry: WorkflowRegistry) -> None:
    text = image("image", b"just some notes, saved as a .png\n", "photo.png")
    error = refusal(registry, "upscale", files={"image": text})
    assert error.key == "workflow.file_unknown_image"
    assert "'photo.png' (image) is not a supported image" in error.render()

    sound = image("image", wav_bytes(100), "photo.png")
    error = refusal(registry, "upscale", files={"image": sound})
    assert error.key == "workflow.file_not_image" and error.params["detected"] == "WAV"

    picture = InputFile("audio", "voice.wav", png_bytes())
    error = refusal(registry, "voice-clone", prompt="hello", files={"audio": picture})
    assert error.key == "workflow.file_not_audio" and error.params["detected"] == "PNG"


def test_refuses_empty_and_oversized_files(registry: WorkflowRegistry) -> None:
    error = refusal(registry, "upscale", files={"image": image("image", b"")})
    assert error.key == "workflow.file_empty"
    huge = png_bytes() + b"\x00" * (MAX_UPLOAD_BYTES + 1 - len(png_bytes()))
    error = refusal(registry, "upscale", files={"image": image("image", huge, "big.png")})
    assert error.key == "workflow.file_too_large"
    assert error.render() == "The file 'big.png' is 30.0 MB; RunningHub accepts at most 30 MB per file."


def test_refuses_a_long_prompt_and_bad_params(registry: WorkflowRegistry) -> None:
    error = refusal(registry, "z-image", prompt="x" * 1501)
    assert error.key == "workflow.prompt_too_long" and error.params["maximum"] == 1500
    error = refusal(registry, "z-image", prompt="a cat", params="steps=61")
    assert error.key == "workflow.param_too_large"
    error = refusal(registry, "upscale", files={"image": image("image")}, params="model=other.pth")
    assert error.key == "workflow.param_not_choice"


def test_refuses_a_missing_required_param() -> None:
    workflow = parse_workflows(
        """
[workflows.demo]
workflow_id = "1"
description = "d"
cost = 1

[[workflows.demo.inputs]]
name = "style"
kind = "text"
node_id = "2"
field = "text"
required = true
"""
    ).get("demo")
    with pytest.raises(UserError) as info:
        validate_request(workflow, prompt=None, files={}, params="")
    assert info.value.key == "workflow.param_missing" and info.value.params["name"] == "style"
    assert validate_request(workflow, prompt=None, files={}, params="style=ink").params == {"style": "ink"}


def test_accepts_a_good_request(registry: WorkflowRegistry) -> None:
    files = {"image": image("image"), "image2": image("image2", png_bytes((0, 0, 255)))}
    request = validate_request(registry.get("style-transfer"), prompt=None, files=files, params=None)
    assert request.files == files and request.prompt is None and request.params == {}
    request = validate_request(registry.get("z-image"), prompt="  a cat  ", files={}, params="seed=42")
    assert request.prompt == "a cat" and request.params == {"seed": 42}


def test_files_of_an_earlier_job_count_as_given(registry: WorkflowRegistry) -> None:
    style = registry.get("style-transfer")
    reused = {"image": Reused("cat.png", "api/cat.png"), "image2": Reused("ink.png", "api/ink.png")}
    request = validate_request(style, prompt=None, files={}, params=None, reused=reused)
    assert request.reused == reused and request.files == {}
    # a fresh file for an option replaces the earlier one
    request = validate_request(style, prompt=None, files={"image2": image("image2")}, params=None, reused=reused)
    assert set(request.reused) == {"image"} and set(request.files) == {"image2"}
    assert refusal(registry, "style-transfer", reused={"image": reused["image"]}).key == "workflow.input_missing"
    # an alias that no longer takes an option refuses it, as /generate would
    assert refusal(registry, "upscale", reused=reused).key == "workflow.option_not_taken"


def test_a_seed_is_drawn_and_recorded_with_the_file_names(registry: WorkflowRegistry) -> None:
    z = registry.get("z-image")
    request = with_drawn_seed(validate_request(z, prompt="a cat", files={}, params="steps=30"), random.Random(5))
    assert request.seed_drawn and isinstance(request.params["seed"], int) and request.params["steps"] == 30
    record = job_record(request, {})
    assert record.seed == request.params["seed"] and record.seed_drawn
    assert {"node_id": "3", "field_name": "seed", "field_value": record.seed} in record.nodes
    typed = with_drawn_seed(validate_request(z, prompt="a cat", files={}, params="seed=7"), random.Random(5))
    assert typed.params == {"seed": 7} and not typed.seed_drawn

    style = registry.get("style-transfer")
    request = validate_request(style, prompt=None, files={"image2": image("image2", name="my ink.png")},
                               params=None, reused={"image": Reused("cat.png", "api/cat.png")})
    record = job_record(request, {"image": "api/cat.png", "image2": "api/new.png"})
    assert record.files == {"image": "cat.png", "image2": "my ink.png"}
    assert record.uploads == {"image": "api/cat.png", "image2": "api/new.png"}


# ---------------------------------------------------------------------------------------- nodeInfoList


def test_node_info_uses_given_values_then_defaults_and_leaves_the_rest(registry: WorkflowRegistry) -> None:
    z = registry.get("z-image")
    request = validate_request(z, prompt="a cat", files={}, params=None)
    assert build_node_info(request, {}) == [
        NodeInfo("6", "text", "a cat"),
        NodeInfo("7", "text", ""),
        NodeInfo("3", "steps", 25),
        NodeInfo("5", "width", 1024),
        NodeInfo("5", "height", 1024),
    ]  # no seed: the workflow's own applies
    request = validate_request(z, prompt="a cat", files={}, params="seed=42 steps=30 negative='dark, gloomy'")
    nodes = {(n.node_id, n.field_name): n.field_value for n in build_node_info(request, {})}
    assert (
        nodes[("3", "seed")] == 42 and nodes[("3", "steps")] == 30 and nodes[("7", "text")] == "dark, gloomy"
    )

    animate = registry.get("animate")
    request = validate_request(animate, prompt=None, files={"image": image("image")}, params=None)
    assert build_node_info(request, {"image": "api/abc.png"}) == [
        NodeInfo("52", "image", "api/abc.png"),
        NodeInfo("6", "text", "gentle camera motion"),
        NodeInfo("55", "length", 49),
    ]


# ---------------------------------------------------------------------------------------- with the simulator


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    sim = Simulator(queue_seconds=0.03, run_seconds=0.08, image_size=(40, 30), seed=3)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(simulator: Simulator, http: aiohttp.ClientSession) -> RunningHubClient:
    async def no_sleep(_seconds: float) -> None:
        await asyncio.sleep(0)

    return RunningHubClient(http, simulator.base_url, SIMULATOR_API_KEY, request_timeout=5, sleep=no_sleep)


async def test_upload_and_submit_put_the_uploaded_names_on_the_nodes(
    registry: WorkflowRegistry, simulator: Simulator, client: RunningHubClient
) -> None:
    source, style = png_bytes((255, 0, 0)), png_bytes((0, 255, 0))
    files = {"image": InputFile("image", "holiday.txt", source), "image2": InputFile("image2", "ref", style)}
    request = validate_request(registry.get("style-transfer"), prompt=None, files=files, params=None)

    uploaded = await upload_inputs(client, request)
    assert set(uploaded) == {"image", "image2"}
    again = validate_request(request.workflow, prompt=None, files={}, params=None,
                             reused={o: Reused(f.filename, uploaded[o]) for o, f in files.items()})
    assert await upload_inputs(client, again) == uploaded  # nothing sent twice
    assert simulator.uploads[uploaded["image"]] == source and simulator.uploads[uploaded["image2"]] == style
    assert all(name.endswith(".png") for name in uploaded.values())  # the sniffed extension, not the name's
    assert [r.file_name for r in simulator.requests_to("/task/openapi/upload")] == ["image.png", "image2.png"]

    created = await submit(client, request.workflow, build_node_info(request, uploaded))
    (create,) = simulator.creates()
    assert create.json["workflowId"] == "2014552598229032961"
    assert create.json["nodeInfoList"] == [
        {"nodeId": "21", "fieldName": "image", "fieldValue": uploaded["image"]},
        {"nodeId": "24", "fieldName": "image", "fieldValue": uploaded["image2"]},
    ]
    assert "instanceType" not in create.json
    assert created.task_id in simulator.tasks


async def test_submit_runs_ai_apps_and_passes_plus_instances(
    simulator: Simulator, client: RunningHubClient
) -> None:
    registry = parse_workflows(
        """
[workflows.sketch]
webapp_id = "1937000000000000001"
description = "Photo to sketch"
cost = 1
instance_type = "plus"

[[workflows.sketch.inputs]]
name = "image"
kind = "image"
node_id = "39"
field = "image"
required = true
"""
    )
    request = validate_request(
        registry.get("sketch"), prompt=None, files={"image": image("image")}, params=None
    )
    uploaded = await upload_inputs(client, request)
    created = await submit(client, request.workflow, build_node_info(request, uploaded))
    (run,) = simulator.creates()
    assert run.path == "/task/openapi/ai-app/run"
    assert run.json["webappId"] == "1937000000000000001" and run.json["instanceType"] == "plus"
    assert simulator.tasks[created.task_id].webapp_id == "1937000000000000001"


async def test_wait_then_download_a_real_output(
    registry: WorkflowRegistry, simulator: Simulator, client: RunningHubClient, http: aiohttp.ClientSession
) -> None:
    request = validate_request(registry.get("z-image"), prompt="a red boat", files={}, params=None)
    created = await submit(client, request.workflow, build_node_info(request, {}))
    seen: list[TaskState] = []

    def progress(outputs: TaskOutputs, elapsed: float) -> None:
        assert elapsed >= 0
        seen.append(outputs.state)

    outputs = await wait_for_task(
        client, created.task_id, poll_interval=0.01, timeout=30, on_progress=progress
    )
    assert outputs.state is TaskState.SUCCEEDED and len(outputs.files) == 1
    assert set(seen) <= {TaskState.QUEUED, TaskState.RUNNING} and seen

    dest = io.BytesIO()
    size = await download_output(http, outputs.files[0].url, dest, max_bytes=10_000_000)
    assert size == len(dest.getvalue()) > 0
    assert Image.open(io.BytesIO(dest.getvalue())).format == "PNG"

    with pytest.raises(OutputTooLarge) as info:
        await download_output(http, outputs.files[0].url, io.BytesIO(), max_bytes=100)
    assert info.value.size == size  # refused from Content-Length, before reading

    with pytest.raises(RequestError):
        await download_output(http, simulator.base_url + "/sim/files/0/none.png", io.BytesIO(), max_bytes=100)


async def test_wait_returns_a_failed_task_with_its_reason(
    registry: WorkflowRegistry, simulator: Simulator, client: RunningHubClient
) -> None:
    simulator.fail_next_task()
    request = validate_request(registry.get("z-image"), prompt="a cat", files={}, params=None)
    created = await submit(client, request.workflow, build_node_info(request, {}))
    outputs = await wait_for_task(client, created.task_id, poll_interval=0.01, timeout=30)
    assert outputs.state is TaskState.FAILED
    assert outputs.failed_reason is not None and "failed" in outputs.failed_reason.summary()


async def test_wait_tolerates_failed_polls_but_not_an_unknown_task(
    registry: WorkflowRegistry, simulator: Simulator, http: aiohttp.ClientSession
) -> None:
    # One attempt per call, so the poll errors reach wait_for_task instead of the client's retries.
    client = RunningHubClient(http, simulator.base_url, SIMULATOR_API_KEY, max_attempts=1, request_timeout=5)
    request = validate_request(registry.get("z-image"), prompt="a cat", files={}, params=None)
    created = await submit(client, request.workflow, build_node_info(request, {}))
    simulator.fail_next(2, status=502, path="/task/openapi/outputs")
    simulator.malformed_next(1, path="/task/openapi/outputs")
    outputs = await wait_for_task(client, created.task_id, poll_interval=0.01, timeout=30)
    assert outputs.state is TaskState.SUCCEEDED
    assert len(simulator.requests_to("/task/openapi/outputs")) >= 4

    with pytest.raises(TaskNotFound):
        await wait_for_task(client, "1234567890123456789", poll_interval=0.01, timeout=30)


async def test_wait_gives_up_after_the_timeout(
    registry: WorkflowRegistry, simulator: Simulator, client: RunningHubClient
) -> None:
    simulator.run_seconds = 3600
    request = validate_request(registry.get("z-image"), prompt="a cat", files={}, params=None)
    created = await submit(client, request.workflow, build_node_info(request, {}))
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds
        await asyncio.sleep(0)

    with pytest.raises(TimeoutError):
        await wait_for_task(
            client, created.task_id, poll_interval=10, timeout=60, sleep=fake_sleep, clock=lambda: now[0]
        )
    assert now[0] == 60  # polled at 0, 10, ..., 60 and then stopped
    assert simulator.tasks[created.task_id].state in ("QUEUED", "RUNNING")


async def test_download_stops_a_stream_past_the_limit_and_reports_network_errors(
    http: aiohttp.ClientSession, unused_tcp_port: int
) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # no Content-Length: only counting can stop it
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(50):
            await response.write(b"\x00" * 65536)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/big", chunked)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        dest = io.BytesIO()
        with pytest.raises(OutputTooLarge) as info:
            await download_output(http, f"http://127.0.0.1:{port}/big", dest, max_bytes=200_000)
        assert 200_000 < info.value.size < 50 * 65536
        assert len(dest.getvalue()) <= 200_000
    finally:
        await runner.cleanup()

    with pytest.raises(TransientError):
        await download_output(http, f"http://127.0.0.1:{unused_tcp_port}/gone", io.BytesIO(), max_bytes=10)


def test_job_request_is_a_plain_value(registry: WorkflowRegistry) -> None:
    request = JobRequest(registry.get("z-image"), "p", {}, {})
    assert request.prompt == "p" and "data" not in repr(InputFile("image", "a.png", b"x" * 10))
