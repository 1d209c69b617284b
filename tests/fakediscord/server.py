"""FakeDiscord: Discord's REST API and gateway on 127.0.0.1 for the unmodified discord.py client.

Typical use (see plugin.py for fixtures):

    fake = FakeDiscord(token="fake-token")
    await fake.start()
    guild = fake.add_guild("Test")
    channel = guild.add_channel("general")
    alice = guild.add_member("alice")
    with fake.patch_discord():
        async with running_bot(bot, fake):
            ix = await fake.invoke(alice, channel, "ping")
            assert await ix.reply() == "pong"
    await fake.stop()

Beyond slash commands (test_features.py shows each one end to end):
- modals: `ix.shown_modal` (title, fields, prefilled) then `await fake.submit_modal(ix, {"field-id": "text"})`
- string selects: `message.select("id").values`, then `await fake.choose(member, message, "id", ["value"])`
- message context menus: `fake.post_message(member, channel, files=[...])`, then
  `await fake.invoke_message_command(member, message, "Menu name")`
- commands as stored: `fake.command(name, guild, kind=3)`, `fake.can_use_command(member, name, channel)`,
  and `fake.enforce_command_permissions = True` to make invoke() refuse hidden commands
- roles: `guild.add_role(...)`, `member.add_roles(role)`; pings: `fake.message(id).pinged` / `.pinged_nobody`
- channels: `guild.add_channel(name, type=2|4|15, nsfw=True, category=...)`, `guild.add_thread(parent, name)`
- edit rate limit: `fake.limit_edits(limit=5, per=5.0)`; counters on `fake.edit_rate_limit`
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import discord
import yarl
from aiohttp import web

from tests.fakediscord import gateway
from tests.fakediscord.components import ShownModal, check_choice
from tests.fakediscord.model import (
    ADMINISTRATOR,
    BOT_ROLE_DEFAULT,
    MIB,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    Fault,
    Notifier,
    RecordedRequest,
    SnowflakeFactory,
    as_permissions,
)
from tests.fakediscord.ratelimit import EditRateLimit
from tests.fakediscord.rest import API_PREFIX, RestAPI

log = logging.getLogger(__name__)

OptionValue = Any
INTERACTION_TOKEN_MINUTES = 15


class FakeDiscord:
    """A loopback Discord. Build the world, start it, point discord.py at it, drive interactions."""

    def __init__(self, token: str = "fake-token", *, host: str = "127.0.0.1", bot_name: str = "FakeBot") -> None:
        self.token = token
        self.host = host
        self.port: int | None = None
        self.snowflakes = SnowflakeFactory()
        self.app_id = self.snowflakes.next()
        # Like a real application, the bot user shares the application's id.
        self.bot_user = FakeUser(self.app_id, bot_name, bot=True)
        self.owner = FakeUser(self.snowflakes.next(), "app-owner")

        # Behaviour knobs tests may change at any time.
        self.ack_deadline = 3.0
        self.token_lifetime = 900.0
        self.max_request_size = 25 * MIB
        self.heartbeat_interval_ms = 41250
        self.ack_heartbeats = True
        self.gateway_text_frames = False  # True: never compress, whatever the client asks
        self.dispatch_message_events = True  # MESSAGE_CREATE/UPDATE/DELETE for the bot's own messages
        self.nonce_window = 300.0  # seconds an enforced nonce returns the message it first created
        # True: invoke() refuses a command the member's client would hide (default_member_permissions).
        self.enforce_command_permissions = False
        # Per-channel limit on message edits: off by default; its counters run either way.
        self.edit_rate_limit = EditRateLimit()

        # What the bot did.
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[str] = []  # requests no route matched ("METHOD /path")
        self.errors: list[str] = []  # the fake's own crashes while handling a request
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0

        self.guilds: dict[int, FakeGuild] = {}
        self.sessions: dict[str, gateway.GatewaySession] = {}
        self._users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user, self.owner.id: self.owner}
        self._channels: dict[int, FakeChannel] = {}
        self._dm_channels: dict[int, FakeChannel] = {}
        self._messages: dict[int, FakeMessage] = {}
        self._attachments: dict[int, FakeAttachment] = {}
        self._interactions: dict[int, FakeInteraction] = {}
        self._tokens: dict[str, FakeInteraction] = {}
        self._synced: dict[int | None, list[dict[str, Any]]] = {}
        self._command_objects: dict[int | None, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self._faults: list[Fault] = []
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}  # (author, nonce) -> (message, when)
        self._connections: set[gateway.Connection] = set()
        self._notifier = Notifier()
        self._rest = RestAPI(self)
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"<FakeDiscord {self.base_url if self.port else '(stopped)'} guilds={len(self.guilds)}>"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=1024 * MIB)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest.handle)
        app.router.add_get("/gateway", self._ws)
        app.router.add_get("/gateway-resume", self._ws)
        cdn = "/attachments/{channel_id}/{attachment_id}/{filename}"
        app.router.add_get(cdn, self._rest.handle_cdn)
        app.router.add_get("/proxy" + cdn, self._rest.handle_cdn)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.debug("fake Discord listening on %s", self.base_url)

    async def stop(self) -> None:
        for connection in list(self._connections):
            await connection.close(1001, "fake Discord stopping")
        for session in self.sessions.values():
            session.invalid = True
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        return await gateway.handle_websocket(self, request)

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway-resume"

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[FakeDiscord]:
        """Point discord.py's REST base and default gateway at this fake; restore them afterwards."""
        route_base = discord.http.Route.BASE
        default_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield self
        finally:
            discord.http.Route.BASE = route_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = default_gateway

    # ------------------------------------------------------------------ building the world

    def add_guild(
        self,
        name: str = "Test",
        *,
        locale: str = "en-US",
        premium_tier: int = 0,
        bot_permissions: int | discord.Permissions | None = None,
        features: list[str] | None = None,
    ) -> FakeGuild:
        """A guild the bot is in. Added while the bot is connected, it arrives as GUILD_CREATE."""
        guild = FakeGuild(
            self,
            self.snowflakes.next(),
            name,
            locale=locale,
            premium_tier=premium_tier,
            bot_permissions=as_permissions(bot_permissions, BOT_ROLE_DEFAULT),
            features=features or [],
        )
        self.guilds[guild.id] = guild
        if any(s.live for s in self.sessions.values()):
            # Deferred to the next loop turn so channels, roles and members added right after are included.
            asyncio.get_running_loop().call_soon(self._send_guild_create, guild)
        return guild

    def remove_guild(self, guild: FakeGuild) -> None:
        """The bot leaves (or is kicked from) the guild: GUILD_DELETE."""
        self.guilds.pop(guild.id, None)
        for session in self._live_sessions():
            if guild.id in session.known_guilds:
                session.known_guilds.discard(guild.id)
                session.dispatch("GUILD_DELETE", {"id": str(guild.id)})

    def _send_guild_create(self, guild: FakeGuild) -> None:
        if guild.id not in self.guilds:
            return
        for session in self._live_sessions():
            if guild.id not in session.known_guilds and session.has_intent(gateway.INTENT_GUILDS):
                session.known_guilds.add(guild.id)
                payload = gateway._guild_create(session, guild.id)
                # A guild joined after READY carries no "unavailable" key; discord.py then fires guild_join.
                payload.pop("unavailable", None)
                session.dispatch("GUILD_CREATE", payload)

    def _announce(
        self,
        event: str,
        guild: FakeGuild,
        payload: Callable[[], dict[str, Any]],
        *,
        intent: int = gateway.INTENT_GUILDS,
    ) -> None:
        """Dispatch a guild event to every session that already knows the guild."""
        for session in self._live_sessions():
            if guild.id in session.known_guilds and session.has_intent(intent):
                session.dispatch(event, payload())

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        channel = self._dm_channels.get(user.id)
        if channel is None:
            channel = FakeChannel(None, self.snowflakes.next(), "", type=1, recipient=user)
            self._dm_channels[user.id] = channel
            self._channels[channel.id] = channel
        return channel

    def host_attachment(
        self,
        data: bytes,
        filename: str,
        content_type: str | None = None,
        *,
        size: int | None = None,
        description: str | None = None,
    ) -> FakeAttachment:
        """A file a member uploads with a command; served at its `url`. `size` may claim more than `data`."""
        attachment = FakeAttachment.create(
            self.snowflakes.next(),
            self.snowflakes.next(),
            data,
            filename,
            content_type,
            size=size,
            ephemeral=True,
            description=description,
        )
        self._attachments[attachment.id] = attachment
        return attachment

    # ------------------------------------------------------------------ faults

    def inject(
        self,
        method: str,
        path: str,
        *,
        status: int,
        count: int = 1,
        retry_after: float = 0.2,
        via: bool = True,
        is_global: bool = False,
        code: int = 0,
        message: str | None = None,
        lost: bool = False,
    ) -> Fault:
        """Fail the next `count` requests whose method matches ("*" for any) and whose path (without
        /api/v10) fully matches the regex `path`. 429s carry retry_after and, with via=True, the Via
        header discord.py needs to retry; via=False looks like a Cloudflare ban. With lost=True the
        request is carried out first and only its answer is replaced (Discord did the work, the
        answer never arrived)."""
        fault = Fault(method.upper(), path, status, count, retry_after, via, is_global, code, message, lost)
        self._faults.append(fault)
        return fault

    def limit_edits(
        self, *, limit: int = 5, per: float = 5.0, include_sends: bool = False, advertise: bool = True
    ) -> EditRateLimit:
        """Turn on the per-channel bucket for PATCH /channels/{cid}/messages/{mid} (and, with
        include_sends, POST messages): `limit` per `per` seconds, then 429 with X-RateLimit-* headers.
        Counters are on `fake.edit_rate_limit` (answered_429, edits, last_edit, refused)."""
        bucket = self.edit_rate_limit
        bucket.enabled, bucket.limit, bucket.per = True, limit, per
        bucket.include_sends, bucket.advertise = include_sends, advertise
        return bucket

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.hits >= fault.count:
                continue
            if fault.method not in ("*", method.upper()):
                continue
            if re.fullmatch(fault.path, path):
                fault.hits += 1
                return fault
        return None

    # ------------------------------------------------------------------ gateway control

    def _live_sessions(self) -> list[gateway.GatewaySession]:
        return [s for s in self.sessions.values() if s.live]

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a raw dispatch event to every live session."""
        for session in self._live_sessions():
            session.dispatch(event, data)

    async def flush(self) -> None:
        """Wait until every queued gateway frame has been written to the sockets."""
        for session in self._live_sessions():
            await session.drain()

    @property
    def connected(self) -> bool:
        return any(s.live and s.connection is not None for s in self.sessions.values())

    async def wait_until_connected(self, timeout: float = 5) -> gateway.GatewaySession:  # noqa: ASYNC109
        def check() -> gateway.GatewaySession | None:
            return next((s for s in self._live_sessions() if s.connection is not None), None)

        return await self._notifier.wait_for(check, timeout, "a gateway session")

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py closes and RESUMEs on resume_gateway_url."""
        for session in self._live_sessions():
            if session.connection is not None:
                session.connection.send({"op": gateway.OP_RECONNECT, "d": None, "s": None, "t": None})
        await self.flush()

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with resumable=False the client identifies afresh."""
        for session in self._live_sessions():
            if session.connection is not None:
                if not resumable:
                    session.invalid = True
                session.connection.send({"op": gateway.OP_INVALID_SESSION, "d": resumable, "s": None, "t": None})
                await session.connection.drain()

    async def close_gateway(self, code: int = 4000) -> None:
        """Drop every gateway connection with `code` (4000: the client may resume)."""
        for connection in list(self._connections):
            await connection.close(code, "fake Discord closed the connection")

    # ------------------------------------------------------------------ interactions

    async def invoke(
        self,
        member: FakeMember,
        channel: FakeChannel,
        name: str,
        options: dict[str, OptionValue] | None = None,
        *,
        subcommand: str | None = None,
        locale: str | None = None,
        attachment_size_limit: int | None = None,
    ) -> FakeInteraction:
        """Dispatch a slash command. `name` or `subcommand` may hold spaces for groups ("quota grant")."""
        root = name.split()[0]
        if self.enforce_command_permissions and not self.can_use_command(member, root, channel):
            raise PermissionError(f"{member.user.username} cannot see /{root} (default_member_permissions)")
        data = self._command_data(member, channel, name, options or {}, subcommand, focused=None)
        return await self._dispatch_interaction(2, member, channel, data, locale, attachment_size_limit)

    async def autocomplete(
        self,
        member: FakeMember,
        channel: FakeChannel,
        name: str,
        options: dict[str, OptionValue],
        *,
        focused: str,
        subcommand: str | None = None,
        locale: str | None = None,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Dispatch an autocomplete interaction and return the bot's choices [{"name", "value"}]."""
        if focused not in options:
            raise ValueError(f"focused option {focused!r} must be one of the options given")
        data = self._command_data(member, channel, name, options, subcommand, focused=focused)
        ix = await self._dispatch_interaction(4, member, channel, data, locale, None)
        callback = await ix.acked(timeout)
        if callback != 8 or ix.choices is None:
            raise AssertionError(f"autocomplete answered with callback type {callback}, not 8")
        return ix.choices

    async def click(
        self,
        member: FakeMember,
        message: FakeMessage,
        custom_id: str,
        *,
        component_type: int = 2,
        values: list[str] | None = None,
        locale: str | None = None,
    ) -> FakeInteraction:
        """Press a button (or pick select `values`) on a message the bot sent."""
        if message.deleted:
            raise ValueError(f"message {message.id} was deleted; nobody can click it")
        if custom_id not in message.custom_ids:
            raise ValueError(f"message {message.id} has no component {custom_id!r}; it has {message.custom_ids}")
        channel = self._channels[message.channel_id]
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        return await self._dispatch_interaction(3, member, channel, data, locale, None, message=message)

    async def choose(
        self,
        member: FakeMember,
        message: FakeMessage,
        custom_id: str,
        values: list[str] | str,
        *,
        locale: str | None = None,
    ) -> FakeInteraction:
        """Pick value(s) from a string select on a message (MESSAGE_COMPONENT, component_type 3).
        Refuses what Discord's client would not allow: values not offered, too few or too many."""
        menu = message.select(custom_id)
        chosen = [values] if isinstance(values, str) else list(values)
        if menu.disabled:
            raise ValueError(f"select {custom_id!r} is disabled")
        check_choice(custom_id, menu.options, chosen, menu.min_values, menu.max_values)
        return await self.click(member, message, custom_id, component_type=3, values=chosen, locale=locale)

    async def submit_modal(
        self,
        ix: FakeInteraction,
        values: dict[str, str | list[str]] | None = None,
        *,
        locale: str | None = None,
    ) -> FakeInteraction:
        """The member who was shown `ix`'s modal fills it in and submits it (MODAL_SUBMIT, type 5).
        `values` maps field custom_ids to text (or select values); unset fields keep their pre-fill."""
        modal = ix.shown_modal
        data = {"custom_id": modal.custom_id, "components": modal.submission(values or {})}
        # A modal opened from a component carries that component's message, so type 6/7 answers work.
        return await self._dispatch_interaction(5, ix.member, ix.channel, data, locale, None, message=ix.message)

    def post_message(
        self,
        member: FakeMember,
        channel: FakeChannel,
        content: str = "",
        *,
        files: list[tuple[str, bytes]] | None = None,
    ) -> FakeMessage:
        """A message a member posts (MESSAGE_CREATE), with files served by the fake CDN at their urls."""
        if channel.guild is None or member.guild is not channel.guild:
            raise ValueError("members post in channels of their own guild")
        needed = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
        if not channel.guild.permissions_in(member, channel) & needed:
            raise PermissionError(f"{member.user.username} may not post in {channel.name!r}")
        message = FakeMessage(
            id=self.snowflakes.next(), channel_id=channel.id, guild_id=channel.guild.id, author=member.user
        )
        message.content = content
        for filename, blob in files or []:
            attachment = FakeAttachment.create(self.snowflakes.next(), channel.id, blob, filename, None)
            self._attachments[attachment.id] = attachment
            message.attachments.append(attachment)
        message.record_version()
        self._messages[message.id] = message
        guild = channel.guild
        if self.dispatch_message_events:

            def payload() -> dict[str, Any]:
                return {**message.to_payload(self), "member": member.to_payload(with_user=False)}

            self._announce("MESSAGE_CREATE", guild, payload, intent=gateway.INTENT_GUILD_MESSAGES)
        self._notifier.notify()
        return message

    async def invoke_message_command(
        self,
        member: FakeMember,
        message: FakeMessage,
        name: str,
        *,
        locale: str | None = None,
    ) -> FakeInteraction:
        """Apps → `name` on a message (a message context menu, command type 3), as Discord sends it:
        data.type 3, data.target_id and the message (with its attachments) in data.resolved.messages."""
        command, scope = self._find_command(member.guild.id, name, kind=3)
        if command is None:
            raise ValueError(f"no message command {name!r} is registered for this guild or globally")
        if message.deleted:
            raise ValueError(f"message {message.id} was deleted")
        channel = self._channels[message.channel_id]
        if self.enforce_command_permissions and not self.can_use_command(member, name, channel, kind=3):
            raise PermissionError(f"{member.user.username} cannot see {name!r} (default_member_permissions)")
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): message.to_payload(self)}},
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        return await self._dispatch_interaction(2, member, channel, data, locale, None)

    def command(self, name: str, guild: FakeGuild | None = None, *, kind: int = 1) -> dict[str, Any]:
        """A registered command as Discord stores it (id, type, default_member_permissions,
        name_localizations...): the guild's own first, then the global one."""
        found, _scope = self._find_command(guild.id if guild else None, name, kind=kind)
        if found is None:
            raise KeyError(f"no command {name!r} of type {kind} is registered")
        return dict(found)

    def can_use_command(
        self, member: FakeMember, name: str, channel: FakeChannel | None = None, *, kind: int = 1
    ) -> bool:
        """Whether the member's client lists the command, from its default_member_permissions alone
        (server admins' overrides under Integrations are not modelled). Administrators see everything."""
        command, _scope = self._find_command(member.guild.id, name, kind=kind)
        if command is None:
            return False
        required = command.get("default_member_permissions")
        guild = member.guild
        perms = guild.permissions_in(member, channel) if channel is not None else guild.base_permissions(member)
        if perms & ADMINISTRATOR or member.id == guild.owner_id:
            return True
        if required is None:
            return True
        needed = int(required)
        return needed != 0 and perms & needed == needed

    async def _dispatch_interaction(
        self,
        kind: int,
        member: FakeMember,
        channel: FakeChannel,
        data: dict[str, Any],
        locale: str | None,
        attachment_size_limit: int | None,
        *,
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        guild = channel.guild
        if guild is None or member.guild is not guild:
            raise ValueError("interactions need a guild channel and a member of that guild")
        await self.wait_until_connected()
        # discord.py's Interaction.is_expired() reads the id's timestamp plus 15 minutes; back-date the id
        # so that a shortened token_lifetime looks the same to the bot as it does to the fake.
        interaction_id = self.snowflakes.at(time.time() - (INTERACTION_TOKEN_MINUTES * 60 - self.token_lifetime))
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        limit = guild.filesize_limit if attachment_size_limit is None else attachment_size_limit
        member_permissions = guild.permissions_in(member, channel)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.app_id),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.locale, "features": list(guild.features)},
            "channel_id": str(channel.id),
            "channel": {**channel.to_payload(), "permissions": str(member_permissions)},
            "member": member.to_payload(channel=channel),
            "app_permissions": str(guild.bot_permissions_in(channel)),
            "locale": locale or member.locale,
            "guild_locale": guild.locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": limit,
            "data": data,
        }
        if message is not None:
            payload["message"] = message.to_payload(self)
        ix = FakeInteraction(
            self,
            interaction_id=interaction_id,
            token=token,
            type=kind,
            member=member,
            channel=channel,
            payload=payload,
            attachment_size_limit=limit,
            message=message,
        )
        self._interactions[interaction_id] = ix
        self._tokens[token] = ix
        ix.dispatched_at = time.monotonic()
        self.dispatch("INTERACTION_CREATE", payload)
        await self.flush()
        return ix

    def _find_command(
        self, guild_id: int | None, name: str, *, kind: int = 1
    ) -> tuple[dict[str, Any] | None, int | None]:
        for scope in (guild_id, None) if guild_id is not None else (None,):
            for command in self._command_objects.get(scope, []):
                if command["name"] == name and command.get("type", 1) == kind:
                    return command, scope
        return None, None

    def _command_data(
        self,
        member: FakeMember,
        channel: FakeChannel,
        name: str,
        options: dict[str, OptionValue],
        subcommand: str | None,
        *,
        focused: str | None,
    ) -> dict[str, Any]:
        path = name.split() + (subcommand.split() if subcommand else [])
        root, nested = path[0], path[1:]
        if len(nested) > 2:
            raise ValueError(f"commands nest at most two levels below the root: {path}")
        guild = member.guild
        command, scope = self._find_command(guild.id, root)
        schema: list[dict[str, Any]] = command.get("options", []) if command else []
        for level in nested:
            parent = next((o for o in schema if o.get("name") == level), None)
            schema = (parent or {}).get("options", [])
        declared = {o["name"]: o.get("type") for o in schema if "name" in o}
        resolved: dict[str, dict[str, Any]] = {}
        leaf: list[dict[str, Any]] = []
        for option_name, value in options.items():
            spec = next((o for o in schema if o.get("name") == option_name), {})
            if isinstance(value, FakeChannel):
                check_channel_option(option_name, spec, value)
            kind, wire = self._option_value(value, declared.get(option_name), resolved, member, channel)
            option: dict[str, Any] = {"name": option_name, "type": kind, "value": wire}
            if option_name == focused:
                option["focused"] = True
                if kind in (4, 10):
                    option["value"] = str(value)
            leaf.append(option)
        wrapped = leaf
        for depth, level in reversed(list(enumerate(nested))):
            is_group = depth == 0 and len(nested) == 2
            wrapped = [{"name": level, "type": 2 if is_group else 1, "options": wrapped}]
        data: dict[str, Any] = {
            "id": command["id"] if command else str(self.snowflakes.next()),
            "name": root,
            "type": 1,
            "options": wrapped,
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_value(
        self,
        value: OptionValue,
        declared: int | None,
        resolved: dict[str, dict[str, Any]],
        member: FakeMember,
        channel: FakeChannel,
    ) -> tuple[int, Any]:
        guild = member.guild
        if isinstance(value, FakeAttachment):
            resolved.setdefault("attachments", {})[str(value.id)] = value.to_payload(self.base_url)
            return 11, str(value.id)
        if isinstance(value, FakeUser):
            value = guild.members.get(value.id, value)
        if isinstance(value, FakeMember):
            resolved.setdefault("users", {})[str(value.id)] = value.user.to_payload()
            resolved.setdefault("members", {})[str(value.id)] = value.to_payload(with_user=False, channel=channel)
            return (9 if declared == 9 else 6), str(value.id)
        if isinstance(value, FakeUser):
            resolved.setdefault("users", {})[str(value.id)] = value.to_payload()
            return (9 if declared == 9 else 6), str(value.id)
        if isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_payload()
            return (9 if declared == 9 else 8), str(value.id)
        if isinstance(value, FakeChannel):
            entry = {**value.to_payload(), "permissions": str(guild.permissions_in(member, value))}
            resolved.setdefault("channels", {})[str(value.id)] = entry
            return 7, str(value.id)
        if isinstance(value, bool):
            return 5, value
        if isinstance(value, int):
            return (10 if declared == 10 else 4), value
        if isinstance(value, float):
            return 10, value
        if declared in (4, 10) and isinstance(value, str):
            try:
                return declared, int(value) if declared == 4 else float(value)
            except ValueError:
                return declared, value
        return declared or 3, value

    # ------------------------------------------------------------------ observing the bot

    def shown_modal(self, ix: FakeInteraction) -> ShownModal:
        """The modal the bot answered `ix` with (same as `ix.shown_modal`)."""
        return ix.shown_modal

    @property
    def interactions(self) -> list[FakeInteraction]:
        return list(self._interactions.values())

    def messages(self, channel_id: int | FakeChannel, *, interactions: bool = False) -> list[FakeMessage]:
        """Messages the bot posted in a channel with channel.send (oldest first, deleted ones included).
        With interactions=True, interaction responses and followups there are included too."""
        cid = channel_id.id if isinstance(channel_id, FakeChannel) else int(channel_id)
        return [m for m in self._messages.values() if m.channel_id == cid and (m.via == "channel" or interactions)]

    def message(self, message_id: int) -> FakeMessage:
        return self._messages[int(message_id)]

    async def wait_for_message(
        self,
        channel_id: int | FakeChannel,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float = 10,  # noqa: ASYNC109
        *,
        new_only: bool = False,
        interactions: bool = False,
    ) -> FakeMessage:
        """The first message in the channel (existing or future; edits re-checked) that matches.
        new_only=True ignores messages that already exist when called."""
        existing = {m.id for m in self.messages(channel_id, interactions=interactions)} if new_only else set()

        def check() -> FakeMessage | None:
            for message in self.messages(channel_id, interactions=interactions):
                if message.id in existing or message.deleted:
                    continue
                if predicate is None or predicate(message):
                    return message
            return None

        return await self._notifier.wait_for(check, timeout, f"a message in channel {channel_id}")

    def synced_commands(self, guild_id: int | FakeGuild | None = None) -> list[dict[str, Any]] | None:
        """The body of the last bulk overwrite (PUT) for global (None) or one guild's commands."""
        gid = guild_id.id if isinstance(guild_id, FakeGuild) else guild_id
        body = self._synced.get(gid)
        return None if body is None else [dict(c) for c in body]

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests with this method ("*" for any) whose path fully matches the regex."""
        return [
            r for r in self.requests if method.upper() in ("*", r.method) and re.fullmatch(path, r.path) is not None
        ]

    # ------------------------------------------------------------------ message bookkeeping (used by rest.py)

    def _store_message(self, message: FakeMessage) -> None:
        self._messages[message.id] = message
        self._message_event("MESSAGE_CREATE", message)
        self._notifier.notify()

    def _message_edited(self, message: FakeMessage) -> None:
        self._message_event("MESSAGE_UPDATE", message)
        self._notifier.notify()

    def _message_deleted(self, message: FakeMessage) -> None:
        message.deleted = True
        if self.dispatch_message_events and not message.ephemeral and message.guild_id is not None:
            guild = self.guilds.get(message.guild_id)
            if guild is not None:
                data = {
                    "id": str(message.id),
                    "channel_id": str(message.channel_id),
                    "guild_id": str(guild.id),
                }
                self._announce("MESSAGE_DELETE", guild, lambda: data, intent=gateway.INTENT_GUILD_MESSAGES)
        self._notifier.notify()

    def _message_event(self, event: str, message: FakeMessage) -> None:
        if not self.dispatch_message_events or message.ephemeral or message.loading or message.guild_id is None:
            return
        guild = self.guilds.get(message.guild_id)
        if guild is None:
            return

        def payload() -> dict[str, Any]:
            return {**message.to_payload(self), "member": guild.me.to_payload(with_user=False)}

        self._announce(event, guild, payload, intent=gateway.INTENT_GUILD_MESSAGES)


def check_channel_option(name: str, spec: dict[str, Any], channel: FakeChannel) -> None:
    """Discord's picker offers only the option's channel_types; a test cannot pass another kind."""
    if spec and spec.get("type") not in (None, 7):
        raise ValueError(f"option {name!r} is not a channel option (type {spec.get('type')})")
    allowed = spec.get("channel_types")
    if allowed and channel.type not in allowed:
        raise ValueError(f"option {name!r} accepts channel types {allowed}; {channel.name!r} is type {channel.type}")
