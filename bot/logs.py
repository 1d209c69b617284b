"""Logging set up once per process, with secrets redacted from every record."""

from __future__ import annotations

import logging
import sys

from bot.config import SecretFilter


def setup_logging(level: str = "INFO", secrets: list[str] | None = None, *, stream=None) -> SecretFilter:
    """Configure the root logger: one stream handler, `discord.http` at WARNING, secrets redacted.

    The filter sits on the handler, so records from every library (discord.py, aiohttp) pass it.
    """
    secret_filter = SecretFilter(secrets or [])
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(secret_filter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return secret_filter
