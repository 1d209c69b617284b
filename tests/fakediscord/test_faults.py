"""Failure modes: rate limits, server errors, Discord's deadlines and limits, bad tokens."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest

from tests.fakediscord import FakeDiscord, running_bot
from tests.fakediscord.demo_bot import DemoBot
from tests.fakediscord.test_fake import eventually

MIB = 1024 * 1024


@pytest.fixture
def world(fake_discord: FakeDiscord) -> dict:
    guild = fake_discord.add_guild("Test")
    return {"guild": guild, "channel": guild.add_channel("general"), "alice": guild.add_member("alice")}


def _sends(fake: FakeDiscord, channel_id: int) -> list[int]:
    return [r.status for r in fake.requests_to("POST", rf"/channels/{channel_id}/messages")]


async def test_429_with_via_is_retried_and_delivered_once(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    fault = fake_discord.inject("POST", r"/channels/\d+/messages", status=429, count=2, retry_after=0.05)
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        await bot.get_channel(channel.id).send("hello")
    assert fault.hits == 2
    assert _sends(fake_discord, channel.id) == [429, 429, 200]
    assert [m.content for m in fake_discord.messages(channel.id)] == ["hello"]


async def test_429_without_via_is_raised(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    fake_discord.inject("POST", r"/channels/\d+/messages", status=429, via=False)
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        with pytest.raises(discord.HTTPException) as caught:
            await bot.get_channel(channel.id).send("hello")
    assert caught.value.status == 429
    assert _sends(fake_discord, channel.id) == [429]
    assert fake_discord.messages(channel.id) == []


async def test_429_on_a_followup_is_retried_by_the_webhook_adapter(fake_discord: FakeDiscord, world: dict) -> None:
    fake_discord.inject("POST", r"/webhooks/\d+/[^/]+", status=429, retry_after=0.05)
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], world["channel"], "generate", {"workflow": "upscale"})
        assert await ix.reply() == "queued upscale: None (0 bytes)"
    statuses = [r.status for r in fake_discord.requests_to("POST", r"/webhooks/\d+/[^/]+")]
    assert statuses == [429, 200]


async def test_502_is_retried(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    fake_discord.inject("POST", r"/channels/\d+/messages", status=502)
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        await bot.get_channel(channel.id).send("hello")  # discord.py waits 1 s before its retry
    assert _sends(fake_discord, channel.id) == [502, 200]
    assert len(fake_discord.messages(channel.id)) == 1


async def test_503_is_not_retried_by_discord_py(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    fake_discord.inject("POST", r"/channels/\d+/messages", status=503)
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        with pytest.raises(discord.DiscordServerError):
            await bot.get_channel(channel.id).send("hello")
    assert _sends(fake_discord, channel.id) == [503]


async def test_ack_after_the_deadline_is_unknown_interaction(fake_discord: FakeDiscord, world: dict) -> None:
    fake_discord.ack_deadline = 0.1
    bot = DemoBot()
    bot.delay = 0.3
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], world["channel"], "slow")
        await eventually(lambda: bot.errors)
    error = bot.errors[0]
    assert isinstance(error, discord.NotFound) and error.code == 10062
    assert ix.callback_type is None and [e.code for e in ix.rejected] == [10062]
    callbacks = fake_discord.requests_to("POST", r"/interactions/\d+/[^/]+/callback")
    assert [r.status for r in callbacks] == [404]


async def test_second_acknowledgement_is_rejected(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], world["channel"], "card")
        await ix.acked()
        interaction_route = discord.http.Route(
            "POST",
            "/interactions/{webhook_id}/{webhook_token}/callback",
            webhook_id=ix.id,
            webhook_token=ix.token,
        )
        with pytest.raises(discord.HTTPException) as caught:
            await bot.http.request(interaction_route, json={"type": 4, "data": {"content": "again"}})
    assert caught.value.code == 40060


async def test_followup_after_token_lifetime_is_401_50027(fake_discord: FakeDiscord, world: dict) -> None:
    fake_discord.token_lifetime = 0.2
    alice, channel = world["alice"], world["channel"]
    bot = DemoBot()
    bot.delay = 0.4
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(alice, channel, "late")
        assert await ix.acked() == 5
        fallback = await fake_discord.wait_for_message(channel.id)
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and error.status == 401 and error.code == 50027
    assert fallback.content == f"{alice.mention} done (delivered late)"
    assert [r.action for r in ix.responses] == ["callback"]  # the loading message was never filled


async def test_bad_token_is_a_login_failure(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    with pytest.raises(discord.LoginFailure):
        async with running_bot(bot, fake_discord, token="not-the-token"):
            pass
    login = fake_discord.requests_to("GET", "/users/@me")
    assert [(r.status, r.authorized) for r in login] == [(401, False)]
    assert fake_discord.identifies == 0


async def test_bad_token_at_the_gateway_closes_4004(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    await bot.login(fake_discord.token)
    bot.http.token = "stolen-and-revoked"  # the gateway sees a token REST never checked
    with pytest.raises(discord.ConnectionClosed) as caught:
        await asyncio.wait_for(bot.connect(), 5)
    await bot.close()
    assert caught.value.code == 4004
    assert fake_discord.identifies == 0


async def test_oversize_file_is_413_and_boost_raises_the_limit(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    boosted = fake_discord.add_guild("Boosted", premium_tier=2).add_channel("art")
    big = b"\0" * (11 * MIB)
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        assert bot.get_guild(world["guild"].id).filesize_limit == 10 * MIB
        with pytest.raises(discord.HTTPException) as caught:
            await bot.get_channel(channel.id).send(file=discord.File(io.BytesIO(big), "big.bin"))
        await bot.get_channel(boosted.id).send(file=discord.File(io.BytesIO(big), "big.bin"))
    assert caught.value.status == 413 and caught.value.code == 40005
    assert fake_discord.messages(channel.id) == []
    assert [len(data) for _, data in fake_discord.messages(boosted.id)[0].files] == [len(big)]


async def test_message_shape_limits(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        target = bot.get_channel(channel.id)
        with pytest.raises(discord.HTTPException) as too_long:
            await target.send("x" * 2001)
        with pytest.raises(discord.HTTPException) as empty:
            await target.send("")
        with pytest.raises(discord.HTTPException) as too_many:
            await _send_11(bot, channel.id)
    assert (too_long.value.status, too_long.value.code) == (400, 50035)
    assert (empty.value.status, empty.value.code) == (400, 50006)
    assert (too_many.value.status, too_many.value.code) == (400, 50035)
    assert fake_discord.messages(channel.id) == []


async def _send_11(bot: discord.Client, channel_id: int) -> None:
    # discord.py refuses more than 10 files itself; go one level down to reach Discord's own check.
    files = [discord.File(io.BytesIO(b"x"), f"{i}.txt") for i in range(11)]
    with discord.http.handle_message_parameters(files=files) as params:
        await bot.http.send_message(channel_id, params=params)


async def test_whole_request_over_25_mib_is_413(fake_discord: FakeDiscord, world: dict) -> None:
    boosted = fake_discord.add_guild("Boosted", premium_tier=3).add_channel("art")
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        files = [discord.File(io.BytesIO(b"\0" * (9 * MIB)), f"{i}.bin") for i in range(3)]
        with pytest.raises(discord.HTTPException) as caught:
            await bot.get_channel(boosted.id).send(files=files)
    assert caught.value.status == 413
    assert fake_discord.messages(boosted.id) == []


async def test_claimed_attachment_size_reaches_the_bot(fake_discord: FakeDiscord, world: dict) -> None:
    att = fake_discord.host_attachment(b"tiny", "huge.png", "image/png", size=31 * MIB)
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], world["channel"], "generate", {"workflow": "x", "image": att})
        await ix.reply()
    assert bot.seen["image"].size == 31 * MIB and bot.seen["image"].content_type == "image/png"



async def test_a_lost_answer_retried_by_discord_py_is_not_duplicated(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    # Discord creates the message, then the answer is lost as a 502; discord.py sends the same body
    # again, with the random nonce it added, so Discord hands back the message it already made.
    fake_discord.inject("POST", r"/channels/\d+/messages", status=502, lost=True)
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        sent = await bot.get_channel(channel.id).send("result")
    assert _sends(fake_discord, channel.id) == [502, 200]
    assert [m.id for m in fake_discord.messages(channel.id)] == [sent.id]


@pytest.mark.parametrize("stable_nonce", [True, False])
async def test_a_callers_own_retry_needs_a_stable_nonce(
    fake_discord: FakeDiscord, world: dict, stable_nonce: bool
) -> None:
    channel = world["channel"]
    # A 503 is not retried by discord.py: the caller retries later, with a new send().
    fake_discord.inject("POST", r"/channels/\d+/messages", status=503, lost=True)
    nonce = "job12p1" if stable_nonce else None
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        cached = bot.get_channel(channel.id)
        with pytest.raises(discord.DiscordServerError):
            await cached.send("result", nonce=nonce)
        await cached.send("result", nonce=nonce)
    assert _sends(fake_discord, channel.id) == [503, 200]
    expected = 1 if stable_nonce else 2  # a fresh random nonce cannot match the lost message
    assert [m.content for m in fake_discord.messages(channel.id)] == ["result"] * expected
