"""Reading the gate's inputs from discord.py objects: channel facts, and the channel-type check."""

from __future__ import annotations

from types import SimpleNamespace

import discord
import pytest

from bot.errors import UserError
from bot.ui.requester import channel_facts
from cogs.governance import POSTABLE, _postable


@pytest.mark.parametrize("kind", list(discord.ChannelType))
def test_only_channels_that_take_messages_are_accepted(kind: discord.ChannelType) -> None:
    channel = SimpleNamespace(id=42, type=kind)
    if kind in POSTABLE:
        assert _postable(channel) == 42  # type: ignore[arg-type]
    else:
        with pytest.raises(UserError) as caught:
            _postable(channel)  # type: ignore[arg-type]
        assert caught.value.render("en") == (
            "<#42> is not a channel where messages can be posted: choose a text channel, thread or forum."
        )


def test_channel_facts_of_plain_and_unknown_channels() -> None:
    assert channel_facts(SimpleNamespace(is_nsfw=lambda: True)) == (None, True)
    assert channel_facts(SimpleNamespace(is_nsfw=lambda: False)) == (None, False)
    assert channel_facts(None) == (None, False)  # an uncached channel: not age-restricted
