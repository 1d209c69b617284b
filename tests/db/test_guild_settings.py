"""Governance storage: settings, channels, blocklist, blocked members, role allowances, audit rows."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.db.guild_settings import MAX_COOLDOWN, GuildSettingsStore, public_language
from bot.db.invariants import check_invariants
from bot.db.ledger import Ledger
from bot.errors import UserError
from tests.db import Clock, at, insert_job

G, OTHER, MOD, ALICE, ART, MEMES, PATRON, VIP = 10, 11, 99, 20, 31, 32, 41, 42


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-11-24T10:00"))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.db")
    yield database
    await database.close()


@pytest.fixture
def store(db: Database, clock: Clock) -> GuildSettingsStore:
    return GuildSettingsStore(db, clock=clock)


async def audit(db: Database, guild_id: int = G) -> list[tuple]:
    rows = await db.fetchall(
        "SELECT actor_id, action, detail, created_at FROM governance_audit WHERE guild_id = ? ORDER BY id", (guild_id,)
    )
    return [tuple(r) for r in rows]


async def test_a_new_guild_has_the_defaults(store: GuildSettingsStore) -> None:
    settings = await store.get(G)
    assert settings.allowed_channels == frozenset()
    assert settings.modlog_channel_id is None
    assert settings.cooldown_seconds == 0
    assert settings.language == "auto"
    assert settings.blocklist == ()


async def test_each_change_is_stored_and_audited_with_actor_and_time(
    store: GuildSettingsStore, db: Database, clock: Clock
) -> None:
    when = clock()
    await store.add_channel(G, ART, MOD)
    await store.add_channel(G, MEMES, MOD)
    await store.remove_channel(G, MEMES, MOD)
    await store.set_modlog(G, MEMES, MOD)
    await store.set_cooldown(G, 42, MOD)
    await store.set_language(G, "zh-CN", MOD)
    stored = await store.add_entry(G, "  Ｎ.S\u200bF.W  ", MOD)
    await store.block(G, ALICE, "  spamming   prompts ", MOD)
    settings = await store.get(G)
    assert settings.allowed_channels == {ART}
    assert settings.modlog_channel_id == MEMES
    assert settings.cooldown_seconds == 42
    assert settings.language == "zh-CN"
    assert stored == "n.sf.w" and settings.blocklist == ("n.sf.w",)
    blocked = await store.blocked(G, ALICE)
    assert blocked is not None and blocked.reason == "spamming prompts" and blocked.blocked_by == MOD
    assert [(a, action) for a, action, _, _ in await audit(db)] == [
        (MOD, "channels.add"), (MOD, "channels.add"), (MOD, "channels.remove"), (MOD, "modlog_channel_id"),
        (MOD, "cooldown_seconds"), (MOD, "language"), (MOD, "blocklist.add"), (MOD, "block"),
    ]
    assert all(created == when for *_, created in await audit(db))
    assert (await audit(db))[-1][2] == '{"member_id": 20, "reason": "spamming prompts"}'
    assert await store.audit(OTHER) == []
    assert (await store.get(OTHER)).allowed_channels == frozenset()  # per guild


async def test_settings_survive_reopening_the_file(tmp_path: Path, clock: Clock) -> None:
    db = await Database.open(tmp_path / "bot.db")
    store = GuildSettingsStore(db, clock=clock)
    await store.add_channel(G, ART, MOD)
    await store.set_cooldown(G, 5, MOD)
    await store.add_entry(G, "gore", MOD)
    await store.block(G, ALICE, None, MOD)
    await db.close()
    db = await Database.open(tmp_path / "bot.db")
    try:
        again = GuildSettingsStore(db, clock=clock)
        settings = await again.get(G)
        assert (settings.allowed_channels, settings.cooldown_seconds, settings.blocklist) == ({ART}, 5, ("gore",))
        assert await again.blocked(G, ALICE) is not None
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda s: s.set_cooldown(G, -1, MOD), "gov.bad.cooldown"),
        (lambda s: s.set_cooldown(G, MAX_COOLDOWN + 1, MOD), "gov.bad.cooldown"),
        (lambda s: s.set_cooldown(G, True, MOD), "gov.bad.cooldown"),
        (lambda s: s.set_language(G, "fr", MOD), "gov.bad.language"),
        (lambda s: s.add_entry(G, "", MOD), "gov.bad.entry_empty"),
        (lambda s: s.add_entry(G, " \u200b\u200d ", MOD), "gov.bad.entry_empty"),  # empty once normalised
        (lambda s: s.add_entry(G, "!?…", MOD), "gov.bad.entry_empty"),
        (lambda s: s.add_entry(G, "x" * 500, MOD), "gov.bad.entry_too_long"),
        (lambda s: s.add_entry(G, "g.o.r.e", MOD), "gov.blocklist.already"),  # the same word, spelled apart
        (lambda s: s.remove_entry(G, "nsfw", MOD), "gov.blocklist.not_listed"),
        (lambda s: s.add_channel(G, ART, MOD), "gov.channels.already"),
        (lambda s: s.remove_channel(G, MEMES, MOD), "gov.channels.not_listed"),
        (lambda s: s.block(G, ALICE, "x" * 501, MOD), "gov.bad.reason_too_long"),
        (lambda s: s.unblock(G, ALICE, MOD), "gov.unblock.not_blocked"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    store: GuildSettingsStore, db: Database, change, key: str
) -> None:
    await store.add_entry(G, "gore", MOD)
    await store.add_channel(G, ART, MOD)
    before, rows_before = await store.get(G), await audit(db)
    with pytest.raises(UserError) as caught:
        await change(store)
    assert caught.value.key == key
    caught.value.render("en")  # the catalog has it
    store._cache.clear()
    assert await store.get(G) == before
    assert await audit(db) == rows_before
    assert await store.blocked(G, ALICE) is None


async def test_remove_finds_the_entry_however_it_is_written_and_clear_empties_the_list(
    store: GuildSettingsStore,
) -> None:
    await store.add_entry(G, "Blood Bath", MOD)
    assert await store.remove_entry(G, "blood-bath", MOD) == "blood bath"
    await store.add_channel(G, ART, MOD)
    await store.add_channel(G, MEMES, MOD)
    assert (await store.clear_channels(G, MOD)).allowed_channels == frozenset()
    with pytest.raises(UserError):
        await store.clear_channels(G, MOD)


async def test_last_start_is_the_latest_job_of_the_member(store: GuildSettingsStore, db: Database) -> None:
    assert await store.last_start(G, ALICE) is None
    async with db.transaction() as conn:
        await insert_job(conn, G, ALICE, 0, now=100.0)
        await insert_job(conn, G, ALICE, 0, now=250.0)
        await insert_job(conn, OTHER, ALICE, 0, now=900.0)
    assert await store.last_start(G, ALICE) == 250.0


async def test_a_database_from_before_traditional_chinese_keeps_its_settings_and_takes_zh_tw(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.db.database as database

    every = database.migration_files()
    monkeypatch.setattr(database, "migration_files", lambda: [m for m in every if m[0] < 9])
    old = await Database.open(tmp_path / "old.db")
    await GuildSettingsStore(old, clock=clock).set_language(G, "zh-CN", MOD)
    await GuildSettingsStore(old, clock=clock).set_cooldown(OTHER, 30, MOD)
    with pytest.raises(sqlite3.IntegrityError):  # the old table's CHECK refuses zh-TW
        await old.execute("UPDATE guild_settings SET language = 'zh-TW' WHERE guild_id = ?", (G,))
    await old.close()
    monkeypatch.setattr(database, "migration_files", lambda: every)
    db = await Database.open(tmp_path / "old.db")
    try:
        store = GuildSettingsStore(db, clock=clock)
        assert ((await store.get(G)).language, (await store.get(OTHER)).cooldown_seconds) == ("zh-CN", 30)
        assert (await store.set_language(G, "zh-TW", MOD)).language == "zh-TW"
        assert (await store.get(G)).language == "zh-TW"
    finally:
        await db.close()


def test_public_language_follows_the_setting_or_the_requester() -> None:
    from bot.db.guild_settings import GuildSettings

    assert public_language(GuildSettings(G, language="auto"), "zh-CN") == "zh-CN"
    assert public_language(GuildSettings(G, language="en"), "zh-CN") == "en"
    assert public_language(GuildSettings(G, language="zh-CN"), None) == "zh-CN"


# ---- role allowances ---------------------------------------------------------------------------


async def test_a_member_gets_the_largest_of_the_guild_and_role_allowances(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, default_allowance=50, clock=clock)
    await ledger.set_policy(G, 100, "daily", MOD)
    await ledger.set_policy(G, 500, "weekly", MOD, role_id=PATRON)
    await ledger.set_policy(G, 80, "daily", MOD, role_id=VIP)  # smaller than the guild's: no effect
    assert (await ledger.balance(G, 1)).available == 100
    assert (await ledger.balance(G, 2, role_ids=[VIP])).available == 100
    patron = await ledger.balance(G, 3, role_ids=[VIP, PATRON])
    assert patron.available == 500
    assert patron.next_refill is not None and patron.next_refill.timestamp() == at("2026-11-30T00:00")
    assert await ledger.policy_for(G, [PATRON]) == (await ledger.role_policies(G))[PATRON]
    actions = [(r[1], r[2]) for r in await audit(db)]
    assert actions == [
        ("policy", '{"allowance": 100, "period": "daily", "role_id": null}'),
        ("policy", f'{{"allowance": 500, "period": "weekly", "role_id": {PATRON}}}'),
        ("policy", f'{{"allowance": 80, "period": "daily", "role_id": {VIP}}}'),
    ]
    assert await check_invariants(db) == []


async def test_refills_top_up_to_the_role_allowance_and_never_reduce(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, default_allowance=0, clock=clock)
    await ledger.set_policy(G, 10, "daily", MOD)
    assert (await ledger.balance(G, ALICE)).available == 10  # not yet a patron
    await ledger.set_policy(G, 300, "daily", MOD, role_id=PATRON)
    clock.set("2026-11-25T09:00")  # the next day, now holding the role
    assert (await ledger.balance(G, ALICE, role_ids=[PATRON])).available == 300
    clock.set("2026-11-26T09:00")  # the role is gone: the next refill tops up to 10, which takes nothing
    assert (await ledger.balance(G, ALICE)).available == 300
    kinds = [tuple(r) for r in await db.fetchall(
        "SELECT kind, amount FROM ledger WHERE guild_id = ? AND member_id = ? ORDER BY id", (G, ALICE)
    )]
    assert kinds == [("refill", 10), ("refill", 290)]
    assert await check_invariants(db) == []


async def test_a_hold_refills_with_the_roles_the_caller_passes(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, default_allowance=5, clock=clock)
    await ledger.set_policy(G, 200, "none", MOD, role_id=PATRON)
    async with db.transaction() as conn:
        job = await insert_job(conn, G, ALICE, 150, now=clock())
        balance = await ledger.hold_in(conn, G, ALICE, job, 150, role_ids=[PATRON])
    assert (balance.available, balance.held) == (50, 150)
    assert await check_invariants(db) == []


async def test_a_role_that_comes_and_goes_tops_up_once_per_period(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, default_allowance=0, clock=clock)
    await ledger.set_policy(G, 10, "daily", MOD)
    await ledger.set_policy(G, 300, "weekly", MOD, role_id=PATRON)
    assert (await ledger.balance(G, ALICE, role_ids=[PATRON])).available == 300  # a Tuesday
    await ledger.take(G, ALICE, 300, MOD, None, role_ids=[PATRON])
    # The role is taken away and given back within the week: no second weekly top-up.
    assert (await ledger.balance(G, ALICE)).available == 10  # the daily allowance applies meanwhile
    assert (await ledger.balance(G, ALICE, role_ids=[PATRON])).available == 10
    clock.set("2026-11-25T09:00")  # the next day: the daily period is new, the weekly one is not
    assert (await ledger.balance(G, ALICE, role_ids=[PATRON])).available == 10
    assert (await ledger.balance(G, ALICE)).available == 10  # 10 already: nothing to top up
    clock.set("2026-11-30T09:00")  # the next week
    assert (await ledger.balance(G, ALICE, role_ids=[PATRON])).available == 300
    row = await db.fetchone("SELECT refill_key FROM balances WHERE guild_id = ? AND member_id = ?", (G, ALICE))
    assert row is not None and row[0] == "2026-11-25|2026-W49"
    assert await check_invariants(db) == []
