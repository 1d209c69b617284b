"""The gate: design §9's order, the sentence of each refusal, the alias gates shared with listings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.errors import UserError
from bot.governance.blocklist import Blocklist
from bot.governance.gate import BlocklistHit, Requester, Rules, alias_refusal, check, may_run
from bot.workflows import Workflow

GUILD, ART, MEMES, THREAD, PATRON, HELPER = 10, 21, 22, 23, 31, 32
NOW = 1_000_000.0

ALICE = Requester(guild_id=GUILD, channel_id=ART, member_id=5, role_ids=frozenset(), locale="en")
OPEN = Workflow(alias="z-image", description="d", cost=10, workflow_id="1")
GATED = replace(OPEN, alias="spicy", roles=frozenset({PATRON}), channels=frozenset({ART}), nsfw=True)
ALLOWED = replace(ALICE, channel_nsfw=True, role_ids=frozenset({PATRON}))
EVERYTHING = Rules(
    allowed_channels=frozenset({MEMES}),
    cooldown_seconds=60,
    blocklist=Blocklist.of(["nsfw"]),
    blocked=True,
    blocked_reason="spam",
    last_start=NOW - 18,
)


def refusal(requester: Requester, workflow: Workflow, rules: Rules, prompt: str | None = "a cat") -> UserError:
    with pytest.raises(UserError) as caught:
        check(requester, workflow, rules, prompt=prompt, params=None, now=NOW)
    return caught.value


def test_the_order_is_blocked_channel_alias_cooldown_blocklist() -> None:
    rules = EVERYTHING
    member = replace(ALICE, channel_id=ART)  # not in MEMES, and the alias wants roles it lacks
    seen = []
    for _ in range(5):
        error = refusal(member, GATED, rules, prompt="nsfw")
        seen.append(error.key)
        # Lift the gate that refused, then ask again.
        if error.key.startswith("gov.refused.blocked"):
            rules = replace(rules, blocked=False)
        elif error.key == "gov.refused.channel":
            rules = replace(rules, allowed_channels=frozenset({ART}))
        elif error.key.startswith("gov.refused.alias"):
            member = ALLOWED
        elif error.key == "gov.refused.cooldown":
            rules = replace(rules, last_start=None)
    assert seen == [
        "gov.refused.blocked_reason",
        "gov.refused.channel",
        "gov.refused.alias_nsfw",  # in ART, as the alias wants, but not age-restricted
        "gov.refused.cooldown",
        "gov.refused.blocklist",
    ]
    check(ALLOWED, GATED, rules, prompt="a cat", params=None, now=NOW)  # and then it passes


def test_each_refusal_says_what_to_do_in_one_sentence() -> None:
    assert refusal(ALICE, OPEN, Rules(blocked=True, blocked_reason="spam")).render("en") == (
        "A moderator has blocked you from starting jobs on this server (reason: spam)."
    )
    assert "ask them" in refusal(ALICE, OPEN, Rules(blocked=True)).render("en")
    text = refusal(ALICE, OPEN, Rules(allowed_channels=frozenset({MEMES, 99}))).render("en")
    assert text == "Jobs can't be started in this channel: use <#22>, <#99>."
    roles = refusal(ALICE, replace(OPEN, roles=frozenset({PATRON})), Rules()).render("en")
    assert roles == f"**z-image** needs the <@&{PATRON}> role."
    two = refusal(ALICE, replace(OPEN, roles=frozenset({PATRON, HELPER})), Rules()).render("zh-CN")
    assert two == f"**z-image** 需要以下身份组之一：<@&{PATRON}>, <@&{HELPER}>。"
    where = refusal(ALICE, replace(OPEN, channels=frozenset({MEMES})), Rules()).render("en")
    assert where == f"**z-image** runs only in <#{MEMES}>: use it there."
    nsfw = refusal(ALICE, replace(OPEN, nsfw=True), Rules()).render("en")
    assert nsfw == "**z-image** runs only in age-restricted channels: use it in one of those."
    wait = refusal(ALICE, OPEN, Rules(cooldown_seconds=60, last_start=NOW - 17.5)).render("en")
    assert wait == "Please wait 43 s before starting your next job."


def test_a_blocklist_refusal_never_repeats_the_word() -> None:
    error = refusal(ALICE, OPEN, Rules(blocklist=Blocklist.of(["forbiddenword"])), prompt="F.O.R.B.I.D.D.E.N-word")
    assert isinstance(error, BlocklistHit)
    assert error.entry == "forbiddenword"
    for locale in ("en", "zh-CN"):
        text = error.render(locale)
        assert "forbidden" not in text.casefold()
        assert text.count("。") + text.count(".") == 1


def test_params_are_checked_too() -> None:
    rules = Rules(blocklist=Blocklist.of(["gore"]))
    with pytest.raises(BlocklistHit):
        check(ALICE, OPEN, rules, prompt="a cat", params="seed=1 negative=g o r e", now=NOW)
    with pytest.raises(BlocklistHit):
        check(ALICE, OPEN, rules, prompt=None, params={"negative": "ＧＯＲＥ"}, now=NOW)
    check(ALICE, OPEN, rules, prompt="a gorgeous cat", params={"seed": 1}, now=NOW)


def test_threads_count_as_their_parent_channel_and_inherit_its_nsfw_flag() -> None:
    in_thread = replace(ALLOWED, channel_id=THREAD, parent_channel_id=ART)
    check(in_thread, GATED, Rules(allowed_channels=frozenset({ART})), prompt=None, params=None, now=NOW)
    assert may_run(in_thread, GATED)
    assert not may_run(replace(in_thread, channel_nsfw=False), GATED)


def test_moderators_pass_role_gates_but_not_channel_or_nsfw_gates() -> None:
    mod = replace(ALICE, is_moderator=True, channel_nsfw=True)
    assert alias_refusal(mod, replace(OPEN, roles=frozenset({PATRON}))) is None
    assert not may_run(replace(mod, channel_nsfw=False), replace(OPEN, nsfw=True))
    assert not may_run(mod, replace(OPEN, channels=frozenset({MEMES})))


def test_cooldown_counts_from_the_last_start_and_ends() -> None:
    rules = Rules(cooldown_seconds=30, last_start=NOW - 30)
    check(ALICE, OPEN, rules, prompt=None, params=None, now=NOW)  # exactly over
    with pytest.raises(UserError) as caught:
        check(ALICE, OPEN, replace(rules, last_start=NOW - 29.9), prompt=None, params=None, now=NOW)
    assert caught.value.params == {"seconds": 1}
    check(ALICE, OPEN, Rules(cooldown_seconds=0, last_start=NOW), prompt=None, params=None, now=NOW)


def test_without_a_workflow_only_the_alias_free_gates_run() -> None:
    check(ALICE, None, Rules(), prompt=None, params=None, now=NOW)
    with pytest.raises(UserError) as caught:
        check(ALICE, None, Rules(allowed_channels=frozenset({MEMES})), prompt=None, params=None, now=NOW)
    assert caught.value.key == "gov.refused.channel"
