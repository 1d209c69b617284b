"""The real PyPI clients, `runninghub-sdk` 1.1.9 and `runninghub-cli` 0.1.0, against `python -m bot simulate`.

The simulator runs as its own process on a free loopback port, exactly as an admin starts it.
The SDK takes `base_url=` and is used as published. The CLI has no base-URL option or variable:
its endpoints are module constants in `rh/client.py`, hard-coded to https://www.runninghub.cn.
Its code runs unchanged in a child process whose launcher only points those constants at the
simulator (what the CLI's own tests do) before calling its click entry point.

Nothing here may reach the internet: both clients get a name resolver that knows loopback only,
and the proxy variables are removed, so a request for any other host fails instead of leaving.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.samples import png_bytes

runninghub_sdk = pytest.importorskip("runninghub_sdk", reason="pip install -e '.[test]' installs runninghub-sdk")
pytest.importorskip("rh.cli", reason="pip install -e '.[test]' installs runninghub-cli")

from runninghub_sdk import RunningHubClient, RunningHubError  # noqa: E402
from runninghub_sdk.typedefs import NodeInput, TaskStatus  # noqa: E402

Z_IMAGE = "2016195556967714818"  # text to image: prompt node 6, SaveImage 9
STYLE = "2014552598229032961"  # image to image: LoadImage 21 and 24, SaveImage 30
SKETCH_APP = "1937000000000000001"  # AI app: LoadImage 39, text 52, image output 70
ROOT = Path(__file__).resolve().parents[2]
KEY = "0123456789abcdef0123456789abcdef"  # any well-formed key: `simulate` accepts it
OTHER_KEY = "fedcba9876543210fedcba9876543210"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

# Runs the CLI's own entry point; only its URL constants move from runninghub.cn to the simulator.
CLI_LAUNCHER = """
import os, socket, sys
real_getaddrinfo = socket.getaddrinfo
def loopback_only(host, *args, **kwargs):
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise OSError(f"test guard: {host} is not loopback")
    return real_getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = loopback_only
import rh.client
base = os.environ["RH_TEST_SIMULATOR"]
for name, value in list(vars(rh.client).items()):
    if isinstance(value, str) and value.startswith("https://www.runninghub.cn"):
        setattr(rh.client, name, base + value[len("https://www.runninghub.cn"):])
from rh.cli import main
sys.argv[0] = "rh"
main()
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES and not k.startswith("RUNNINGHUB_")}
    env.update(NO_PROXY="*", no_proxy="*", PYTHONUNBUFFERED="1", **extra)
    return env


class SimulatorProcess:
    """`python -m bot simulate ...` on a free port, stopped with Ctrl-C (SIGINT) at the end."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "simulate", "--port", "0", *args],
            cwd=ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.base_url = ""
        self.banner: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.banner.append(line.rstrip("\n"))
            if line.strip().startswith("RUNNINGHUB_BASE_URL="):
                self.base_url = line.strip().split("=", 1)[1]
            if "makes the task fail" in line:
                break
        if not self.base_url:
            self.stop()
            raise AssertionError(f"the simulator did not start: {self.banner}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorProcess]:
    # No queue: runninghub-cli 0.1.0 takes 813 (queued) for a failure, so its `app run` needs this.
    running = SimulatorProcess("--queue-seconds", "0", "--run-seconds", "1")
    yield running
    assert running.stop() == 0  # Ctrl-C is a clean stop


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process too: no proxy, and any name but loopback fails to resolve."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK:
            raise OSError(f"test guard: {host} is not loopback")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture
def sdk(simulator: SimulatorProcess) -> Iterator[RunningHubClient]:
    client = RunningHubClient(api_key=KEY, base_url=simulator.base_url, timeout=10)
    yield client
    client.close()


def is_png(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as picture:
        return picture.format == "PNG"


# ----------------------------------------------------------------------------- runninghub-sdk


def test_sdk_text_to_image(sdk: RunningHubClient, tmp_path: Path) -> None:
    before = sdk.get_account_status()
    created = sdk.run(Z_IMAGE, [NodeInput("6", "text", "a lighthouse at dusk"), NodeInput("3", "seed", 42)])
    assert created.task_status is TaskStatus.RUNNING and created.net_wss_url.startswith("ws://127.0.0.1:")
    outputs = sdk.wait_for_completion(created.task_id, poll_interval=0.2, timeout=30)
    (output,) = outputs
    assert (output.file_type, output.node_id) == ("png", "9") and int(output.consume_coins) > 0
    saved = sdk.download_file(output.file_url, tmp_path / "out.png")
    assert is_png(saved.read_bytes())
    assert sdk.get_status(created.task_id) is TaskStatus.SUCCESS
    after = sdk.get_account_status()
    assert int(after.remain_coins) == int(before.remain_coins) - int(output.consume_coins)
    assert after.current_task_counts == "0" and after.api_type == "NORMAL"
    # The v2 query sees the same task.
    v2 = sdk.query_v2(created.task_id)
    assert v2.status is TaskStatus.SUCCESS and v2.results and v2.results[0]["url"] == output.file_url


def test_sdk_image_to_image_with_uploads(sdk: RunningHubClient, tmp_path: Path) -> None:
    photo, style = png_bytes((10, 120, 200)), png_bytes((240, 200, 20))
    (tmp_path / "photo.png").write_bytes(photo)
    first = sdk.upload_file(tmp_path / "photo.png")  # the v2 binary upload, a path
    second = sdk.upload_image(style)  # raw bytes, sent as upload.bin
    assert first.file_name == f"openapi/{hashlib.sha256(photo).hexdigest()}.png" and first.type == "image"
    # Raw bytes go up as `upload.bin`; the name says what the bytes are, as a LoadImage needs.
    assert second["fileName"] == f"openapi/{hashlib.sha256(style).hexdigest()}.png"
    saved = sdk.download_file(first.download_url, tmp_path / "back.png")
    assert saved.read_bytes() == photo  # download_url serves what was uploaded

    created = sdk.run(STYLE, [NodeInput("21", "image", first.file_name), NodeInput("24", "image", second["fileName"])])
    (output,) = sdk.wait_for_completion(created.task_id, poll_interval=0.2, timeout=30)
    assert output.node_id == "30" and is_png(sdk.download_file(output.file_url, tmp_path / "o.png").read_bytes())


def test_sdk_a_missing_upload_is_refused_with_803(sdk: RunningHubClient) -> None:
    with pytest.raises(RunningHubError) as refused:
        sdk.run(STYLE, [NodeInput("21", "image", "openapi/never-uploaded.png")])
    assert refused.value.code == 803


def test_sdk_ai_app(sdk: RunningHubClient, tmp_path: Path) -> None:
    demo = sdk.get_ai_app_api_demo(SKETCH_APP)
    assert demo.webapp_name.startswith("Photo to sketch")
    fields = [(n.node_id, n.field_name) for n in demo.node_info_list]
    assert fields == [("39", "image"), ("52", "text"), ("61", "steps")]
    photo = sdk.upload_image(png_bytes())["fileName"]
    created = sdk.run_ai_app(SKETCH_APP, [NodeInput("39", "image", photo), NodeInput("52", "text", "charcoal")])
    (output,) = sdk.wait_for_completion(created.task_id, poll_interval=0.2, timeout=30)
    assert output.node_id == "70" and is_png(sdk.download_file(output.file_url, tmp_path / "app.png").read_bytes())


def test_sdk_failure(sdk: RunningHubClient) -> None:
    created = sdk.run(Z_IMAGE, [NodeInput("6", "text", "a storm [sim:fail]")])
    # The SDK polls /status, sees FAILED, then reads /outputs: RunningHub's 805 surfaces as its
    # generic RunningHubError (the SDK's TaskError branch needs a code-0 answer the API never sends).
    with pytest.raises(RunningHubError) as failed:
        sdk.wait_for_completion(created.task_id, poll_interval=0.2, timeout=30)
    assert failed.value.code == 805
    assert sdk.get_status(created.task_id) is TaskStatus.FAILED
    v2 = sdk.query_v2(created.task_id)
    assert v2.status is TaskStatus.FAILED and v2.failed_reason is not None
    assert (v2.failed_reason.node_id, v2.failed_reason.exception_type) == ("3", "torch.OutOfMemoryError")


def test_sdk_cancel(sdk: RunningHubClient) -> None:
    created = sdk.run(Z_IMAGE, [NodeInput("6", "text", "never finished")])
    sdk.cancel(created.task_id)
    assert sdk.get_status(created.task_id) is TaskStatus.FAILED
    with pytest.raises(RunningHubError) as outputs:
        sdk.get_outputs(created.task_id)
    assert outputs.value.code == 805
    assert sdk.query_v2(created.task_id).failed_reason.exception_type == "InterruptedError"


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver on loopback that hands each POSTed JSON to the test."""

    deliver: Callable[[dict[str, Any]], None]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).deliver(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]], threading.Event]]:
    received: list[dict[str, Any]] = []
    arrived = threading.Event()

    def deliver(payload: dict[str, Any]) -> None:
        received.append(payload)
        arrived.set()

    handler = type("Handler", (Receiver,), {"deliver": staticmethod(deliver)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook/secret-token", received, arrived
    server.shutdown()
    server.server_close()


def test_sdk_webhook(sdk: RunningHubClient, receiver: tuple[str, list[dict[str, Any]], threading.Event]) -> None:
    url, received, arrived = receiver
    created = sdk.run(Z_IMAGE, [NodeInput("6", "text", "hooked")], webhook_url=url)
    assert arrived.wait(30)
    (payload,) = received
    assert payload["event"] == "TASK_END" and payload["taskId"] == created.task_id
    event = json.loads(payload["eventData"])  # a JSON string of what /outputs answers
    assert event["code"] == 0
    assert [o.file_url for o in sdk.get_outputs(created.task_id)] == [item["fileUrl"] for item in event["data"]]
    # The receiver saw the POST before the simulator saw its answer: wait for the record.
    for _ in range(300):
        detail = sdk.get_webhook_detail(created.task_id)
        if detail.is_callback_success:
            break
        time.sleep(0.01)
    assert detail.is_callback_success and detail.retry_count == 0 and detail.event_data == payload["eventData"]
    assert detail.webhook_url == url and KEY not in detail.user_api_key
    arrived.clear()
    sdk.retry_webhook(detail.id, url)
    assert arrived.wait(30) and received[1] == payload


def test_sdk_keys(simulator: SimulatorProcess) -> None:
    with RunningHubClient(api_key=OTHER_KEY, base_url=simulator.base_url) as other:
        assert other.get_account_status().current_task_counts == "0"  # another well-formed key: its own account
        assert other.validate_api_key()
    with RunningHubClient(api_key="not a key", base_url=simulator.base_url) as wrong:
        with pytest.raises(RunningHubError) as refused:
            wrong.get_account_status()
        assert refused.value.code == 802
        assert not wrong.validate_api_key()


# ----------------------------------------------------------------------------- runninghub-cli


def rh(simulator: SimulatorProcess, cwd: Path, *args: str, key: str = KEY) -> tuple[int, Any]:
    """Run `rh ARGS` in `cwd` (also its HOME, so no ~/.rh/config.json is read); (exit code, JSON output)."""
    result = subprocess.run(
        [sys.executable, "-c", CLI_LAUNCHER, *args],
        env=clean_env(RH_API_KEY=key, RH_TEST_SIMULATOR=simulator.base_url, HOME=str(cwd)),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        return result.returncode, json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"rh {args}: {result.stdout!r} {result.stderr!r}") from None


def test_cli_account_status(simulator: SimulatorProcess, tmp_path: Path) -> None:
    code, status = rh(simulator, tmp_path, "account", "status")
    assert code == 0 and status["apiType"] == "NORMAL" and int(status["remainCoins"]) > 0
    code, refused = rh(simulator, tmp_path, "account", "status", key="short")
    assert code == 1 and refused["error"] == "auth_failed"


def test_cli_app_info_and_run_with_an_upload(simulator: SimulatorProcess, tmp_path: Path) -> None:
    code, info = rh(simulator, tmp_path, "app", "info", SKETCH_APP)
    assert code == 0 and [n["nodeId"] for n in info["nodes"]] == ["39", "52", "61"]
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes((90, 20, 160)))
    out = tmp_path / "sketch.png"
    code, result = rh(
        simulator, tmp_path, "app", "run", SKETCH_APP,
        "--file", f"39:image={photo}", "--node", "52:text=ink wash", "--output", str(out),
    )  # fmt: skip
    assert code == 0, result
    assert result["status"] == "SUCCESS" and result["savedTo"] == str(out) and is_png(out.read_bytes())
    (output,) = result["outputs"]
    assert output["fileType"] == "png"

    code, status = rh(simulator, tmp_path, "task", "status", result["taskId"])
    assert code == 0 and status["status"] == "SUCCESS" and status["outputs"] == result["outputs"]


def test_cli_app_failure(simulator: SimulatorProcess, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())
    code, result = rh(
        simulator, tmp_path, "app", "run", SKETCH_APP, "--file", f"39:image={photo}", "--node", "52:text=[sim:fail]"
    )
    assert code == 1 and result["error"] == "task_failed" and "code=805" in result["message"]


# ----------------------------------------------------------------------------- simulate --workflows


def test_simulate_serves_the_admins_own_workflows(tmp_path: Path) -> None:
    own = {
        "1": {"class_type": "CLIPTextEncode", "inputs": {"text": "hello"}, "_meta": {"title": "Prompt"}},
        "2": {"class_type": "KSampler", "inputs": {"steps": 4, "seed": 1}, "_meta": {"title": "KSampler"}},
        "3": {"class_type": "SaveAudio", "inputs": {"audio": ["2", 0]}, "_meta": {"title": "Save"}},
    }
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "777000000000000001.json").write_text(json.dumps(own), encoding="utf-8")
    running = SimulatorProcess("--workflows", str(folder), "--queue-seconds", "0.2", "--run-seconds", "0.3")
    try:
        assert any("777000000000000001" in line for line in running.banner)
        with RunningHubClient(api_key=KEY, base_url=running.base_url) as client:
            assert client.get_workflow_json_parsed("777000000000000001") == own
            created = client.run("777000000000000001", [NodeInput("1", "text", "sing")])
            assert created.task_status is TaskStatus.QUEUED  # this one has a queue
            (output,) = client.wait_for_completion(created.task_id, poll_interval=0.1, timeout=30)
            assert (output.node_id, output.file_type) == ("3", "wav")
            # The built-in ones are still there.
            assert client.get_workflow_json_parsed(Z_IMAGE)["9"]["class_type"] == "SaveImage"
    finally:
        assert running.stop() == 0
