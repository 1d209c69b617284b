"""The fake REST API under /api/v10, plus the attachment CDN.

Every request is parsed once (JSON or multipart with payload_json + files[n]), checked
against injected faults, recorded in `FakeDiscord.requests`, then routed by regex.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakediscord.components import validate_message_components, validate_modal
from tests.fakediscord.model import (
    ATTACH_FILES,
    CHANNEL_CATEGORY,
    CHANNEL_FORUM,
    DEFAULT_FILESIZE_LIMIT,
    MESSAGE_FLAG_EPHEMERAL,
    MESSAGE_FLAG_LOADING,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    APIError,
    FakeAttachment,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    Fault,
    RecordedRequest,
    invalid_form,
    iso,
)
from tests.fakediscord.ratelimit import Verdict, too_many_requests_headers

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
MENTION_EVERYONE = 1 << 17
# Flags a bot may set when creating a message; ephemeral only through interactions.
CHANNEL_MESSAGE_FLAGS = 4 | 4096 | 32768
INTERACTION_MESSAGE_FLAGS = CHANNEL_MESSAGE_FLAGS | MESSAGE_FLAG_EPHEMERAL
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py compares the content type with == "application/json": no charset suffix allowed.
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return web.Response(body=json.dumps(body).encode(), status=status, headers=all_headers)


def no_content() -> web.Response:
    return web.Response(status=204)


@dataclass
class Body:
    """A parsed request body: the JSON (or payload_json) and the uploaded files."""

    json: Any = None
    files: list[tuple[str, bytes]] = field(default_factory=list)
    size: int = 0


Handler = Callable[[web.Request, Body, re.Match[str]], Awaitable[web.Response]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool


class RestAPI:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.routes: list[Route] = []
        add = self._add
        add("GET", r"/users/@me", self.get_me)
        add("GET", r"/users/(\d+)", self.get_user)
        add("POST", r"/users/@me/channels", self.create_dm)
        add("GET", r"/oauth2/applications/@me", self.get_application)
        add("GET", r"/applications/@me", self.get_application)
        add("GET", r"/gateway", self.get_gateway, auth=False)
        add("GET", r"/gateway/bot", self.get_gateway_bot)
        add("GET", r"/applications/(\d+)/commands", self.get_commands)
        add("PUT", r"/applications/(\d+)/commands", self.put_commands)
        add("GET", r"/applications/(\d+)/guilds/(\d+)/commands", self.get_commands)
        add("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self.put_commands)
        add("GET", r"/guilds/(\d+)", self.get_guild)
        add("GET", r"/guilds/(\d+)/channels", self.get_guild_channels)
        add("GET", r"/guilds/(\d+)/roles", self.get_guild_roles)
        add("GET", r"/guilds/(\d+)/members", self.list_members)
        add("GET", r"/guilds/(\d+)/members/(\d+)", self.get_member)
        add("GET", r"/channels/(\d+)", self.get_channel)
        add("GET", r"/channels/(\d+)/messages", self.list_messages)
        add("POST", r"/channels/(\d+)/messages", self.create_message)
        add("GET", r"/channels/(\d+)/messages/(\d+)", self.get_message)
        add("PATCH", r"/channels/(\d+)/messages/(\d+)", self.edit_message)
        add("DELETE", r"/channels/(\d+)/messages/(\d+)", self.delete_message)
        add("POST", r"/channels/(\d+)/typing", self.typing)
        add("POST", r"/interactions/(\d+)/([^/]+)/callback", self.interaction_callback, auth=False)
        add("POST", r"/webhooks/(\d+)/([^/]+)", self.execute_webhook, auth=False)
        add("GET", r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)", self.get_webhook_message, auth=False)
        add(
            "PATCH",
            r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)",
            self.edit_webhook_message,
            auth=False,
        )
        add(
            "DELETE",
            r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)",
            self.delete_webhook_message,
            auth=False,
        )

    def _add(self, method: str, pattern: str, handler: Handler, *, auth: bool = True) -> None:
        self.routes.append(Route(method, re.compile(pattern), handler, auth))

    # ------------------------------------------------------------------ plumbing

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path[len(API_PREFIX) :] or "/"
        body = Body()
        authorized = request.headers.get("Authorization") == f"Bot {self.fake.token}"
        try:
            body = await self._read_body(request)
            fault = self.fake._take_fault(request.method, path)
            verdict = self.fake.edit_rate_limit.check(request.method, path) if authorized else None
            if fault is not None and not fault.lost:
                response = fault_response(fault)
            elif verdict is not None and verdict.limited:
                response = rate_limited_response(verdict)
            elif body.size > self.fake.max_request_size:
                raise APIError(413, 40005, "Request entity too large")
            else:
                response = await self._route(request, path, body, authorized)
                if response.status < 300:
                    self.fake.edit_rate_limit.record_success(request.method, path)
                    if verdict is not None:
                        response.headers.update(verdict.headers)
                if fault is not None:  # done, but the answer is "lost": the client sees the fault
                    response = fault_response(fault)
        except APIError as exc:
            response = json_response(exc.body(), exc.status)
            ix = self._interaction_for_path(path)
            if ix is not None:
                ix.rejected.append(exc)
        except Exception as exc:
            # A bug in the fake, not a Discord answer: 418 so discord.py raises at once instead of retrying.
            log.exception("fake Discord: handler failed for %s %s", request.method, path)
            self.fake.errors.append(f"{request.method} {path}: {exc!r}")
            response = json_response({"message": f"fake Discord bug: {exc!r}", "code": 0}, 418)
        self.fake.requests.append(
            RecordedRequest(
                method=request.method,
                path=path,
                query=dict(request.query),
                json=body.json,
                files=body.files,
                time=time.monotonic(),
                status=response.status,
                authorized=authorized,
            )
        )
        self.fake._notifier.notify()
        return response

    async def _route(self, request: web.Request, path: str, body: Body, authorized: bool) -> web.Response:
        path_matched = False
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            path_matched = True
            if route.method != request.method:
                continue
            if route.auth and not authorized:
                raise APIError(401, 0, "401: Unauthorized")
            return await route.handler(request, body, match)
        if path_matched:
            raise APIError(405, 0, "405: Method Not Allowed")
        log.warning("fake Discord: no route for %s %s", request.method, path)
        self.fake.unhandled.append(f"{request.method} {path}")
        raise APIError(404, 0, "404: Not Found")

    async def _read_body(self, request: web.Request) -> Body:
        if not request.can_read_body:
            return Body()
        if request.content_type.startswith("multipart/"):
            body = Body()
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                data = await part.read()  # type: ignore[union-attr]
                body.size += len(data)
                name = part.name or ""  # type: ignore[union-attr]
                if name == "payload_json":
                    body.json = json.loads(data.decode())
                elif part.filename is not None:  # type: ignore[union-attr]
                    body.files.append((part.filename, bytes(data)))  # type: ignore[union-attr]
            return body
        raw = await request.read()
        if not raw:
            return Body(size=0)
        try:
            parsed = json.loads(raw.decode())
        except ValueError as exc:
            raise APIError(400, 50109, "The request body contains invalid JSON.") from exc
        return Body(json=parsed, size=len(raw))

    # ------------------------------------------------------------------ login, users, application

    async def get_me(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        return json_response({**self.fake.bot_user.to_payload(), "verified": True, "mfa_enabled": False, "flags": 0})

    async def get_user(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        user = self.fake._users.get(int(m[1]))
        if user is None:
            raise APIError(404, 10013, "Unknown User")
        return json_response(user.to_payload())

    async def create_dm(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        user = self.fake._users.get(int((body.json or {}).get("recipient_id", 0)))
        if user is None:
            raise APIError(404, 10013, "Unknown User")
        return json_response(self.fake.dm_channel(user).to_payload())

    async def get_application(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        fake = self.fake
        return json_response(
            {
                "id": str(fake.app_id),
                "name": fake.bot_user.username,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": fake.owner.to_payload(),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "interactions_endpoint_url": None,
                "bot": fake.bot_user.to_payload(),
                "approximate_guild_count": len(fake.guilds),
            }
        )

    async def get_gateway(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        return json_response({"url": self.fake.gateway_url})

    async def get_gateway_bot(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        return json_response(
            {
                "url": self.fake.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 86400000,
                    "max_concurrency": 1,
                },
            }
        )

    # ------------------------------------------------------------------ application commands

    def _check_app(self, app_id: str) -> None:
        if int(app_id) != self.fake.app_id:
            raise APIError(403, 50001, "Missing Access")

    async def get_commands(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        self._check_app(m[1])
        guild_id = int(m[2]) if m.lastindex and m.lastindex >= 2 else None
        return json_response(self.fake._command_objects.get(guild_id, []))

    async def put_commands(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        self._check_app(m[1])
        guild_id = int(m[2]) if m.lastindex and m.lastindex >= 2 else None
        if guild_id is not None and guild_id not in self.fake.guilds:
            raise APIError(403, 50001, "Missing Access")
        commands = body.json
        if not isinstance(commands, list):
            raise invalid_form("_", "BASE_TYPE_ARRAY", "Must be an array.")
        validate_commands(commands)
        stored = []
        for command in commands:
            key = (guild_id, command["name"], command.get("type", 1))
            command_id = self.fake._command_ids.setdefault(key, self.fake.snowflakes.next())
            entry = {
                "description": "",
                "name_localizations": None,
                "description_localizations": None,
                "default_member_permissions": None,
                "nsfw": False,
                "contexts": None,
                "integration_types": [0],
                "options": [],
                **command,
                "id": str(command_id),
                "application_id": str(self.fake.app_id),
                "version": str(self.fake.snowflakes.next()),
                "type": command.get("type", 1),
            }
            if entry["default_member_permissions"] is not None:
                entry["default_member_permissions"] = str(entry["default_member_permissions"])
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        self.fake._synced[guild_id] = json.loads(json.dumps(commands))
        self.fake._command_objects[guild_id] = stored
        return json_response(stored)

    # ------------------------------------------------------------------ guilds

    def _guild(self, guild_id: str) -> Any:
        guild = self.fake.guilds.get(int(guild_id))
        if guild is None:
            raise APIError(404, 10004, "Unknown Guild")
        return guild

    async def get_guild(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        return json_response(self._guild(m[1]).rest_payload())

    async def get_guild_channels(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        return json_response([c.to_payload() for c in self._guild(m[1]).channels.values()])

    async def get_guild_roles(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        return json_response([r.to_payload() for r in self._guild(m[1]).roles.values()])

    async def list_members(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        guild = self._guild(m[1])
        limit = int(request.query.get("limit", 1))
        after = int(request.query.get("after", 0))
        members = sorted((mb for mb in guild.members.values() if mb.id > after), key=lambda mb: mb.id)
        return json_response([mb.to_payload() for mb in members[:limit]])

    async def get_member(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        member = self._guild(m[1]).members.get(int(m[2]))
        if member is None:
            raise APIError(404, 10007, "Unknown Member")
        return json_response(member.to_payload())

    # ------------------------------------------------------------------ channels and their messages

    def _channel(self, channel_id: str) -> FakeChannel:
        channel = self.fake._channels.get(int(channel_id))
        if channel is None:
            raise APIError(404, 10003, "Unknown Channel")
        if channel.guild is not None and not channel.guild.bot_permissions_in(channel) & VIEW_CHANNEL:
            raise APIError(403, 50001, "Missing Access")
        return channel

    def _channel_message(self, channel: FakeChannel, message_id: str) -> FakeMessage:
        message = self.fake._messages.get(int(message_id))
        if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
            raise APIError(404, 10008, "Unknown Message")
        return message

    async def get_channel(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        return json_response(self._channel(m[1]).to_payload())

    async def typing(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        channel = self._channel(m[1])
        channel.typing_count += 1
        return no_content()

    async def list_messages(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        channel = self._channel(m[1])
        limit = int(request.query.get("limit", 50))
        before = int(request.query.get("before", 0)) or None
        after = int(request.query.get("after", 0)) or None
        found = [
            msg
            for msg in self.fake._messages.values()
            if msg.channel_id == channel.id
            and not msg.deleted
            and not msg.ephemeral
            and (before is None or msg.id < before)
            and (after is None or msg.id > after)
        ]
        found.sort(key=lambda msg: msg.id, reverse=after is None)
        return json_response([msg.to_payload(self.fake) for msg in found[:limit]])

    async def get_message(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        channel = self._channel(m[1])
        return json_response(self._channel_message(channel, m[2]).to_payload(self.fake))

    async def create_message(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        fake = self.fake
        channel = self._channel(m[1])
        data = body.json or {}
        if channel.guild is not None:
            perms = channel.guild.bot_permissions_in(channel)
            # In a thread, Discord checks Send Messages in Threads instead of Send Messages.
            send = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
            if not perms & send or (body.files and not perms & ATTACH_FILES):
                raise APIError(403, 50013, "Missing Permissions")
            if channel.type in (CHANNEL_CATEGORY, CHANNEL_FORUM):
                raise APIError(400, 50008, "Cannot send messages in a non-text channel")
        limit = channel.guild.filesize_limit if channel.guild else DEFAULT_FILESIZE_LIMIT
        validate_message(data, body.files, filesize_limit=limit)
        nonce = check_nonce(data.get("nonce"))
        if nonce is not None and data.get("enforce_nonce"):
            earlier = self._message_with_nonce(nonce)
            if earlier is not None:
                # Discord's de-duplication: the message this nonce created, and nothing new.
                return json_response(earlier.to_payload(fake))
        if data.get("message_reference"):
            ref = data["message_reference"]
            target = fake._messages.get(int(ref.get("message_id", 0)))
            if target is None and ref.get("fail_if_not_exists", True):
                raise invalid_form("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
        message = FakeMessage(
            id=fake.snowflakes.next(),
            channel_id=channel.id,
            guild_id=channel.guild.id if channel.guild else None,
            author=fake.bot_user,
            via="channel",
        )
        if data.get("message_reference"):
            ref = data["message_reference"]
            message.message_reference = {
                "type": ref.get("type", 0),
                "message_id": str(ref.get("message_id")),
                "channel_id": str(channel.id),
                **({"guild_id": str(channel.guild.id)} if channel.guild else {}),
            }
        self.apply_message(message, data, body.files, creating=True, allowed_flags=CHANNEL_MESSAGE_FLAGS)
        if nonce is not None:
            message.nonce = data["nonce"]
            fake._nonces[(message.author.id, nonce)] = (message.id, time.monotonic())
        fake._store_message(message)
        return json_response(message.to_payload(fake))

    def _message_with_nonce(self, nonce: str) -> FakeMessage | None:
        """The bot's live message created with `nonce` within the fake's nonce_window, if any."""
        fake = self.fake
        found = fake._nonces.get((fake.bot_user.id, nonce))
        if found is None or time.monotonic() - found[1] > fake.nonce_window:
            return None
        message = fake._messages.get(found[0])
        return message if message is not None and not message.deleted else None

    async def edit_message(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        channel = self._channel(m[1])
        message = self._channel_message(channel, m[2])
        if message.author.id != self.fake.bot_user.id:
            raise APIError(403, 50005, "Cannot edit a message authored by another user")
        limit = channel.guild.filesize_limit if channel.guild else DEFAULT_FILESIZE_LIMIT
        validate_message(body.json or {}, body.files, filesize_limit=limit, creating=False)
        self.apply_message(message, body.json or {}, body.files, creating=False, allowed_flags=CHANNEL_MESSAGE_FLAGS)
        self.fake._message_edited(message)
        return json_response(message.to_payload(self.fake))

    async def delete_message(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        channel = self._channel(m[1])
        message = self._channel_message(channel, m[2])
        self.fake._message_deleted(message)
        return no_content()

    # ------------------------------------------------------------------ message building

    def apply_message(
        self,
        message: FakeMessage,
        data: dict[str, Any],
        files: list[tuple[str, bytes]],
        *,
        creating: bool,
        allowed_flags: int,
        keep_flags: int = 0,
    ) -> None:
        """Create or edit `message` from a request body, then record the resulting version."""
        fake = self.fake
        if "content" in data:
            message.content = str(data["content"]) if data["content"] is not None else ""
        if "embeds" in data:
            message.embeds = [{"type": "rich", **e} for e in (data["embeds"] or [])]
        if "components" in data:
            message.components = list(data["components"] or [])
        if "tts" in data and creating:
            message.tts = bool(data["tts"])
        if "allowed_mentions" in data:
            message.allowed_mentions = data["allowed_mentions"]
        if data.get("flags") is not None:
            message.flags = (int(data["flags"]) & allowed_flags) | (message.flags & keep_flags)

        # Attachments: the `attachments` list names existing ones to keep and describes new files by index.
        specs = data.get("attachments")
        by_index: dict[int, dict[str, Any]] = {}
        keep_ids: set[int] | None = None
        if specs is not None:
            keep_ids = set()
            for spec in specs:
                spec_id = int(spec.get("id", -1))
                if spec_id < len(files):
                    by_index[spec_id] = spec
                else:
                    keep_ids.add(spec_id)
        kept = list(message.attachments) if not creating else []
        if keep_ids is not None:
            kept = [a for a in kept if a.id in keep_ids]
        new = []
        for index, (filename, blob) in enumerate(files):
            spec = by_index.get(index, {})
            attachment = FakeAttachment.create(
                fake.snowflakes.next(),
                message.channel_id,
                blob,
                spec.get("filename") or filename,
                None,
                description=spec.get("description"),
                ephemeral=message.ephemeral,
            )
            fake._attachments[attachment.id] = attachment
            new.append(attachment)
        message.attachments = kept + new
        self._link_embed_attachments(message)
        self._compute_mentions(message)
        if not creating:
            message.edited_timestamp = iso()
        message.record_version()

    def _link_embed_attachments(self, message: FakeMessage) -> None:
        by_name = {a.filename: a for a in message.attachments}
        for embed in message.embeds:
            for key in ("image", "thumbnail"):
                media = embed.get(key)
                if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                    attachment = by_name.get(media["url"][len("attachment://") :])
                    if attachment is not None:
                        payload = attachment.to_payload(self.fake.base_url)
                        embed[key] = {
                            **media,
                            "url": payload["url"],
                            "proxy_url": payload["proxy_url"],
                            **({"width": attachment.width, "height": attachment.height} if attachment.width else {}),
                        }

    def _compute_mentions(self, message: FakeMessage) -> None:
        """Who actually gets pinged, following allowed_mentions the way Discord does."""
        allowed = message.allowed_mentions
        content = message.content
        if allowed is None:
            parse = {"users", "roles", "everyone"}
            users_allowed: set[int] = set()
            roles_allowed: set[int] = set()
            replied_user = True
        else:
            parse = set(allowed.get("parse") or [])
            users_allowed = {int(u) for u in allowed.get("users") or []}
            roles_allowed = {int(r) for r in allowed.get("roles") or []}
            replied_user = bool(allowed.get("replied_user", False))
        if message.ephemeral:
            # Only the invoker sees an ephemeral message: nobody is notified.
            message.mentions, message.mention_roles, message.mention_everyone, message.pinged = [], [], False, []
            return
        users = []
        for raw in re.findall(r"<@!?(\d+)>", content):
            user_id = int(raw)
            if ("users" in parse or user_id in users_allowed) and user_id not in users:
                users.append(user_id)
        if message.message_reference and replied_user:
            target = self.fake._messages.get(int(message.message_reference.get("message_id", 0)))
            if target is not None and target.author.id not in users:
                users.append(target.author.id)
        channel = self.fake._channels.get(message.channel_id)
        guild = channel.guild if channel is not None else None
        # Role pings and @everyone need a mentionable role or the author's Mention Everyone permission.
        may_mention_all = False
        if channel is not None and guild is not None:
            may_mention_all = bool(guild.bot_permissions_in(channel) & MENTION_EVERYONE)
        roles = []
        for raw in re.findall(r"<@&(\d+)>", content):
            role_id = int(raw)
            role = guild.roles.get(role_id) if guild is not None else None
            if role is None or not (role.mentionable or may_mention_all):
                continue
            if ("roles" in parse or role_id in roles_allowed) and role_id not in roles:
                roles.append(role_id)
        everyone = ("@everyone" in content or "@here" in content) and "everyone" in parse and may_mention_all
        message.mentions, message.mention_roles, message.mention_everyone = users, roles, everyone
        pinged = list(users)
        if guild is not None:
            for member in guild.members.values():
                if everyone or any(r in member.roles for r in roles):
                    pinged.append(member.id)
        author = message.author.id
        message.pinged = sorted({u for u in pinged if u != author})

    # ------------------------------------------------------------------ interactions

    def _interaction(self, interaction_id: str, token: str) -> FakeInteraction:
        ix = self.fake._interactions.get(int(interaction_id))
        if ix is None or ix.token != token:
            raise APIError(404, 10062, "Unknown interaction")
        return ix

    def _interaction_for_path(self, path: str) -> FakeInteraction | None:
        """The interaction whose callback or webhook endpoint `path` is, if any."""
        callback = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)
        if callback is not None:
            ix = self.fake._interactions.get(int(callback[1]))
            return ix if ix is not None and ix.token == callback[2] else None
        webhook = re.match(r"/webhooks/\d+/([^/]+)", path)
        return self.fake._tokens.get(webhook[1]) if webhook is not None else None

    async def interaction_callback(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        fake = self.fake
        ix = self._interaction(m[1], m[2])
        now = time.monotonic()
        if now - ix.dispatched_at > fake.ack_deadline:
            raise APIError(404, 10062, "Unknown interaction")
        if ix.acknowledged:
            raise APIError(400, 40060, "Interaction has already been acknowledged.")
        payload = body.json or {}
        callback_type = int(payload.get("type", 0))
        data = payload.get("data") or {}
        allowed = {2: (4, 5, 9), 3: (4, 5, 6, 7, 9), 4: (8,), 5: (4, 5, 6, 7)}.get(ix.type, ())
        if callback_type not in allowed:
            raise invalid_form("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
        message: FakeMessage | None = None
        if callback_type == 4:
            validate_message(data, body.files, filesize_limit=ix.attachment_size_limit)
            message = self._interaction_message(ix, data, body.files, flags_only=False)
            ix.original = message
        elif callback_type == 5:
            flags = MESSAGE_FLAG_LOADING | (int(data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL)
            message = self._interaction_message(ix, {"flags": flags}, [], flags_only=True)
            ix.original = message
        elif callback_type in (6, 7):
            if ix.message is None:
                raise invalid_form("type", "INTERACTION_RESPONSE_TYPE_INVALID", "No message")
            ix.original = ix.message
            if callback_type == 7:
                validate_message(data, body.files, filesize_limit=ix.attachment_size_limit, creating=False)
                self.apply_message(
                    ix.message, data, body.files, creating=False, allowed_flags=0, keep_flags=ix.message.flags
                )
                fake._message_edited(ix.message)
                message = ix.message
        elif callback_type == 8:
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise invalid_form("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")
            for choice in choices:
                if len(str(choice.get("name", ""))) > 100 or len(str(choice.get("value", ""))) > 100:
                    raise invalid_form("data.choices", "BASE_TYPE_BAD_LENGTH", "Must be 1-100 long.")
            ix.choices = list(choices)
        elif callback_type == 9:
            validate_modal(data)
            ix.modal = data
        ix.callback_type = callback_type
        ix.acked_at = now
        ix.ephemeral = bool(message.ephemeral) if message is not None and callback_type in (4, 5) else False
        if message is not None:
            ix.record("callback", message)
        fake._notifier.notify()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        response: dict[str, Any] = {
            "interaction": {
                "id": str(ix.id),
                "type": ix.type,
                "activity_instance_id": None,
                "response_message_id": str(message.id) if message is not None else None,
                "response_message_loading": callback_type == 5,
                "response_message_ephemeral": bool(message and message.ephemeral),
            },
            "resource": {"type": callback_type},
        }
        if message is not None:
            response["resource"]["message"] = message.to_payload(fake)
        return json_response(response)

    def _interaction_message(
        self, ix: FakeInteraction, data: dict[str, Any], files: list[tuple[str, bytes]], *, flags_only: bool
    ) -> FakeMessage:
        fake = self.fake
        message = FakeMessage(
            id=fake.snowflakes.next(),
            channel_id=ix.channel.id,
            guild_id=ix.channel.guild.id if ix.channel.guild else None,
            author=fake.bot_user,
            via="interaction",
            interaction_id=ix.id,
            webhook_id=fake.app_id,
        )
        if flags_only:
            message.flags = int(data.get("flags") or 0)
            message.record_version()
        else:
            self.apply_message(message, data, files, creating=True, allowed_flags=INTERACTION_MESSAGE_FLAGS)
        fake._store_message(message)
        return message

    def _webhook_interaction(self, app_id: str, token: str) -> FakeInteraction:
        fake = self.fake
        ix = fake._tokens.get(token)
        if int(app_id) != fake.app_id or ix is None:
            raise APIError(404, 10015, "Unknown Webhook")
        if time.monotonic() - ix.dispatched_at > fake.token_lifetime:
            raise APIError(401, 50027, "Invalid Webhook Token")
        if not ix.acknowledged:
            raise APIError(404, 10015, "Unknown Webhook")
        return ix

    def _webhook_message(self, ix: FakeInteraction, message_id: str) -> FakeMessage:
        if message_id == "@original":
            message = ix.original
        else:
            message = next((msg for msg in [ix.original, *ix.followups] if msg and msg.id == int(message_id)), None)
        if message is None or message.deleted:
            raise APIError(404, 10008, "Unknown Message")
        return message

    async def execute_webhook(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        fake = self.fake
        ix = self._webhook_interaction(m[1], m[2])
        data = body.json or {}
        validate_message(data, body.files, filesize_limit=ix.attachment_size_limit)
        original = ix.original
        if ix.callback_type == 5 and original is not None and original.loading and not ix.followup_edited_original:
            # Discord's legacy rule: the first followup after a deferral edits the "thinking…" message.
            ix.followup_edited_original = True
            data = {key: value for key, value in data.items() if key != "flags"}
            self.apply_message(original, data, body.files, creating=False, allowed_flags=0, keep_flags=original.flags)
            original.flags &= ~MESSAGE_FLAG_LOADING
            fake._message_edited(original)
            message = original
        else:
            message = self._interaction_message(ix, data, body.files, flags_only=False)
            ix.followups.append(message)
        ix.record("followup", message)
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(message.to_payload(fake))
        return no_content()

    async def get_webhook_message(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        ix = self._webhook_interaction(m[1], m[2])
        return json_response(self._webhook_message(ix, m[3]).to_payload(self.fake))

    async def edit_webhook_message(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        ix = self._webhook_interaction(m[1], m[2])
        message = self._webhook_message(ix, m[3])
        data = body.json or {}
        validate_message(data, body.files, filesize_limit=ix.attachment_size_limit, creating=False)
        self.apply_message(message, data, body.files, creating=False, allowed_flags=0, keep_flags=message.flags)
        message.flags &= ~MESSAGE_FLAG_LOADING
        self.fake._message_edited(message)
        ix.record("edit", message)
        return json_response(message.to_payload(self.fake))

    async def delete_webhook_message(self, request: web.Request, body: Body, m: re.Match[str]) -> web.Response:
        ix = self._webhook_interaction(m[1], m[2])
        message = self._webhook_message(ix, m[3])
        self.fake._message_deleted(message)
        ix.record("delete", message)
        return no_content()

    # ------------------------------------------------------------------ CDN

    async def handle_cdn(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        fault = fake._take_fault(request.method, request.path)
        attachment = fake._attachments.get(int(request.match_info["attachment_id"]))
        if fault is not None:
            response: web.StreamResponse = fault_response(fault)
        elif attachment is None or attachment.expired or attachment.filename != request.match_info["filename"]:
            response = web.Response(status=404, text="This content is no longer available.")
        else:
            attachment.downloads += 1
            response = web.Response(
                body=attachment.data, content_type=attachment.content_type or "application/octet-stream"
            )
        fake.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                json=None,
                files=[],
                time=time.monotonic(),
                status=response.status,
                authorized=False,
            )
        )
        fake._notifier.notify()
        return response


def rate_limited_response(verdict: Verdict) -> web.Response:
    body = {"message": "You are being rate limited.", "retry_after": round(verdict.retry_after, 3), "global": False}
    return json_response(body, 429, too_many_requests_headers(verdict))


def fault_response(fault: Fault) -> web.Response:
    if fault.status == 429:
        if not fault.via:
            # What Cloudflare answers when it bans an IP: no Via header and not JSON.
            return web.Response(status=429, text="error code: 1015", content_type="text/plain")
        body = {
            "message": fault.message or "You are being rate limited.",
            "retry_after": fault.retry_after,
            "global": fault.is_global,
            "code": fault.code,
        }
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(math.ceil(fault.retry_after)),
            "X-RateLimit-Scope": "global" if fault.is_global else "user",
        }
        if fault.is_global:
            headers["X-RateLimit-Global"] = "true"
        return json_response(body, 429, headers)
    reason = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    message = fault.message or f"{fault.status}: {reason.get(fault.status, 'Error')}"
    headers = {"Via": "1.1 google"} if fault.via else {}
    return json_response({"message": message, "code": fault.code}, fault.status, headers)


# ---------------------------------------------------------------------- validation


def check_nonce(value: Any) -> str | None:
    """A message nonce: an integer or a string of at most 25 characters; the key it is matched by."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid_form("nonce", "BASE_TYPE_BAD_TYPE", "Must be an integer or a string.")
    if len(str(value)) > 25:
        raise invalid_form("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    return str(value)


def validate_message(
    data: dict[str, Any], files: list[tuple[str, bytes]], *, filesize_limit: int, creating: bool = True
) -> None:
    """Discord's checks on a message body: length, counts, emptiness, per-file size."""
    content = data.get("content")
    if content is not None and len(str(content)) > 2000:
        raise invalid_form("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = data.get("embeds") or []
    if len(embeds) > 10:
        raise invalid_form("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    if sum(_embed_length(e) for e in embeds) > 6000:
        raise invalid_form("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    if len(data.get("components") or []) > 40:
        raise invalid_form("components", "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
    validate_message_components(data.get("components") or [])
    validate_allowed_mentions(data.get("allowed_mentions"))
    if len(files) > 10:
        raise invalid_form("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    for _name, blob in files:
        if len(blob) > filesize_limit:
            raise APIError(413, 40005, "Request entity too large")
    if creating:
        has_content = bool(content) or bool(embeds) or bool(files) or bool(data.get("components"))
        has_content = has_content or bool(data.get("sticker_ids")) or bool(data.get("poll"))
        if not has_content:
            raise APIError(400, 50006, "Cannot send an empty message")


def validate_allowed_mentions(allowed: Any) -> None:
    """Discord refuses a parse type together with an explicit id list of the same kind."""
    if not allowed:
        return
    parse = allowed.get("parse") or []
    for kind in ("users", "roles"):
        ids = allowed.get(kind) or []
        if kind in parse and ids:
            raise invalid_form(
                f"allowed_mentions.{kind}",
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if len(ids) > 100:
            raise invalid_form(f"allowed_mentions.{kind}", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")


def _embed_length(embed: dict[str, Any]) -> int:
    total = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    total += len(str((embed.get("footer") or {}).get("text") or ""))
    total += len(str((embed.get("author") or {}).get("name") or ""))
    for f in embed.get("fields") or []:
        total += len(str(f.get("name") or "")) + len(str(f.get("value") or ""))
    return total


def validate_commands(commands: list[dict[str, Any]]) -> None:
    """The shape rules Discord enforces on a bulk overwrite."""
    seen: set[tuple[str, int]] = set()
    chat_input = [c for c in commands if c.get("type", 1) == 1]
    if len(chat_input) > 100:
        raise invalid_form("_", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    for index, command in enumerate(commands):
        kind = command.get("type", 1)
        name = str(command.get("name", ""))
        key = (name, kind)
        if key in seen:
            raise invalid_form(f"{index}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", f"Duplicate name {name!r}")
        seen.add(key)
        if kind == 1:
            _check_named(f"{index}", command, top_level=True)
            continue
        # User (2) and message (3) context menus: free-form names (spaces and capitals), no description.
        if not 1 <= len(name) <= 32:
            raise invalid_form(f"{index}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
        if command.get("description"):
            raise invalid_form(f"{index}.description", "APPLICATION_COMMAND_INVALID_DESCRIPTION", "Must be empty.")
        if command.get("options"):
            raise invalid_form(f"{index}.options", "APPLICATION_COMMAND_OPTIONS_INVALID", "Context menus take none.")
        for locale, localized in (command.get("name_localizations") or {}).items():
            if not 1 <= len(str(localized)) <= 32:
                raise invalid_form(
                    f"{index}.name_localizations.{locale}", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32."
                )
    for kind, label in ((2, "user"), (3, "message")):
        if sum(1 for c in commands if c.get("type", 1) == kind) > 15:
            raise invalid_form("_", "APPLICATION_COMMANDS_TOO_MANY", f"At most 15 {label} commands.")


def _check_named(where: str, item: dict[str, Any], *, top_level: bool) -> None:
    name = str(item.get("name", ""))
    if not COMMAND_NAME.match(name) or name != name.lower():
        raise invalid_form(f"{where}.name", "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
    description = str(item.get("description", ""))
    if not 1 <= len(description) <= 100:
        raise invalid_form(f"{where}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    options = item.get("options") or []
    if len(options) > 25:
        raise invalid_form(f"{where}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    names: set[str] = set()
    optional_seen = False
    for index, option in enumerate(options):
        here = f"{where}.options.{index}"
        _check_named(here, option, top_level=False)
        if option["name"] in names:
            raise invalid_form(f"{here}.name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Duplicate option")
        names.add(option["name"])
        if option.get("type") not in (1, 2):
            if option.get("required"):
                if optional_seen:
                    raise invalid_form(
                        here,
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                optional_seen = True
        if len(option.get("choices") or []) > 25:
            raise invalid_form(f"{here}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if option.get("choices") and option.get("autocomplete"):
            raise invalid_form(
                here, "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES", "Autocomplete and choices clash"
            )
