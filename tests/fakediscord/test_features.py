"""The real discord.py client against the fake's modals, selects, context menus, roles, pings,
channel types and threads, edit rate limit and attachment CDN."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import FakeDiscord, running_bot
from tests.fakediscord.model import FakeInteraction

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
MENU_NAME = "Generate from image"


class RenameModal(discord.ui.Modal, title="Rename job"):
    name: discord.ui.TextInput[RenameModal] = discord.ui.TextInput(
        label="New name", custom_id="rename:name", default="old name", max_length=20
    )
    note: discord.ui.TextInput[RenameModal] = discord.ui.TextInput(
        label="Note", custom_id="rename:note", style=discord.TextStyle.paragraph, required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"renamed to {self.name.value} ({self.note.value or '-'})")


class SizeModal(discord.ui.Modal, title="Size"):
    size: discord.ui.Label[SizeModal] = discord.ui.Label(
        text="Size",
        component=discord.ui.Select(
            custom_id="size:pick",
            options=[discord.SelectOption(label="Small", value="s"), discord.SelectOption(label="Large", value="l")],
        ),
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.size.component, discord.ui.Select)
        await interaction.response.edit_message(content=f"size {self.size.component.values[0]}", view=None)


class PickView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="pick:wf",
        placeholder="Workflow",
        max_values=2,
        options=[
            discord.SelectOption(label="Flux", value="flux", description="fast"),
            discord.SelectOption(label="Z-Image", value="z-image", default=True),
            discord.SelectOption(label="Upscale", value="upscale"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[PickView]) -> None:
        await interaction.response.send_message(f"you chose {','.join(select.values)}", ephemeral=True)

    @discord.ui.button(label="Size…", custom_id="pick:size")
    async def size(self, interaction: discord.Interaction, button: discord.ui.Button[PickView]) -> None:
        await interaction.response.send_modal(SizeModal())


class Translator(app_commands.Translator):
    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: app_commands.TranslationContext
    ) -> str | None:
        if string.message == MENU_NAME and locale is discord.Locale.chinese:
            return "用图片生成"
        return None


class FeatureBot(commands.Bot):
    def __init__(self, *, intents: discord.Intents | None = None) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=intents or discord.Intents.default())
        self.seen: dict[str, Any] = {}
        self.errors: list[BaseException] = []
        self.tree.on_error = self._on_error  # type: ignore[method-assign]
        self.add_view(PickView())
        self._add_commands()

    async def setup_hook(self) -> None:
        await self.tree.set_translator(Translator())

    async def _on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        if not isinstance(error, app_commands.CommandNotFound):
            self.errors.append(error.original if isinstance(error, app_commands.CommandInvokeError) else error)

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command(description="Rename a job")
        async def rename(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(RenameModal())

        @tree.command(description="Pick a workflow")
        async def pick(interaction: discord.Interaction, private: bool = False) -> None:
            if private:
                await interaction.response.defer(ephemeral=True)
                await interaction.followup.send("pick one", view=PickView(), ephemeral=True)
            else:
                await interaction.response.send_message("pick one", view=PickView())

        @tree.command(description="Who am I")
        async def whoami(interaction: discord.Interaction) -> None:
            assert isinstance(interaction.user, discord.Member)
            self.seen["roles"] = [r.name for r in interaction.user.roles]
            self.seen["permissions"] = interaction.permissions
            self.seen["app_permissions"] = interaction.app_permissions
            self.seen["channel"] = interaction.channel
            await interaction.response.send_message("ok", ephemeral=True)

        @tree.command(description="Post into a text channel")
        @app_commands.default_permissions(manage_guild=True)
        async def post(interaction: discord.Interaction, where: discord.TextChannel) -> None:
            await interaction.response.send_message(f"posting in {where.name}")

        async def from_image(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.defer(ephemeral=True)
            images = [a for a in message.attachments if (a.content_type or "").startswith("image/")]
            data = [await a.read() for a in images]
            self.seen["target"] = message
            await interaction.followup.send(f"{len(data)} image(s), {sum(map(len, data))} bytes", ephemeral=True)

        menu = app_commands.ContextMenu(name=app_commands.locale_str(MENU_NAME), callback=from_image)
        menu.default_permissions = discord.Permissions(manage_messages=True)
        tree.add_command(menu)


@pytest.fixture
def world(fake_discord: FakeDiscord) -> dict[str, Any]:
    guild = fake_discord.add_guild("Test")
    return {"guild": guild, "channel": guild.add_channel("general"), "alice": guild.add_member("alice")}


async def sync(bot: FeatureBot, guild_id: int) -> None:
    bot.tree.copy_global_to(guild=discord.Object(guild_id))
    await bot.tree.sync(guild=discord.Object(guild_id))


async def raw(
    fake: FakeDiscord, method: str, path: str, body: Any, *, bot_token: bool = True
) -> aiohttp.ClientResponse:
    """A request straight to the fake's API, for payloads discord.py itself would refuse to build."""
    headers = {"Authorization": f"Bot {fake.token}"} if bot_token else {}
    async with aiohttp.ClientSession() as session:
        response = await session.request(method, fake.api_base + path, json=body, headers=headers)
        await response.read()
        return response


async def unanswered(fake: FakeDiscord, world: dict[str, Any]) -> FakeInteraction:
    """An interaction for a command the bot does not know, so the test can answer it itself."""
    return await fake.invoke(world["alice"], world["channel"], "nothing-here")


# ---------------------------------------------------------------------- modals


async def test_modal_is_shown_then_submitted(fake_discord: FakeDiscord, world: dict[str, Any]) -> None:
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(world["alice"], world["channel"], "rename")
        assert await ix.acked() == 9
        modal = ix.shown_modal
        assert modal.title == "Rename job"
        assert [f.custom_id for f in modal.fields] == ["rename:name", "rename:note"]
        assert modal.prefilled == {"rename:name": "old name", "rename:note": None}
        assert modal.field("rename:name").label == "New name" and modal.field("rename:name").max_length == 20
        assert modal.field("rename:note").style == 2 and not modal.field("rename:note").required
        with pytest.raises(ValueError, match="1-20 characters"):
            await fake_discord.submit_modal(ix, {"rename:name": "x" * 21})
        submit = await fake_discord.submit_modal(ix, {"rename:name": "sunset"})
        assert await submit.reply() == "renamed to sunset (-)"
    assert submit.type == 5 and submit.payload["data"]["custom_id"] == modal.custom_id
    assert submit.callback_type == 4 and bot.errors == []


async def test_modal_from_a_button_with_a_select_edits_the_message(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    alice, channel = world["alice"], world["channel"]
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        await fake_discord.invoke(alice, channel, "pick")
        message = await fake_discord.wait_for_message(channel, interactions=True)
        click = await fake_discord.click(alice, message, "pick:size")
        assert await click.acked() == 9
        field = click.shown_modal.field("size:pick")
        assert field.kind == 3 and [o["value"] for o in field.options] == ["s", "l"]
        with pytest.raises(ValueError, match="does not offer"):
            await fake_discord.submit_modal(click, {"size:pick": "xl"})
        submit = await fake_discord.submit_modal(click, {"size:pick": "l"})
        assert await submit.acked() == 7
    assert message.content == "size l" and message.components == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda m: m.update(title="t" * 46), "data.title"),
        (lambda m: m.update(components=m["components"] * 6), "data.components"),
        (lambda m: m["components"][0]["components"][0].update(max_length=4001), "max_length"),
        (lambda m: m["components"][0]["components"][0].update(label="l" * 46), "label"),
        (lambda m: m.update(custom_id=""), "data.custom_id"),
    ],
)
async def test_invalid_modals_are_400(
    fake_discord: FakeDiscord, world: dict[str, Any], change: Any, where: str
) -> None:
    modal: dict[str, Any] = {
        "custom_id": "m",
        "title": "Title",
        "components": [{"type": 1, "components": [{"type": 4, "custom_id": "a", "style": 1, "label": "A"}]}],
    }
    change(modal)
    async with running_bot(FeatureBot(), fake_discord):
        ix = await unanswered(fake_discord, world)
        response = await raw(
            fake_discord, "POST", f"/interactions/{ix.id}/{ix.token}/callback", {"type": 9, "data": modal}
        )
    assert response.status == 400
    assert ix.rejected[0].code == 50035 and any(where in key for key in ix.rejected[0].errors or {})
    assert ix.modal is None and not ix.acknowledged


# ---------------------------------------------------------------------- selects


async def test_select_options_are_readable_and_a_choice_reaches_the_bot(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    alice, channel = world["alice"], world["channel"]
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        await fake_discord.invoke(alice, channel, "pick")
        message = await fake_discord.wait_for_message(channel, interactions=True)
        menu = message.select("pick:wf")
        assert menu.labels == ["Flux", "Z-Image", "Upscale"] and menu.defaults == ["z-image"]
        assert (menu.min_values, menu.max_values, menu.placeholder) == (1, 2, "Workflow")
        with pytest.raises(ValueError, match="does not offer"):
            await fake_discord.choose(alice, message, "pick:wf", ["sdxl"])
        with pytest.raises(ValueError, match="1-2 values"):
            await fake_discord.choose(alice, message, "pick:wf", ["flux", "z-image", "upscale"])
        choice = await fake_discord.choose(alice, message, "pick:wf", ["flux", "upscale"])
        assert await choice.reply() == "you chose flux,upscale"
    assert choice.payload["data"] == {"custom_id": "pick:wf", "component_type": 3, "values": ["flux", "upscale"]}


async def test_select_on_an_ephemeral_followup(fake_discord: FakeDiscord, world: dict[str, Any]) -> None:
    alice, channel = world["alice"], world["channel"]
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(alice, channel, "pick", {"private": True})
        await ix.reply()
        offered = ix.original  # the first followup after the deferral filled in the original
        assert offered is not None and offered.ephemeral
        assert offered.select("pick:wf").values == ["flux", "z-image", "upscale"]
        choice = await fake_discord.choose(alice, offered, "pick:wf", "z-image")
        assert await choice.reply() == "you chose z-image"


async def test_invalid_selects_are_400(fake_discord: FakeDiscord, world: dict[str, Any]) -> None:
    channel = world["channel"]

    def select(**changes: Any) -> dict[str, Any]:
        menu: dict[str, Any] = {"type": 3, "custom_id": "s", "options": [{"label": "A", "value": "a"}], **changes}
        return {"content": "x", "components": [{"type": 1, "components": [menu]}]}

    many = [{"label": f"o{i}", "value": f"v{i}"} for i in range(26)]
    async with running_bot(FeatureBot(), fake_discord):
        path = f"/channels/{channel.id}/messages"
        statuses = [
            (await raw(fake_discord, "POST", path, select(options=many))).status,
            (await raw(fake_discord, "POST", path, select(options=[{"label": "L" * 101, "value": "a"}]))).status,
            (await raw(fake_discord, "POST", path, select(options=[]))).status,
            (await raw(fake_discord, "POST", path, select(placeholder="p" * 151))).status,
            (await raw(fake_discord, "POST", path, select(options=many[:25]))).status,
        ]
    assert statuses == [400, 400, 400, 400, 200]


# ---------------------------------------------------------------------- message context menus


async def test_message_context_menu_downloads_the_messages_images(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    guild, channel, alice = world["guild"], world["channel"], world["alice"]
    mods = guild.add_role("Mods", discord.Permissions(manage_messages=True))
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        await sync(bot, guild.id)
        menu = fake_discord.command(MENU_NAME, guild, kind=3)
        assert menu["type"] == 3 and menu["name_localizations"] == {"zh-CN": "用图片生成"}
        assert menu["default_member_permissions"] == str(discord.Permissions(manage_messages=True).value)
        assert menu["description"] == ""
        assert not fake_discord.can_use_command(alice, MENU_NAME, channel, kind=3)
        alice.add_roles(mods)
        assert fake_discord.can_use_command(alice, MENU_NAME, channel, kind=3)

        posted = fake_discord.post_message(alice, channel, "make this blue", files=[("cat.png", PNG), ("a.txt", b"hi")])
        ix = await fake_discord.invoke_message_command(alice, posted, MENU_NAME)
        assert await ix.reply() == f"1 image(s), {len(PNG)} bytes"
    target = bot.seen["target"]
    assert isinstance(target, discord.Message) and target.id == posted.id and target.content == "make this blue"
    assert target.author.id == alice.id and [a.filename for a in target.attachments] == ["cat.png", "a.txt"]
    assert ix.payload["data"]["type"] == 3 and ix.payload["data"]["target_id"] == str(posted.id)
    assert [a.downloads for a in posted.attachments] == [1, 0]


async def test_default_member_permissions_hide_commands_when_enforced(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    guild, channel, alice = world["guild"], world["channel"], world["alice"]
    admin = guild.add_member("root", permissions=discord.Permissions(administrator=True))
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        await sync(bot, guild.id)
        assert fake_discord.command("post", guild)["default_member_permissions"] == "32"
        assert fake_discord.can_use_command(alice, "whoami") and not fake_discord.can_use_command(alice, "post")
        assert fake_discord.can_use_command(admin, "post")
        fake_discord.enforce_command_permissions = True
        with pytest.raises(PermissionError):
            await fake_discord.invoke(alice, channel, "post", {"where": channel})
        ix = await fake_discord.invoke(admin, channel, "post", {"where": channel})
        assert await ix.reply() == "posting in general"


# ---------------------------------------------------------------------- members, roles, pings


async def test_member_roles_and_permissions_reach_the_interaction(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    guild, channel, alice = world["guild"], world["channel"], world["alice"]
    artists = guild.add_role("Artists", discord.Permissions(manage_messages=True))
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        ix = await fake_discord.invoke(alice, channel, "whoami")
        await ix.reply()
        assert bot.seen["roles"] == ["@everyone"] and not bot.seen["permissions"].manage_messages
        alice.add_roles(artists)
        ix = await fake_discord.invoke(alice, channel, "whoami")
        await ix.reply()
    assert bot.seen["roles"] == ["@everyone", "Artists"] and bot.seen["permissions"].manage_messages
    assert bot.seen["app_permissions"].attach_files
    assert ix.payload["member"]["roles"] == [str(artists.id)]


async def test_pings_follow_allowed_mentions_and_role_mentionability(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    guild, channel, alice = world["guild"], world["channel"], world["alice"]
    bob = guild.add_member("bob")
    loud = guild.add_role("Loud", mentionable=True)
    quiet = guild.add_role("Quiet")
    bob.add_roles(loud, quiet)
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        cached = bot.get_channel(channel.id)
        text = f"{alice.mention} {loud.mention} {quiet.mention} @everyone"
        silent = await cached.send(text, allowed_mentions=discord.AllowedMentions.none())
        user_only = await cached.send(
            text, allowed_mentions=discord.AllowedMentions(users=True, roles=False, everyone=False)
        )
        roles = await cached.send(
            text, allowed_mentions=discord.AllowedMentions(users=False, roles=True, everyone=True)
        )
    assert fake_discord.message(silent.id).pinged_nobody
    assert fake_discord.message(user_only.id).pinged == [alice.id]
    # Quiet is not mentionable and the bot lacks Mention Everyone: only Loud's members, no @everyone.
    loud_ping = fake_discord.message(roles.id)
    assert loud_ping.mention_roles == [loud.id] and loud_ping.pinged == [bob.id] and not loud_ping.mention_everyone


async def test_allowed_mentions_parse_and_ids_are_exclusive(fake_discord: FakeDiscord, world: dict[str, Any]) -> None:
    channel, alice = world["channel"], world["alice"]
    async with running_bot(FeatureBot(), fake_discord):
        body = {"content": alice.mention, "allowed_mentions": {"parse": ["users"], "users": [str(alice.id)]}}
        response = await raw(fake_discord, "POST", f"/channels/{channel.id}/messages", body)
    assert response.status == 400


# ---------------------------------------------------------------------- channels and threads


async def test_nsfw_channels_threads_and_channel_types_reach_the_bot(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    guild, alice = world["guild"], world["alice"]
    category = guild.add_channel("Media", type=4)
    adult = guild.add_channel("after-dark", nsfw=True, category=category)
    thread = guild.add_thread(adult, "renders")
    safe_thread = guild.add_thread(world["channel"], "safe")
    voice = guild.add_channel("Lounge", type=2)
    forum = guild.add_channel("showcase", type=15)
    assert thread.age_restricted and not safe_thread.age_restricted and "nsfw" not in thread.to_payload()
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        cached = bot.get_guild(guild.id)
        assert isinstance(cached.get_channel(voice.id), discord.VoiceChannel)
        assert isinstance(cached.get_channel(forum.id), discord.ForumChannel)
        assert isinstance(cached.get_channel(category.id), discord.CategoryChannel)
        assert cached.get_channel(adult.id).is_nsfw() and cached.get_channel(adult.id).category_id == category.id
        cached_thread = cached.get_thread(thread.id)
        assert isinstance(cached_thread, discord.Thread) and cached_thread.is_nsfw()
        assert not cached.get_thread(safe_thread.id).is_nsfw()

        ix = await fake_discord.invoke(alice, thread, "whoami")
        await ix.reply()
        seen = bot.seen["channel"]
        assert isinstance(seen, discord.Thread) and seen.is_nsfw() and seen.parent_id == adult.id

        late = guild.add_thread(adult, "late")
        await asyncio.wait_for(bot.wait_for("thread_create"), 2)
        assert bot.get_guild(guild.id).get_thread(late.id).is_nsfw()
        sent = await cached_thread.send("in the thread")
    assert fake_discord.message(sent.id).channel_id == thread.id


async def test_channel_options_only_accept_their_channel_types(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    guild, channel = world["guild"], world["channel"]
    admin = guild.add_member("root", permissions=discord.Permissions(administrator=True))
    voice = guild.add_channel("Lounge", type=2)
    bot = FeatureBot()
    async with running_bot(bot, fake_discord):
        await sync(bot, guild.id)
        option = fake_discord.command("post", guild)["options"][0]
        assert 0 in option["channel_types"] and 2 not in option["channel_types"]
        with pytest.raises(ValueError, match="channel types"):
            await fake_discord.invoke(admin, channel, "post", {"where": voice})
        ix = await fake_discord.invoke(admin, channel, "post", {"where": channel})
        assert await ix.reply() == "posting in general"


async def test_sending_in_a_thread_needs_send_messages_in_threads(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    guild, channel = world["guild"], world["channel"]
    thread = guild.add_thread(channel, "t")
    channel.set_bot_permissions(discord.Permissions(view_channel=True, send_messages=True))
    async with running_bot(FeatureBot(), fake_discord) as bot:
        with pytest.raises(discord.Forbidden):
            await bot.get_guild(guild.id).get_thread(thread.id).send("nope")
        await bot.get_channel(channel.id).send("fine")


# ---------------------------------------------------------------------- edit rate limit


async def edit_many(bot: discord.Client, channel_id: int, times: int) -> tuple[discord.Message, float]:
    sent = await bot.get_channel(channel_id).send("0")
    started = time.monotonic()
    for n in range(1, times + 1):
        await sent.edit(content=str(n))
    return sent, time.monotonic() - started


async def test_edit_rate_limit_is_off_by_default_but_counts(fake_discord: FakeDiscord, world: dict[str, Any]) -> None:
    channel = world["channel"]
    async with running_bot(FeatureBot(), fake_discord) as bot:
        sent, _elapsed = await edit_many(bot, channel.id, 8)
    limiter = fake_discord.edit_rate_limit
    assert limiter.answered_429 == 0 and limiter.edit_count(channel.id) == 8
    assert limiter.last_edit[sent.id] == limiter.edits[channel.id][-1]
    assert fake_discord.message(sent.id).content == "8"


async def test_discord_py_paces_itself_on_the_advertised_bucket(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    channel = world["channel"]
    limiter = fake_discord.limit_edits(limit=5, per=0.4)
    async with running_bot(FeatureBot(), fake_discord) as bot:
        sent, elapsed = await edit_many(bot, channel.id, 11)
    assert fake_discord.message(sent.id).content == "11"
    assert elapsed >= 0.7  # 11 edits need at least three 0.4 s windows
    assert limiter.answered_429 == 0


async def test_unpaced_edits_meet_429s_and_are_retried(fake_discord: FakeDiscord, world: dict[str, Any]) -> None:
    channel = world["channel"]
    limiter = fake_discord.limit_edits(limit=5, per=0.3, advertise=False)
    async with running_bot(FeatureBot(), fake_discord) as bot:
        sent, _elapsed = await edit_many(bot, channel.id, 8)
        response = await raw(fake_discord, "PATCH", f"/channels/{channel.id}/messages/{sent.id}", {"content": "a"})
        for _ in range(5):
            response = await raw(fake_discord, "PATCH", f"/channels/{channel.id}/messages/{sent.id}", {"content": "b"})
    assert fake_discord.message(sent.id).edits[7].content == "8"
    assert limiter.answered_429 >= 2 and limiter.refused[channel.id] == limiter.answered_429
    # Buckets are fixed windows, so a burst straddling a reset may fit up to twice the limit in `per`.
    assert limiter.max_edits_in_window(channel.id) <= 10
    assert response.status == 429
    assert response.headers["X-RateLimit-Scope"] == "user" and response.headers["X-RateLimit-Remaining"] == "0"
    assert float(response.headers["X-RateLimit-Reset-After"]) <= 0.3 and "Retry-After" in response.headers
    limited = [r for r in fake_discord.requests_to("PATCH", rf"/channels/{channel.id}/messages/\d+") if r.status == 429]
    assert len(limited) == limiter.answered_429


async def test_sends_can_share_the_bucket(fake_discord: FakeDiscord, world: dict[str, Any]) -> None:
    channel = world["channel"]
    limiter = fake_discord.limit_edits(limit=2, per=5, include_sends=True, advertise=False)
    async with running_bot(FeatureBot(), fake_discord):
        path = f"/channels/{channel.id}/messages"
        statuses = [(await raw(fake_discord, "POST", path, {"content": str(n)})).status for n in range(3)]
    assert statuses == [200, 200, 429] and limiter.answered_429 == 1


async def test_members_post_only_where_they_may_and_their_files_are_served(
    fake_discord: FakeDiscord, world: dict[str, Any]
) -> None:
    guild, channel, alice = world["guild"], world["channel"], world["alice"]
    readonly = guild.add_channel("announcements")
    readonly.set_overwrite(guild, deny=discord.Permissions(send_messages=True))
    with pytest.raises(PermissionError):
        fake_discord.post_message(alice, readonly, "hi")
    posted = fake_discord.post_message(alice, channel, files=[("cat.png", PNG)])
    url = posted.attachments[0].to_payload(fake_discord.base_url)["url"]
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200 and await response.read() == PNG
        assert response.content_type == "image/png"
    assert posted.attachments[0].downloads == 1


async def test_context_menus_take_no_description_or_options(fake_discord: FakeDiscord, world: dict[str, Any]) -> None:
    path = f"/applications/{fake_discord.app_id}/guilds/{world['guild'].id}/commands"
    async with running_bot(FeatureBot(), fake_discord):
        described = await raw(fake_discord, "PUT", path, [{"name": "Do it", "type": 3, "description": "no"}])
        many = [{"name": f"Menu {n}", "type": 3} for n in range(16)]
        too_many = await raw(fake_discord, "PUT", path, many)
        fine = await raw(fake_discord, "PUT", path, many[:15])
    assert (described.status, too_many.status, fine.status) == (400, 400, 200)
