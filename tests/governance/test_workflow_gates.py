"""The per-alias gate keys of workflows.toml: roles, channels, nsfw."""

from __future__ import annotations

import pytest

from bot.governance.gate import Requester
from bot.governance.service import Gate
from bot.workflows import (
    WorkflowConfigError,
    WorkflowRegistry,
    parse_workflow_table,
    parse_workflows,
    workflow_table,
)

PATRON, ART = 1234567890123456789, 2234567890123456789

TOML = """
[workflows.open]
workflow_id = "1"
description = "anyone, anywhere"
cost = 1

[workflows.patrons]
workflow_id = "2"
description = "patrons only, in #art"
cost = 1
roles = ["{patron}"]
channels = ["{art}"]

[workflows.spicy]
workflow_id = "3"
description = "age-restricted channels only"
cost = 1
nsfw = true
"""


def registry() -> WorkflowRegistry:
    return parse_workflows(TOML.format(patron=PATRON, art=ART))


def test_the_keys_are_read() -> None:
    patrons = registry().get("patrons")
    assert patrons.roles == {PATRON} and patrons.channels == {ART} and not patrons.nsfw
    assert registry().get("spicy").nsfw is True
    open_ = registry().get("open")
    assert (open_.roles, open_.channels, open_.nsfw) == (frozenset(), frozenset(), False)


@pytest.mark.parametrize(
    ("line", "key", "reason"),
    [
        ('roles = "123"', "roles", "must be a list of role ids"),
        ('roles = ["Patron"]', "roles", "'Patron' is not a role id"),
        ('roles = ["<@&1234567890123456789>"]', "roles", "is not a role id"),
        ("channels = [12]", "channels", "12 is not a channel id"),
        ('channels = ["2234567890123456789", "2234567890123456789"]', "channels", "twice"),
        ('nsfw = "yes"', "nsfw", "must be true or false"),
    ],
)
def test_bad_values_are_refused_naming_alias_key_and_reason(line: str, key: str, reason: str) -> None:
    text = f'[workflows.demo]\nworkflow_id = "1"\ndescription = "d"\ncost = 1\n{line}\n'
    with pytest.raises(WorkflowConfigError) as info:
        parse_workflows(text, "workflows.toml")
    message = str(info.value)
    assert message.startswith("workflows.toml: workflow 'demo', ")
    assert f"key '{key}'" in message and reason in message


def test_listing_shows_only_what_this_member_may_run_here() -> None:
    everything = registry().all()
    plain = Requester(guild_id=1, channel_id=5, member_id=9)
    assert [w.alias for w in Gate.visible(plain, everything)] == ["open"]
    patron_in_art = Requester(guild_id=1, channel_id=ART, member_id=9, role_ids=frozenset({PATRON}))
    assert [w.alias for w in Gate.visible(patron_in_art, everything)] == ["open", "patrons"]
    mod_in_nsfw_thread = Requester(
        guild_id=1, channel_id=77, parent_channel_id=ART, member_id=9, is_moderator=True, channel_nsfw=True
    )
    assert [w.alias for w in Gate.visible(mod_in_nsfw_thread, everything)] == ["open", "patrons", "spicy"]


def test_the_gates_survive_the_round_trip_through_a_stored_table() -> None:
    patrons = registry().get("patrons")
    again = parse_workflow_table("patrons", workflow_table(patrons), source="database")
    assert (again.roles, again.channels, again.nsfw) == (patrons.roles, patrons.channels, patrons.nsfw)
    spicy = registry().get("spicy")
    assert parse_workflow_table("spicy", workflow_table(spicy), source="database").nsfw is True
