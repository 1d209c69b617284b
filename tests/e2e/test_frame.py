"""The bot's frame end to end: the real discord.py client against the loopback fake Discord.

Login and guild sync, /workflows, the workflow autocomplete, moderator-only refusals, languages,
a refused token and secrets kept out of the logs (the last two through `python -m bot run` in a
subprocess).
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.client import RHBot
from bot.errors import UserError
from bot.texts import t
from tests.fakediscord.model import FakeChannel, FakeGuild, FakeMember
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.fakediscord.server import FakeDiscord
from tests.harness import (
    CONTRACT,
    MESSAGE_COMMAND,
    MESSAGE_COMMANDS,
    SHIPPED_ALIASES,
    contract_mismatches,
    flatten_commands,
    message_commands,
    process_env,
    running_bot,
    start_bot_process,
)

MANAGE_GUILD = discord.Permissions(manage_guild=True)


@dataclass
class World:
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeMember  # a plain member
    li: FakeMember  # a plain member whose Discord is in Chinese
    mod: FakeMember  # Manage Server
    helper: FakeMember  # in a MODERATOR_ROLE_IDS role, without Manage Server
    helper_role_id: int
    bot: RHBot | None = None


def build_world(fake: FakeDiscord) -> World:
    guild = fake.add_guild("Art Club", locale="en-US")
    helpers = guild.add_role("Helpers")
    return World(
        guild=guild,
        channel=guild.add_channel("general"),
        alice=guild.add_member("alice", locale="en-US"),
        li=guild.add_member("li", locale="zh-CN"),
        mod=guild.add_member("mod", permissions=MANAGE_GUILD, locale="en-US"),
        helper=guild.add_member("helper", roles=[helpers], locale="en-US"),
        helper_role_id=helpers.id,
    )


@pytest.fixture
async def world(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:  # noqa: F811
    built = build_world(fake_discord)
    env = {"DISCORD_GUILD_ID": str(built.guild.id), "MODERATOR_ROLE_IDS": str(built.helper_role_id)}
    async with running_bot(fake_discord, tmp_path=tmp_path, env=env) as bot:
        built.bot = bot
        yield built


async def test_logs_in_and_syncs_the_contract_to_the_configured_guild(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
) -> None:
    synced = fake_discord.synced_commands(world.guild)
    assert synced is not None, "nothing was synced to DISCORD_GUILD_ID"
    assert contract_mismatches(synced) == []
    assert set(flatten_commands(synced)) == set(CONTRACT)
    assert set(message_commands(synced)) == set(MESSAGE_COMMANDS)
    # A configured guild means no global sync.
    assert fake_discord.synced_commands(None) is None
    login = fake_discord.requests_to("GET", "/users/@me")
    assert len(login) == 1 and login[0].authorized


async def test_synced_commands_carry_chinese_descriptions_and_english_names(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
) -> None:
    synced = fake_discord.synced_commands(world.guild) or []
    by_name = {c["name"]: c for c in synced}
    assert by_name["generate"]["description_localizations"]["zh-CN"] == t("cmd.generate", "zh-CN")
    for command in synced:
        if command.get("type") == MESSAGE_COMMAND:  # a menu has no description; its name is what members read
            assert command["name_localizations"] == MESSAGE_COMMANDS[command["name"]], command["name"]
            continue
        assert command["description_localizations"].get("zh-CN"), command["name"]
        assert not command.get("name_localizations"), command["name"]
    for command, options in flatten_commands(synced).items():
        for name, option in options.items():
            assert option["description_localizations"].get("zh-CN"), f"/{command} {name}"
            assert not option.get("name_localizations"), f"/{command} {name}"


async def test_workflows_lists_every_shipped_alias_with_cost_and_inputs(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
) -> None:
    ix = await fake_discord.invoke(world.alice, world.channel, "workflows")
    text = await ix.reply()
    assert ix.ephemeral is True
    for alias in SHIPPED_ALIASES:
        assert re.search(rf"^{re.escape(alias)} · \d+ coins:", text, re.MULTILINE), alias
    assert "style-transfer · 20 coins" in text
    assert "Needs: `image` (image), `image2` (image)" in text
    assert "`steps`: whole number, 1 to 60, default 25" in text
    assert fake_discord.messages(world.channel) == []  # nothing public


async def test_workflows_in_chinese_for_a_chinese_member(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
) -> None:
    ix = await fake_discord.invoke(world.li, world.channel, "workflows")
    text = await ix.reply()
    assert text.startswith("工作流")
    assert "style-transfer · 20 金币" in text
    assert "必需：`image` (图片), `image2` (图片)" in text
    for alias in SHIPPED_ALIASES:
        assert alias in text


async def test_workflow_autocomplete_filters_what_was_typed(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
) -> None:
    choices = await fake_discord.autocomplete(
        world.alice, world.channel, "generate", {"workflow": "sty"}, focused="workflow"
    )
    assert [c["value"] for c in choices] == ["style-transfer"]
    assert choices[0]["name"].startswith("style-transfer — ") and choices[0]["name"].endswith("20 coins")

    everything = await fake_discord.autocomplete(
        world.alice, world.channel, "generate", {"workflow": ""}, focused="workflow"
    )
    assert sorted(c["value"] for c in everything) == sorted(SHIPPED_ALIASES)
    assert len(everything) <= 25 and all(len(c["name"]) <= 100 for c in everything)

    nothing = await fake_discord.autocomplete(
        world.alice, world.channel, "generate", {"workflow": "zzz-no-such"}, focused="workflow"
    )
    assert nothing == []


@pytest.mark.parametrize(("command", "subcommand"), [("health", None), ("quota", "grant")])
async def test_moderator_commands_refuse_plain_members(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
    command: str,
    subcommand: str | None,
) -> None:
    args: dict[str, object] = {"member": world.alice, "amount": 5, "reason": "prize"} if subcommand else {}
    shown = f"{command} {subcommand}" if subcommand else command
    refused = await fake_discord.invoke(world.alice, world.channel, command, args, subcommand=subcommand)
    assert await refused.reply() == t("error.moderator_only", "en", command=shown)
    assert refused.ephemeral is True

    for moderator in (world.mod, world.helper):
        allowed = await fake_discord.invoke(moderator, world.channel, command, args, subcommand=subcommand)
        # Past the check: the command itself answers (a grant, or the health report).
        answer = await allowed.reply()
        assert answer and answer != t("error.moderator_only", "en", command=shown)
        assert allowed.ephemeral is True


async def test_moderator_refusal_in_chinese(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
) -> None:
    ix = await fake_discord.invoke(world.li, world.channel, "health")
    assert await ix.reply() == t("error.moderator_only", "zh-CN", command="health")
    assert "只有管理员" in await ix.reply()


async def test_moderator_commands_are_hidden_by_default(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
) -> None:
    synced = {c["name"]: c for c in fake_discord.synced_commands(world.guild) or []}
    for name in ("quota", "health"):
        assert int(synced[name]["default_member_permissions"]) == MANAGE_GUILD.value
    assert synced["workflows"].get("default_member_permissions") is None


def add_command(bot: RHBot | None, name: str, body: object) -> None:
    """A throwaway command added after sync; discord.py matches interactions by name."""
    assert bot is not None

    async def callback(interaction: discord.Interaction) -> None:
        await body(interaction)  # type: ignore[operator]

    bot.tree.add_command(app_commands.Command(name=name, description="test", callback=callback))


async def test_a_bug_is_logged_with_the_command_and_the_member_told_nothing_was_charged(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def boom(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        raise RuntimeError("kaboom in the callback")

    add_command(world.bot, "boom", boom)
    ix = await fake_discord.invoke(world.li, world.channel, "boom")
    # Deferred first, so the answer arrives as the followup that replaces "thinking...".
    assert await ix.reply() == t("error.unexpected", "zh-CN")
    assert ix.ephemeral is True
    (record,) = [r for r in caplog.records if r.name == "bot.ui.tree" and r.levelname == "ERROR"]
    assert "/boom" in record.getMessage()
    assert record.exc_info is not None and "kaboom in the callback" in str(record.exc_info[1])


async def test_a_user_error_is_one_sentence_in_the_members_language(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def refuse(interaction: discord.Interaction) -> None:
        raise UserError("error.guild_only")

    add_command(world.bot, "refuse", refuse)
    chinese = await fake_discord.invoke(world.li, world.channel, "refuse")
    assert await chinese.reply() == t("error.guild_only", "zh-CN")
    assert chinese.ephemeral is True and chinese.callback_type == 4
    english = await fake_discord.invoke(world.alice, world.channel, "refuse")
    assert await english.reply() == t("error.guild_only", "en")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_after_the_token_expired_the_answer_goes_to_the_channel(
    fake_discord: FakeDiscord,  # noqa: F811
    world: World,
) -> None:
    fake_discord.token_lifetime = 0.3  # the bot sees the same, shortened, expiry

    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        await asyncio.sleep(0.5)
        raise UserError("error.guild_only")

    add_command(world.bot, "slow", slow)
    ix = await fake_discord.invoke(world.alice, world.channel, "slow")
    posted = await fake_discord.wait_for_message(world.channel)
    assert posted.text == t("error.guild_only", "en")
    assert [r.action for r in ix.responses] == ["callback"]  # no followup on the dead token
    assert not ix.rejected


# --------------------------------------------------------------------------- the real process


async def finish(process: subprocess.Popen[str], seconds: float = 30) -> tuple[str, str]:
    # The fake Discord runs on this event loop: wait for the process off the loop.
    return await asyncio.to_thread(process.communicate, timeout=seconds)


@pytest.mark.parametrize("log_level", ["WARNING", "INFO"])
async def test_a_refused_token_ends_with_one_line_and_no_traceback(
    fake_discord_server: FakeDiscord,  # noqa: F811
    tmp_path: Path,
    log_level: str,
) -> None:
    bad_token = "MTE5OTk5OTk5OTk5OTk5OTk5.Gabcde.not-the-right-token-at-all-0123456789"
    env = process_env(fake_discord_server, tmp_path, DISCORD_TOKEN=bad_token, LOG_LEVEL=log_level)
    process = start_bot_process(env, cwd=tmp_path)
    out, err = await finish(process)
    assert process.returncode == 1
    assert "Traceback" not in err + out and bad_token not in err + out
    # Logs go to stdout; stderr holds the reason alone, one line, at any log level.
    assert len(err.splitlines()) == 1
    assert err.startswith("error: the Discord bot token was refused")
    if log_level == "INFO":
        assert re.search(r"^\d\d:\d\d:\d\d INFO ", out, re.M)  # the logs were there, on stdout
    refused = fake_discord_server.requests_to("GET", "/users/@me")
    assert refused and not refused[0].authorized and refused[0].status == 401


async def test_secrets_stay_out_of_the_logs_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GxYzAb.super-secret-bot-token-value-0123456789"
    api_key = "0123456789abcdef0123456789abcdef"
    async with FakeDiscord(token=token) as fake:
        world = build_world(fake)
        env = process_env(
            fake,
            tmp_path,
            DISCORD_GUILD_ID=str(world.guild.id),
            RUNNINGHUB_BASE_URL="simulator",
            RUNNINGHUB_API_KEY=api_key,
            LOG_LEVEL="DEBUG",
        )
        process = start_bot_process(env, cwd=tmp_path)
        try:
            await fake.wait_until_connected(timeout=30)
            ix = await fake.invoke(world.li, world.channel, "workflows")
            assert "style-transfer" in await ix.reply()
            ix = await fake.invoke(
                world.alice, world.channel, "quota", {"member": world.li, "amount": 1}, subcommand="grant"
            )
            assert await ix.reply() == t("error.moderator_only", "en", command="quota grant")
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            out, err = await finish(process)
    assert process.returncode == 0, err[-2000:]
    assert "synced" in out and "simulator" in out  # the logs were really captured (stdout), at DEBUG
    for secret in (token, api_key):
        assert secret not in err and secret not in out
    assert "Traceback" not in err + out
