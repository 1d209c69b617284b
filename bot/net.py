"""How the bot reaches Discord and RunningHub: directly, or through DISCORD_PROXY / RUNNINGHUB_PROXY.

HTTP(S) proxies use aiohttp's own proxy support (CONNECT for https and wss, absolute-form
requests for plain http). aiohttp has no SOCKS support, so socks5 proxies go through an
aiohttp-socks connector, which discord.py also accepts (`connector=`): its own `proxy=` only
speaks HTTP. Either way every request of a session, websockets included, takes the proxy.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

import aiohttp
from aiohttp_socks import ProxyConnectionError, ProxyConnector, ProxyError, ProxyTimeoutError, ProxyType

from bot.config import Proxy, Settings

log = logging.getLogger(__name__)

# Errors meaning the connection (or the proxy's tunnel) never opened, so nothing was sent.
UNREACHABLE: tuple[type[Exception], ...] = (
    aiohttp.ClientConnectorError,
    aiohttp.ClientHttpProxyError,
    aiohttp.ConnectionTimeoutError,
)


class _SocksConnector(ProxyConnector):
    """aiohttp-socks, with its errors turned into aiohttp's.

    aiohttp-socks raises plain Exceptions when the proxy refuses; callers (discord.py's reconnect
    loop, our RunningHub client's "was anything sent?" rule) only know aiohttp's connection errors.
    Nothing reached the far side in any of these cases, so they are all connection errors.
    """

    async def _wrap_create_connection(self, *args: Any, req: aiohttp.ClientRequest, **kwargs: Any) -> Any:
        try:
            return await super()._wrap_create_connection(*args, req=req, **kwargs)
        except ProxyTimeoutError as exc:
            raise aiohttp.ClientProxyConnectionError(
                req.connection_key, OSError(errno.ETIMEDOUT, f"the SOCKS proxy timed out: {exc}")
            ) from None
        except (ProxyConnectionError, ProxyError) as exc:
            raise aiohttp.ClientProxyConnectionError(
                req.connection_key, OSError(errno.ECONNREFUSED, f"through the SOCKS proxy: {exc}")
            ) from None


def _socks_connector(proxy: Proxy, *, limit: int) -> aiohttp.BaseConnector:
    # rdns: the proxy resolves names; where Discord is blocked the local DNS answers are often poisoned.
    return _SocksConnector(
        host=proxy.host,
        port=proxy.port,
        proxy_type=ProxyType.SOCKS5,
        username=proxy.username,
        password=proxy.password,
        rdns=True,
        limit=limit,
    )


def client_session(proxy: Proxy | None, **kwargs: Any) -> aiohttp.ClientSession:
    """A session whose every request (and websocket) goes through `proxy`, or direct when None."""
    if proxy is None:
        return aiohttp.ClientSession(**kwargs)
    if proxy.is_socks:
        return aiohttp.ClientSession(connector=_socks_connector(proxy, limit=100), **kwargs)
    # Credentials ride in the URL: aiohttp turns them into Proxy-Authorization (its proxy_auth= is deprecated).
    return aiohttp.ClientSession(proxy=proxy.url, **kwargs)


def discord_options(proxy: Proxy | None) -> dict[str, Any]:
    """Keyword arguments for discord.Client: REST, gateway and attachment downloads take `proxy`."""
    if proxy is None:
        return {}
    log.info("reaching Discord through the proxy %s", proxy.address)
    if proxy.is_socks:
        # discord.py builds its session on this connector; limit=0 is its own default.
        return {"connector": _socks_connector(proxy, limit=0)}
    return {"proxy": proxy.url}


def runninghub_proxy(settings: Settings) -> Proxy | None:
    """RUNNINGHUB_PROXY, except for the in-process simulator, which is on this machine."""
    proxy = None if settings.use_simulator else settings.runninghub_proxy
    if proxy is not None:
        log.info("reaching RunningHub through the proxy %s", proxy.address)
    return proxy


def cannot_reach_discord(proxy: Proxy | None, exc: BaseException) -> str:
    """The one line for a Discord that cannot be reached, directly or through DISCORD_PROXY."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        detail = f"the proxy answered {exc.status} {exc.message}"
    if proxy is None:
        return (
            f"Cannot reach Discord ({detail}); check the network, or set DISCORD_PROXY "
            "if Discord is blocked where the bot runs."
        )
    return (
        f"Cannot reach Discord through the proxy {proxy.address} ({detail}); check DISCORD_PROXY "
        "and that the proxy is running."
    )


