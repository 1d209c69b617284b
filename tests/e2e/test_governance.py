"""Governance end to end (design §9) through the real discord.py client and the loopback Discord.

Every refusal is checked where it matters: the sentence the member reads, no create at the
RunningHub simulator, no coin held in the ledger, no row changed in the settings tables.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.client import RHBot
from bot.db.invariants import check_invariants
from bot.runninghub.simulator import CREATE_PATH, Simulator
from bot.texts import t
from tests.fakediscord.model import FakeChannel, FakeGuild, FakeInteraction, FakeMember, FakeMessage, FakeRole
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.fakediscord.server import FakeDiscord
from tests.harness import SHIPPED_WORKFLOWS, flatten_commands, running_bot
from tests.samples import png_bytes
from tests.waiting import eventually

MANAGE_GUILD = discord.Permissions(manage_guild=True)
ALLOWANCE = 100
CATEGORY = 4  # a channel type nothing can be posted in
PROMPT_INPUT = """
[[workflows.{alias}.inputs]]
name = "prompt"
kind = "text"
node_id = "6"
field = "text"
required = true
"""
GATED = """
[workflows.patrons]
workflow_id = "2016195556967714818"
description = "Patrons only"
cost = 10
roles = ["{patron}"]
{prompt_patrons}
[workflows.art-only]
workflow_id = "2016195556967714818"
description = "Only in the art channel"
cost = 10
channels = ["{art}"]
{prompt_art}
[workflows.spicy]
workflow_id = "2016195556967714818"
description = "Only in age-restricted channels"
cost = 10
nsfw = true
{prompt_spicy}
"""
GATED_ALIASES = {"patrons", "art-only", "spicy"}


@dataclass
class World:
    fake: FakeDiscord
    sim: Simulator
    bot: RHBot
    guild: FakeGuild
    general: FakeChannel
    art: FakeChannel
    adults: FakeChannel  # age-restricted
    voice: FakeChannel  # a category: the wrong type for every channel option here
    modlog: FakeChannel
    patron_role: FakeRole
    alice: FakeMember
    bob: FakeMember
    pat: FakeMember  # holds the Patron role
    li: FakeMember  # Discord in Chinese
    mod: FakeMember  # Manage Server

    async def run(
        self,
        member: FakeMember,
        command: str,
        options: dict[str, object] | None = None,
        *,
        channel: FakeChannel | None = None,
    ) -> str:
        """Invoke `/command` ("settings cooldown" for a subcommand); its one ephemeral answer."""
        name, _, sub = command.partition(" ")
        ix: FakeInteraction = await self.fake.invoke(
            member, channel or self.general, name, options or {}, subcommand=sub or None  # type: ignore[arg-type]
        )
        text = await ix.reply()
        assert ix.ephemeral is True, f"/{command} answered publicly"
        assert not ix.rejected, ix.rejected
        return text

    async def generate(
        self, member: FakeMember, workflow: str = "z-image", *, channel: FakeChannel | None = None, **options: object
    ) -> str:
        return await self.run(member, "generate", {"workflow": workflow, **options}, channel=channel)

    async def holds(self, member: FakeMember) -> int:
        row = await self.bot.services.db.fetchone(
            "SELECT COUNT(*) FROM ledger WHERE guild_id = ? AND member_id = ? AND kind = 'hold'",
            (self.guild.id, member.id),
        )
        return int(row[0]) if row else 0

    async def audit_rows(self) -> int:
        row = await self.bot.services.db.fetchone("SELECT COUNT(*) FROM governance_audit")
        return int(row[0]) if row else 0

    def creates(self) -> int:
        return len(self.sim.creates())

    def notices(self) -> list[FakeMessage]:
        return self.fake.messages(self.modlog)


def accepted(text: str) -> int:
    found = re.match(r"(?:Job|任务) #(\d+)", text)
    assert found, text
    return int(found[1])


def write_workflows(tmp_path: Path, guild: FakeGuild, patron: FakeRole, art: FakeChannel) -> Path:
    path = tmp_path / "workflows.toml"
    gated = GATED.format(
        patron=patron.id, art=art.id, **{f"prompt_{k}": PROMPT_INPUT.format(alias=a) for k, a in
                                         (("patrons", "patrons"), ("art", "art-only"), ("spicy", "spicy"))}
    )
    path.write_text(SHIPPED_WORKFLOWS.read_text(encoding="utf-8") + gated, encoding="utf-8")
    return path


def make_guild(fake: FakeDiscord) -> dict[str, object]:
    guild = fake.add_guild("Art Club", locale="en-US")
    patron = guild.add_role("Patron")
    return {
        "guild": guild,
        "patron_role": patron,
        "general": guild.add_channel("general"),
        "art": guild.add_channel("art"),
        "adults": guild.add_channel("after-dark", nsfw=True),
        "voice": guild.add_channel("Lounge", type=CATEGORY),
        "modlog": guild.add_channel("mod-log"),
        "alice": guild.add_member("alice"),
        "bob": guild.add_member("bob"),
        "pat": guild.add_member("pat", roles=[patron]),
        "li": guild.add_member("li", locale="zh-CN"),
        "mod": guild.add_member("mod", permissions=MANAGE_GUILD),
    }


def bot_settings(tmp_path: Path, parts: dict[str, object]) -> dict[str, str]:
    guild: FakeGuild = parts["guild"]  # type: ignore[assignment]
    workflows = write_workflows(tmp_path, guild, parts["patron_role"], parts["art"])  # type: ignore[arg-type]
    return {"DISCORD_GUILD_ID": str(guild.id), "DEFAULT_ALLOWANCE": str(ALLOWANCE), "WORKFLOWS_PATH": str(workflows)}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(queue_seconds=0.02, run_seconds=0.05, concurrency=4)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def world(fake_discord: FakeDiscord, tmp_path: Path, sim: Simulator) -> AsyncIterator[World]:  # noqa: F811
    parts = make_guild(fake_discord)
    env = bot_settings(tmp_path, parts)
    async with running_bot(fake_discord, tmp_path=tmp_path, simulator=sim, env=env) as bot:
        yield World(fake=fake_discord, sim=sim, bot=bot, **parts)  # type: ignore[arg-type]
        await settled(bot)


async def settled(bot: RHBot) -> None:
    """Wait for every started job to end (or stay 'unknown'), then check that the books balance."""

    async def quiet() -> bool:
        # A delivery given up stays 'succeeded', its next try years away.
        row = await bot.services.db.fetchone(
            "SELECT COUNT(*) FROM jobs WHERE state NOT IN ('delivered', 'failed', 'cancelled', 'timed_out', 'unknown')"
            " AND NOT (state = 'succeeded' AND next_delivery_at > ?)",
            (time.time() + 86400,),
        )
        return row is not None and int(row[0]) == 0

    await eventually(quiet)
    assert await check_invariants(bot.services.db) == []


# ---- the gate, in order ------------------------------------------------------------------------


async def test_each_gate_refuses_with_no_create_and_no_coin_and_the_allowed_case_passes(world: World) -> None:
    w = world
    alice = w.alice

    async def refused(text: str, expected: str) -> None:
        assert text == expected
        assert w.creates() == 0 and await w.holds(alice) == 0

    # Blocked member: the refusal gives the reason.
    assert await w.run(w.mod, "block", {"member": alice, "reason": "spamming the queue"}) == t(
        "gov.ok.block_reason", "en", member=alice.mention, reason="spamming the queue"
    )
    await refused(await w.generate(alice, prompt="a cat"),
                  "A moderator has blocked you from starting jobs on this server (reason: spamming the queue).")
    await w.run(w.mod, "unblock", {"member": alice})

    # The channel allow-list: says where to go.
    await w.run(w.mod, "settings channels", {"action": "add", "channel": w.art})
    await refused(
        await w.generate(alice, prompt="a cat"), f"Jobs can't be started in this channel: use {w.art.mention}."
    )
    await w.run(w.mod, "settings channels", {"action": "clear"})

    # The alias's own channels, nsfw and roles.
    await refused(await w.generate(alice, "art-only", prompt="a cat"),
                  f"**art-only** runs only in {w.art.mention}: use it there.")
    await refused(await w.generate(alice, "spicy", prompt="a cat"),
                  "**spicy** runs only in age-restricted channels: use it in one of those.")
    await refused(await w.generate(alice, "patrons", prompt="a cat"),
                  f"**patrons** needs the <@&{w.patron_role.id}> role.")

    # Cooldown: the first job passes, the next one within a minute is told how long to wait.
    await w.run(w.mod, "settings cooldown", {"seconds": 60})
    first = accepted(await w.generate(alice, prompt="a cat"))
    await eventually(lambda: w.creates() == 1)
    text = await w.generate(alice, "art-only", channel=w.art, prompt="a cat")
    seconds = re.fullmatch(r"Please wait (\d+) s before starting your next job\.", text)
    assert seconds and 55 <= int(seconds[1]) <= 60, text
    assert await w.holds(alice) == 1 and w.creates() == 1
    await w.run(w.mod, "settings cooldown", {"seconds": 0})

    # The allowed cases: each alias where and by whom it may run (a moderator passes role gates).
    ok = [
        accepted(await w.generate(alice, "art-only", channel=w.art, prompt="a cat")),
        accepted(await w.generate(alice, "spicy", channel=w.adults, prompt="a cat")),
        accepted(await w.generate(w.pat, "patrons", prompt="a cat")),
        accepted(await w.generate(w.mod, "patrons", prompt="a cat")),
    ]
    assert len(set(ok)) == 4 and first not in ok
    await eventually(lambda: w.creates() == 5)
    assert await w.holds(alice) == 3


async def test_a_thread_counts_as_its_parent_for_the_allow_list(world: World) -> None:
    if not hasattr(world.guild, "add_thread"):
        pytest.skip("the fake Discord has no threads yet (branch fake)")
    thread = world.guild.add_thread(world.art, "cats")  # type: ignore[attr-defined]
    await world.run(world.mod, "settings channels", {"action": "add", "channel": world.art})
    accepted(await world.generate(world.alice, prompt="a cat", channel=thread))
    adults_thread = world.guild.add_thread(world.adults, "late")  # type: ignore[attr-defined]
    await world.run(world.mod, "settings channels", {"action": "clear"})
    accepted(await world.generate(world.bob, "spicy", prompt="a cat", channel=adults_thread))


async def test_the_rerun_button_passes_the_gate_too(world: World) -> None:
    job_id = accepted(await world.generate(world.alice, prompt="a cat"))
    result = await world.fake.wait_for_message(world.general, lambda m: f"rh:rerun:{job_id}" in m.custom_ids)
    await world.run(world.mod, "block", {"member": world.alice})
    ix = await world.fake.click(world.alice, result, f"rh:rerun:{job_id}")
    assert await ix.reply() == t("gov.refused.blocked", "en")
    assert world.creates() == 1 and await world.holds(world.alice) == 1
    await world.run(world.mod, "unblock", {"member": world.alice})
    ix = await world.fake.click(world.alice, result, f"rh:rerun:{job_id}")
    assert (await ix.reply()).startswith("Job #")
    await eventually(lambda: world.creates() == 2)


# ---- moderators only ---------------------------------------------------------------------------

GOVERNANCE_COMMANDS = [
    ("settings show", {}),
    ("settings channels", {"action": "clear"}),
    ("settings modlog", {}),
    ("settings cooldown", {"seconds": 5}),
    ("settings language", {"value": "en"}),
    ("blocklist add", {"text": "gore"}),
    ("blocklist remove", {"text": "gore"}),
    ("blocklist list", {}),
    ("block", {"member": "bob"}),
    ("unblock", {"member": "bob"}),
    ("quota policy", {"allowance": 5, "period": "daily", "role": "patron"}),
]


async def test_a_non_moderator_is_refused_every_governance_command(world: World) -> None:
    for command, options in GOVERNANCE_COMMANDS:
        named = {"bob": world.bob, "patron": world.patron_role}
        resolved = {k: named.get(v, v) if isinstance(v, str) else v for k, v in options.items()}
        for member in (world.alice, world.pat):
            text = await world.run(member, command, resolved)
            assert text == t("error.moderator_only", "en", command=command), command
    assert await world.audit_rows() == 0
    assert await world.bot.services.db.fetchall("SELECT * FROM guild_settings") == []
    assert await world.bot.services.db.fetchall("SELECT * FROM role_policy") == []


# ---- the blocklist -----------------------------------------------------------------------------

DISGUISES = ["NSFW", "n.s.f.w", "ＮＳＦＷ", "n\u200bsfw", "n s f w", "N-s_F*w"]


async def test_a_blocklisted_word_in_six_disguises_is_refused_and_a_clean_prompt_is_not(world: World) -> None:
    w = world
    assert await w.run(w.mod, "blocklist add", {"text": "ＮＳＦＷ"}) == t("gov.ok.blocklist.add", "en", entry="nsfw")
    await w.run(w.mod, "settings modlog", {"channel": w.modlog})
    for disguise in DISGUISES:
        text = await w.generate(w.alice, prompt=f"a {disguise} picture of @everyone ```")
        assert text == t("gov.refused.blocklist", "en")
        assert "nsfw" not in text.casefold()
    # A word in a text param is caught too.
    assert await w.generate(w.alice, prompt="a cat", params="negative=n.s.f.w") == t("gov.refused.blocklist", "en")
    assert w.creates() == 0 and await w.holds(w.alice) == 0
    # Ordinary words holding the letters are not.
    accepted(await w.generate(w.alice, prompt="a classic nsfwish transfer of glass"))
    await eventually(lambda: w.creates() == 1)

    notices = w.notices()
    assert len(notices) == 7
    for notice, disguise in zip(notices, DISGUISES, strict=False):
        assert notice.content.startswith(
            f"🚫 Blocklist: {w.alice.mention} tried **z-image** in {w.general.mention} (matched `nsfw`)."
        )
        assert disguise.replace("\u200b", "") in notice.content.replace("\u200b", "")
        # The prompt's own ``` cannot close the code block; nobody is pinged.
        assert notice.content.count("```") == 2 and notice.content.endswith("```")
        assert notice.mentions == [] and notice.mention_roles == [] and notice.mention_everyone is False
    assert "negative=n.s.f.w" in notices[-1].content

    listed = await w.run(w.mod, "blocklist list")
    assert listed == "**Blocklist (1)**\n• `nsfw`"
    removed = await w.run(w.mod, "blocklist remove", {"text": "N.S.F.W"})
    assert removed == t("gov.ok.blocklist.remove", "en", entry="nsfw")
    accepted(await w.generate(w.bob, prompt="nsfw"))


# ---- the modlog ----------------------------------------------------------------------------------


async def test_the_modlog_hears_of_blocks_unknown_starts_and_an_empty_account_and_pings_nobody(world: World) -> None:
    w = world
    await w.run(w.mod, "settings modlog", {"channel": w.modlog})
    await w.run(w.mod, "block", {"member": w.bob, "reason": "@everyone look"})
    await w.run(w.mod, "unblock", {"member": w.bob})
    w.sim.lose_answer_next(1)
    lost = accepted(await w.generate(w.alice, prompt="lost in transit"))
    await w.fake.wait_for_message(w.modlog, lambda m: m.content.startswith("❓"))
    w.sim.fail_next_with_code(1, 416, path=CREATE_PATH)
    await w.generate(w.bob, prompt="no coins left")
    await w.fake.wait_for_message(w.modlog, lambda m: m.content.startswith("💸"))
    contents = [m.content for m in w.notices()]
    assert contents == [
        t("gov.modlog.blocked", "en", moderator=w.mod.mention, member=w.bob.mention, reason="@everyone look"),
        t("gov.modlog.unblocked", "en", moderator=w.mod.mention, member=w.bob.mention),
        t("gov.modlog.unknown", "en", job=f"#{lost}", alias="z-image", member=w.alice.mention, coins=10),
        t("gov.modlog.out_of_coins", "en"),
    ]
    for notice in w.notices():
        assert notice.mentions == [] and notice.mention_roles == [] and notice.mention_everyone is False
    # The account really is empty now: /health sees remainCoins 0, but the notice is not repeated so soon...
    w.sim.remain_coins = 0
    await w.run(w.mod, "health")
    assert len(w.notices()) == 4
    # ...only once the last one is old enough.
    w.bot.services.jobs._out_of_coins_told.clear()
    await w.run(w.mod, "health")
    assert [m.content for m in w.notices()][4:] == [t("gov.modlog.out_of_coins", "en")]
    # Modlog off: nothing more is posted.
    assert await w.run(w.mod, "settings modlog") == t("gov.ok.modlog.off", "en")
    await w.run(w.mod, "block", {"member": w.bob})
    assert len(w.notices()) == 5


# ---- role allowances -------------------------------------------------------------------------------


async def test_a_patron_first_seen_after_a_role_policy_gets_the_roles_allowance(world: World) -> None:
    w = world
    text = await w.run(w.mod, "quota policy", {"allowance": 500, "period": "weekly", "role": w.patron_role})
    assert text == t("gov.ok.role_policy", "en", role=f"<@&{w.patron_role.id}>", allowance=500,
                     period=t("cmd.period.weekly", "en"))
    assert (await w.run(w.pat, "balance")).startswith("You have 500 coins available.")
    assert (await w.run(w.alice, "balance")).startswith(f"You have {ALLOWANCE} coins available.")
    accepted(await w.generate(w.pat, "patrons", prompt="a cat"))
    row = await w.bot.services.db.fetchone(
        "SELECT available, held FROM balances WHERE guild_id = ? AND member_id = ?", (w.guild.id, w.pat.id)
    )
    assert row is not None and tuple(row) in ((490, 10), (490, 0))
    shown = await w.run(w.mod, "settings show")
    assert f"<@&{w.patron_role.id}>: 500 coins (weekly)" in shown


# ---- listings ---------------------------------------------------------------------------------------


async def test_workflows_and_autocomplete_list_only_what_the_member_may_run_here(world: World) -> None:
    w = world

    async def choices(member: FakeMember, channel: FakeChannel) -> set[str]:
        found = await w.fake.autocomplete(member, channel, "generate", {"workflow": ""}, focused="workflow")
        return {c["value"] for c in found}

    assert choices_ok(await choices(w.alice, w.general), set())
    assert choices_ok(await choices(w.alice, w.art), {"art-only"})
    assert choices_ok(await choices(w.alice, w.adults), {"spicy"})
    assert choices_ok(await choices(w.pat, w.general), {"patrons"})
    assert choices_ok(await choices(w.mod, w.art), {"patrons", "art-only"})

    for member, channel, visible in ((w.alice, w.general, set()), (w.pat, w.art, {"patrons", "art-only"})):
        shown = await w.run(member, "workflows", channel=channel)
        listed = set(re.findall(r"^([a-z0-9-]+) · \d+ coins", shown, re.MULTILINE))
        assert "z-image" in listed and listed & GATED_ALIASES == visible, listed


def choices_ok(found: set[str], gated_visible: set[str]) -> bool:
    assert found & GATED_ALIASES == gated_visible, found
    assert "z-image" in found
    return True


# ---- language ---------------------------------------------------------------------------------------


async def test_public_messages_follow_the_servers_language_setting(world: World) -> None:
    w = world

    async def first_status(member: FakeMember) -> str:
        job = accepted(await w.generate(member, prompt="a cat"))
        status = await w.fake.wait_for_message(w.general, lambda m: f" #{job}" in m.versions[0].content)
        return status.versions[0].content

    # alice's Discord is in English; li's in Chinese.
    assert await w.run(w.mod, "settings language", {"value": "zh-CN"}) == t("gov.ok.language.zh-CN", "en")
    assert (await first_status(w.alice)).startswith(f"⏳ **z-image** #1（{w.alice.mention}）：等待空闲槽位")
    await w.run(w.mod, "settings language", {"value": "en"})
    assert (await first_status(w.li)).startswith(f"⏳ **z-image** #2 for {w.li.mention}: waiting")
    await w.run(w.mod, "settings language", {"value": "auto"})
    assert (await first_status(w.li)).startswith(f"⏳ **z-image** #3（{w.li.mention}）")
    assert (await first_status(w.bob)).startswith(f"⏳ **z-image** #4 for {w.bob.mention}")
    # Traditional Chinese for a server in Taiwan or Hong Kong, whatever the requester's own language.
    assert await w.run(w.mod, "settings language", {"value": "zh-TW"}) == t("gov.ok.language.zh-TW", "en")
    assert (await first_status(w.alice)).startswith(f"⏳ **z-image** #5（{w.alice.mention}）：等待空閒槽位")
    assert t("gov.show.language.zh-TW", "en") in await w.run(w.mod, "settings show")


# ---- bad input and restarts -------------------------------------------------------------------------


async def test_bad_inputs_get_one_sentence_and_change_nothing(world: World) -> None:
    w = world
    # Discord's picker offers only channels messages can be posted in...
    flat = flatten_commands(await w.bot.command_payloads())
    for command in ("settings channels", "settings modlog"):
        assert sorted(flat[command]["channel"]["channel_types"]) == [0, 5, 10, 11, 12, 15, 16]
    # ...and a category sent anyway (an outdated client, a hand-made request) gets one sentence.
    for command, options in (("settings channels", {"action": "add"}), ("settings modlog", {})):
        try:
            text = await w.run(w.mod, command, {**options, "channel": w.voice})
        except ValueError:  # this fake Discord, like Discord, will not send it at all
            continue
        assert text == t("gov.bad.channel_type", "en", channel=w.voice.mention)
    # A channel the bot can read but not post in cannot take the notices.
    mute = w.guild.add_channel("read-only", bot_permissions=discord.Permissions(view_channel=True))
    cases = [
        ("settings channels", {"action": "add"}, "Name the channel to add with the `channel` option."),
        ("settings channels", {"action": "remove", "channel": w.art}, t("gov.channels.not_listed", "en",
                                                                        channel=w.art.mention)),
        ("blocklist add", {"text": "   "}, t("gov.bad.entry_empty", "en")),
        ("blocklist add", {"text": "\u200b\u200d.."}, t("gov.bad.entry_empty", "en")),
        ("blocklist add", {"text": "x" * 500}, t("gov.bad.entry_too_long", "en", maximum=100)),
        ("settings cooldown", {"seconds": -5}, t("gov.bad.cooldown", "en", maximum=86400)),
        ("settings cooldown", {"seconds": 10**9}, t("gov.bad.cooldown", "en", maximum=86400)),
        ("settings language", {"value": "fr"}, t("gov.bad.language", "en", languages="auto, en, zh-CN, zh-TW")),
        ("block", {"member": w.mod}, t("gov.bad.block_self", "en")),
        ("unblock", {"member": w.bob}, t("gov.unblock.not_blocked", "en", member=w.bob.mention)),
        ("settings channels", {"action": "remove"}, t("gov.bad.channel_needed.remove", "en")),
        ("settings modlog", {"channel": mute}, t("gov.bad.modlog_cannot_post", "en", channel=mute.mention)),
    ]
    for command, options, expected in cases:
        text = await w.run(w.mod, command, options)
        assert text == expected, (command, options)
        assert text.count(". ") == 0 and text.count("\n") == 0  # one sentence
    assert await w.audit_rows() == 0
    assert await w.bot.services.db.fetchall("SELECT * FROM guild_settings") == []
    assert await w.bot.services.db.fetchall("SELECT * FROM blocklist") == []
    assert await w.bot.services.db.fetchall("SELECT * FROM blocked_members") == []


async def test_settings_survive_a_restart(fake_discord: FakeDiscord, tmp_path: Path, sim: Simulator) -> None:  # noqa: F811
    parts = make_guild(fake_discord)
    env = bot_settings(tmp_path, parts)
    async with running_bot(fake_discord, tmp_path=tmp_path, simulator=sim, env=env) as bot:
        w = World(fake=fake_discord, sim=sim, bot=bot, **parts)  # type: ignore[arg-type]
        await w.run(w.mod, "settings channels", {"action": "add", "channel": w.art})
        await w.run(w.mod, "settings modlog", {"channel": w.modlog})
        await w.run(w.mod, "settings cooldown", {"seconds": 30})
        await w.run(w.mod, "settings language", {"value": "zh-CN"})
        await w.run(w.mod, "blocklist add", {"text": "gore"})
        await w.run(w.mod, "block", {"member": w.bob, "reason": "spam"})
        await w.run(w.mod, "quota policy", {"allowance": 300, "period": "daily", "role": w.patron_role})
        before = await w.run(w.mod, "settings show")
    async with running_bot(fake_discord, tmp_path=tmp_path, simulator=sim, env=env) as bot:
        w = World(fake=fake_discord, sim=sim, bot=bot, **parts)  # type: ignore[arg-type]
        assert await w.run(w.mod, "settings show") == before
        for line in (f"Channels for jobs: {w.art.mention}", f"Moderator notices: {w.modlog.mention}",
                     "Cooldown: 30 s", "Language of public messages: Simplified Chinese",
                     "Blocklist: 1 (see /blocklist list)", f"Blocked members: {w.bob.mention}",
                     f"<@&{w.patron_role.id}>: 300 coins (daily)"):
            assert line in before, line
        assert await w.generate(w.bob, prompt="a cat", channel=w.art) == t(
            "gov.refused.blocked_reason", "en", reason="spam"
        )
        assert await w.generate(w.alice, prompt="a cat") == t("gov.refused.channel", "en", channels=w.art.mention)
        assert await w.generate(w.alice, prompt="g-o-r-e", channel=w.art) == t("gov.refused.blocklist", "en")
        assert (await w.run(w.pat, "balance")).startswith("You have 300 coins available.")
        assert w.creates() == 0


async def test_two_jobs_started_at_once_cannot_both_pass_the_cooldown(world: World) -> None:
    w = world
    await w.run(w.mod, "settings cooldown", {"seconds": 60})
    image = w.fake.host_attachment(png_bytes(), "cat.png")
    # Both pass the gate before either is held: the hold's transaction settles it.
    first, second = [
        await w.fake.invoke(w.alice, w.general, "generate", {"workflow": "style-transfer", "image": image,
                                                             "image2": image})
        for _ in range(2)
    ]
    answers = sorted([await first.reply(), await second.reply()])
    assert answers[0].startswith("Job #") and re.fullmatch(r"Please wait \d+ s before starting your next job\.",
                                                          answers[1]), answers
    assert await w.holds(w.alice) == 1


async def test_a_delivery_given_up_is_told_to_the_modlog(world: World) -> None:
    w = world
    await w.run(w.mod, "settings modlog", {"channel": w.modlog})
    job = accepted(await w.generate(w.alice, prompt="a cat"))
    await w.fake.wait_for_message(w.general, lambda m: f" #{job}" in m.content)  # the status message is out
    # The bot lost its right to post in the channel: the result cannot be delivered, ever.
    w.fake.inject("POST", rf"/channels/{w.general.id}/messages", status=403, code=50013, message="Missing Permissions")
    notice = await w.fake.wait_for_message(w.modlog, lambda m: m.content.startswith("📭"))
    assert notice.content == t("gov.modlog.delivery_given_up", "en", job=f"#{job}", alias="z-image",
                               member=w.alice.mention, attempts=1, number=job)
    assert notice.mentions == [] and notice.mention_everyone is False


async def test_the_edit_modal_and_the_context_menu_pass_the_gate_too(world: World) -> None:
    w = world
    job_id = accepted(await w.generate(w.alice, prompt="a cat"))
    result = await w.fake.wait_for_message(w.general, lambda m: f"rh:edit:{job_id}" in m.custom_ids)
    await eventually(lambda: w.creates() == 1)
    await w.run(w.mod, "blocklist add", {"text": "gore"})
    # An edited prompt with a blocked word: refused on submit, nothing created or held.
    click = await w.fake.click(w.alice, result, f"rh:edit:{job_id}")
    assert await click.acked() == 9
    submit = await w.fake.submit_modal(click, {"prompt": "a G.O.R.E scene"})
    assert await submit.reply() == t("gov.refused.blocklist", "en")
    # A blocked member's context menu is refused before any alias is offered.
    posted = w.fake.post_message(w.bob, w.general, "restyle me", files=[("cat.png", png_bytes())])
    await w.run(w.mod, "block", {"member": w.alice, "reason": "spam"})
    menu = await w.fake.invoke_message_command(w.alice, posted, "Generate from image")
    assert await menu.reply() == t("gov.refused.blocked_reason", "en", reason="spam")
    # The channel list holds for the menu too; a member allowed there is offered only what they may run.
    await w.run(w.mod, "unblock", {"member": w.alice})
    await w.run(w.mod, "settings channels", {"action": "add", "channel": w.art})
    menu = await w.fake.invoke_message_command(w.alice, posted, "Generate from image")
    assert await menu.reply() == t("gov.refused.channel", "en", channels=w.art.mention)
    assert w.creates() == 1 and await w.holds(w.alice) == 1
