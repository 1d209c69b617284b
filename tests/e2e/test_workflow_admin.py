"""Workflows managed from Discord, end to end: /workflow add|edit|remove|show|reload through the loopback
Discord, the bot in this process, RunningHub = the simulator.

Each test checks what the moderator and the member read, what RunningHub received (the create
request's nodeInfoList), the ledger rows written and the rows of the SQLite file.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.client import RHBot
from bot.db.invariants import check_invariants
from bot.runninghub.simulator import NEVER_RUN_WORKFLOW_ID, Simulator
from bot.texts import t
from bot.workflow_admin import PROBE_NODE
from tests.fakediscord.model import FakeChannel, FakeGuild, FakeMember
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.fakediscord.server import FakeDiscord
from tests.harness import SHIPPED_WORKFLOWS, running_bot
from tests.samples import png_bytes
from tests.waiting import eventually

MANAGE_GUILD = discord.Permissions(manage_guild=True)
ALLOWANCE = 100
TEXT_TO_IMAGE = "2016195556967714818"  # the simulator's built-in text-to-image workflow
SIMDATA = Path(__file__).resolve().parents[2] / "bot" / "runninghub" / "simdata"
SUBCOMMANDS = ("add", "edit", "remove", "show", "reload")


@dataclass
class World:
    fake: FakeDiscord
    sim: Simulator
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeMember
    li: FakeMember  # a Chinese-language member
    mod: FakeMember
    tmp_path: Path
    workflows_path: Path
    bot: RHBot | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RHBot]:
        """The bot, on this world's database and workflows file; leaving it is a full stop."""
        env = {
            "DISCORD_GUILD_ID": str(self.guild.id),
            "DEFAULT_ALLOWANCE": str(ALLOWANCE),
            "WORKFLOWS_PATH": str(self.workflows_path),
        }
        async with running_bot(self.fake, tmp_path=self.tmp_path, simulator=self.sim, env=env) as bot:
            self.bot = bot
            try:
                yield bot
            finally:
                self.bot = None

    async def command(
        self, member: FakeMember, subcommand: str, options: dict[str, object] | None = None, *, name: str = "workflow"
    ) -> str:
        """A slash command's one ephemeral answer (acknowledged within 3 s)."""
        ix = await self.fake.invoke(member, self.channel, name, options or {}, subcommand=subcommand)
        text = await ix.reply()
        assert ix.ack_latency is not None and ix.ack_latency < 3.0
        assert ix.ephemeral is True, f"/{name} {subcommand} answered publicly"
        return text

    async def generate(self, member: FakeMember, workflow: str, **options: object) -> tuple[str, int | None]:
        ix = await self.fake.invoke(member, self.channel, "generate", {"workflow": workflow, **options})
        text = await ix.reply()
        assert ix.ephemeral is True
        found = re.match(r"Job #(\d+) ", text)
        return text, int(found[1]) if found else None

    async def run_job(self, member: FakeMember, workflow: str, prompt: str) -> int:
        text, job_id = await self.generate(member, workflow, prompt=prompt)
        assert job_id is not None, text
        await self.wait_state(job_id, "delivered")
        return job_id

    @property
    def db(self):  # type: ignore[no-untyped-def]
        assert self.bot is not None
        return self.bot.services.db

    async def wait_state(self, job_id: int, *states: str) -> None:
        async def reached() -> bool:
            row = await self.db.fetchone("SELECT state FROM jobs WHERE id = ?", (job_id,))
            return row is not None and row[0] in states

        await eventually(reached)

    async def job_ledger(self, job_id: int) -> list[tuple[str, int, int]]:
        rows = await self.db.fetchall(
            "SELECT kind, amount, held_change FROM ledger WHERE job_id = ? ORDER BY id", (job_id,)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def stored(self) -> list[tuple[object, ...]]:
        rows = await self.db.fetchall("SELECT guild_id, alias, definition FROM guild_workflows ORDER BY alias")
        overrides = await self.db.fetchall(
            "SELECT guild_id, alias, cost, enabled, timeout FROM guild_workflow_overrides"
        )
        return [tuple(r) for r in rows] + [tuple(r) for r in overrides]

    def creates(self) -> list[list[dict[str, object]]]:
        """The nodeInfoList of every real create (the /workflow add probe for 810 left out)."""
        return [
            c.json["nodeInfoList"]
            for c in self.sim.creates()
            if not any(n.get("nodeId") == PROBE_NODE for n in c.json["nodeInfoList"])
        ]

    async def add_cats(self, cost: int = 7) -> str:
        return await self.command(
            self.mod,
            "add",
            {
                "id": TEXT_TO_IMAGE,
                "alias": "cats",
                "cost": cost,
                "description": "Cat pictures",
                "description_zh": "猫咪图片",
            },
        )


@pytest.fixture
def sim_options() -> dict[str, object]:
    return {"queue_seconds": 0.02, "run_seconds": 0.05, "concurrency": 1}


@pytest.fixture
async def world(
    fake_discord: FakeDiscord,  # noqa: F811
    tmp_path: Path,
    sim_options: dict[str, object],
) -> AsyncIterator[World]:
    guild = fake_discord.add_guild("Art Club", locale="en-US")
    channel = guild.add_channel("general")
    workflows_path = tmp_path / "workflows.toml"
    shutil.copy(SHIPPED_WORKFLOWS, workflows_path)
    sim = Simulator(**sim_options)  # type: ignore[arg-type]
    await sim.start()
    try:
        yield World(
            fake=fake_discord,
            sim=sim,
            guild=guild,
            channel=channel,
            alice=guild.add_member("alice"),
            li=guild.add_member("li", locale="zh-CN"),
            mod=guild.add_member("mod", permissions=MANAGE_GUILD),
            tmp_path=tmp_path,
            workflows_path=workflows_path,
        )
    finally:
        await sim.stop()


# ---- add, run at once, restart, edit ------------------------------------------------------------


async def test_an_added_alias_runs_at_once_survives_a_restart_and_an_edit_changes_the_next_charge(
    world: World,
) -> None:
    async with world.running():
        reply = await world.add_cats(cost=7)
        assert reply.startswith(t("wfadmin.added", "en", alias="cats", target=f"workflow {TEXT_TO_IMAGE}", cost=7))
        assert "• `prompt` ← node 6 · CLIPTextEncode · `text` (required)" in reply
        assert "• `seed` ← node 3 · KSampler · `seed` (default 431205898214507" in reply
        assert "/workflow edit alias:cats" in reply

        # A member runs it at once: the prompt reaches the detected node, the cost is the one given.
        first = await world.run_job(world.alice, "cats", "a tabby cat")
        (nodes,) = world.creates()
        assert {"nodeId": "6", "fieldName": "text", "fieldValue": "a tabby cat"} in nodes
        assert {"nodeId": "3", "fieldName": "steps", "fieldValue": 25} in nodes  # the workflow's own default
        assert await world.job_ledger(first) == [("hold", -7, 7), ("charge", 0, -7)]

        # Chinese members see the Chinese description, in autocomplete and /workflows.
        choices = await world.fake.autocomplete(
            world.li, world.channel, "generate", {"workflow": "猫咪"}, focused="workflow"
        )
        assert [c["value"] for c in choices] == ["cats"] and "猫咪图片" in choices[0]["name"]
        english = await world.fake.autocomplete(
            world.alice, world.channel, "generate", {"workflow": "cat"}, focused="workflow"
        )
        assert "Cat pictures" in english[0]["name"]
        listing = await (await world.fake.invoke(world.li, world.channel, "workflows")).reply()
        assert "cats · 7 金币" in listing and "猫咪图片" in listing

    # A restart: a new bot on the same database still has the alias.
    async with world.running():
        second = await world.run_job(world.alice, "cats", "a black cat")
        assert await world.job_ledger(second) == [("hold", -7, 7), ("charge", 0, -7)]
        reply = await world.command(world.mod, "edit", {"alias": "cats", "cost": 3})
        assert reply == t("wfadmin.edited", "en", alias="cats", changes="cost 7 → 3")
        third = await world.run_job(world.alice, "cats", "a white cat")
        assert await world.job_ledger(third) == [("hold", -3, 3), ("charge", 0, -3)]
        assert [n for nodes in world.creates() for n in nodes if n["nodeId"] == "6"][-1]["fieldValue"] == "a white cat"
        shown = await world.command(world.mod, "show", {"alias": "cats"})
        assert f"**cats** · added in this server · workflow {TEXT_TO_IMAGE}" in shown
        assert "Cost: 3 coins" in shown and "`prompt` ← node 6" in shown
        assert await check_invariants(world.db) == []


async def test_an_override_of_a_file_alias_changes_the_charge_in_this_server(world: World) -> None:
    async with world.running():
        reply = await world.command(world.mod, "edit", {"alias": "z-image", "cost": 4})
        assert reply == t("wfadmin.edited", "en", alias="z-image", changes="cost 10 → 4")
        job = await world.run_job(world.alice, "z-image", "a dog")
        assert await world.job_ledger(job) == [("hold", -4, 4), ("charge", 0, -4)]
        shown = await world.command(world.mod, "show", {"alias": "z-image"})
        assert "Overrides in this server: cost 4 (file: 10)" in shown
        await world.command(world.mod, "edit", {"alias": "z-image", "enabled": False})
        text, job_id = await world.generate(world.alice, "z-image", prompt="x")
        assert job_id is None and text.startswith("There is no workflow named 'z-image'")


# ---- an id the simulator learns from the test -------------------------------------------------

OWN_WORKFLOW_ID = "1990000000000000777"
OWN_GRAPH = json.loads((SIMDATA / "2014552598229032961.json").read_text())  # two LoadImage nodes: 21, 24


@pytest.mark.parametrize(
    "sim_options",
    [{"queue_seconds": 0.02, "run_seconds": 0.05, "extra_workflows": {OWN_WORKFLOW_ID: OWN_GRAPH}}],
)
async def test_an_alias_of_the_servers_own_workflow_fills_image_and_image2_in_node_order(world: World) -> None:
    async with world.running():
        reply = await world.command(world.mod, "add", {"id": OWN_WORKFLOW_ID, "alias": "restyle", "cost": 4})
        assert "• `image` ← node 21 · LoadImage · `image` (required)" in reply
        assert "• `image2` ← node 24 · LoadImage · `image` (required)" in reply
        photo, style = png_bytes((200, 10, 10)), png_bytes((10, 10, 200))
        text, job_id = await world.generate(
            world.alice,
            "restyle",
            prompt="oil painting",
            image=world.fake.host_attachment(photo, "photo.png"),
            image2=world.fake.host_attachment(style, "style.png"),
        )
        assert job_id is not None, text
        await world.wait_state(job_id, "delivered")
        names = {data: name for name, data in world.sim.uploads.items()}
        (nodes,) = world.creates()
        assert {"nodeId": "21", "fieldName": "image", "fieldValue": names[photo]} in nodes
        assert {"nodeId": "24", "fieldName": "image", "fieldValue": names[style]} in nodes
        assert {"nodeId": "6", "fieldName": "text", "fieldValue": "oil painting"} in nodes
        assert await world.job_ledger(job_id) == [("hold", -4, 4), ("charge", 0, -4)]


# ---- remove -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.02, "run_seconds": 0.6, "concurrency": 1}])
async def test_a_removal_refuses_new_jobs_while_a_queued_job_of_that_alias_still_completes(world: World) -> None:
    async with world.running():
        await world.add_cats(cost=7)
        # Alice's z-image job takes the account's one slot, so Alice's cats job waits in our queue.
        _, busy = await world.generate(world.alice, "z-image", prompt="slow")
        assert busy is not None
        await world.wait_state(busy, "queued", "running")
        _, waiting = await world.generate(world.alice, "cats", prompt="patient cat")
        assert waiting is not None
        row = await world.db.fetchone("SELECT state FROM jobs WHERE id = ?", (waiting,))
        assert row is not None and row[0] == "pending"

        reply = await world.command(world.mod, "remove", {"alias": "cats"})
        assert reply == t("wfadmin.removed", "en", alias="cats")
        text, refused = await world.generate(world.alice, "cats", prompt="another")
        assert refused is None and text.startswith("There is no workflow named 'cats'")

        # The queued job still runs on its workflow, is delivered and charged its cost.
        await world.wait_state(waiting, "delivered")
        assert {"nodeId": "6", "fieldName": "text", "fieldValue": "patient cat"} in world.creates()[-1]
        assert await world.job_ledger(waiting) == [("hold", -7, 7), ("charge", 0, -7)]
        assert await world.stored() == []
        assert await check_invariants(world.db) == []


# ---- reload -----------------------------------------------------------------------------------


async def test_reload_picks_up_a_valid_file_and_keeps_the_old_aliases_on_an_invalid_one(world: World) -> None:
    async with world.running():
        text = world.workflows_path.read_text()
        world.workflows_path.write_text(text.replace("cost = 10\n", "cost = 12\n", 1))  # z-image
        reply = await world.command(world.mod, "reload")
        assert reply == t("wfadmin.reloaded", "en", count=5)
        job = await world.run_job(world.alice, "z-image", "a fox")
        assert await world.job_ledger(job) == [("hold", -12, 12), ("charge", 0, -12)]

        world.workflows_path.write_text(text.replace("timeout = 1800", 'timeout = "long"'))
        reply = await world.command(world.mod, "reload")
        assert reply == t(
            "wfadmin.reload_failed",
            "en",
            alias="animate",
            key="timeout",
            reason="must be a positive number of seconds, like 1200 or 90.5",
        )
        job = await world.run_job(world.alice, "z-image", "a fox again")
        assert await world.job_ledger(job) == [("hold", -12, 12), ("charge", 0, -12)]  # the old set stays
        ix = await world.fake.invoke(world.mod, world.channel, "workflow", {}, subcommand="reload", locale="zh-CN")
        assert await ix.reply() == (
            "workflows.toml 未重新加载，现有别名保持不变：别名“animate”，键“timeout”："
            "必须是正数秒数，例如 1200 或 90.5。"
        )


# ---- who may, and bad input -------------------------------------------------------------------


async def test_a_member_who_is_not_a_moderator_is_refused_every_workflow_command(world: World) -> None:
    options = {
        "add": {"id": TEXT_TO_IMAGE, "alias": "cats", "cost": 1},
        "edit": {"alias": "z-image", "cost": 1},
        "remove": {"alias": "z-image"},
        "show": {"alias": "z-image"},
        "reload": {},
    }
    async with world.running():
        for subcommand in SUBCOMMANDS:
            reply = await world.command(world.alice, subcommand, options[subcommand])
            assert reply == t("error.moderator_only", "en", command=f"workflow {subcommand}"), subcommand
        assert await world.stored() == []
        assert world.bot is not None
        assert world.bot.services.workflows.for_guild(world.guild.id).get("z-image").cost == 10
        assert world.sim.creates() == []


BAD_ADDS = {
    "bad name": ({"alias": "Cats!"}, "wfadmin.bad_alias", {"alias": "Cats!"}),
    "too long": ({"alias": "c" * 33}, "wfadmin.bad_alias", {"alias": "c" * 33}),
    "taken by the file": ({"alias": "z-image"}, "wfadmin.alias_in_file", {"alias": "z-image"}),
    "taken in this server": ({"alias": "cats"}, "wfadmin.alias_in_server", {"alias": "cats"}),
    "cost below zero": ({"cost": -1}, "wfadmin.negative_cost", {"cost": -1}),
    "unknown workflow": ({"id": "123"}, "wfadmin.unknown_workflow", {"id": "123"}),
    "unknown app": ({"id": "123", "app": True}, "wfadmin.unknown_app", {"id": "123"}),
    "never run": ({"id": NEVER_RUN_WORKFLOW_ID}, "wfadmin.never_run", {"id": NEVER_RUN_WORKFLOW_ID}),
    "not an id": ({"id": "abc"}, "wfadmin.bad_id", {"id": "abc"}),
}


@pytest.mark.parametrize("case", list(BAD_ADDS))
async def test_each_bad_add_is_one_sentence_and_stores_nothing(world: World, case: str) -> None:
    changes, key, params = BAD_ADDS[case]
    async with world.running():
        await world.add_cats()
        before = await world.stored()
        options = {"id": TEXT_TO_IMAGE, "alias": "dogs", "cost": 5, **changes}
        reply = await world.command(world.mod, "add", options)
        assert reply == t(key, "en", **params)
        assert "\n" not in reply
        assert await world.stored() == before
        assert world.bot is not None
        assert "dogs" not in world.bot.services.workflows.for_guild(world.guild.id)
        zh = await (
            await world.fake.invoke(world.mod, world.channel, "workflow", options, subcommand="add", locale="zh-CN")
        ).reply()
        assert zh == t(key, "zh-CN", **params)
