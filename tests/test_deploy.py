"""Hosting files: the Dockerfile runs only what the tests run, compose.yaml keeps state outside, the unit verifies.

No Docker engine is available where the tests run, so the image is never built here: instead the
Dockerfile's RUN and CMD lines are checked to be exactly the install script (which `make` runs
before every test run) and the start command these tests run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTALL = "sh deploy/install.sh"
START = [".venv/bin/python", "-m", "bot", "run"]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, comments and line continuations handled."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_dockerfile_runs_only_the_install_script_and_the_start_command() -> None:
    instructions = dockerfile_instructions()
    assert [args for word, args in instructions if word == "RUN"] == [INSTALL]
    (cmd,) = [args for word, args in instructions if word == "CMD"]
    assert json.loads(cmd) == START  # exec form: Python is PID 1 and gets SIGTERM itself
    assert not [word for word, _ in instructions if word in ("ENTRYPOINT", "ADD", "SHELL")]
    assert ("WORKDIR", "/app") in instructions and ("STOPSIGNAL", "SIGTERM") in instructions
    assert ("VOLUME", '["/app/data"]') in instructions


def test_make_runs_the_same_install_script_before_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert INSTALL in recipe  # so `make test` (and so CI) runs the Dockerfile's only RUN step
    subprocess.run(["sh", "-n", str(ROOT / "deploy" / "install.sh")], check=True)


def test_the_start_command_is_the_real_one(tmp_path: Path) -> None:
    """The Dockerfile's CMD, run from the repository as from /app: without a token it stops with one line."""
    if not (ROOT / START[0]).exists():
        pytest.skip("no .venv in the repository (tests run from another environment)")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(DATABASE_PATH=str(tmp_path / "bot.db"), RUNNINGHUB_BASE_URL="simulator", DISCORD_TOKEN="")
    result = subprocess.run(START, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: DISCORD_TOKEN is not set") and result.stderr.count("\n") == 1


def test_compose_keeps_settings_and_data_outside_the_image_and_restarts() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    (service,) = compose["services"].values()
    env_file = service["env_file"]
    assert ".env" in ([env_file] if isinstance(env_file, str) else env_file)
    assert "./data:/app/data" in service["volumes"]
    assert service["environment"]["DATABASE_PATH"].startswith("/app/data/")
    assert service["environment"]["WORKFLOWS_PATH"].startswith("/app/data/")
    assert service["restart"] == "unless-stopped"
    assert service["stop_signal"] == "SIGTERM"
    assert re.fullmatch(r"\d+s", service["stop_grace_period"]) and int(service["stop_grace_period"][:-1]) >= 10
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv/", "data/*.db", "data/*.db-*"} <= set(ignored)


def unit() -> dict[str, str]:
    values = {}
    for line in (ROOT / "deploy" / "rhbot.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_the_unit_runs_the_start_command_as_its_own_user_and_can_write_the_data_folder() -> None:
    values = unit()
    directory = values["WorkingDirectory"]
    assert shlex.split(values["ExecStart"]) == [f"{directory}/{START[0]}", *START[1:]]
    assert values["EnvironmentFile"] == f"{directory}/.env"
    assert values["User"] not in ("", "root") and values["KillSignal"] == "SIGTERM"
    assert values["Restart"] in ("always", "on-failure")
    # Everything is read-only but the data folder, where SQLite writes the database, -wal, -shm and backups.
    assert values["ProtectSystem"] == "strict" and values["ReadWritePaths"] == f"{directory}/data"


def test_the_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (.ci/run installs it from Debian's packages as root)")
    if not (ROOT / START[0]).exists():
        pytest.skip("no .venv in the repository: the unit's ExecStart would point nowhere")
    # verify checks that ExecStart exists, so point the unit at this checkout instead of /opt/rhbot.
    text = (ROOT / "deploy" / "rhbot.service").read_text(encoding="utf-8")
    copy = tmp_path / "rhbot.service"
    copy.write_text(text.replace("/opt/rhbot", str(ROOT)), encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    # Unknown keys and bad values are only warnings: any output at all fails the test.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
