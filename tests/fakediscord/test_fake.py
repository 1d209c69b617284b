"""The real discord.py client against the fake: login, sync, commands, autocomplete, buttons."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import discord
import pytest

from tests.fakediscord import FakeDiscord, running_bot
from tests.fakediscord.demo_bot import DONE_ID, RERUN_ID, WORKFLOWS, DemoBot

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def eventually(condition: Callable[[], object], timeout: float = 2) -> None:  # noqa: ASYNC109
    """Wait until the bot, running in the same loop, has caught up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.fixture
def world(fake_discord: FakeDiscord) -> dict:
    guild = fake_discord.add_guild("Test", locale="en-US")
    return {
        "guild": guild,
        "channel": guild.add_channel("general"),
        "alice": guild.add_member("alice", locale="en-US"),
    }


async def test_login_ready_and_guild_available(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        guild = bot.get_guild(world["guild"].id)
        assert guild is not None and guild.name == "Test"
        assert [c.name for c in guild.text_channels] == ["general"]
        assert guild.me is not None and guild.me.id == fake_discord.app_id
        assert bot.application_id == fake_discord.app_id
        assert "available:Test" in bot.events
        assert guild.member_count == 2  # alice and the bot
    login = fake_discord.requests_to("GET", "/users/@me")
    assert len(login) == 1 and login[0].authorized and login[0].status == 200
    assert fake_discord.identifies == 1
    assert fake_discord.heartbeats >= 1  # discord.py beats right after HELLO
    session = next(iter(fake_discord.sessions.values()))
    assert session.intents == discord.Intents.default().value


async def test_gateway_frames_are_zlib_stream(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        connections = list(fake_discord._connections)
        assert [c.compress for c in connections] == ["zlib-stream"]


async def test_text_frames_work_too(fake_discord: FakeDiscord, world: dict) -> None:
    fake_discord.gateway_text_frames = True
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        assert [c.compress for c in fake_discord._connections] == [None]
        ix = await fake_discord.invoke(world["alice"], world["channel"], "card")
        assert await ix.acked() == 4


async def test_sync_commands_and_read_them_back(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    guild_id = world["guild"].id
    async with running_bot(bot, fake_discord):
        bot.tree.copy_global_to(guild=discord.Object(guild_id))
        synced = await bot.tree.sync(guild=discord.Object(guild_id))
        fetched = await bot.tree.fetch_commands(guild=discord.Object(guild_id))
    assert {c.name for c in synced} == {
        "generate",
        "quota",
        "slow",
        "late",
        "card",
        "expiry",
        "feedback",
        "render",
    }
    assert {c.id for c in synced} == {c.id for c in fetched}
    body = fake_discord.synced_commands(guild_id)
    assert body is not None and fake_discord.synced_commands() is None
    generate = next(c for c in body if c["name"] == "generate")
    options = {o["name"]: o for o in generate["options"]}
    assert options["workflow"]["type"] == 3 and options["workflow"]["autocomplete"] is True
    assert options["image"]["type"] == 11 and not options["image"].get("required", False)
    quota = next(c for c in body if c["name"] == "quota")
    assert [(o["name"], o["type"]) for o in quota["options"]] == [("grant", 1)]


async def test_command_with_attachment_defers_reads_and_posts_a_file(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    alice, channel = world["alice"], world["channel"]
    att = fake_discord.host_attachment(PNG, "cat.png")
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(
            alice,
            channel,
            "generate",
            {"workflow": "z-image", "prompt": "a cat", "image": att},
            locale="zh-CN",
        )
        assert await ix.acked() == 5
        assert ix.ephemeral is True
        assert ix.ack_latency is not None and ix.ack_latency >= 0
        assert await ix.reply() == f"queued z-image: a cat ({len(PNG)} bytes)"
        posted = await fake_discord.wait_for_message(channel.id)
    # The first followup after the deferral edited the loading message instead of creating one.
    assert [r.action for r in ix.responses] == ["callback", "followup"]
    assert ix.responses[0].loading and ix.responses[1].message_id == ix.responses[0].message_id
    assert ix.followups == []
    assert posted.files == [("result.png", PNG[::-1])]
    assert posted.mentions == [alice.id]  # only the requester is pinged
    assert posted.allowed_mentions is not None and posted.allowed_mentions["parse"] == []
    assert RERUN_ID in posted.custom_ids
    assert att.downloads == 1
    image = bot.seen["image"]
    assert isinstance(image, discord.Attachment) and image.filename == "cat.png" and image.size == len(PNG)
    assert bot.seen["locale"] == "zh-CN"
    assert bot.seen["filesize_limit"] == 10 * 1024 * 1024
    assert bot.seen["app_permissions"].attach_files is True
    upload = fake_discord.requests_to("POST", rf"/channels/{channel.id}/messages")
    assert len(upload) == 1 and upload[0].files == [("result.png", PNG[::-1])]
    assert bot.errors == []


async def test_app_permissions_follow_channel_overwrites(fake_discord: FakeDiscord, world: dict) -> None:
    guild, alice = world["guild"], world["alice"]
    quiet = guild.add_channel("quiet", bot_permissions=discord.Permissions(view_channel=True, send_messages=True))
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(alice, quiet, "generate", {"workflow": "upscale"})
        await ix.reply()
        perms = bot.seen["app_permissions"]
        assert perms.send_messages and not perms.attach_files
        await eventually(lambda: bot.errors)
    # channel.send with a file is refused: the bot may not attach files here.
    assert isinstance(bot.errors[0], discord.Forbidden) and bot.errors[0].code == 50013
    assert fake_discord.messages(quiet.id) == []


async def test_autocomplete_round_trip(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        choices = await fake_discord.autocomplete(
            world["alice"], world["channel"], "generate", {"workflow": "z-"}, focused="workflow"
        )
    assert choices == [{"name": w, "value": w} for w in WORKFLOWS if w.startswith("z-")]


async def test_subcommand_with_member_option(fake_discord: FakeDiscord, world: dict) -> None:
    guild = world["guild"]
    mods = guild.add_role("Moderators", permissions=discord.Permissions(manage_guild=True))
    mod = guild.add_member("mod", roles=[mods.id])
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        bot.tree.copy_global_to(guild=discord.Object(guild.id))
        await bot.tree.sync(guild=discord.Object(guild.id))
        ix = await fake_discord.invoke(
            mod, world["channel"], "quota", {"member": world["alice"], "amount": 5}, subcommand="grant"
        )
        assert await ix.reply() == "granted 5 to alice"
    assert ix.callback_type == 4 and ix.ephemeral is False
    member = bot.seen["member"]
    assert isinstance(member, discord.Member) and member.id == world["alice"].id
    # The payload carried the invoker's permissions, from the role.
    assert discord.Permissions(int(ix.payload["member"]["permissions"])).manage_guild
    assert ix.payload["data"]["guild_id"] == str(guild.id)


async def test_edit_original_response_is_recorded(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], world["channel"], "card")
        assert await ix.reply() == "Card\nfirst"
        edit = await ix.wait_for_response(lambda r: r.action == "edit")
    assert edit.content == "edited" and edit.embeds == []
    assert ix.original is not None and [v.text for v in ix.original.versions] == ["Card\nfirst", "edited"]


async def test_persistent_button_works_after_restart(fake_discord: FakeDiscord, world: dict) -> None:
    alice, channel = world["alice"], world["channel"]
    first = DemoBot()
    async with running_bot(first, fake_discord):
        ix = await fake_discord.invoke(alice, channel, "generate", {"workflow": "flux-dev", "prompt": "x"})
        message = await fake_discord.wait_for_message(channel.id)
    assert first.is_closed()

    second = DemoBot()  # only add_view'd in setup_hook; it never saw the message
    async with running_bot(second, fake_discord):
        click = await fake_discord.click(alice, message, RERUN_ID)
        assert await click.acked() == 4
        assert await click.reply() == "re-run requested by alice"
    assert click.ephemeral is True
    assert ix.id != click.id and fake_discord.identifies == 2


async def test_channel_message_edit_and_delete_are_recorded(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        sent = await bot.get_channel(channel.id).send("one")
        await sent.edit(content="two")
        fetched = await bot.get_channel(channel.id).fetch_message(sent.id)
        assert fetched.content == "two"
        await sent.delete()
        async with bot.get_channel(channel.id).typing():
            pass
    message = fake_discord.message(sent.id)
    assert [v.content for v in message.versions] == ["one", "two"]
    assert [v.content for v in message.edits] == ["two"]
    assert message.deleted
    assert channel.typing_count == 1


async def test_guild_added_while_connected_arrives(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        late = fake_discord.add_guild("Later", premium_tier=2)
        late.add_channel("art")
        await asyncio.wait_for(bot.wait_for("guild_join"), 2)
        guild = bot.get_guild(late.id)
        assert guild is not None and [c.name for c in guild.text_channels] == ["art"]
        assert guild.filesize_limit == 50 * 1024 * 1024


async def test_members_intent_chunks_the_guild(fake_discord: FakeDiscord, world: dict) -> None:
    world["guild"].add_member("bob")
    intents = discord.Intents.default()
    intents.members = True
    bot = DemoBot(intents=intents)
    async with running_bot(bot, fake_discord):
        guild = bot.get_guild(world["guild"].id)
        assert guild.chunked
        assert sorted(m.name for m in guild.members) == ["FakeBot", "alice", "bob"]


async def test_resume_after_reconnect_replays_missed_events(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        await fake_discord.request_reconnect()
        ix = await fake_discord.invoke(world["alice"], world["channel"], "card")
        assert await ix.acked() == 4  # dispatched while reconnecting, replayed on RESUME
        await eventually(lambda: "resumed" in bot.events)
    assert "resumed" in bot.events
    assert fake_discord.resumes == 1 and fake_discord.identifies == 1


async def test_button_that_updates_its_message(fake_discord: FakeDiscord, world: dict) -> None:
    alice, channel = world["alice"], world["channel"]
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        await fake_discord.invoke(alice, channel, "generate", {"workflow": "flux-dev"})
        message = await fake_discord.wait_for_message(channel.id)
        click = await fake_discord.click(alice, message, DONE_ID)
        assert await click.acked() == 7
        assert await click.reply() == "done"
    assert message.content == "done" and message.components == []
    assert [v.content for v in message.edits] == ["done"]
    assert click.original is message and click.ephemeral is False


async def test_the_bot_receives_its_own_message_create(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        waiter = asyncio.create_task(bot.wait_for("message", timeout=2))
        sent = await bot.get_channel(channel.id).send("hello gateway")
        received = await waiter
    assert received.id == sent.id and received.content == "hello gateway"
    assert received.author.id == fake_discord.app_id


async def test_modal_callback_is_recorded(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], world["channel"], "feedback")
        assert await ix.acked() == 9
    assert ix.modal is not None and ix.modal["title"] == "Feedback"
    assert ix.responses == []


async def test_is_expired_follows_the_shortened_token_lifetime(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    fake_discord.token_lifetime = 0.2
    bot = DemoBot()
    bot.delay = 0.3
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], channel, "expiry")
        posted = await fake_discord.wait_for_message(channel.id)
    assert posted.content == "expired, posted in the channel"
    assert fake_discord.requests_to("POST", r"/webhooks/.*") == []
    assert ix.responses[-1].loading


async def test_is_expired_is_false_within_the_lifetime(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], world["channel"], "expiry")
        assert await ix.reply() == "still fresh"


async def test_files_on_interaction_responses(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], world["channel"], "render")
        edit = await ix.wait_for_response(lambda r: r.action == "edit")
        # Over the interaction's attachment_size_limit the callback itself is refused.
        small = await fake_discord.invoke(
            world["alice"], world["channel"], "render", {"size": 200}, attachment_size_limit=100
        )
        await eventually(lambda: bot.errors)
    assert ix.responses[0].files == [("a.txt", b"aaa")] and ix.ephemeral is True
    assert edit.files == [("b.txt", b"def")] and edit.content == "here"
    assert isinstance(bot.errors[0], discord.HTTPException) and bot.errors[0].code == 40005
    assert small.callback_type is None and [e.code for e in small.rejected] == [40005]


async def test_changing_overwrites_live_reaches_the_bot(fake_discord: FakeDiscord, world: dict) -> None:
    channel = world["channel"]
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        cached = bot.get_channel(channel.id)
        assert cached.permissions_for(cached.guild.me).attach_files
        channel.set_bot_permissions(discord.Permissions(view_channel=True, send_messages=True))
        await eventually(lambda: not cached.permissions_for(cached.guild.me).attach_files)
        await cached.send("text still works")
        with pytest.raises(discord.Forbidden):
            await cached.send(file=discord.File(io.BytesIO(b"x"), "x.txt"))
    assert [m.content for m in fake_discord.messages(channel)] == ["text still works"]


async def test_an_enforced_nonce_returns_the_first_message_instead_of_a_duplicate(
    fake_discord: FakeDiscord, world: dict
) -> None:
    channel = world["channel"]
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        cached = bot.get_channel(channel.id)
        first = await cached.send("result", nonce="rh7p1")  # discord.py adds enforce_nonce=True
        again = await cached.send("result, sent again", nonce="rh7p1")
        other = await cached.send("another", nonce="rh8p1")
        numeric = await cached.send("numbered", nonce=12345)
        numeric_again = await cached.send("numbered again", nonce=12345)
        with pytest.raises(discord.HTTPException) as too_long:
            await cached.send("x", nonce="n" * 26)
        fake_discord.nonce_window = 0  # "a few minutes" later the nonce is free again
        later = await cached.send("result, much later", nonce="rh7p1")
    assert again.id == first.id and again.content == "result"
    assert numeric_again.id == numeric.id
    assert len({first.id, other.id, numeric.id, later.id}) == 4
    contents = [m.content for m in fake_discord.messages(channel)]
    assert contents == ["result", "another", "numbered", "result, much later"]
    assert fake_discord.message(first.id).nonce == "rh7p1"
    sent = fake_discord.requests_to("POST", rf"/channels/{channel.id}/messages")
    assert all(r.json.get("enforce_nonce") is True for r in sent)
    assert too_long.value.status == 400 and too_long.value.code == 50035
