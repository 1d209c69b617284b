"""Coins end to end: /balance and /quota through the real discord.py client and the fake Discord.

Every test checks what the member sees, the rows in the SQLite file and that the books balance.
The ledger's clock is moved by hand (`bot.services.ledger.clock`) to cross into a new refill period.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.client import RHBot
from bot.db.invariants import check_invariants
from bot.db.ledger import MAX_AMOUNT
from bot.texts import t
from tests.db import Clock, at
from tests.fakediscord.model import FakeChannel, FakeGuild, FakeInteraction, FakeMember
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.fakediscord.server import FakeDiscord
from tests.harness import running_bot

MANAGE_GUILD = discord.Permissions(manage_guild=True)
ALLOWANCE = 50  # DEFAULT_ALLOWANCE of the test bot (not the shipped default, to prove it is read)
START = "2026-11-24T10:00"  # a Tuesday


@dataclass
class World:
    fake: FakeDiscord
    bot: RHBot
    clock: Clock
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeMember  # a plain member
    bob: FakeMember  # another plain member
    li: FakeMember  # a plain member whose Discord is in Chinese
    mod: FakeMember  # Manage Server
    wang: FakeMember  # Manage Server, Discord in Chinese
    helper: FakeMember  # in a MODERATOR_ROLE_IDS role, without Manage Server
    robot: FakeMember  # another bot in the server

    async def run(
        self, member: FakeMember, command: str, options: dict[str, object] | None = None
    ) -> tuple[str, FakeInteraction]:
        """Invoke `/command` ("quota grant" for a subcommand); the reply text and the interaction."""
        name, _, sub = command.partition(" ")
        ix = await self.fake.invoke(member, self.channel, name, options or {}, subcommand=sub or None)  # type: ignore[arg-type]
        text = await ix.reply()
        assert ix.ephemeral is True, f"/{command} answered publicly"
        assert not ix.rejected, ix.rejected
        return text, ix

    async def rows(self, member: FakeMember) -> list[tuple]:
        """The member's ledger rows, oldest first: (kind, amount, balance_after, actor_id, reason)."""
        found = await self.bot.services.db.fetchall(
            "SELECT kind, amount, balance_after, actor_id, reason FROM ledger"
            " WHERE guild_id = ? AND member_id = ? ORDER BY id",
            (self.guild.id, member.id),
        )
        return [tuple(r) for r in found]

    async def stored(self, member: FakeMember) -> tuple[int, int] | None:
        """(available, held) from the balances table, None when the member was never created."""
        row = await self.bot.services.db.fetchone(
            "SELECT available, held FROM balances WHERE guild_id = ? AND member_id = ?",
            (self.guild.id, member.id),
        )
        return None if row is None else (int(row[0]), int(row[1]))

    async def books_balance(self) -> None:
        assert await check_invariants(self.bot.services.db) == []


@pytest.fixture
async def world(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:  # noqa: F811
    guild = fake_discord.add_guild("Art Club", locale="en-US")
    helpers = guild.add_role("Helpers")
    channel = guild.add_channel("general")
    members = {
        "alice": guild.add_member("alice"),
        "bob": guild.add_member("bob"),
        "li": guild.add_member("li", locale="zh-CN"),
        "mod": guild.add_member("mod", permissions=MANAGE_GUILD),
        "wang": guild.add_member("wang", permissions=MANAGE_GUILD, locale="zh-CN"),
        "helper": guild.add_member("helper", roles=[helpers]),
        "robot": guild.add_member("robot", bot=True),
    }
    env = {
        "DISCORD_GUILD_ID": str(guild.id),
        "MODERATOR_ROLE_IDS": str(helpers.id),
        "DEFAULT_ALLOWANCE": str(ALLOWANCE),
    }
    async with running_bot(fake_discord, tmp_path=tmp_path, env=env) as bot:
        clock = Clock(at(START))
        bot.services.ledger.clock = clock
        yield World(fake=fake_discord, bot=bot, clock=clock, guild=guild, channel=channel, **members)


def balance_reply(available: int, held: int = 0, *, locale: str = "en", member: FakeMember | None = None) -> str:
    """The /balance answer on a server without a refill policy."""
    first = (
        t("coins.balance.self", locale, available=available)
        if member is None
        else t("coins.balance.other", locale, member=member.mention, available=available)
    )
    return "\n".join([first, t("coins.balance.held", locale, held=held), t("coins.balance.no_refill", locale)])


# ---- /balance ----------------------------------------------------------------------------------


async def test_a_members_first_balance_is_the_default_allowance(world: World) -> None:
    text, _ = await world.run(world.alice, "balance")
    assert text == balance_reply(ALLOWANCE)
    assert text.startswith("You have 50 coins available.")
    assert "This server has no automatic refill." in text
    assert await world.rows(world.alice) == [("refill", ALLOWANCE, ALLOWANCE, None, "starting allowance")]
    # Looking again (also by naming yourself) changes nothing.
    again, _ = await world.run(world.alice, "balance", {"member": world.alice})
    assert again == text
    assert len(await world.rows(world.alice)) == 1
    assert world.fake.messages(world.channel) == []  # nothing public
    await world.books_balance()


async def test_a_policy_sets_the_allowance_and_when_it_refills(world: World) -> None:
    text, _ = await world.run(world.mod, "quota policy", {"allowance": 30, "period": "daily"})
    assert text == t("coins.policy.daily", "en", allowance=30)
    assert "topped up to 30 coins at the start of each day" in text
    row = await world.bot.services.db.fetchone(
        "SELECT allowance, period, updated_by FROM guild_policy WHERE guild_id = ?", (world.guild.id,)
    )
    assert row is not None and tuple(row) == (30, "daily", world.mod.id)

    shown, _ = await world.run(world.bob, "balance")
    midnight = int(at("2026-11-25T00:00"))
    assert shown == "\n".join(
        [
            "You have 30 coins available.",
            "0 coins are held by running jobs.",
            f"Next refill <t:{midnight}:R>: back up to 30 coins.",
        ]
    )
    assert await world.rows(world.bob) == [("refill", 30, 30, None, "starting allowance")]

    # Back to no refill: new members start with the new allowance, and /balance says so.
    text, _ = await world.run(world.mod, "quota policy", {"allowance": 70, "period": "none"})
    assert text == "New members now start with 70 coins; there is no automatic refill."
    shown, _ = await world.run(world.alice, "balance")
    assert shown == balance_reply(70)
    await world.books_balance()


async def test_weekly_and_monthly_policies_name_the_next_refill(world: World) -> None:
    await world.run(world.mod, "quota policy", {"allowance": 20, "period": "weekly"})
    shown, _ = await world.run(world.alice, "balance")
    assert f"<t:{int(at('2026-11-30T00:00'))}:R>" in shown  # the next Monday
    text, _ = await world.run(world.mod, "quota policy", {"allowance": 20, "period": "monthly"})
    assert "on the first day of each month" in text
    shown, _ = await world.run(world.alice, "balance")
    assert f"<t:{int(at('2026-12-01T00:00'))}:R>" in shown
    await world.books_balance()


# ---- /quota grant, take, set, history ----------------------------------------------------------


async def test_grant_take_and_set_change_the_balance_and_show_in_the_history(world: World) -> None:
    alice, mod = world.alice, world.mod
    text, _ = await world.run(mod, "quota grant", {"member": alice, "amount": 25, "reason": "contest prize"})
    assert text == f"Gave 25 coins to {alice.mention}; they now have 75 available."
    text, _ = await world.run(mod, "quota take", {"member": alice, "amount": 5, "reason": "spam"})
    assert text == f"Took 5 coins from {alice.mention}; they now have 70 available."
    text, _ = await world.run(mod, "quota set", {"member": alice, "amount": 10, "reason": "season reset"})
    assert text == f"Set {alice.mention}'s available coins to 10."
    text, _ = await world.run(mod, "quota grant", {"member": alice, "amount": 1})  # no reason
    assert text.endswith("they now have 11 available.")

    assert await world.rows(alice) == [
        ("refill", 50, 50, None, "starting allowance"),
        ("grant", 25, 75, mod.id, "contest prize"),
        ("take", -5, 70, mod.id, "spam"),
        ("set", -60, 10, mod.id, "season reset"),
        ("grant", 1, 11, mod.id, None),
    ]
    assert await world.stored(alice) == (11, 0)
    shown, _ = await world.run(alice, "balance")
    assert shown == balance_reply(11)

    history, ix = await world.run(mod, "quota history", {"member": alice})
    assert history.startswith("Coin history (5 entries, newest first)")
    lines = history.splitlines()
    assert lines[1] == alice.mention
    rows = lines[3:]
    when = f"<t:{int(at(START))}:R>"
    assert rows == [
        f"{when} **grant** +1 → 11 available, 0 held · by {mod.mention}",
        f"{when} **set** -60 → 10 available, 0 held · by {mod.mention} · “season reset”",
        f"{when} **take** -5 → 70 available, 0 held · by {mod.mention} · “spam”",
        f"{when} **grant** +25 → 75 available, 0 held · by {mod.mention} · “contest prize”",
        f"{when} **refill** +50 → 50 available, 0 held · “starting allowance”",
    ]
    assert ix.original is not None and ix.original.custom_ids == []  # one page: no buttons
    await world.books_balance()


async def test_taking_more_than_available_is_refused_and_changes_nothing(world: World) -> None:
    await world.run(world.alice, "balance")
    before = await world.rows(world.alice)
    text, _ = await world.run(world.mod, "quota take", {"member": world.alice, "amount": 80, "reason": "oops"})
    assert text == t("coins.take_too_much", "en", available=50, needed=80)
    assert text == "That member has only 50 coins available, fewer than the 80 you asked to take."
    assert await world.rows(world.alice) == before
    assert await world.stored(world.alice) == (50, 0)
    # Exactly everything is fine, and leaves zero.
    text, _ = await world.run(world.mod, "quota take", {"member": world.alice, "amount": 50})
    assert text.endswith("they now have 0 available.")
    await world.books_balance()


async def test_taking_from_a_new_member_counts_their_starting_allowance(world: World) -> None:
    text, _ = await world.run(world.mod, "quota take", {"member": world.bob, "amount": 60})
    assert text == t("coins.take_too_much", "en", available=50, needed=60)
    # Refused as a whole: not even the starting allowance was written.
    assert await world.rows(world.bob) == []
    assert await world.stored(world.bob) is None
    await world.books_balance()


@pytest.mark.parametrize(
    ("command", "options", "message"),
    [
        ("quota grant", {"amount": 0}, t("coins.bad_amount", "en", minimum=1, maximum=MAX_AMOUNT)),
        ("quota take", {"amount": MAX_AMOUNT + 1}, t("coins.bad_amount", "en", minimum=1, maximum=MAX_AMOUNT)),
        ("quota set", {"amount": -1}, t("coins.bad_amount", "en", minimum=0, maximum=MAX_AMOUNT)),
        ("quota grant", {"amount": 5, "reason": "x" * 501}, t("coins.reason_too_long", "en", maximum=500)),
    ],
)
async def test_out_of_bounds_values_are_refused(
    world: World, command: str, options: dict[str, object], message: str
) -> None:
    # Discord enforces the options' bounds itself; the bot refuses them too if they get through.
    text, _ = await world.run(world.mod, command, {"member": world.alice, **options})
    assert text == message
    assert await world.rows(world.alice) == []
    await world.books_balance()


async def test_a_policy_with_an_unknown_period_is_refused(world: World) -> None:
    text, _ = await world.run(world.mod, "quota policy", {"allowance": 10, "period": "hourly"})
    assert text == "The period must be one of: none, daily, weekly, monthly."
    assert await world.bot.services.db.fetchall("SELECT * FROM guild_policy") == []


# ---- who may do what ---------------------------------------------------------------------------

QUOTA_CALLS = [
    ("quota grant", {"amount": 5, "reason": "prize"}),
    ("quota take", {"amount": 5}),
    ("quota set", {"amount": 500}),
    ("quota history", {}),
    ("quota policy", {"allowance": 1000, "period": "daily"}),
]


@pytest.mark.parametrize(("command", "options"), QUOTA_CALLS)
async def test_members_without_manage_server_are_refused_quota(
    world: World, command: str, options: dict[str, object]
) -> None:
    if command != "quota policy":
        options = {"member": world.bob, **options}
    text, _ = await world.run(world.alice, command, options)
    assert text == t("error.moderator_only", "en", command=command)
    assert await world.bot.services.db.fetchall("SELECT * FROM ledger") == []
    assert await world.bot.services.db.fetchall("SELECT * FROM balances") == []
    assert await world.bot.services.db.fetchall("SELECT * FROM guild_policy") == []


async def test_members_cannot_see_someone_elses_balance(world: World) -> None:
    text, _ = await world.run(world.alice, "balance", {"member": world.bob})
    assert text == "Only moderators can see or change another member's coins."
    assert await world.stored(world.bob) is None  # not even created by the look
    shown, _ = await world.run(world.mod, "balance", {"member": world.bob})
    assert shown == balance_reply(ALLOWANCE, member=world.bob)
    await world.books_balance()


async def test_a_moderator_role_is_enough(world: World) -> None:
    text, _ = await world.run(world.helper, "quota grant", {"member": world.alice, "amount": 5, "reason": "helped"})
    assert text == f"Gave 5 coins to {world.alice.mention}; they now have 55 available."
    assert (await world.rows(world.alice))[-1] == ("grant", 5, 55, world.helper.id, "helped")
    shown, _ = await world.run(world.helper, "balance", {"member": world.alice})
    assert shown.startswith(f"{world.alice.mention} has 55 coins available.")
    history, _ = await world.run(world.helper, "quota history", {"member": world.alice})
    assert f"by {world.helper.mention} · “helped”" in history
    await world.books_balance()


async def test_bots_cannot_hold_coins(world: World) -> None:
    refusal = "Bots don't have coins."
    for command, options in QUOTA_CALLS[:4]:
        text, _ = await world.run(world.mod, command, {"member": world.robot, **options})
        assert text == refusal, command
    text, _ = await world.run(world.mod, "balance", {"member": world.robot})
    assert text == refusal
    assert await world.stored(world.robot) is None
    assert await world.bot.services.db.fetchall("SELECT * FROM ledger") == []


# ---- refills -----------------------------------------------------------------------------------


async def test_a_new_day_tops_members_up_to_the_allowance(world: World) -> None:
    alice = world.alice
    await world.run(world.mod, "quota policy", {"allowance": 40, "period": "daily"})
    shown, _ = await world.run(alice, "balance")
    assert shown.startswith("You have 40 coins available.")
    await world.run(world.mod, "quota take", {"member": alice, "amount": 30, "reason": "test"})

    world.clock.set("2026-11-24T23:59")  # still the same day: no refill
    shown, _ = await world.run(alice, "balance")
    assert shown.startswith("You have 10 coins available.")

    world.clock.set("2026-11-25T08:00")
    shown, _ = await world.run(alice, "balance")
    assert shown.startswith("You have 40 coins available.")
    assert f"Next refill <t:{int(at('2026-11-26T00:00'))}:R>" in shown
    assert (await world.rows(alice))[-1] == ("refill", 30, 40, None, "daily allowance")

    # Above the allowance nothing is taken away, and no row is written.
    await world.run(world.mod, "quota grant", {"member": alice, "amount": 100})
    world.clock.set("2026-11-26T08:00")
    shown, _ = await world.run(alice, "balance")
    assert shown.startswith("You have 140 coins available.")
    assert [r[0] for r in await world.rows(alice)] == ["refill", "take", "refill", "grant"]
    await world.books_balance()


# ---- language ----------------------------------------------------------------------------------


async def test_chinese_members_get_chinese_replies(world: World) -> None:
    text, _ = await world.run(world.li, "balance")
    assert text == balance_reply(ALLOWANCE, locale="zh-CN")
    assert text.startswith("你有 50 可用金币。")
    refused, _ = await world.run(world.li, "balance", {"member": world.alice})
    assert refused == t("coins.not_moderator", "zh-CN")

    granted, _ = await world.run(world.wang, "quota grant", {"member": world.li, "amount": 5, "reason": "奖励"})
    assert granted == f"已给予 {world.li.mention} 5 金币；现有 55 可用金币。"
    too_much, _ = await world.run(world.wang, "quota take", {"member": world.li, "amount": 999})
    assert too_much == t("coins.take_too_much", "zh-CN", available=55, needed=999)
    history, _ = await world.run(world.wang, "quota history", {"member": world.li})
    assert history.startswith("金币记录（共 2 条，最新在前）")
    assert f"**给予** +5 → 可用 55，占用 0 · 操作者 {world.wang.mention} · “奖励”" in history
    policy, _ = await world.run(world.wang, "quota policy", {"allowance": 10, "period": "weekly"})
    assert policy == t("coins.policy.weekly", "zh-CN", allowance=10)
    refused, _ = await world.run(world.li, "quota set", {"member": world.li, "amount": 1000})
    assert refused == t("error.moderator_only", "zh-CN", command="quota set")
    assert await world.stored(world.li) == (55, 0)
    await world.books_balance()


# ---- history pages ------------------------------------------------------------------------------


async def seed_gifts(world: World, member: FakeMember, count: int, reason: str = "gift {i}") -> None:
    """`count` grants written straight through the ledger (setup, not under test)."""
    for i in range(count):
        await world.bot.services.ledger.grant(world.guild.id, member.id, 1, world.mod.id, reason.format(i=i))


async def test_history_pages_with_buttons_newest_first(world: World) -> None:
    alice = world.alice
    await seed_gifts(world, alice, 24)  # 25 rows with the starting allowance: 3 pages
    text, ix = await world.run(world.mod, "quota history", {"member": alice})
    assert text.startswith("Coin history (25 entries, newest first)")
    assert text.endswith("Page 1 of 3")
    assert "“gift 23”" in text and "“gift 14”" in text and "“gift 13”" not in text
    assert text.index("“gift 23”") < text.index("“gift 14”")
    page_message = ix.original
    assert page_message is not None
    assert page_message.custom_ids == [f"rh:hist:{alice.id}:0", f"rh:hist:{alice.id}:2"]
    newer, older = page_message.components[0]["components"]
    assert newer.get("disabled") is True and not older.get("disabled")

    click = await world.fake.click(world.mod, page_message, f"rh:hist:{alice.id}:2")
    page2 = await click.reply()
    assert page2.endswith("Page 2 of 3")
    assert "“gift 13”" in page2 and "“gift 4”" in page2 and "“gift 14”" not in page2 and "“gift 3”" not in page2
    assert page_message.text == page2  # the same message, edited in place
    assert page_message.custom_ids == [f"rh:hist:{alice.id}:1", f"rh:hist:{alice.id}:3"]

    click = await world.fake.click(world.mod, page_message, f"rh:hist:{alice.id}:3")
    page3 = await click.reply()
    assert page3.endswith("Page 3 of 3")
    assert "“gift 0”" in page3 and "“starting allowance”" in page3
    last_newer, last_older = page_message.components[0]["components"]
    assert not last_newer.get("disabled") and last_older.get("disabled") is True
    await world.books_balance()


async def test_history_buttons_check_moderator_rights_again(world: World) -> None:
    alice, helper = world.alice, world.helper
    await seed_gifts(world, alice, 12)
    _, ix = await world.run(helper, "quota history", {"member": alice})
    page_message = ix.original
    assert page_message is not None
    shown = page_message.text

    helper.roles.clear()  # no longer a moderator
    click = await world.fake.click(helper, page_message, f"rh:hist:{alice.id}:2")
    assert await click.reply() == t("error.moderator_only", "en", command="quota history")
    assert click.ephemeral is True
    assert page_message.text == shown  # the page was not turned


async def test_long_reasons_keep_each_page_within_discords_limits(world: World) -> None:
    await seed_gifts(world, world.alice, 15, reason="{i} " + "a very long reason " * 25)
    _, ix = await world.run(world.mod, "quota history", {"member": world.alice})
    message = ix.original
    assert message is not None
    (embed,) = message.embeds
    assert len(embed["description"]) <= 4096
    assert len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"]) <= 6000
    assert "…" in embed["description"]  # the reasons were cut
    click = await world.fake.click(world.mod, message, f"rh:hist:{world.alice.id}:2")
    assert (await click.reply()).endswith("Page 2 of 2")
    assert not click.rejected


async def test_history_of_a_member_never_seen_is_empty_and_creates_nothing(world: World) -> None:
    text, _ = await world.run(world.mod, "quota history", {"member": world.bob})
    assert text == "Coin history (0 entries, newest first)\n" + t("coins.history.empty", "en", member=world.bob.mention)
    assert await world.stored(world.bob) is None
