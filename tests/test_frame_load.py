"""The frame without Discord: every cog loads, the tree matches the contract, sync is deliberate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.app import open_resources
from bot.client import COMMANDS_HASH_KEY, DEFAULT_EXTENSIONS, RHBot
from bot.config import settings_from_mapping
from bot.errors import UserError
from bot.texts import t
from bot.texts.workflows import EMBED_BUDGET
from bot.ui.autocomplete import workflow_choices
from bot.ui.checks import NotModerator, is_moderator
from bot.ui.tree import refusal_for
from bot.workflows import WorkflowRegistry, load_workflows, parse_workflows
from cogs.workflows import workflow_embeds
from tests.harness import (
    CONTRACT,
    MANAGE_GUILD,
    MESSAGE_COMMANDS,
    MODERATOR_COMMANDS,
    PERIODS,
    SHIPPED_ALIASES,
    SHIPPED_WORKFLOWS,
    bot_env,
    contract_mismatches,
    flatten_commands,
)


class SyncRecorder:
    """Stands in for CommandTree.sync: records the guilds synced to, sends nothing."""

    def __init__(self) -> None:
        self.calls: list[int | None] = []

    async def __call__(self, *, guild: discord.abc.Snowflake | None = None) -> list[Any]:
        self.calls.append(None if guild is None else guild.id)
        return []


async def make_bot(tmp_path: Path, **env: str) -> AsyncIterator[tuple[RHBot, SyncRecorder]]:
    settings = settings_from_mapping(bot_env(token="unused", tmp_path=tmp_path, **env))
    async with open_resources(settings) as resources:
        bot = RHBot(resources)
        recorder = SyncRecorder()
        bot.tree.sync = recorder  # type: ignore[method-assign]
        async with bot:  # sets up the loop-bound parts; never connects
            await bot.setup_hook()
            yield bot, recorder


@pytest.fixture
async def loaded(tmp_path: Path) -> AsyncIterator[tuple[RHBot, SyncRecorder]]:
    async for pair in make_bot(tmp_path):
        yield pair


async def test_every_extension_loads_and_the_tree_matches_the_contract(
    loaded: tuple[RHBot, SyncRecorder],
) -> None:
    bot, _ = loaded
    assert sorted(bot.extensions) == sorted(DEFAULT_EXTENSIONS)
    payloads = await bot.command_payloads()
    assert contract_mismatches(payloads) == []
    # Nothing beyond the contract sneaks in.
    assert {p["name"] for p in payloads} == {name.split()[0] for name in CONTRACT} | set(MESSAGE_COMMANDS)


async def test_commands_are_guild_only_and_moderator_commands_hidden_by_default(
    loaded: tuple[RHBot, SyncRecorder],
) -> None:
    bot, _ = loaded
    for payload in await bot.command_payloads():
        assert payload["dm_permission"] is False, payload["name"]
        assert payload["contexts"] == [0], payload["name"]
        permissions = payload["default_member_permissions"]
        if payload["name"] in MODERATOR_COMMANDS:
            assert permissions is not None and int(permissions) == MANAGE_GUILD, payload["name"]
        else:
            assert permissions is None, payload["name"]


async def test_moderator_commands_also_check_on_every_call(loaded: tuple[RHBot, SyncRecorder]) -> None:
    bot, _ = loaded
    quota = bot.tree.get_command("quota")
    assert isinstance(quota, app_commands.Group)
    gated = [*quota.commands, bot.tree.get_command("health")]
    assert len(gated) == 6
    for name in ("settings", "blocklist", "block", "unblock", "workflow"):
        found = bot.tree.get_command(name)
        gated.extend(found.commands if isinstance(found, app_commands.Group) else [found])
    assert len(gated) == 6 + 5 + 3 + 2 + 5
    for command in gated:
        assert isinstance(command, app_commands.Command)
        assert command.checks, f"/{command.qualified_name} has no moderator check"


async def test_option_details(loaded: tuple[RHBot, SyncRecorder]) -> None:
    bot, _ = loaded
    flat = flatten_commands(await bot.command_payloads())
    assert flat["generate"]["workflow"]["autocomplete"] is True
    assert [c["value"] for c in flat["quota policy"]["period"]["choices"]] == list(PERIODS)
    assert (flat["quota grant"]["amount"]["min_value"], flat["quota grant"]["amount"]["max_value"]) == (
        1,
        1_000_000,
    )
    assert (flat["quota take"]["amount"]["min_value"], flat["quota take"]["amount"]["max_value"]) == (
        1,
        1_000_000,
    )
    assert (flat["quota set"]["amount"]["min_value"], flat["quota set"]["amount"]["max_value"]) == (
        0,
        1_000_000,
    )
    assert flat["quota policy"]["allowance"]["min_value"] == 0


async def test_descriptions_carry_chinese_localizations_and_names_stay_english(
    loaded: tuple[RHBot, SyncRecorder],
) -> None:
    bot, _ = loaded
    payloads = await bot.command_payloads()
    by_name = {p["name"]: p for p in payloads}
    assert by_name["workflows"]["description_localizations"] == {
        "zh-CN": t("cmd.workflows", "zh-CN"),
        "zh-TW": t("cmd.workflows", "zh-TW"),
    }
    assert by_name["quota"]["options"][0]["description_localizations"]["zh-CN"] == t(
        "cmd.quota.grant", "zh-CN"
    )
    for payload in payloads:
        if payload.get("type") == 3:  # a message menu: its name is what members read, so it is translated
            assert payload["name_localizations"] == {
                "zh-CN": t("results.menu.name", "zh-CN"),
                "zh-TW": t("results.menu.name", "zh-TW"),
            }
            continue
        assert payload["name_localizations"] == {}
    for command, options in flatten_commands(payloads).items():
        for name, option in options.items():
            assert option["description_localizations"].get("zh-CN"), f"/{command} {name}"
            assert not option.get("name_localizations"), f"/{command} {name}"


async def test_global_sync_only_when_the_command_set_changed(tmp_path: Path) -> None:
    async for bot, recorder in make_bot(tmp_path):
        assert recorder.calls == [None]  # first start: nothing stored yet
        stored = await bot.services.db.get_meta(COMMANDS_HASH_KEY)
        assert stored == await bot.commands_hash()
        await bot.sync_commands()  # same commands: no sync
        assert recorder.calls == [None]

    # A restart with the same commands (same database) does not sync; a changed set does.
    async for bot, recorder in make_bot(tmp_path):
        assert recorder.calls == []

        @app_commands.command(name="extra", description="a new command")
        async def extra(interaction: discord.Interaction) -> None: ...

        bot.tree.add_command(extra)
        await bot.sync_commands()
        assert recorder.calls == [None]
        assert await bot.services.db.get_meta(COMMANDS_HASH_KEY) not in (None, stored)


async def test_configured_guilds_are_synced_on_every_start(tmp_path: Path) -> None:
    for _ in range(2):
        async for bot, recorder in make_bot(tmp_path, DISCORD_GUILD_ID="111, 222"):
            assert recorder.calls == [111, 222]
            assert {c.name for c in bot.tree.get_commands(guild=discord.Object(111))} >= {"generate", "quota"}
            assert await bot.services.db.get_meta(COMMANDS_HASH_KEY) is None


def registry_of(count: int) -> WorkflowRegistry:
    blocks = []
    for n in range(count):
        blocks.append(
            f'[workflows.flow-{n:02d}]\nworkflow_id = "{1000 + n}"\n'
            f'description = "{"Long description " * 5}number {n}"\ncost = {n}\n'
            f'[[workflows.flow-{n:02d}.inputs]]\nname = "image"\nkind = "image"\nnode_id = "1"\n'
            f'field = "image"\nrequired = true\n'
            f'[[workflows.flow-{n:02d}.inputs]]\nname = "steps"\nkind = "int"\nnode_id = "2"\n'
            f'field = "steps"\nmin = 1\nmax = 60\ndefault = 20\ndescription = "{"how many steps " * 3}"\n'
        )
    return parse_workflows("\n".join(blocks))


def test_autocomplete_filters_and_fits_discord_limits() -> None:
    shipped = load_workflows(SHIPPED_WORKFLOWS)
    assert [c.value for c in workflow_choices(shipped, "sty", "en")] == ["style-transfer"]
    assert sorted(c.value for c in workflow_choices(shipped, "", "en")) == sorted(SHIPPED_ALIASES)
    (style,) = workflow_choices(shipped, "style", "zh-CN")
    assert "金币" in style.name and "image, image2" in style.name

    many = registry_of(40)
    choices = workflow_choices(many, "", "en")
    assert len(choices) == 25
    assert all(len(c.name) <= 100 and c.name.startswith(c.value) for c in choices)
    assert [c.value for c in workflow_choices(many, "flow-3", "en")] == [f"flow-3{n}" for n in range(10)]


def test_workflow_listing_fits_discord_embed_limits() -> None:
    embeds = workflow_embeds(registry_of(60).all(), "en")
    assert len(embeds) > 1
    listed = [field.name.split(" · ")[0] for embed in embeds for field in embed.fields]
    assert listed == [f"flow-{n:02d}" for n in range(60)]
    for embed in embeds:
        assert len(embed) <= 6000 and len(embed.fields) <= 25
        assert sum(len(f.name or "") + len(f.value or "") for f in embed.fields) <= EMBED_BUDGET
        assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in embed.fields)


def test_workflow_listing_shows_inputs_params_and_cost() -> None:
    (embed,) = workflow_embeds(load_workflows(SHIPPED_WORKFLOWS).all(), "en")
    fields = {f.name: f.value or "" for f in embed.fields}
    style = fields["style-transfer · 20 coins"]
    assert "Needs: `image` (image), `image2` (image)" in style
    steps = next(line for line in fields["z-image · 10 coins"].splitlines() if "`steps`" in line)
    assert "1 to 60" in steps and "default 25" in steps
    (chinese,) = workflow_embeds(load_workflows(SHIPPED_WORKFLOWS).all(), "zh-CN")
    assert chinese.title == "工作流"
    assert (
        "必需：`image` (图片), `image2` (图片)"
        in {f.name: f.value for f in chinese.fields}["style-transfer · 20 金币"]
    )


class FakeMember(discord.Member):
    """Only what is_moderator reads; a real Member needs a gateway ConnectionState."""

    def __init__(self, *, manage_guild: bool, role_ids: tuple[int, ...] = ()) -> None:
        self._fake_permissions = discord.Permissions(manage_guild=manage_guild)
        self._fake_roles = [discord.Object(r) for r in role_ids]

    @property
    def guild_permissions(self) -> discord.Permissions:  # type: ignore[override]
        return self._fake_permissions

    @property
    def roles(self) -> list[discord.Object]:  # type: ignore[override]
        return self._fake_roles


def member(*, manage_guild: bool, role_ids: tuple[int, ...] = ()) -> discord.Member:
    return FakeMember(manage_guild=manage_guild, role_ids=role_ids)


def test_is_moderator() -> None:
    settings = settings_from_mapping(bot_env(token="x", tmp_path=Path("."), MODERATOR_ROLE_IDS="77"))
    assert is_moderator(member(manage_guild=True), settings)
    assert is_moderator(member(manage_guild=False, role_ids=(5, 77)), settings)
    assert not is_moderator(member(manage_guild=False, role_ids=(5,)), settings)


def test_refusals_are_localized_and_unexpected_errors_are_not_refusals() -> None:
    assert refusal_for(NotModerator("x"), "zh-CN", "health") == t(
        "error.moderator_only", "zh-CN", command="health"
    )
    assert "`/quota grant`" in (
        refusal_for(app_commands.MissingPermissions(["manage_guild"]), "en", "quota grant") or ""
    )
    cooldown = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 10), 4.2)
    assert refusal_for(cooldown, "en", "generate") == t(
        "error.cooldown", "en", command="generate", seconds=5
    )
    missing = refusal_for(app_commands.BotMissingPermissions(["attach_files"]), "en", "generate") or ""
    assert "Attach Files" in missing
    unknown = UserError("workflow.unknown", alias="nope", known="z-image")
    assert refusal_for(unknown, "zh-CN", "generate") == unknown.render("zh-CN")
    assert refusal_for(RuntimeError("bug"), "en", "generate") is None
    assert refusal_for(UserError("no.such.key"), "en", "generate") is None


async def test_runner_refuses_a_broken_workflows_file_before_touching_the_database(tmp_path: Path) -> None:
    from bot.errors import EXIT_USAGE
    from bot.runner import StartupError, run_bot

    settings = settings_from_mapping(
        bot_env(token="t", tmp_path=tmp_path, WORKFLOWS_PATH=str(tmp_path / "nope.toml"))
    )
    with pytest.raises(StartupError) as caught:
        await run_bot(settings)
    assert caught.value.exit_code == EXIT_USAGE
    assert "nope.toml" in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "bot.db").exists()


async def test_runner_reports_a_database_it_cannot_open_in_one_line(tmp_path: Path) -> None:
    from bot.errors import EXIT_FAILED
    from bot.runner import StartupError, run_bot

    (tmp_path / "blocker").write_text("a file where the database folder should be")
    settings = settings_from_mapping(
        bot_env(token="t", tmp_path=tmp_path, DATABASE_PATH=str(tmp_path / "blocker" / "bot.db"))
    )
    with pytest.raises(StartupError) as caught:
        await run_bot(settings)
    assert caught.value.exit_code == EXIT_FAILED
    assert "blocker" in str(caught.value) and "\n" not in str(caught.value)


async def test_runner_needs_a_token(tmp_path: Path) -> None:
    from bot.errors import EXIT_USAGE
    from bot.runner import StartupError, run_bot

    settings = settings_from_mapping({**bot_env(token="t", tmp_path=tmp_path), "DISCORD_TOKEN": ""})
    with pytest.raises(StartupError) as caught:
        await run_bot(settings)
    assert caught.value.exit_code == EXIT_USAGE and "DISCORD_TOKEN" in str(caught.value)
