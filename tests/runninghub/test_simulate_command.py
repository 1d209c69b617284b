"""`python -m bot simulate`: its options, and one clear line for a bad `--workflows` folder."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """The command configures the root logger; give the next test the one it had."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def simulate(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run_command(["simulate", "--port", "0", *args], cli.Console(out, err))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("12.json", "{not json", "not JSON"),
        ("12.json", '{"nodes": [], "links": []}', "UI format"),
        ("12.json", '{"1": {"inputs": {}}}', "no class_type"),
        ("12.json", '{"1": {"class_type": "X", "inputs": []}}', "inputs must be an object"),
        ("12.json", "[]", "expected an object of nodes"),
        ("12.json", "{}", "expected an object of nodes"),
        ("12.json", b"\xff\xfe", "cannot read it"),
        ("my-flow.json", "{}", "must be the workflow id"),
    ],
)
def test_a_bad_workflow_file_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: str | bytes, words: str
) -> None:
    (tmp_path / "1.json").write_text('{"1": {"class_type": "SaveImage", "inputs": {}}}', encoding="utf-8")
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, out, err = simulate("--workflows", str(tmp_path))
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"error: {path}: ") and words in line


def test_a_missing_folder_from_a_real_process(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--workflows", str(tmp_path / "nowhere")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nowhere'}: not a directory"
    assert "listening" not in result.stdout


@pytest.mark.parametrize("option", ["--queue-seconds", "--run-seconds"])
@pytest.mark.parametrize("value", ["-1", "soon", "nan", "90000"])
def test_timing_must_be_seconds(option: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        cli.run_command(["simulate", option, value])
    assert usage.value.code == 2
    assert "is not a number of seconds from 0 to 86400" in capsys.readouterr().err


def test_the_options_reach_the_simulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "42.json").write_text('{"1": {"class_type": "SaveImage", "inputs": {}}}', encoding="utf-8")
    seen: dict[str, object] = {}

    async def fake_serve(port: int, host: str, **options: object) -> None:
        seen.update(options, port=port, host=host)

    import bot.runninghub.simulator as simulator_module

    monkeypatch.setattr(simulator_module, "serve_forever", fake_serve)
    code = cli.run_command(
        ["simulate", "--port", "9999", "--queue-seconds", "0", "--run-seconds", "2.5", "--workflows", str(tmp_path)]
    )
    assert code == 0
    assert seen == {
        "port": 9999,
        "host": "127.0.0.1",
        "queue_seconds": 0.0,
        "run_seconds": 2.5,
        "extra_workflows": {"42": {"1": {"class_type": "SaveImage", "inputs": {}}}},
    }
