"""The fake Discord's world: guilds, channels, roles, members, messages, interactions.

Objects here hold state and build the JSON payloads discord.py parses. They know the
`FakeDiscord` that owns them only to announce changes over the gateway and to reach shared
counters; all HTTP and websocket handling lives in rest.py and gateway.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import mimetypes
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import discord

if TYPE_CHECKING:
    from tests.fakediscord.components import SelectMenu, ShownModal
    from tests.fakediscord.server import FakeDiscord

T = TypeVar("T")

DISCORD_EPOCH_MS = 1420070400000
MIB = 1024 * 1024
DEFAULT_FILESIZE_LIMIT = 10 * MIB
FILESIZE_LIMIT_BY_TIER = {0: 10 * MIB, 1: 10 * MIB, 2: 50 * MIB, 3: 100 * MIB}

ALL_PERMISSIONS = discord.Permissions.all().value
ADMINISTRATOR = discord.Permissions(administrator=True).value
VIEW_CHANNEL = discord.Permissions(view_channel=True).value
SEND_MESSAGES = discord.Permissions(send_messages=True).value
SEND_MESSAGES_IN_THREADS = discord.Permissions(send_messages_in_threads=True).value
ATTACH_FILES = discord.Permissions(attach_files=True).value

# Roughly what Discord gives @everyone in a new server.
EVERYONE_DEFAULT = discord.Permissions(
    create_instant_invite=True,
    change_nickname=True,
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    create_private_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_external_emojis=True,
    use_external_stickers=True,
    read_message_history=True,
    use_application_commands=True,
    connect=True,
    speak=True,
    use_voice_activation=True,
).value

# The managed role a bot gets when invited with the usual text permissions.
BOT_ROLE_DEFAULT = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_external_emojis=True,
).value

# Channel types (Discord's numbering); threads are 10-12.
CHANNEL_TEXT = 0
CHANNEL_VOICE = 2
CHANNEL_CATEGORY = 4
CHANNEL_NEWS = 5
CHANNEL_NEWS_THREAD = 10
CHANNEL_PUBLIC_THREAD = 11
CHANNEL_PRIVATE_THREAD = 12
CHANNEL_STAGE = 13
CHANNEL_FORUM = 15
THREAD_TYPES = (CHANNEL_NEWS_THREAD, CHANNEL_PUBLIC_THREAD, CHANNEL_PRIVATE_THREAD)

MESSAGE_FLAG_EPHEMERAL = 64
MESSAGE_FLAG_LOADING = 128


def iso(ts: float | None = None) -> str:
    """An ISO-8601 timestamp the way Discord writes them."""
    moment = dt.datetime.fromtimestamp(time.time() if ts is None else ts, tz=dt.UTC)
    return moment.isoformat()


def as_permissions(value: int | discord.Permissions | None, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, discord.Permissions):
        return value.value
    return int(value)


class SnowflakeFactory:
    """Time-based snowflakes, unique within one fake even when minted in the same millisecond."""

    def __init__(self) -> None:
        self._increment = 0
        self._last = 0

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        # Never go back in time and keep ids strictly increasing.
        ms = max(ms, self._last)
        self._increment = (self._increment + 1) & 0xFFF
        if self._increment == 0:
            ms += 1
        self._last = ms
        return (ms << 22) | (1 << 17) | (1 << 12) | self._increment

    def at(self, unix_seconds: float) -> int:
        """A snowflake whose timestamp is `unix_seconds` (unique thanks to the shared increment)."""
        self._increment = (self._increment + 1) & 0xFFF
        ms = int(unix_seconds * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (1 << 17) | (2 << 12) | self._increment


class Notifier:
    """Wakes waiters whenever something in the fake changed; each waiter re-checks its condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, check: Callable[[], T | None], timeout: float, what: str) -> T:  # noqa: ASYNC109 - a deadline, not a cancel scope
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fake Discord: timed out after {timeout:g}s waiting for {what}")
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass


class APIError(Exception):
    """An error answer from the fake REST API: `{"message", "code"}` with an HTTP status."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def invalid_form(field_name: str, code: str, message: str) -> APIError:
    return APIError(400, 50035, "Invalid Form Body", {field_name: {"_errors": [{"code": code, "message": message}]}})


# --------------------------------------------------------------------------- users, roles, members


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(eq=False)
class FakeRole:
    guild: FakeGuild
    id: int
    name: str
    permissions: int = 0
    position: int = 1
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            payload["tags"] = {"bot_id": str(self.bot_id)}
        return payload


@dataclass(eq=False)
class FakeMember:
    guild: FakeGuild
    user: FakeUser
    roles: list[int] = field(default_factory=list)
    # Extra guild-wide permissions, as if granted by a role the test did not bother to create.
    permissions: int = 0
    locale: str = "en-US"
    nick: str | None = None
    joined_at: str = field(default_factory=iso)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    def add_roles(self, *roles: FakeRole) -> None:
        """Give the member roles (GUILD_MEMBER_UPDATE); later interactions carry them and their permissions."""
        for role in roles:
            if role.guild is not self.guild:
                raise ValueError(f"role {role.name!r} belongs to another guild")
            if role.id == self.guild.id:
                raise ValueError("every member has @everyone implicitly; it is never listed")
            if role.id not in self.roles:
                self.roles.append(role.id)
        self._announce_update()

    def remove_roles(self, *roles: FakeRole) -> None:
        for role in roles:
            if role.id in self.roles:
                self.roles.remove(role.id)
        self._announce_update()

    def _announce_update(self) -> None:
        # Discord sends member updates only to sessions with the (privileged) members intent.
        self.guild.fake._announce(
            "GUILD_MEMBER_UPDATE",
            self.guild,
            lambda: {**self.to_payload(), "guild_id": str(self.guild.id)},
            intent=discord.Intents(members=True).value,
        )

    def to_payload(self, *, with_user: bool = True, channel: FakeChannel | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self.user.to_payload()
        if channel is not None:
            payload["permissions"] = str(self.guild.permissions_in(self, channel))
        return payload


@dataclass(eq=False)
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


# --------------------------------------------------------------------------- channels and guilds


@dataclass(eq=False)
class FakeChannel:
    guild: FakeGuild | None
    id: int
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None
    nsfw: bool = False
    parent_id: int | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    recipient: FakeUser | None = None  # DM channels only
    typing_count: int = 0
    owner_id: int | None = None  # threads only: who started it
    archived: bool = False  # threads only
    created_at: str = field(default_factory=iso)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def parent(self) -> FakeChannel | None:
        if self.guild is None or self.parent_id is None:
            return None
        return self.guild.channels.get(self.parent_id)

    @property
    def age_restricted(self) -> bool:
        """What Discord shows: a thread is age-restricted when its parent is (threads have no nsfw flag)."""
        if self.is_thread:
            parent = self.parent
            return parent is not None and parent.nsfw
        return self.nsfw

    def to_payload(self) -> dict[str, Any]:
        if self.guild is None:
            return {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": None,
                "recipients": [self.recipient.to_payload()] if self.recipient else [],
            }
        if self.is_thread:
            return self._thread_payload(self.guild)
        payload: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_payload() for o in self.overwrites.values()],
            "nsfw": self.nsfw,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "flags": 0,
        }
        if self.type in (CHANNEL_TEXT, CHANNEL_NEWS, CHANNEL_FORUM):
            payload.update(topic=self.topic, rate_limit_per_user=0, last_message_id=None)
        if self.type in (CHANNEL_VOICE, CHANNEL_STAGE):
            payload.update(bitrate=64000, user_limit=0, rtc_region=None, rate_limit_per_user=0, last_message_id=None)
        if self.type == CHANNEL_FORUM:
            payload.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_thread_rate_limit_per_user=0,
                default_sort_order=None,
                default_forum_layout=0,
            )
        return payload

    def _thread_payload(self, guild: FakeGuild) -> dict[str, Any]:
        # Threads carry no nsfw flag and no overwrites of their own: both come from the parent.
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(guild.id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": self.archived,
                "auto_archive_duration": 1440,
                "archive_timestamp": self.created_at,
                "locked": False,
                "create_timestamp": self.created_at,
                **({"invitable": True} if self.type == CHANNEL_PRIVATE_THREAD else {}),
            },
        }

    def set_bot_permissions(self, permissions: int | discord.Permissions) -> None:
        """Give the bot exactly these permissions here, through a member overwrite."""
        if self.guild is None:
            raise ValueError("DM channels have no permission overwrites")
        self.set_overwrite(self.guild.me, allow=as_permissions(permissions), deny=~as_permissions(permissions))

    def set_overwrite(
        self,
        target: FakeMember | FakeRole | FakeGuild,
        *,
        allow: int | discord.Permissions = 0,
        deny: int | discord.Permissions = 0,
    ) -> None:
        """Set a permission overwrite; a FakeGuild target means its @everyone role."""
        kind = 1 if isinstance(target, FakeMember) else 0
        self.overwrites[target.id] = Overwrite(
            target.id, kind, as_permissions(allow) & ALL_PERMISSIONS, as_permissions(deny) & ALL_PERMISSIONS
        )
        if self.guild is not None:
            self.guild.fake._announce("CHANNEL_UPDATE", self.guild, self.to_payload)


class FakeGuild:
    """A server the bot is in. Build it with add_channel / add_role / add_member."""

    def __init__(
        self,
        fake: FakeDiscord,
        guild_id: int,
        name: str,
        *,
        locale: str,
        premium_tier: int,
        bot_permissions: int,
        features: Iterable[str] = (),
    ) -> None:
        self.fake = fake
        self.id = guild_id
        self.name = name
        self.locale = locale
        self.premium_tier = premium_tier
        self.features = list(features)
        self.owner_id: int = fake.snowflakes.next()  # an owner who is not a cached member
        self.joined_at = iso()
        self.roles: dict[int, FakeRole] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.threads: dict[int, FakeChannel] = {}
        self.members: dict[int, FakeMember] = {}
        self.roles[self.id] = FakeRole(self, self.id, "@everyone", EVERYONE_DEFAULT, position=0)
        bot_role = FakeRole(
            self,
            fake.snowflakes.next(),
            fake.bot_user.username,
            bot_permissions,
            managed=True,
            bot_id=fake.bot_user.id,
        )
        self.roles[bot_role.id] = bot_role
        self.bot_role = bot_role
        self.me = FakeMember(self, fake.bot_user, roles=[bot_role.id])
        self.members[self.me.id] = self.me

    def __repr__(self) -> str:
        return f"<FakeGuild id={self.id} name={self.name!r}>"

    @property
    def everyone(self) -> FakeRole:
        return self.roles[self.id]

    @property
    def member_count(self) -> int:
        return len(self.members)

    @property
    def filesize_limit(self) -> int:
        return FILESIZE_LIMIT_BY_TIER.get(self.premium_tier, DEFAULT_FILESIZE_LIMIT)

    # -- building

    def add_channel(
        self,
        name: str,
        bot_permissions: int | discord.Permissions | None = None,
        *,
        type: int = CHANNEL_TEXT,
        topic: str | None = None,
        nsfw: bool = False,
        category: FakeChannel | None = None,
    ) -> FakeChannel:
        """A channel (text by default; `type` takes Discord's numbers, e.g. 2 voice, 4 category, 15 forum).
        `nsfw=True` makes it age-restricted. `bot_permissions` pins the bot's permissions in it (an overwrite)."""
        if type in THREAD_TYPES:
            raise ValueError("threads live under a channel: use add_thread(parent, name)")
        if category is not None and category.type != CHANNEL_CATEGORY:
            raise ValueError(f"{category.name!r} is not a category")
        channel = FakeChannel(self, self.fake.snowflakes.next(), name, type=type, topic=topic, nsfw=nsfw)
        channel.parent_id = category.id if category is not None else None
        channel.position = len(self.channels)
        if bot_permissions is not None:
            bits = as_permissions(bot_permissions)
            channel.overwrites[self.me.id] = Overwrite(self.me.id, 1, bits, ALL_PERMISSIONS & ~bits)
        self.channels[channel.id] = channel
        self.fake._channels[channel.id] = channel
        self.fake._announce("CHANNEL_CREATE", self, channel.to_payload)
        return channel

    def add_thread(
        self,
        parent: FakeChannel,
        name: str,
        *,
        private: bool = False,
        owner: FakeMember | None = None,
    ) -> FakeChannel:
        """A thread in a text or forum channel (public unless `private`); age-restricted if its parent is."""
        if parent.guild is not self or parent.type not in (CHANNEL_TEXT, CHANNEL_NEWS, CHANNEL_FORUM):
            raise ValueError(f"threads need a text, news or forum channel of this guild, not {parent.name!r}")
        if private and parent.type != CHANNEL_TEXT:
            raise ValueError("private threads exist only in text channels")
        if parent.type == CHANNEL_NEWS:
            kind = CHANNEL_NEWS_THREAD
        else:
            kind = CHANNEL_PRIVATE_THREAD if private else CHANNEL_PUBLIC_THREAD
        thread = FakeChannel(self, self.fake.snowflakes.next(), name, type=kind, parent_id=parent.id)
        thread.owner_id = (owner or self.me).id
        self.threads[thread.id] = thread
        self.fake._channels[thread.id] = thread
        self.fake._announce("THREAD_CREATE", self, lambda: {**thread.to_payload(), "newly_created": True})
        return thread

    def add_role(
        self,
        name: str,
        permissions: int | discord.Permissions = 0,
        *,
        mentionable: bool = False,
        hoist: bool = False,
        color: int = 0,
    ) -> FakeRole:
        role = FakeRole(
            self,
            self.fake.snowflakes.next(),
            name,
            as_permissions(permissions),
            position=len(self.roles),
            mentionable=mentionable,
            hoist=hoist,
            color=color,
        )
        self.roles[role.id] = role
        self.fake._announce("GUILD_ROLE_CREATE", self, lambda: {"guild_id": str(self.id), "role": role.to_payload()})
        return role

    def add_member(
        self,
        name: str,
        permissions: int | discord.Permissions | None = None,
        roles: Iterable[int | FakeRole] = (),
        locale: str = "en-US",
        bot: bool = False,
        *,
        nick: str | None = None,
        global_name: str | None = None,
        owner: bool = False,
    ) -> FakeMember:
        """A member. `permissions` are extra guild-wide permissions on top of @everyone and `roles`."""
        user = FakeUser(self.fake.snowflakes.next(), name, global_name=global_name, bot=bot)
        self.fake._users[user.id] = user
        role_ids = [r.id if isinstance(r, FakeRole) else int(r) for r in roles]
        unknown = [r for r in role_ids if r not in self.roles]
        if unknown:
            raise ValueError(f"unknown role ids for guild {self.name!r}: {unknown}")
        member = FakeMember(
            self, user, roles=role_ids, permissions=as_permissions(permissions), locale=locale, nick=nick
        )
        self.members[user.id] = member
        if owner:
            self.owner_id = user.id
        self.fake._announce(
            "GUILD_MEMBER_ADD",
            self,
            lambda: {**member.to_payload(), "guild_id": str(self.id)},
            intent=discord.Intents(members=True).value,
        )
        return member

    # -- permissions (Discord's documented algorithm: base, then @everyone, role and member overwrites)

    def base_permissions(self, member: FakeMember) -> int:
        if member.id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone.permissions | member.permissions
        for role_id in member.roles:
            role = self.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def permissions_in(self, member: FakeMember, channel: FakeChannel) -> int:
        if channel.is_thread and channel.parent is not None:
            # A thread has no overwrites of its own; Discord computes them on the parent.
            channel = channel.parent
        perms = self.base_permissions(member)
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        everyone = channel.overwrites.get(self.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            overwrite = channel.overwrites.get(role_id)
            if overwrite is not None and overwrite.type == 0:
                allow |= overwrite.allow
                deny |= overwrite.deny
        perms = (perms & ~deny) | allow
        own = channel.overwrites.get(member.id)
        if own is not None and own.type == 1:
            perms = (perms & ~own.deny) | own.allow
        if not perms & VIEW_CHANNEL:
            return 0
        return perms

    def bot_permissions_in(self, channel: FakeChannel) -> int:
        return self.permissions_in(self.me, channel)

    # -- payloads

    def to_payload(self, *, all_members: bool) -> dict[str, Any]:
        """GUILD_CREATE data. Without the presences intent Discord sends only the bot as a member."""
        members = list(self.members.values()) if all_members else [self.me]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": self.premium_tier,
            "premium_subscription_count": {0: 0, 1: 2, 2: 7, 3: 14}.get(self.premium_tier, 0),
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.locale,
            "features": list(self.features),
            "max_members": 500000,
            "application_id": None,
            "widget_enabled": False,
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "joined_at": self.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": self.member_count,
            "voice_states": [],
            "members": [m.to_payload() for m in members],
            "channels": [c.to_payload() for c in self.channels.values()],
            "threads": [t.to_payload() for t in self.threads.values() if not t.archived],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def rest_payload(self) -> dict[str, Any]:
        """GET /guilds/{id}: no members, channels or member_count, as on the real API."""
        payload = self.to_payload(all_members=False)
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "member_count",
            "joined_at",
        ):
            payload.pop(key, None)
        payload["approximate_member_count"] = self.member_count
        return payload


# --------------------------------------------------------------------------- attachments and messages


@dataclass(eq=False)
class FakeAttachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None
    size: int
    url_path: str
    width: int | None = None
    height: int | None = None
    ephemeral: bool = False
    description: str | None = None
    expired: bool = False  # set to make the CDN answer 404, as after the signed URL expires
    downloads: int = 0
    _signature: str = field(default_factory=lambda: secrets.token_hex(16))

    @classmethod
    def create(
        cls,
        attachment_id: int,
        channel_id: int,
        data: bytes,
        filename: str,
        content_type: str | None,
        *,
        size: int | None = None,
        ephemeral: bool = False,
        description: str | None = None,
    ) -> FakeAttachment:
        if content_type is None:
            content_type = mimetypes.guess_type(filename)[0]
        width, height = _image_size(data) if content_type and content_type.startswith("image/") else (None, None)
        return cls(
            id=attachment_id,
            filename=filename,
            data=data,
            content_type=content_type,
            size=len(data) if size is None else size,
            url_path=f"/attachments/{channel_id}/{attachment_id}/{filename}",
            width=width,
            height=height,
            ephemeral=ephemeral,
            description=description,
        )

    def url(self, base: str) -> str:
        expires = format(int(time.time()) + 86400, "x")
        issued = format(int(time.time()), "x")
        return f"{base}{self.url_path}?ex={expires}&is={issued}&hm={self._signature}&"

    def to_payload(self, base: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url(base),
            "proxy_url": self.url(base).replace("/attachments/", "/proxy/attachments/", 1),
            "content_type": self.content_type,
            "flags": 0,
        }
        if self.width is not None:
            payload["width"] = self.width
            payload["height"] = self.height
        if self.ephemeral:
            payload["ephemeral"] = True
        if self.description is not None:
            payload["description"] = self.description
        return payload


def _image_size(data: bytes) -> tuple[int | None, int | None]:
    """Width and height like Discord reports for images; None when Pillow cannot read it."""
    try:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None, None


@dataclass(frozen=True)
class MessageVersion:
    """One state of a message: what it looked like after it was created or edited."""

    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    files: list[tuple[str, bytes]]
    flags: int
    time: float

    @property
    def text(self) -> str:
        return message_text(self.content, self.embeds)


def message_text(content: str, embeds: list[dict[str, Any]]) -> str:
    """What a reader sees: the content, then each embed's author, title, description, fields, footer."""
    parts = [content] if content else []
    for embed in embeds:
        author = (embed.get("author") or {}).get("name")
        for piece in (author, embed.get("title"), embed.get("description")):
            if piece:
                parts.append(str(piece))
        for f in embed.get("fields") or []:
            parts.append(f"{f.get('name', '')}: {f.get('value', '')}")
        footer = (embed.get("footer") or {}).get("text")
        if footer:
            parts.append(str(footer))
    return "\n".join(parts)


@dataclass(eq=False)
class FakeMessage:
    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    nonce: str | int | None = None  # as the bot sent it when creating the message
    mentions: list[int] = field(default_factory=list)  # user ids actually pinged
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    pinged: list[int] = field(default_factory=list)  # every user notified: mentions, role members, @everyone
    via: str = "channel"  # "channel" (REST channel message) or "interaction"
    interaction_id: int | None = None
    webhook_id: int | None = None
    timestamp: str = field(default_factory=iso)
    edited_timestamp: str | None = None
    deleted: bool = False
    versions: list[MessageVersion] = field(default_factory=list)

    @property
    def files(self) -> list[tuple[str, bytes]]:
        return [(a.filename, a.data) for a in self.attachments]

    @property
    def edits(self) -> list[MessageVersion]:
        """The state after each edit, oldest first (versions[0] is the message as created)."""
        return self.versions[1:]

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MESSAGE_FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & MESSAGE_FLAG_LOADING)

    @property
    def text(self) -> str:
        return message_text(self.content, self.embeds)

    @property
    def pinged_nobody(self) -> bool:
        return not self.pinged

    @property
    def selects(self) -> list[SelectMenu]:
        """The string selects the message offers, in order."""
        from tests.fakediscord.components import find_selects  # components.py imports this module

        return find_selects(self.components)

    def select(self, custom_id: str) -> SelectMenu:
        for menu in self.selects:
            if menu.custom_id == custom_id:
                return menu
        raise KeyError(f"message {self.id} has no select {custom_id!r}; it has {[m.custom_id for m in self.selects]}")

    @property
    def custom_ids(self) -> list[str]:
        """Every custom_id on the message's components, depth first."""
        found: list[str] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for item in items:
                if "custom_id" in item:
                    found.append(item["custom_id"])
                for key in ("components", "accessory"):
                    child = item.get(key)
                    if isinstance(child, list):
                        walk(child)
                    elif isinstance(child, dict):
                        walk([child])

        walk(self.components)
        return found

    def record_version(self) -> MessageVersion:
        version = MessageVersion(
            content=self.content,
            embeds=[dict(e) for e in self.embeds],
            components=list(self.components),
            files=self.files,
            flags=self.flags,
            time=time.monotonic(),
        )
        self.versions.append(version)
        return version

    def to_payload(self, fake: FakeDiscord) -> dict[str, Any]:
        users = fake._users
        payload: dict[str, Any] = {
            "id": str(self.id),
            "type": 19 if self.message_reference else (20 if self.via == "interaction" else 0),
            "channel_id": str(self.channel_id),
            "author": self.author.to_payload(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": self.tts,
            "mention_everyone": self.mention_everyone,
            "mentions": [users[u].to_payload() for u in self.mentions if u in users],
            "mention_roles": [str(r) for r in self.mention_roles],
            "attachments": [a.to_payload(fake.base_url) for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.nonce is not None:
            payload["nonce"] = self.nonce
        if self.guild_id is not None:
            payload["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            payload["webhook_id"] = str(self.webhook_id)
            payload["application_id"] = str(fake.app_id)
        if self.message_reference:
            payload["message_reference"] = self.message_reference
        return payload


# --------------------------------------------------------------------------- interactions


@dataclass(frozen=True)
class ResponseRecord:
    """One message created or edited on an interaction's token, as the member would see it."""

    action: str  # "callback" (types 4, 5, 7), "followup", "edit", "delete"
    message_id: int
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    files: list[tuple[str, bytes]]
    flags: int
    time: float
    loading: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MESSAGE_FLAG_EPHEMERAL)

    @property
    def text(self) -> str:
        return message_text(self.content, self.embeds)


class FakeInteraction:
    """What the fake knows about one dispatched interaction and everything the bot did with it."""

    def __init__(
        self,
        fake: FakeDiscord,
        *,
        interaction_id: int,
        token: str,
        type: int,
        member: FakeMember,
        channel: FakeChannel,
        payload: dict[str, Any],
        attachment_size_limit: int,
        message: FakeMessage | None = None,
    ) -> None:
        self.fake = fake
        self.id = interaction_id
        self.token = token
        self.type = type
        self.member = member
        self.channel = channel
        self.payload = payload
        self.attachment_size_limit = attachment_size_limit
        self.message = message  # the component's message, for type 3
        self.dispatched_at: float = time.monotonic()
        self.callback_type: int | None = None
        self.acked_at: float | None = None
        self.ephemeral: bool | None = None
        self.original: FakeMessage | None = None
        self.followups: list[FakeMessage] = []
        self.responses: list[ResponseRecord] = []
        self.choices: list[dict[str, Any]] | None = None
        self.modal: dict[str, Any] | None = None
        self.rejected: list[APIError] = []  # callbacks and webhook calls the fake refused
        self.followup_edited_original = False

    def __repr__(self) -> str:
        return f"<FakeInteraction id={self.id} type={self.type} callback_type={self.callback_type}>"

    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None

    @property
    def shown_modal(self) -> ShownModal:
        """The modal the bot answered with (callback type 9): title, fields, pre-filled values."""
        from tests.fakediscord.components import ShownModal  # components.py imports this module

        if self.modal is None:
            raise ValueError(f"{self!r} was not answered with a modal (callback type {self.callback_type})")
        return ShownModal.parse(self.modal)

    @property
    def ack_latency(self) -> float | None:
        """Seconds from dispatch to the accepted callback."""
        return None if self.acked_at is None else self.acked_at - self.dispatched_at

    @property
    def expired(self) -> bool:
        return time.monotonic() - self.dispatched_at > self.fake.token_lifetime

    def record(self, action: str, message: FakeMessage) -> None:
        self.responses.append(
            ResponseRecord(
                action=action,
                message_id=message.id,
                content=message.content,
                embeds=[dict(e) for e in message.embeds],
                components=list(message.components),
                files=message.files,
                flags=message.flags,
                time=time.monotonic(),
                loading=message.loading,
            )
        )
        self.fake._notifier.notify()

    async def acked(self, timeout: float = 5) -> int:  # noqa: ASYNC109
        """Wait for the bot's callback; returns its type (4, 5, 6, 7, 8 or 9)."""
        return await self.fake._notifier.wait_for(lambda: self.callback_type, timeout, f"a callback on {self!r}")

    async def reply(self, timeout: float = 10) -> str:  # noqa: ASYNC109
        """The text the member sees: the type 4/7 response, or after a deferral the first followup or edit."""

        def check() -> str | None:
            for record in self.responses:
                if record.action == "callback" and not record.loading and self.callback_type in (4, 7):
                    return record.text
                if record.action in ("followup", "edit"):
                    return record.text
            return None

        return await self.fake._notifier.wait_for(check, timeout, f"a visible reply on {self!r}")

    async def wait_for_response(
        self,
        predicate: Callable[[ResponseRecord], bool] | None = None,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> ResponseRecord:
        """The first response record (in order) that matches, waiting for it if needed."""

        def check() -> ResponseRecord | None:
            return next((r for r in self.responses if predicate is None or predicate(r)), None)

        return await self.fake._notifier.wait_for(check, timeout, f"a matching response on {self!r}")


# --------------------------------------------------------------------------- request log and faults


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the bot made. The Authorization header is deliberately not kept."""

    method: str
    path: str  # without the /api/v10 prefix for API routes
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]]
    time: float
    status: int
    authorized: bool  # whether a correct bot token was sent

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(eq=False)
class Fault:
    """An injected failure for requests matching `method` and the `path` regex (full match)."""

    method: str
    path: str
    status: int
    count: int = 1
    retry_after: float = 0.2
    via: bool = True
    is_global: bool = False
    code: int = 0
    message: str | None = None
    # True: the request is carried out, then answered with this status (an answer lost on the way back)
    lost: bool = False
    hits: int = 0

    @property
    def remaining(self) -> int:
        return self.count - self.hits
