"""The gate service and the modlog with a recording poster: notices, their language, no raising."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.db.guild_settings import GuildSettingsStore
from bot.governance.gate import BlocklistHit, Requester
from bot.governance.modlog import ModLog
from bot.governance.service import Gate
from bot.jobs.notifier import DeliveryError
from bot.texts.format import code_block
from bot.workflows import Workflow
from tests.db import Clock

G, LOG, MOD, ALICE = 10, 77, 99, 20
WORKFLOW = Workflow(alias="z-image", description="d", cost=10, workflow_id="1")
REQUESTER = Requester(guild_id=G, channel_id=5, member_id=ALICE)
Parts = tuple[GuildSettingsStore, "Poster", Gate]


class Poster:
    def __init__(self) -> None:
        self.posts: list[tuple[int, int, str]] = []
        self.fail = False
        self.locale: str | None = "en-US"

    def guild_locale(self, guild_id: int) -> str | None:
        return self.locale

    async def post_modlog(self, guild_id: int, channel_id: int, text: str) -> None:
        if self.fail:
            raise DeliveryError("Discord answered 403", transient=False)
        self.posts.append((guild_id, channel_id, text))


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[GuildSettingsStore, Poster, Gate]]:
    db = await Database.open(tmp_path / "bot.db")
    store = GuildSettingsStore(db)
    poster = Poster()
    yield store, poster, Gate(store, ModLog(store, poster), clock=Clock(1000.0))
    await db.close()




async def test_blocklist_hit_notice(parts: Parts) -> None:
    store, poster, gate = parts
    await store.add_entry(G, "gore", MOD)
    with pytest.raises(BlocklistHit):
        await gate.check(REQUESTER, WORKFLOW, prompt="g.o.r.e")
    assert poster.posts == []  # no modlog channel: no notice
    await store.set_modlog(G, LOG, MOD)
    with pytest.raises(BlocklistHit):
        await gate.check(REQUESTER, WORKFLOW, prompt="G O R E ```<@1>", params="seed=1")
    [(guild, channel, text)] = poster.posts
    assert (guild, channel) == (G, LOG)
    assert text.startswith(f"🚫 Blocklist: <@{ALICE}> tried **z-image** in <#5> (matched `gore`).")
    block = text.split("```\n", 1)[1]
    assert block.endswith("\n```") and block.count("```") == 1  # the member's ``` cannot close it early
    assert "G O R E" in block and "seed=1" in block


async def test_notices_follow_the_language_setting_and_never_raise(parts: Parts) -> None:
    store, poster, gate = parts
    modlog = gate.modlog
    await store.set_modlog(G, LOG, MOD)
    poster.locale = "zh-CN"
    assert await modlog.notice(G, "gov.modlog.out_of_coins")
    await store.set_language(G, "en", MOD)
    assert await modlog.notice(G, "gov.modlog.out_of_coins")
    assert [p[2][:2] for p in poster.posts] == ["💸 ", "💸 "]
    assert "RH币" in poster.posts[0][2] and "is out of coins" in poster.posts[1][2]
    poster.fail = True
    assert await modlog.notice(G, "gov.modlog.out_of_coins") is False


async def test_block_and_unblock_are_announced(parts: Parts) -> None:
    store, poster, gate = parts
    await store.set_modlog(G, LOG, MOD)
    await gate.block(G, ALICE, "spam", MOD)
    await gate.unblock(G, ALICE, MOD)
    assert [p[2] for p in poster.posts] == [
        f"⛔ <@{MOD}> blocked <@{ALICE}> from starting jobs (reason: spam).",
        f"✅ <@{MOD}> unblocked <@{ALICE}>: they can start jobs again.",
    ]


def test_a_code_block_cannot_be_closed_from_inside() -> None:
    assert code_block("a````b") == "```\na`\u200b`\u200b`\u200b`\u200bb\n```"
    assert code_block("a````b").count("```") == 2


async def test_a_notice_to_every_guild_reaches_each_modlog_in_its_language(parts: Parts) -> None:
    store, poster, gate = parts
    await store.set_modlog(G, LOG, MOD)
    await store.set_modlog(G + 1, LOG + 1, MOD)
    await store.set_language(G + 1, "zh-CN", MOD)
    await store.set_cooldown(G + 2, 5, MOD)  # settings, but no modlog: nothing posted there
    assert await gate.modlog.notice_all("gov.modlog.out_of_coins") == 2
    assert [(g, c) for g, c, _ in poster.posts] == [(G, LOG), (G + 1, LOG + 1)]
    assert "is out of coins" in poster.posts[0][2] and "RH币" in poster.posts[1][2]
