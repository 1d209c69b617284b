"""DISCORD_PROXY and RUNNINGHUB_PROXY end to end: `python -m bot run` through loopback proxies.

The fake Discord calls itself discord.test and the simulator runninghub.test; only the proxies can
resolve those names, so every request that reached either one went through its proxy (the bot
process cannot even look the names up). The proxies count what they relayed.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.runninghub.simulator import Simulator
from tests.fakediscord.server import FakeDiscord
from tests.harness import BotProcess, bot_env, process_env, start_bot_process
from tests.proxies import HttpProxy, Socks5Proxy
from tests.samples import png_bytes

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GxYzAb.proxy-test-bot-token-value-0123456789"
API_KEY = "7a6b5c4d3e2f10987766554433221100"
PROXY_PASSWORD = "pr0xy-pa55word"


class NamedFakeDiscord(FakeDiscord):
    """The fake Discord, listening on 127.0.0.1 but handing out URLs on discord.test."""

    @property
    def base_url(self) -> str:
        return f"http://discord.test:{self.port}"

    @property
    def gateway_url(self) -> str:
        return f"ws://discord.test:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://discord.test:{self.port}/gateway-resume"


async def until(condition, timeout: float = 30, what: str = "condition") -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize(("discord_kind", "runninghub_kind"), [(HttpProxy, Socks5Proxy), (Socks5Proxy, HttpProxy)])
async def test_generate_end_to_end_through_both_proxies(
    tmp_path: Path, discord_kind: type[HttpProxy], runninghub_kind: type[HttpProxy]
) -> None:
    hosts = {"discord.test": "127.0.0.1", "runninghub.test": "127.0.0.1"}
    async with (
        NamedFakeDiscord(token=TOKEN) as fake,
        Simulator(api_key=API_KEY, queue_seconds=0.1, run_seconds=0.2) as sim,
        discord_kind(hosts=hosts, username="admin", password=PROXY_PASSWORD) as discord_proxy,
        runninghub_kind(hosts=hosts, username="admin", password=PROXY_PASSWORD) as runninghub_proxy,
    ):
        sim_port = int(sim.base_url.rsplit(":", 1)[1])
        sim.base_url = f"http://runninghub.test:{sim_port}"  # the output URLs it hands out
        guild = fake.add_guild("Art Club", locale="en-US")
        channel = guild.add_channel("general")
        alice = guild.add_member("alice")
        env = process_env(
            fake,
            tmp_path,
            runninghub_url=sim.base_url,
            runninghub_key=API_KEY,
            DISCORD_GUILD_ID=str(guild.id),
            DISCORD_PROXY=discord_proxy.url,
            RUNNINGHUB_PROXY=runninghub_proxy.url,
            LOG_LEVEL="DEBUG",
        )
        bot = BotProcess(env, tmp_path)
        try:
            try:
                await fake.wait_until_connected(timeout=30)
            except TimeoutError:
                raise AssertionError(f"the bot did not connect:\n{bot.output[-3000:]}") from None
            picture = fake.host_attachment(png_bytes(size=(64, 48)), "photo.png")
            ix = await fake.invoke(
                alice, channel, "generate", {"workflow": "upscale", "image": picture}
            )
            text = await ix.reply(timeout=30)
            found = re.match(r"Job #(\d+) ", text)
            assert found, text
            job_id = int(found[1])

            def results() -> list:
                return [m for m in fake.messages(channel) if f"rh:rerun:{job_id}" in m.custom_ids]

            await until(lambda: bool(results()), what="the result in the channel")
            (result,) = results()
            (task,) = sim.tasks.values()
            assert [data for _, data in result.files] == list(task.files.values())
            assert await bot.stop() == 0
        finally:
            if bot.process.poll() is None:
                await bot.kill()

        # Discord: REST, the gateway websocket and the attachment download all came through its proxy.
        fake_port = fake.port
        assert discord_proxy.to(fake_port) and discord_proxy.refused == 0
        assert runninghub_proxy.to(fake_port) == []
        if discord_kind is HttpProxy:  # plain forwarding shows each request
            targets = [r.target for r in discord_proxy.to(fake_port)]
            assert "/api/v10/users/@me" in targets and "/gateway" in {t.split("?")[0] for t in targets}
            assert any(t.startswith("/attachments/") for t in targets)
            assert any(re.fullmatch(r"/api/v10/channels/\d+/messages", t) for t in targets)
        # RunningHub: the upload, create, polls and the output download came through the other one.
        assert runninghub_proxy.to(sim_port) and runninghub_proxy.refused == 0
        assert discord_proxy.to(sim_port) == []
        if runninghub_kind is HttpProxy:
            targets = {r.target for r in runninghub_proxy.to(sim_port)}
            assert {"/task/openapi/upload", "/task/openapi/create", "/task/openapi/outputs"} <= targets
            assert any(t.startswith("/sim/files/") for t in targets)
        assert len(sim.creates()) == 1

        output = bot.output
        assert "reaching Discord through the proxy" in output and "reaching RunningHub through the proxy" in output
        for secret in (TOKEN, API_KEY, PROXY_PASSWORD):
            assert secret not in output
        assert "Traceback" not in output
        db = await Database.open(env["DATABASE_PATH"])
        try:
            assert await check_invariants(db) == []
        finally:
            await db.close()


async def _finish(process: subprocess.Popen[str], seconds: float = 60) -> tuple[str, str]:
    return await asyncio.to_thread(process.communicate, timeout=seconds)


@pytest.mark.parametrize("variable", ["DISCORD_PROXY", "RUNNINGHUB_PROXY"])
@pytest.mark.parametrize("value", ["127.0.0.1:7890", "socks4://127.0.0.1:1080", "http://me:pr0xy-pa55word@host:0x50"])
async def test_a_malformed_proxy_url_stops_the_start_with_one_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = bot_env(token=TOKEN, tmp_path=tmp_path, **{variable: value})
    process = start_bot_process(env, cwd=tmp_path)
    out, err = await _finish(process)
    assert process.returncode == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {variable} must be a proxy URL"), err
    assert "Traceback" not in out + err and PROXY_PASSWORD not in out + err


@pytest.mark.parametrize("via_proxy", [False, True])
async def test_a_refusing_proxy_gives_the_same_one_line_as_an_unreachable_discord(
    tmp_path: Path, unused_tcp_port: int, via_proxy: bool
) -> None:
    async with FakeDiscord(token=TOKEN) as fake:
        settings = {"LOG_LEVEL": "DEBUG"}
        if via_proxy:  # Discord is up; the proxy in front of it is not
            settings["DISCORD_PROXY"] = f"http://admin:{PROXY_PASSWORD}@127.0.0.1:{unused_tcp_port}"
        env = process_env(fake, tmp_path, **settings)
        if not via_proxy:  # Discord itself is down
            env["FAKE_DISCORD_API_BASE"] = f"http://127.0.0.1:{unused_tcp_port}/api/v10"
        process = start_bot_process(env, cwd=tmp_path)
        out, err = await _finish(process)
    assert process.returncode == 1
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in out + err and PROXY_PASSWORD not in out + err and TOKEN not in out + err
    if via_proxy:
        assert err.startswith(f"error: Cannot reach Discord through the proxy http://127.0.0.1:{unused_tcp_port} (")
        assert "check DISCORD_PROXY" in err
    else:
        assert err.startswith("error: Cannot reach Discord (") and "DISCORD_PROXY" in err


async def test_check_through_a_refusing_proxy_says_so(tmp_path: Path, unused_tcp_port: int) -> None:
    env = bot_env(
        token=TOKEN,
        tmp_path=tmp_path,
        runninghub_url="https://www.runninghub.cn",
        runninghub_key=API_KEY,
        RUNNINGHUB_PROXY=f"socks5://admin:{PROXY_PASSWORD}@127.0.0.1:{unused_tcp_port}",
    )
    process = start_bot_process(env, cwd=tmp_path, args=("check",))
    out, err = await _finish(process)
    assert process.returncode == 1
    assert (
        f"Cannot reach RunningHub at https://www.runninghub.cn through the proxy socks5://127.0.0.1:{unused_tcp_port}"
        in out
    )
    assert f"settings: RunningHub is reached through the proxy socks5://127.0.0.1:{unused_tcp_port}" in out
    assert PROXY_PASSWORD not in out + err and "Traceback" not in out + err
