"""Settings from the environment and `.env`, typed and validated once.

The real environment wins over the file (python-dotenv's `override=False`). A bad value raises
`ConfigError` whose text is one line naming the variable and what was expected; `__main__`
prints it and exits non-zero without a traceback.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, unquote, urlparse, urlsplit

from dotenv import dotenv_values

SIMULATOR = "simulator"
CN_BASE_URL = "https://www.runninghub.cn"
AI_BASE_URL = "https://www.runninghub.ai"
# The key the built-in simulator accepts; 32 characters like a real one.
SIMULATOR_API_KEY = "sim0000000000000000000000000key0"

T = TypeVar("T")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


PROXY_SCHEMES = ("http", "https", "socks5")
_PROXY_DEFAULT_PORTS = {"http": 80, "https": 443, "socks5": 1080}


@dataclass(frozen=True)
class Proxy:
    """A forward proxy from DISCORD_PROXY or RUNNINGHUB_PROXY.

    `address` (also str()) never shows the credentials, so it is the form to log; `url` carries
    them for aiohttp only.
    """

    scheme: str
    host: str
    port: int
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def is_socks(self) -> bool:
        return self.scheme == "socks5"

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def url(self) -> str:
        if self.username is None:
            return self.address
        userinfo = quote(self.username, safe="")
        if self.password is not None:
            userinfo += ":" + quote(self.password, safe="")
        return self.address.replace("://", f"://{userinfo}@", 1)

    def secrets(self) -> list[str]:
        """The password, in every spelling a log line might carry it."""
        if not self.password:
            return []
        user = self.username or ""
        found = {self.password, quote(self.password, safe=""), f"{user}:{self.password}"}
        found.add(base64.b64encode(f"{user}:{self.password}".encode()).decode())  # a Proxy-Authorization value
        return sorted(found)

    def __str__(self) -> str:
        return self.address


@dataclass(frozen=True)
class Settings:
    discord_token: str | None = field(default=None, repr=False)
    guild_ids: tuple[int, ...] = ()
    # One or more keys (a pool of accounts), each with its own number of tasks at once.
    runninghub_api_keys: tuple[str, ...] = field(default=(), repr=False)
    runninghub_base_url: str = CN_BASE_URL
    runninghub_concurrencies: tuple[int, ...] = (1,)
    database_path: Path = Path("data/bot.db")
    workflows_path: Path = Path("data/workflows.toml")
    poll_interval: float = 5.0
    default_allowance: int = 100
    moderator_role_ids: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8080
    webhook_secret: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    discord_proxy: Proxy | None = None
    runninghub_proxy: Proxy | None = None

    @property
    def use_simulator(self) -> bool:
        return self.runninghub_base_url == SIMULATOR

    @property
    def webhooks_enabled(self) -> bool:
        return bool(self.webhook_url)

    @property
    def runninghub_api_key(self) -> str:
        """The first key: what single-account tools (generate, inspect, check's workflow pass) use."""
        return self.runninghub_api_keys[0] if self.runninghub_api_keys else ""

    @property
    def runninghub_concurrency(self) -> int:
        """Tasks at once over the whole pool."""
        return sum(self.runninghub_concurrencies)

    def runninghub_pool(self) -> list[tuple[str, int]]:
        """(key, concurrency) for each key of the pool, in the order given."""
        return list(zip(self.runninghub_api_keys, self.runninghub_concurrencies, strict=True))

    def secrets(self) -> list[str]:
        """Values that must never reach a log line or a message."""
        found = [s for s in (self.discord_token, *self.runninghub_api_keys, self.webhook_secret) if s]
        for proxy in (self.discord_proxy, self.runninghub_proxy):
            found += proxy.secrets() if proxy is not None else []
        return found

    def require_discord(self) -> str:
        if not self.discord_token:
            raise ConfigError("DISCORD_TOKEN is not set: put the bot token from the Discord developer portal in .env")
        return self.discord_token


def _int(name: str, raw: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def _float(name: str, raw: str, *, minimum: float) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value >= minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw.strip()}")
    return value


def _ids(name: str, raw: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit():
            raise ConfigError(f"{name} must be comma-separated numeric Discord ids, got {part!r}")
        out.append(int(part))
    return tuple(out)


def _base_url(raw: str) -> str:
    value = raw.strip().rstrip("/")
    if value.lower() == SIMULATOR:
        return SIMULATOR
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            "RUNNINGHUB_BASE_URL must be https://www.runninghub.cn, https://www.runninghub.ai, "
            f"another http(s) URL or the word 'simulator', got {raw!r}"
        )
    return value


def _log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {raw!r}")
    return value


def _webhook_url(raw: str) -> str:
    parsed = urlparse(raw.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"WEBHOOK_URL must be an http(s) URL at which RunningHub can reach the bot, got {raw!r}")
    return raw.strip()


def _hide_credentials(raw: str) -> str:
    """The URL as typed, with anything before the host's '@' masked (it may hold a password)."""
    scheme, sep, rest = raw.strip().partition("://")
    if sep and "@" in rest:
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return raw.strip() if sep else raw.strip().rpartition("@")[2]


def _proxy(name: str, raw: str) -> Proxy:
    shown = _hide_credentials(raw)
    problem = (
        f"{name} must be a proxy URL such as http://127.0.0.1:7890 or socks5://127.0.0.1:7891 "
        f"(http, https or socks5; user:password@ allowed), got {shown!r}"
    )
    text = raw.strip()
    if any(c.isspace() for c in text):
        raise ConfigError(problem)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigError(problem) from None
    # socks5h ("resolve names at the proxy") is what socks5 does here anyway.
    scheme = {"socks5h": "socks5"}.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in PROXY_SCHEMES or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(problem)
    if parts.query or parts.fragment or (parts.password is not None and not parts.username):
        raise ConfigError(problem)
    return Proxy(
        scheme=scheme,
        host=parts.hostname,
        port=port or _PROXY_DEFAULT_PORTS[scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _api_keys(raw: str) -> tuple[str, ...]:
    keys = tuple(part.strip() for part in raw.split(","))
    if any(not k for k in keys):
        raise ConfigError("RUNNINGHUB_API_KEY must be one key or keys separated by commas, with none empty")
    if any(not k.isascii() or not k.isprintable() or " " in k for k in keys):
        # Never echo the value: it is a secret.
        raise ConfigError("RUNNINGHUB_API_KEY must be plain ASCII without spaces (several keys: commas between)")
    if len(set(keys)) != len(keys):
        raise ConfigError("RUNNINGHUB_API_KEY names the same key twice")
    return keys


def _concurrencies(raw: str | None, count: int) -> tuple[int, ...]:
    name = "RUNNINGHUB_CONCURRENCY"
    if raw is None or raw.strip() == "":
        return (1,) * count
    parts = [p for p in raw.replace(" ", "").split(",")]
    if len(parts) == 1:
        return (_int(name, parts[0], minimum=1, maximum=1000),) * count
    if len(parts) != count:
        raise ConfigError(
            f"{name} must be one number or a comma list with one number per key of RUNNINGHUB_API_KEY "
            f"({count}), got {len(parts)}"
        )
    return tuple(_int(name, p, minimum=1, maximum=1000) for p in parts)


def settings_from_mapping(env: Mapping[str, str]) -> Settings:
    """Build settings from a plain mapping (tests pass a dict; `load_settings` passes the environment)."""

    def get(name: str, parse: Callable[[str, str], T], default: T) -> T:
        raw = env.get(name)
        if raw is None or raw.strip() == "":
            return default
        return parse(name, raw)

    base_url = get("RUNNINGHUB_BASE_URL", lambda _n, r: _base_url(r), CN_BASE_URL)
    raw_keys = (env.get("RUNNINGHUB_API_KEY") or "").strip()
    if raw_keys:
        api_keys = _api_keys(raw_keys)
    elif base_url == SIMULATOR:
        api_keys = (SIMULATOR_API_KEY,)
    else:
        raise ConfigError(
            "RUNNINGHUB_API_KEY is not set: copy the 32-character key from RunningHub's API console "
            "(or set RUNNINGHUB_BASE_URL=simulator to try the bot offline)"
        )

    webhook_url = get("WEBHOOK_URL", lambda _n, r: _webhook_url(r), None)
    webhook_secret = (env.get("WEBHOOK_SECRET") or "").strip() or None
    if webhook_url and not webhook_secret:
        raise ConfigError("WEBHOOK_SECRET must be set when WEBHOOK_URL is: it guards the receiver from strangers")
    if webhook_secret is not None and (len(webhook_secret) < 16 or not webhook_secret.isascii()):
        raise ConfigError("WEBHOOK_SECRET must be at least 16 ASCII characters")

    token = (env.get("DISCORD_TOKEN") or "").strip() or None
    return Settings(
        discord_token=token,
        guild_ids=get("DISCORD_GUILD_ID", _ids, ()),
        runninghub_api_keys=api_keys,
        runninghub_base_url=base_url,
        runninghub_concurrencies=_concurrencies(env.get("RUNNINGHUB_CONCURRENCY"), len(api_keys)),
        database_path=Path(get("DATABASE_PATH", lambda _n, r: r.strip(), "data/bot.db")),
        workflows_path=Path(get("WORKFLOWS_PATH", lambda _n, r: r.strip(), "data/workflows.toml")),
        poll_interval=get("POLL_INTERVAL", lambda n, r: _float(n, r, minimum=0.05), 5.0),
        default_allowance=get(
            "DEFAULT_ALLOWANCE", lambda n, r: _int(n, r, minimum=0, maximum=1_000_000_000), 100
        ),
        moderator_role_ids=frozenset(get("MODERATOR_ROLE_IDS", _ids, ())),
        webhook_url=webhook_url,
        webhook_host=get("WEBHOOK_HOST", lambda _n, r: r.strip(), "0.0.0.0"),
        webhook_port=get("WEBHOOK_PORT", lambda n, r: _int(n, r, minimum=0, maximum=65535), 8080),
        webhook_secret=webhook_secret,
        log_level=get("LOG_LEVEL", lambda _n, r: _log_level(r), "INFO"),
        discord_proxy=get("DISCORD_PROXY", _proxy, None),
        runninghub_proxy=get("RUNNINGHUB_PROXY", _proxy, None),
    )


def load_settings(env_file: str | os.PathLike[str] | None = ".env") -> Settings:
    """Read `.env` (if present) under the real environment, which wins, and validate."""
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    return settings_from_mapping(merged)
