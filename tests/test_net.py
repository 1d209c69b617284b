"""DISCORD_PROXY / RUNNINGHUB_PROXY: parsing, and sessions that really go through the proxy (bot/net.py)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot import net
from bot.config import ConfigError, Proxy, settings_from_mapping
from bot.logs import SecretFilter
from bot.runninghub.client import RunningHubClient
from bot.runninghub.errors import OutcomeUnknown, TransientError
from bot.runninghub.simulator import Simulator
from tests.proxies import HttpProxy, Socks5Proxy

BASE = {"RUNNINGHUB_BASE_URL": "http://127.0.0.1:9", "RUNNINGHUB_API_KEY": "k" * 32}
HOSTS = {"api.test": "127.0.0.1"}


def parse(raw: str, name: str = "DISCORD_PROXY") -> Proxy:
    proxy = getattr(settings_from_mapping({**BASE, name: raw}), name.lower())
    assert proxy is not None
    return proxy


# ------------------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("raw", "scheme", "host", "port"),
    [
        ("http://127.0.0.1:7890", "http", "127.0.0.1", 7890),
        ("HTTP://proxy.lan:3128/", "http", "proxy.lan", 3128),
        ("https://proxy.example.com", "https", "proxy.example.com", 443),
        ("socks5://127.0.0.1:7891", "socks5", "127.0.0.1", 7891),
        ("socks5h://127.0.0.1:7891", "socks5", "127.0.0.1", 7891),
        ("socks5://[::1]:1080", "socks5", "::1", 1080),
    ],
)
def test_proxy_urls_that_are_accepted(raw: str, scheme: str, host: str, port: int) -> None:
    proxy = parse(raw)
    assert (proxy.scheme, proxy.host, proxy.port, proxy.username, proxy.password) == (scheme, host, port, None, None)
    assert proxy.address == proxy.url


def test_credentials_are_decoded_kept_out_of_repr_and_redacted() -> None:
    settings = settings_from_mapping({**BASE, "RUNNINGHUB_PROXY": "socks5://me%40home:p%3As%2Fw0rd@10.0.0.2:1080"})
    proxy = settings.runninghub_proxy
    assert proxy is not None
    assert (proxy.username, proxy.password) == ("me@home", "p:s/w0rd")
    assert "p:s" not in repr(settings) and "p:s" not in repr(proxy) and "p:s" not in str(proxy)
    assert proxy.address == "socks5://10.0.0.2:1080"
    assert parse(proxy.url).password == "p:s/w0rd"  # the URL round-trips
    redact = SecretFilter(settings.secrets()).redact
    for leak in (proxy.url, "pw=p:s/w0rd", "Proxy-Authorization: Basic bWVAaG9tZTpwOnMvdzByZA=="):
        assert "p:s/w0rd" not in redact(leak) and "p%3As%2Fw0rd" not in redact(leak)
        assert "bWVAaG9tZTpwOnMvdzByZA==" not in redact(leak)


@pytest.mark.parametrize(
    "raw",
    [
        "127.0.0.1:7890",  # no scheme
        "socks4://127.0.0.1:1080",
        "ftp://127.0.0.1:21",
        "http://",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:port",
        "http://127.0.0.1:7890/some/path",
        "http://127.0.0.1:7890?x=1",
        "http://:hunter2secret@127.0.0.1:7890",  # a password without a user
        "http://user:hunter2secret@127.0.0.1 :7890",
    ],
)
@pytest.mark.parametrize("name", ["DISCORD_PROXY", "RUNNINGHUB_PROXY"])
def test_malformed_proxy_urls_stop_with_one_line_naming_the_variable(raw: str, name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({**BASE, name: raw})
    message = str(caught.value)
    assert message.startswith(f"{name} must be a proxy URL") and "\n" not in message
    assert "hunter2secret" not in message


def test_unset_or_empty_means_direct() -> None:
    settings = settings_from_mapping({**BASE, "DISCORD_PROXY": "  "})
    assert settings.discord_proxy is None and settings.runninghub_proxy is None
    assert net.discord_options(None) == {}


def test_the_in_process_simulator_is_never_proxied() -> None:
    settings = settings_from_mapping({"RUNNINGHUB_BASE_URL": "simulator", "RUNNINGHUB_PROXY": "http://127.0.0.1:1"})
    assert net.runninghub_proxy(settings) is None


# ------------------------------------------------------------------------------------------ traffic


@pytest.fixture
async def origin() -> AsyncIterator[int]:
    """A loopback server answering GET /hello and a websocket at /ws; known to proxies as api.test."""

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def ws(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for message in socket:
            await socket.send_str("echo " + message.data)
        return socket

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_get("/ws", ws)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await runner.cleanup()


@pytest.mark.parametrize("kind", [HttpProxy, Socks5Proxy])
async def test_requests_and_websockets_go_through_the_proxy(kind: type[HttpProxy], origin: int) -> None:
    async with kind(hosts=HOSTS, username="bot", password="s3cret:pw") as proxy:
        async with net.client_session(parse(proxy.url)) as session:
            # api.test resolves only at the proxy: reaching it proves the request went through it.
            async with session.get(f"http://api.test:{origin}/hello") as response:
                assert await response.text() == "hello"
            async with session.ws_connect(f"ws://api.test:{origin}/ws") as socket:
                await socket.send_str("hi")
                assert (await socket.receive()).data == "echo hi"
        assert len(proxy.to(origin)) >= 2 if kind is HttpProxy else len(proxy.to(origin)) >= 1
        assert proxy.refused == 0


@pytest.mark.parametrize("kind", [HttpProxy, Socks5Proxy])
async def test_a_proxy_that_refuses_connections_is_a_connection_error(kind: type[HttpProxy]) -> None:
    async with kind() as proxy:
        url = proxy.url
    # stopped: nothing listens on its port any more
    async with net.client_session(parse(url)) as session:
        with pytest.raises(net.UNREACHABLE) as caught:
            await session.get("http://api.test:80/hello")
    assert isinstance(caught.value, aiohttp.ClientConnectorError)
    message = net.cannot_reach_discord(parse(url), caught.value)
    assert message.startswith(f"Cannot reach Discord through the proxy {url} (")


async def test_wrong_socks_credentials_are_a_connection_error(origin: int) -> None:
    async with Socks5Proxy(hosts=HOSTS, username="bot", password="right") as proxy:
        async with net.client_session(parse(proxy.url.replace("right", "wrong"))) as session:
            with pytest.raises(aiohttp.ClientProxyConnectionError):
                await session.get(f"http://api.test:{origin}/hello")
        assert proxy.refused == 1 and proxy.relayed == []


@pytest.mark.parametrize("kind", [HttpProxy, Socks5Proxy])
async def test_a_create_through_a_refusing_proxy_is_safe_to_retry(kind: type[HttpProxy]) -> None:
    """Nothing reached RunningHub, so the client must not report 'maybe started' (OutcomeUnknown)."""
    async with kind() as proxy:
        url = proxy.url
    async with net.client_session(parse(url, "RUNNINGHUB_PROXY")) as session:
        client = RunningHubClient(session, "http://rh.test", "k" * 32, max_attempts=1)
        with pytest.raises(TransientError) as caught:
            await client.create_task("1", [])
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.msg.startswith("cannot connect")


@pytest.mark.parametrize("kind", [HttpProxy, Socks5Proxy])
async def test_the_runninghub_client_works_through_the_proxy(kind: type[HttpProxy]) -> None:
    async with Simulator(api_key="k" * 32) as sim, kind(hosts={"rh.test": "127.0.0.1"}) as proxy:
        port = int(sim.base_url.rsplit(":", 1)[1])
        async with net.client_session(parse(proxy.url, "RUNNINGHUB_PROXY")) as session:
            client = RunningHubClient(session, f"http://rh.test:{port}", "k" * 32)
            account = await client.account_status()
        assert account.current_task_counts == 0
        assert proxy.to(port)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=api.test",
         "-addext", "subjectAltName=DNS:api.test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
async def test_https_goes_through_an_http_proxy_as_a_connect_tunnel(tmp_path: Path) -> None:
    """Discord and RunningHub are https: through an HTTP proxy that is a CONNECT tunnel."""
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="secure hello")

    app = web.Application()
    app.router.add_get("/hello", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_tls)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with HttpProxy(hosts=HOSTS, username="bot", password="pw") as proxy:
            async with (
                net.client_session(parse(proxy.url)) as session,
                session.get(f"https://api.test:{port}/hello", ssl=client_tls) as response,
            ):
                assert await response.text() == "secure hello"
            assert [(r.kind, r.host, r.port) for r in proxy.relayed] == [("CONNECT", "api.test", port)]
    finally:
        await runner.cleanup()
