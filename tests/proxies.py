"""Loopback forward proxies for the proxy tests: HTTP (CONNECT and plain forwarding) and SOCKS5.

Each counts what it relayed, so a test can show that traffic really went through it. Both resolve
names through `hosts` only (e.g. {"discord.test": "127.0.0.1"}): a client that reaches such a name
can only have done so through the proxy, since nothing else knows the name.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Relayed:
    """One relayed connection: how it came (CONNECT, a plain method, socks5) and where it went."""

    kind: str
    host: str
    port: int
    target: str = ""  # the request line's target for plain forwarding


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _splice(
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    """Copy both ways until either side closes."""
    await asyncio.gather(_pipe(client[0], upstream[1]), _pipe(upstream[0], client[1]))


@dataclass
class _Server:
    hosts: Mapping[str, str] = field(default_factory=dict)
    username: str | None = None
    password: str | None = None
    relayed: list[Relayed] = field(default_factory=list)
    refused: int = 0  # connections turned away (bad credentials, unknown host)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> _Server:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def resolve(self, host: str) -> str | None:
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(host))
        return self.hosts.get(host.lower())

    def to(self, port: int) -> list[Relayed]:
        """What was relayed to a port (the fake Discord's, the simulator's)."""
        return [r for r in self.relayed if r.port == port]


class HttpProxy(_Server):
    """An HTTP forward proxy: CONNECT tunnels, and absolute-form requests forwarded one per connection."""

    @property
    def url(self) -> str:
        auth = f"{self.username}:{self.password}@" if self.username else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
        method, target, version = request_line.split(" ", 2)
        headers = [line.split(":", 1) for line in header_lines]
        auth = next((v.strip() for k, v in headers if k.strip().lower() == "proxy-authorization"), None)
        if self.username is not None:
            expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if auth != expected:
                self.refused += 1
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            address = self.resolve(host.strip("[]"))
            if address is None:
                self.refused += 1
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            upstream = await asyncio.open_connection(address, int(port))
            self.relayed.append(Relayed("CONNECT", host, int(port)))
            writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await writer.drain()
            await _splice((reader, writer), upstream)
            return
        # Plain forwarding: "GET http://host:port/path HTTP/1.1" -> "GET /path HTTP/1.1" upstream.
        scheme, _, rest = target.partition("://")
        authority, slash, path = rest.partition("/")
        host, _, port = authority.rpartition(":") if ":" in authority else (authority, "", "80")
        address = self.resolve(host.strip("[]"))
        if scheme not in ("http", "ws") or address is None:
            self.refused += 1
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        upgrade = any(k.strip().lower() == "upgrade" for k, _ in headers)
        kept = [
            f"{k}:{v}"
            for k, v in headers
            if k.strip().lower() not in ("proxy-authorization", "proxy-connection")
            and (upgrade or k.strip().lower() != "connection")
        ]
        if not upgrade:
            kept.append("Connection: close")  # one request per connection keeps this proxy simple
        upstream = await asyncio.open_connection(address, int(port))
        self.relayed.append(Relayed(method, host, int(port), f"/{path}" if slash else "/"))
        upstream[1].write(("\r\n".join([f"{method} /{path} {version}", *kept]) + "\r\n\r\n").encode("latin-1"))
        await upstream[1].drain()
        await _splice((reader, writer), upstream)


class Socks5Proxy(_Server):
    """A SOCKS5 proxy (RFC 1928) with optional username/password (RFC 1929); CONNECT only."""

    @property
    def url(self) -> str:
        auth = f"{self.username}:{self.password}@" if self.username else ""
        return f"socks5://{auth}127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        wanted = 0x02 if self.username is not None else 0x00
        if version != 5 or wanted not in methods:
            self.refused += 1
            writer.write(b"\x05\xff")
            return
        writer.write(bytes([5, wanted]))
        if wanted == 0x02:
            _, user_len = await reader.readexactly(2)
            user = (await reader.readexactly(user_len)).decode()
            (pass_len,) = await reader.readexactly(1)
            password = (await reader.readexactly(pass_len)).decode()
            if (user, password) != (self.username, self.password):
                self.refused += 1
                writer.write(b"\x01\x01")
                return
            writer.write(b"\x01\x00")
        _, command, _, address_type = await reader.readexactly(4)
        if address_type == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif address_type == 4:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode()
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        address = self.resolve(host)
        if command != 1 or address is None:
            self.refused += 1
            writer.write(b"\x05\x04\x00\x01" + bytes(6))  # host unreachable
            return
        try:
            upstream = await asyncio.open_connection(address, port)
        except OSError:
            self.refused += 1
            writer.write(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
            return
        self.relayed.append(Relayed("socks5", host, port))
        writer.write(b"\x05\x00\x00\x01" + bytes(6))
        await writer.drain()
        await _splice((reader, writer), upstream)
