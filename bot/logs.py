"""Logging set up once per process, with secrets redacted from every record."""

from __future__ import annotations

import logging
import sys


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


class SecretFilter(logging.Filter):
    """Redacts secret values from every record that passes through a handler."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 4]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True
