"""The coins ledger on real SQLite files, with a hand-moved clock."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.db.ledger import (
    MAX_AMOUNT,
    MAX_REASON,
    PERIODS,
    Balance,
    CoinsError,
    InsufficientCoins,
    Ledger,
    Policy,
    next_period_start,
    period_key,
)
from bot.texts import t
from bot.texts.catalog.coins import MESSAGES
from tests.db import Clock, at, insert_job

G, M, MOD = 10, 20, 99  # guild, member, moderator


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.db")
    yield database
    await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-11-24T10:00"))  # a Tuesday


@pytest.fixture
def ledger(db: Database, clock: Clock) -> Ledger:
    return Ledger(db, default_allowance=100, clock=clock)


async def rows(db: Database, member_id: int = M) -> list[tuple]:
    found = await db.fetchall(
        "SELECT kind, amount, held_change, balance_after, held_after, job_id, actor_id, reason"
        " FROM ledger WHERE guild_id = ? AND member_id = ? ORDER BY id",
        (G, member_id),
    )
    return [tuple(r) for r in found]


async def stored(db: Database, member_id: int = M) -> tuple[int, int, str | None]:
    row = await db.fetchone(
        "SELECT available, held, refill_key FROM balances WHERE guild_id = ? AND member_id = ?",
        (G, member_id),
    )
    assert row is not None
    return int(row[0]), int(row[1]), row[2]


async def new_job(db: Database, ledger: Ledger, cost: int, member_id: int = M) -> int:
    """A job row and its hold in one transaction, as the pipeline does it."""
    async with db.transaction() as conn:
        job_id = await insert_job(conn, G, member_id, cost)
        await ledger.hold_in(conn, G, member_id, job_id, cost)
    return job_id


# ---- members, policy and refills -------------------------------------------------------------


async def test_a_new_member_starts_with_the_default_allowance(db: Database, ledger: Ledger) -> None:
    balance = await ledger.balance(G, M)
    assert balance == Balance(G, M, 100, 0, None)
    assert await rows(db) == [("refill", 100, 0, 100, 0, None, None, "starting allowance")]
    assert await stored(db) == (100, 0, "start")
    # looking again writes nothing
    assert await ledger.balance(G, M) == balance
    assert len(await rows(db)) == 1
    assert await check_invariants(db) == []


async def test_a_zero_allowance_creates_the_member_without_a_row(db: Database, clock: Clock) -> None:
    ledger = Ledger(db, default_allowance=0, clock=clock)
    assert (await ledger.balance(G, M)).available == 0
    assert await rows(db) == []
    assert await stored(db) == (0, 0, "start")
    assert await check_invariants(db) == []


async def test_policy_defaults_and_explicit(db: Database, ledger: Ledger) -> None:
    assert await ledger.policy(G) == Policy(100, "none", False)
    assert await ledger.set_policy(G, 250, "weekly", MOD) == Policy(250, "weekly", True)
    assert await ledger.policy(G) == Policy(250, "weekly", True)
    assert await ledger.policy(G + 1) == Policy(100, "none", False)
    row = await db.fetchone("SELECT allowance, period, updated_by FROM guild_policy WHERE guild_id = ?", (G,))
    assert row is not None and tuple(row) == (250, "weekly", MOD)
    # a new member of the guild starts with the guild's allowance
    assert (await ledger.balance(G, M)).available == 250


@pytest.mark.parametrize("allowance", [-1, MAX_AMOUNT + 1, True, 1.5, "10"])
async def test_policy_refuses_a_bad_allowance(db: Database, ledger: Ledger, allowance: object) -> None:
    with pytest.raises(CoinsError) as caught:
        await ledger.set_policy(G, allowance, "daily", MOD)  # type: ignore[arg-type]
    assert caught.value.key == "coins.bad_allowance"
    assert caught.value.params == {"minimum": 0, "maximum": MAX_AMOUNT}
    assert await db.fetchall("SELECT * FROM guild_policy") == []


async def test_policy_refuses_a_bad_period(db: Database, ledger: Ledger) -> None:
    with pytest.raises(CoinsError) as caught:
        await ledger.set_policy(G, 10, "hourly", MOD)
    assert caught.value.key == "coins.bad_period"
    assert "daily" in caught.value.render("en")
    assert await db.fetchall("SELECT * FROM guild_policy") == []


async def test_daily_refill_tops_up_once_per_day(db: Database, ledger: Ledger, clock: Clock) -> None:
    await ledger.set_policy(G, 100, "daily", MOD)
    first = await ledger.balance(G, M)
    assert first.next_refill == datetime(2026, 11, 25, tzinfo=UTC)
    assert await stored(db) == (100, 0, "2026-11-24")
    await ledger.take(G, M, 70, MOD, None)
    clock.set("2026-11-24T23:59:59")
    assert (await ledger.balance(G, M)).available == 30  # same day: nothing
    clock.set("2026-11-25T00:00:00")
    balance = await ledger.balance(G, M)
    assert (balance.available, balance.next_refill) == (100, datetime(2026, 11, 26, tzinfo=UTC))
    assert (await rows(db))[-1] == ("refill", 70, 0, 100, 0, None, None, "daily allowance")
    assert await stored(db) == (100, 0, "2026-11-25")
    clock.advance(3600)
    await ledger.balance(G, M)
    assert len(await rows(db)) == 3  # start, take, one refill
    assert await check_invariants(db) == []


async def test_refill_never_reduces_and_ignores_held_coins(
    db: Database, ledger: Ledger, clock: Clock
) -> None:
    await ledger.set_policy(G, 100, "daily", MOD)
    await ledger.grant(G, M, 50, MOD, "prize")
    clock.set("2026-11-25T08:00")
    assert (await ledger.balance(G, M)).available == 150  # above the allowance: untouched
    assert await stored(db) == (150, 0, "2026-11-25")
    await new_job(db, ledger, 120)
    clock.set("2026-11-26T08:00")
    balance = await ledger.balance(G, M)
    assert (balance.available, balance.held) == (100, 120)  # topped up from 30; held not counted
    assert (await rows(db))[-1][:3] == ("refill", 70, 0)
    assert await check_invariants(db) == []


async def test_weekly_refill_follows_iso_weeks_across_the_new_year(
    db: Database, ledger: Ledger, clock: Clock
) -> None:
    clock.set("2026-12-31T12:00")  # a Thursday in ISO week 2026-W53
    await ledger.set_policy(G, 100, "weekly", MOD)
    balance = await ledger.balance(G, M)
    assert balance.next_refill == datetime(2027, 1, 4, tzinfo=UTC)
    assert await stored(db) == (100, 0, "2026-W53")
    await ledger.set(G, M, 10, MOD, None)
    clock.set("2027-01-03T23:59")  # Sunday, still 2026-W53
    assert (await ledger.balance(G, M)).available == 10
    clock.set("2027-01-04T00:00")  # Monday, 2027-W01
    balance = await ledger.balance(G, M)
    assert (balance.available, balance.next_refill) == (100, datetime(2027, 1, 11, tzinfo=UTC))
    assert await stored(db) == (100, 0, "2027-W01")
    assert (await rows(db))[-1][-1] == "weekly allowance"


async def test_monthly_refill_at_the_first_of_the_month(db: Database, ledger: Ledger, clock: Clock) -> None:
    clock.set("2026-01-31T23:00")
    await ledger.set_policy(G, 100, "monthly", MOD)
    assert (await ledger.balance(G, M)).next_refill == datetime(2026, 2, 1, tzinfo=UTC)
    await ledger.take(G, M, 100, MOD, None)
    clock.set("2026-01-31T23:59:59")
    assert (await ledger.balance(G, M)).available == 0
    clock.set("2026-02-01T00:00")
    assert (await ledger.balance(G, M)).available == 100
    await ledger.take(G, M, 40, MOD, None)
    clock.set("2026-02-28T23:59")
    assert (await ledger.balance(G, M)).available == 60  # still February
    clock.set("2026-12-15T00:00")
    balance = await ledger.balance(G, M)
    assert (balance.available, balance.next_refill) == (100, datetime(2027, 1, 1, tzinfo=UTC))


async def test_period_none_never_refills(db: Database, ledger: Ledger, clock: Clock) -> None:
    await ledger.balance(G, M)
    await ledger.take(G, M, 100, MOD, None)
    for _ in range(5):
        clock.advance(40 * 86400)
        balance = await ledger.balance(G, M)
        assert (balance.available, balance.next_refill) == (0, None)
    await ledger.set_policy(G, 100, "none", MOD)
    clock.advance(40 * 86400)
    assert (await ledger.balance(G, M)).available == 0
    assert [r[0] for r in await rows(db)] == ["refill", "take"]


async def test_switching_from_none_to_a_period_refills_at_the_next_sight(
    db: Database, ledger: Ledger
) -> None:
    await ledger.balance(G, M)
    await ledger.take(G, M, 80, MOD, None)
    await ledger.set_policy(G, 100, "daily", MOD)
    assert (await ledger.balance(G, M)).available == 100
    assert await stored(db) == (100, 0, "2026-11-24")


def test_period_helpers() -> None:
    monday = at("2026-11-23T00:00")
    assert period_key("daily", monday - 1) == "2026-11-22"
    assert period_key("weekly", monday - 1) == "2026-W47"
    assert period_key("weekly", monday) == "2026-W48"
    assert period_key("monthly", monday) == "2026-11"
    assert period_key("none", monday) is None
    assert next_period_start("weekly", monday) == datetime(2026, 11, 30, tzinfo=UTC)
    assert next_period_start("daily", at("2026-12-31T23:59")) == datetime(2027, 1, 1, tzinfo=UTC)
    assert next_period_start("monthly", at("2026-12-31T23:59")) == datetime(2027, 1, 1, tzinfo=UTC)
    assert next_period_start("none", monday) is None


# ---- grant, take, set --------------------------------------------------------------------------


async def test_grant_take_and_set_write_one_row_each(db: Database, ledger: Ledger) -> None:
    assert (await ledger.grant(G, M, 50, MOD, "event winner")).available == 150
    assert (await ledger.take(G, M, 30, MOD, "  spam  ")).available == 120
    assert (await ledger.set(G, M, 500, MOD, None)).available == 500
    assert (await ledger.set(G, M, 500, MOD, "again")).available == 500
    assert (await ledger.take(G, M, 500, MOD, None)).available == 0
    assert await rows(db) == [
        ("refill", 100, 0, 100, 0, None, None, "starting allowance"),
        ("grant", 50, 0, 150, 0, None, MOD, "event winner"),
        ("take", -30, 0, 120, 0, None, MOD, "spam"),
        ("set", 380, 0, 500, 0, None, MOD, None),
        ("set", 0, 0, 500, 0, None, MOD, "again"),
        ("take", -500, 0, 0, 0, None, MOD, None),
    ]
    assert await check_invariants(db) == []


async def test_take_more_than_available_is_refused_and_writes_nothing(db: Database, ledger: Ledger) -> None:
    await new_job(db, ledger, 60)  # 40 available, 60 held
    before = (await rows(db), await stored(db))
    with pytest.raises(InsufficientCoins) as caught:
        await ledger.take(G, M, 41, MOD, "too much")
    assert (caught.value.available, caught.value.needed) == (40, 41)
    assert caught.value.key == "coins.take_too_much"
    assert "40" in caught.value.render("en") and "41" in caught.value.render("zh-CN")
    assert (await rows(db), await stored(db)) == before


async def test_a_refused_take_rolls_back_the_refill_it_triggered(
    db: Database, ledger: Ledger, clock: Clock
) -> None:
    await ledger.set_policy(G, 100, "daily", MOD)
    await ledger.take(G, M, 100, MOD, None)
    clock.set("2026-11-25T09:00")
    with pytest.raises(InsufficientCoins) as caught:
        await ledger.take(G, M, 101, MOD, None)
    assert caught.value.available == 100  # what the member would have had after the refill
    assert await stored(db) == (0, 0, "2026-11-24")
    assert (await ledger.balance(G, M)).available == 100  # the refill happens at the next sight


@pytest.mark.parametrize("amount", [0, -5, MAX_AMOUNT + 1, True, 2.0, "5", None])
async def test_grant_and_take_refuse_amounts_out_of_bounds(
    db: Database, ledger: Ledger, amount: object
) -> None:
    for operation in (ledger.grant, ledger.take):
        with pytest.raises(CoinsError) as caught:
            await operation(G, M, amount, MOD, None)  # type: ignore[arg-type]
        assert caught.value.key == "coins.bad_amount"
        assert caught.value.params == {"minimum": 1, "maximum": MAX_AMOUNT}
    assert await db.fetchall("SELECT * FROM ledger") == []
    assert await db.fetchall("SELECT * FROM balances") == []


@pytest.mark.parametrize("amount", [-1, MAX_AMOUNT + 1, False, 0.5])
async def test_set_refuses_amounts_out_of_bounds(db: Database, ledger: Ledger, amount: object) -> None:
    with pytest.raises(CoinsError) as caught:
        await ledger.set(G, M, amount, MOD, None)  # type: ignore[arg-type]
    assert caught.value.params == {"minimum": 0, "maximum": MAX_AMOUNT}
    assert await db.fetchall("SELECT * FROM ledger") == []


async def test_bounds_themselves_are_allowed(db: Database, ledger: Ledger) -> None:
    assert (await ledger.set(G, M, 0, MOD, None)).available == 0
    assert (await ledger.set(G, M, MAX_AMOUNT, MOD, None)).available == MAX_AMOUNT
    assert (await ledger.grant(G, M, MAX_AMOUNT, MOD, None)).available == 2 * MAX_AMOUNT
    assert (await ledger.take(G, M, 1, MOD, None)).available == 2 * MAX_AMOUNT - 1


async def test_a_too_long_reason_is_refused(db: Database, ledger: Ledger) -> None:
    with pytest.raises(CoinsError) as caught:
        await ledger.grant(G, M, 5, MOD, "x" * (MAX_REASON + 1))
    assert caught.value.key == "coins.reason_too_long"
    assert await db.fetchall("SELECT * FROM ledger") == []
    await ledger.grant(G, M, 5, MOD, "x" * MAX_REASON)


async def test_history_is_newest_first_and_pages(db: Database, ledger: Ledger, clock: Clock) -> None:
    for n in range(1, 13):
        clock.advance(1)
        await ledger.grant(G, M, n, MOD, f"r{n}")
    await ledger.grant(G, M + 1, 7, MOD, None)  # another member's rows stay out
    assert await ledger.count_history(G, M) == 13
    page = await ledger.history(G, M)
    assert [e.amount for e in page] == [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    newest = page[0]
    assert (newest.kind, newest.actor_id, newest.reason, newest.job_id) == ("grant", MOD, "r12", None)
    assert newest.balance_after == 100 + sum(range(1, 13)) and newest.held_after == 0
    assert newest.created_at == clock.now
    rest = await ledger.history(G, M, limit=10, offset=10)
    assert [(e.kind, e.amount) for e in rest] == [("grant", 2), ("grant", 1), ("refill", 100)]
    assert await ledger.history(G, M, limit=5, offset=20) == []
    assert await ledger.count_history(G, 12345) == 0


async def test_every_page_is_the_same_read_from_either_end(db: Database, ledger: Ledger, clock: Clock) -> None:
    # A page past the middle is read from the oldest end (cheaper for long histories): same rows.
    for n in range(1, 24):
        clock.advance(1)
        await ledger.grant(G, M, n, MOD, None)
        await ledger.grant(G, M + 1, n, MOD, None)  # interleaved rows of another member
    total = await ledger.count_history(G, M)
    everything = [e.id for e in await ledger.history(G, M, limit=total)]
    assert len(everything) == total == 24 and everything == sorted(everything, reverse=True)
    for limit in (1, 5, 10):
        for offset in range(0, total + 3):
            expected = everything[offset:offset + limit]
            assert [e.id for e in await ledger.history(G, M, limit=limit, offset=offset, total=total)] == expected
            assert [e.id for e in await ledger.history(G, M, limit=limit, offset=offset)] == expected


async def test_a_database_from_before_the_row_count_counts_each_members_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.db.database as database

    path = tmp_path / "old.db"
    every = database.migration_files()
    monkeypatch.setattr(database, "migration_files", lambda: [m for m in every if m[0] < 8])
    old = await Database.open(path)
    await old.close()
    plain = sqlite3.connect(path)  # a busy member and a quiet one, written by the bot of then
    plain.executemany("INSERT INTO balances (guild_id, member_id, available, held, refill_key, created_at)"
                      " VALUES (?, ?, ?, 0, 'k', 0)", [(G, M, 15), (G, M + 1, 5)])
    plain.executemany("INSERT INTO ledger (guild_id, member_id, kind, amount, balance_after, held_after, created_at)"
                      " VALUES (?, ?, 'grant', 5, ?, 0, 0)", [(G, M, 5), (G, M, 10), (G, M, 15), (G, M + 1, 5)])
    plain.commit()
    plain.close()
    monkeypatch.setattr(database, "migration_files", lambda: every)
    db = await Database.open(path)
    try:
        ledger = Ledger(db, default_allowance=0)
        assert (await ledger.count_history(G, M), await ledger.count_history(G, M + 1)) == (3, 1)
        await ledger.grant(G, M, 5, MOD, None)
        assert await ledger.count_history(G, M) == 4 == len(await ledger.history(G, M))
        assert await check_invariants(db) == []
    finally:
        await db.close()


# ---- job money ---------------------------------------------------------------------------------


async def test_hold_then_charge(db: Database, ledger: Ledger) -> None:
    async with db.transaction() as conn:
        job_id = await insert_job(conn, G, M, 30)
        balance = await ledger.hold_in(conn, G, M, job_id, 30)
    assert (balance.available, balance.held) == (70, 30)
    assert await ledger.charge(job_id, consume_coins=12) is True
    assert await ledger.charge(job_id, consume_coins=12) is False
    assert await ledger.release(job_id) is False
    assert await rows(db) == [
        ("refill", 100, 0, 100, 0, None, None, "starting allowance"),
        ("hold", -30, 30, 70, 30, job_id, None, None),
        ("charge", 0, -30, 70, 0, job_id, None, None),
    ]
    row = await db.fetchone("SELECT consume_coins FROM ledger WHERE kind = 'charge'")
    assert row is not None and row[0] == 12
    assert await stored(db) == (70, 0, "start")


async def test_hold_then_release(db: Database, ledger: Ledger) -> None:
    job_id = await new_job(db, ledger, 45)
    assert await ledger.release(job_id, reason="cancelled") is True
    assert await ledger.release(job_id) is False
    assert await ledger.charge(job_id) is False
    assert (await rows(db))[-1] == ("release", 45, -45, 100, 0, job_id, None, "cancelled")
    assert await stored(db) == (100, 0, "start")


async def test_a_second_hold_for_the_job_changes_nothing(db: Database, ledger: Ledger) -> None:
    job_id = await new_job(db, ledger, 30)
    again = await ledger.hold(G, M, job_id, 30)
    assert (again.available, again.held) == (70, 30)
    assert len(await rows(db)) == 2


async def test_a_short_hold_is_refused_with_the_balance_and_the_job_rolls_back(
    db: Database, ledger: Ledger
) -> None:
    await new_job(db, ledger, 90)
    with pytest.raises(InsufficientCoins) as caught:
        await new_job(db, ledger, 11)
    assert (caught.value.available, caught.value.needed) == (10, 11)
    assert caught.value.key == "coins.insufficient"
    assert caught.value.render("en") == "This costs 11 coins but you have 10 available."
    assert "10" in caught.value.render("zh-CN")
    jobs = await db.fetchall("SELECT cost FROM jobs")
    assert [r[0] for r in jobs] == [90]
    assert await stored(db) == (10, 90, "start")
    assert await check_invariants(db) == []


async def test_a_zero_cost_job_holds_zero(db: Database, ledger: Ledger) -> None:
    job_id = await new_job(db, ledger, 0)
    assert await ledger.charge(job_id) is True
    assert [r[:3] for r in await rows(db)][1:] == [("hold", 0, 0), ("charge", 0, 0)]
    await db.execute("UPDATE jobs SET state = 'delivered' WHERE id = ?", (job_id,))
    assert await check_invariants(db) == []


async def test_hold_for_a_new_member_creates_them_in_the_same_transaction(
    db: Database, ledger: Ledger
) -> None:
    with pytest.raises(InsufficientCoins):
        await new_job(db, ledger, 101)
    assert await db.fetchall("SELECT * FROM balances") == []  # rolled back with the job
    await new_job(db, ledger, 100)
    assert await stored(db) == (0, 100, "start")


async def test_settling_a_job_without_a_hold_does_nothing(db: Database, ledger: Ledger) -> None:
    async with db.transaction() as conn:
        job_id = await insert_job(conn, G, M, 5)
    assert await ledger.charge(job_id) is False
    assert await ledger.release(job_id) is False
    assert await ledger.charge(424242) is False
    assert await db.fetchall("SELECT * FROM ledger") == []


async def test_a_negative_hold_is_a_bug(db: Database, ledger: Ledger) -> None:
    with pytest.raises(ValueError):
        async with db.transaction() as conn:
            job_id = await insert_job(conn, G, M, 0)
            await ledger.hold_in(conn, G, M, job_id, -1)


async def test_a_hold_needs_its_job_row(db: Database, ledger: Ledger) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await ledger.hold(G, M, 777, 10)
    assert await db.fetchall("SELECT * FROM ledger") == []


# ---- idempotency in the schema ---------------------------------------------------------------


async def _raw_settle(db: Database, job_id: int, kind: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO ledger (guild_id, member_id, kind, amount, held_change, balance_after, held_after,"
            " job_id, created_at) VALUES (?, ?, ?, 0, 0, 0, 0, ?, 0)",
            (G, M, kind, job_id),
        )


async def test_the_schema_refuses_a_second_charge(db: Database, ledger: Ledger) -> None:
    job_id = await new_job(db, ledger, 10)
    await ledger.charge(job_id)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await _raw_settle(db, job_id, "charge")


async def test_the_schema_refuses_a_release_after_a_charge(db: Database, ledger: Ledger) -> None:
    job_id = await new_job(db, ledger, 10)
    await ledger.charge(job_id)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await _raw_settle(db, job_id, "release")


async def test_the_schema_refuses_a_charge_after_a_release(db: Database, ledger: Ledger) -> None:
    job_id = await new_job(db, ledger, 10)
    await ledger.release(job_id)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await _raw_settle(db, job_id, "charge")


async def test_the_schema_refuses_a_second_hold(db: Database, ledger: Ledger) -> None:
    job_id = await new_job(db, ledger, 10)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await _raw_settle(db, job_id, "hold")


async def test_the_schema_ties_job_ids_to_job_kinds(db: Database, ledger: Ledger) -> None:
    job_id = await new_job(db, ledger, 10)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO ledger (guild_id, member_id, kind, amount, balance_after, held_after, job_id,"
                " created_at) VALUES (?, ?, 'grant', 1, 1, 0, ?, 0)",
                (G, M, job_id),
            )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO ledger (guild_id, member_id, kind, amount, balance_after, held_after,"
                " created_at) VALUES (?, ?, 'hold', 0, 0, 0, 0)",
                (G, M),
            )


async def test_the_schema_keeps_balances_non_negative(db: Database, ledger: Ledger) -> None:
    await ledger.balance(G, M)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE balances SET available = -1 WHERE guild_id = ? AND member_id = ?", (G, M)
            )


# ---- the catalog -----------------------------------------------------------------------------


def test_every_coins_message_has_both_languages_with_the_same_placeholders() -> None:
    assert MESSAGES
    for key, entry in MESSAGES.items():
        assert key.startswith("coins.")
        assert set(entry) == {"en", "zh-CN"}, key
        names = {lang: set(re.findall(r"{(\w+)}", text)) for lang, text in entry.items()}
        assert names["en"] == names["zh-CN"], key
    for period in PERIODS:
        assert t(f"coins.policy.{period}", "zh-CN", allowance=5) != t(f"coins.policy.{period}", "en", allowance=5)


def test_refusals_render_in_both_languages() -> None:
    error = CoinsError("coins.bad_amount", minimum=1, maximum=MAX_AMOUNT)
    assert error.render("en") == f"The amount must be a whole number from 1 to {MAX_AMOUNT}."
    assert str(MAX_AMOUNT) in error.render("zh-CN")
    assert str(InsufficientCoins(3, 7)) == "This costs 7 coins but you have 3 available."


# ---- a long random run against a model ---------------------------------------------------------

MEMBERS = ((1, 1), (1, 2), (2, 3))  # (guild, member): two in one guild, one in another
START = at("2026-12-28T06:00")  # a Monday, a few days before a month and ISO-year change


def model_key(period: str, when: float) -> str | None:
    moment = datetime.fromtimestamp(when, UTC)
    iso = moment.isocalendar()
    keys = {
        "daily": f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}",
        "weekly": f"{iso.year}-W{iso.week:02d}",
        "monthly": f"{moment.year:04d}-{moment.month:02d}",
    }
    return keys.get(period)


@dataclass
class Model:
    """What the books should say: the ledger's rules, written out independently."""

    default: int
    now: float = START
    policies: dict[int, tuple[int, str]] = field(default_factory=dict)
    members: dict[tuple[int, int], list] = field(default_factory=dict)  # [available, held, {period: key}]
    jobs: dict[int, list] = field(default_factory=dict)  # id -> [guild, member, cost, settled]

    def seen(self, guild_id: int, member_id: int) -> list:
        """The member after creation/refill, as a copy the caller commits (or drops)."""
        allowance, period = self.policies.get(guild_id, (self.default, "none"))
        key = model_key(period, self.now)
        current = self.members.get((guild_id, member_id))
        if current is None:
            return [allowance, 0, {period: key} if key else {}]
        available, held, keys = current
        # Topped up once per period of each kind: a policy switched away and back within one
        # period does not top up again.
        if key is not None and keys.get(period) != key:
            return [max(available, allowance), held, {**keys, period: key}]
        return [available, held, dict(keys)]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = Clock(START)
        self.model = Model(default=50)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"machine-{id(self)}.db"
        path.unlink(missing_ok=True)
        self.db = self.run(Database.open(path))
        self.ledger = Ledger(self.db, default_allowance=self.model.default, clock=self.clock)

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.db.close())
        self.loop.close()

    def _expect(self, balance: Balance, guild_id: int, member_id: int) -> None:
        available, held, _ = self.model.members[(guild_id, member_id)]
        assert (balance.available, balance.held) == (available, held)

    @rule(who=st.sampled_from(MEMBERS))
    def look(self, who: tuple[int, int]) -> None:
        self.model.members[who] = self.model.seen(*who)
        self._expect(self.run(self.ledger.balance(*who)), *who)

    @rule(who=st.sampled_from(MEMBERS), amount=st.integers(-5, 400))
    def grant(self, who: tuple[int, int], amount: int) -> None:
        if amount < 1:
            with pytest.raises(CoinsError):
                self.run(self.ledger.grant(*who, amount, MOD, None))
            return
        after = self.model.seen(*who)
        after[0] += amount
        self.model.members[who] = after
        self._expect(self.run(self.ledger.grant(*who, amount, MOD, "g")), *who)

    @rule(who=st.sampled_from(MEMBERS), amount=st.integers(1, 400))
    def take(self, who: tuple[int, int], amount: int) -> None:
        after = self.model.seen(*who)
        if amount > after[0]:
            with pytest.raises(InsufficientCoins):
                self.run(self.ledger.take(*who, amount, MOD, None))
            return  # refused: the refill it triggered rolled back too
        after[0] -= amount
        self.model.members[who] = after
        self._expect(self.run(self.ledger.take(*who, amount, MOD, None)), *who)

    @rule(who=st.sampled_from(MEMBERS), amount=st.integers(0, 400))
    def set_available(self, who: tuple[int, int], amount: int) -> None:
        after = self.model.seen(*who)
        after[0] = amount
        self.model.members[who] = after
        self._expect(self.run(self.ledger.set(*who, amount, MOD, None)), *who)

    @rule(who=st.sampled_from(MEMBERS), cost=st.integers(0, 120))
    def hold_new_job(self, who: tuple[int, int], cost: int) -> None:
        after = self.model.seen(*who)

        async def create() -> tuple[int, Balance]:
            async with self.db.transaction() as conn:
                job_id = await insert_job(conn, *who, cost)
                return job_id, await self.ledger.hold_in(conn, *who, job_id, cost)

        if cost > after[0]:
            with pytest.raises(InsufficientCoins):
                self.run(create())
            return
        after[0] -= cost
        after[1] += cost
        self.model.members[who] = after
        job_id, balance = self.run(create())
        self.model.jobs[job_id] = [*who, cost, None]
        self._expect(balance, *who)

    @precondition(lambda self: self.model.jobs)
    @rule(data=st.data())
    def hold_again(self, data: st.DataObject) -> None:
        job_id = data.draw(st.sampled_from(sorted(self.model.jobs)))
        guild_id, member_id, cost, _ = self.model.jobs[job_id]
        self.model.members[(guild_id, member_id)] = self.model.seen(guild_id, member_id)
        self._expect(self.run(self.ledger.hold(guild_id, member_id, job_id, cost)), guild_id, member_id)

    @precondition(lambda self: self.model.jobs)
    @rule(data=st.data(), kind=st.sampled_from(["charge", "release"]), consume=st.none() | st.integers(0, 99))
    def settle(self, data: st.DataObject, kind: str, consume: int | None) -> None:
        job_id = data.draw(st.sampled_from(sorted(self.model.jobs)))
        job = self.model.jobs[job_id]
        guild_id, member_id, cost, settled = job
        expected = settled is None
        if kind == "charge":
            done = self.run(self._settle_with_state(job_id, kind, "succeeded", consume))
        else:
            done = self.run(self._settle_with_state(job_id, kind, "failed", None))
        assert done is expected
        if expected:
            job[3] = kind
            member = self.model.members[(guild_id, member_id)]
            member[1] -= cost
            if kind == "release":
                member[0] += cost

    async def _settle_with_state(self, job_id: int, kind: str, state: str, consume: int | None) -> bool:
        # the way the journal does it: the settlement and the move to a final state together
        async with self.db.transaction() as conn:
            if kind == "charge":
                done = await self.ledger.charge_in(conn, job_id, consume)
            else:
                done = await self.ledger.release_in(conn, job_id, "failed")
            if done:
                await conn.execute("UPDATE jobs SET state = ? WHERE id = ?", (state, job_id))
            return done

    @rule(seconds=st.sampled_from([60, 3600, 6 * 3600, 86400, 3 * 86400, 8 * 86400, 32 * 86400]))
    def advance_clock(self, seconds: int) -> None:
        self.clock.advance(seconds)
        self.model.now = self.clock.now

    @rule(
        guild_id=st.sampled_from([1, 2]),
        allowance=st.integers(-1, 300),
        period=st.sampled_from([*PERIODS, "yearly"]),
    )
    def set_policy(self, guild_id: int, allowance: int, period: str) -> None:
        if allowance < 0 or period not in PERIODS:
            with pytest.raises(CoinsError):
                self.run(self.ledger.set_policy(guild_id, allowance, period, MOD))
            return
        self.run(self.ledger.set_policy(guild_id, allowance, period, MOD))
        self.model.policies[guild_id] = (allowance, period)

    @invariant()
    def books_balance(self) -> None:
        assert self.run(check_invariants(self.db)) == []
        found = self.run(self.db.fetchall("SELECT guild_id, member_id, available, held FROM balances"))
        actual = {(r[0], r[1]): (r[2], r[3]) for r in found}
        assert actual == {who: (m[0], m[1]) for who, m in self.model.members.items()}


@pytest.mark.timeout(600)  # shrinking a failure replays many runs; passing takes seconds
def test_a_long_random_run_keeps_the_books(tmp_path: Path) -> None:
    run_state_machine_as_test(
        lambda: LedgerMachine(tmp_path),
        settings=settings(max_examples=50, stateful_step_count=80, deadline=None),
    )
