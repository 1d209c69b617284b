"""Fixtures for this folder's own tests (the root conftest may also register the plugin)."""

from tests.fakediscord.plugin import fake_discord, fake_discord_server

__all__ = ["fake_discord", "fake_discord_server"]
