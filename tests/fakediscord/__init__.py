"""A loopback fake Discord (REST API + gateway) for running the real discord.py client in tests."""

from tests.fakediscord.components import ModalField, SelectMenu, ShownModal
from tests.fakediscord.model import (
    APIError,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    Fault,
    MessageVersion,
    RecordedRequest,
    ResponseRecord,
)
from tests.fakediscord.plugin import running_bot
from tests.fakediscord.ratelimit import EditRateLimit
from tests.fakediscord.server import FakeDiscord

__all__ = [
    "APIError",
    "EditRateLimit",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "Fault",
    "MessageVersion",
    "ModalField",
    "RecordedRequest",
    "ResponseRecord",
    "SelectMenu",
    "ShownModal",
    "running_bot",
]
