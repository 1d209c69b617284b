"""The fake gateway: HELLO, heartbeats, IDENTIFY/READY/GUILD_CREATE, RESUME, member chunks.

A session outlives its websocket: events dispatched while the bot is reconnecting are kept
and replayed on RESUME, as Discord does. Every frame of one connection goes through a single
writer task, so zlib-stream compression sees the messages in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections import deque
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9

CLOSE_AUTHENTICATION_FAILED = 4004
REPLAY_BUFFER = 1000


class Connection:
    """One websocket and its writer task."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.writer = asyncio.create_task(self._write(), name="fakediscord-gateway-writer")
        self.closed = False

    def send(self, message: dict[str, Any]) -> None:
        if not self.closed:
            self.queue.put_nowait(message)

    async def _write(self) -> None:
        while True:
            message = await self.queue.get()
            try:
                if message is None:
                    return
                text = json.dumps(message, separators=(",", ":"))
                if self._zlib is not None:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    # Text frames are accepted whatever was negotiated (also the zstd-stream fallback).
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                log.debug("gateway frame dropped, connection is closing: %s", exc)
            finally:
                self.queue.task_done()

    async def drain(self) -> None:
        await self.queue.join()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        self.queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer, 2)
        await self.ws.close(code=code, message=reason.encode())


class GatewaySession:
    """An identified session: sequence numbers, intents, guilds it was told about, a replay buffer."""

    def __init__(self, fake: FakeDiscord, intents: int, shard: list[int] | None) -> None:
        self.fake = fake
        self.session_id = secrets.token_hex(16)
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.connection: Connection | None = None
        self.known_guilds: set[int] = set()
        self.buffer: deque[dict[str, Any]] = deque(maxlen=REPLAY_BUFFER)
        self.heartbeats = 0
        self.resumes = 0
        self.invalid = False
        self.received: list[dict[str, Any]] = []  # non-heartbeat ops from the client

    @property
    def live(self) -> bool:
        return not self.invalid

    def has_intent(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        message = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(message)
        if self.connection is not None:
            self.connection.send(message)

    async def drain(self) -> None:
        if self.connection is not None:
            await self.connection.drain()


def _guild_create(session: GatewaySession, guild_id: int) -> dict[str, Any]:
    guild = session.fake.guilds[guild_id]
    return guild.to_payload(all_members=session.has_intent(INTENT_GUILD_PRESENCES))


async def handle_websocket(fake: FakeDiscord, request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
    await ws.prepare(request)
    compress = request.query.get("compress")
    if compress not in (None, "zlib-stream") or fake.gateway_text_frames:
        compress = None
    connection = Connection(ws, compress)
    fake._connections.add(connection)
    session: GatewaySession | None = None
    connection.send({"op": OP_HELLO, "d": {"heartbeat_interval": fake.heartbeat_interval_ms}, "s": None, "t": None})
    try:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                # discord.py only sends text; anything else is a client going away.
                continue
            payload = json.loads(msg.data)
            op = payload.get("op")
            data = payload.get("d")
            if op == OP_HEARTBEAT:
                if session is not None:
                    session.heartbeats += 1
                fake.heartbeats += 1
                if fake.ack_heartbeats:
                    connection.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
                continue
            if session is not None and op not in (OP_IDENTIFY, OP_RESUME):
                session.received.append(payload)  # never IDENTIFY/RESUME: they carry the token
            if op == OP_IDENTIFY:
                session = await _identify(fake, connection, data)
                if session is None:
                    break
            elif op == OP_RESUME:
                session = await _resume(fake, connection, data)
                if session is None:
                    continue
            elif op == OP_REQUEST_MEMBERS and session is not None:
                _members_chunk(session, data)
            elif op in (OP_PRESENCE, OP_VOICE_STATE):
                pass
            else:
                log.warning("fake gateway: unhandled op %s", op)
    finally:
        fake._connections.discard(connection)
        # A clean close by the client ends the session; anything else (our own closes too) may be resumed.
        client_closed_cleanly = not connection.closed and ws.close_code in (1000, 1001)
        if session is not None and session.connection is connection:
            session.connection = None
            if client_closed_cleanly:
                session.invalid = True
        await connection.close()
        fake._notifier.notify()
    return ws


async def _identify(fake: FakeDiscord, connection: Connection, data: dict[str, Any]) -> GatewaySession | None:
    if data.get("token") != fake.token:
        log.info("fake gateway: IDENTIFY with a wrong token, closing with 4004")
        await connection.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
        return None
    session = GatewaySession(fake, int(data.get("intents", 0)), data.get("shard"))
    session.connection = connection
    fake.sessions[session.session_id] = session
    fake.identifies += 1
    guild_ids = list(fake.guilds)
    session.known_guilds.update(guild_ids)
    ready: dict[str, Any] = {
        "v": 10,
        "user": {**fake.bot_user.to_payload(), "verified": True, "mfa_enabled": False, "flags": 0},
        "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
        "session_id": session.session_id,
        "session_type": "normal",
        "resume_gateway_url": fake.resume_gateway_url,
        "application": {"id": str(fake.app_id), "flags": 0},
        "private_channels": [],
        "relationships": [],
        "user_settings": {},
        "presences": [],
        "geo_ordered_rtc_regions": [],
        "guild_join_requests": [],
    }
    if session.shard is not None:
        ready["shard"] = session.shard
    session.dispatch("READY", ready)
    for guild_id in guild_ids:
        session.dispatch("GUILD_CREATE", _guild_create(session, guild_id))
    fake._notifier.notify()
    return session


async def _resume(fake: FakeDiscord, connection: Connection, data: dict[str, Any]) -> GatewaySession | None:
    session = fake.sessions.get(str(data.get("session_id")))
    if session is None or session.invalid or data.get("token") != fake.token:
        connection.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
        return None
    old = session.connection
    session.connection = connection
    if old is not None and old is not connection:
        await old.close(4000, "Session resumed elsewhere")
    last_seen = int(data.get("seq") or 0)
    for message in session.buffer:
        if message["s"] > last_seen:
            connection.send(message)
    session.resumes += 1
    fake.resumes += 1
    session.dispatch("RESUMED", {})
    fake._notifier.notify()
    return session


def _members_chunk(session: GatewaySession, data: dict[str, Any]) -> None:
    guild = session.fake.guilds.get(int(data["guild_id"]))
    if guild is None:
        return
    members = list(guild.members.values())
    if data.get("user_ids"):
        wanted = {int(u) for u in data["user_ids"]}
        members = [m for m in members if m.id in wanted]
    elif data.get("query"):
        query = str(data["query"]).lower()
        members = [m for m in members if m.user.username.lower().startswith(query)]
    limit = int(data.get("limit") or 0)
    if limit:
        members = members[:limit]
    chunk: dict[str, Any] = {
        "guild_id": str(guild.id),
        "members": [m.to_payload() for m in members],
        "chunk_index": 0,
        "chunk_count": 1,
        "not_found": [],
    }
    if data.get("nonce"):
        chunk["nonce"] = data["nonce"]
    session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
