"""check_invariants finds each kind of broken book, written on purpose with raw SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.db.ledger import Ledger
from tests.db import Clock, at, insert_job

G, M, OTHER, MOD = 10, 20, 21, 99


@dataclass
class Books:
    """A healthy database: member M started with 100 and has three jobs.

    pending #a holds 30, delivered #b was charged 20, failed #c was released 10:
    M has 50 available and 30 held; OTHER has 105 (the default 100 and a grant of 5).
    """

    db: Database
    path: Path
    a: int
    b: int
    c: int

    def raw(self, sql: str, params: tuple = ()) -> int:
        """Write behind the ledger's back (a plain connection: foreign keys off)."""
        conn = sqlite3.connect(self.path)
        try:
            cursor = conn.execute(sql, params)
            conn.commit()
            return int(cursor.lastrowid or 0)
        finally:
            conn.close()

    async def row_id(self, job_id: int, kind: str) -> int:
        row = await self.db.fetchone("SELECT id FROM ledger WHERE job_id = ? AND kind = ?", (job_id, kind))
        assert row is not None
        return int(row[0])


@pytest.fixture
async def books(tmp_path: Path) -> AsyncIterator[Books]:
    path = tmp_path / "bot.db"
    db = await Database.open(path)
    ledger = Ledger(db, default_allowance=100, clock=Clock(at("2026-11-24T10:00")))
    jobs = []
    for cost in (30, 20, 10):
        async with db.transaction() as conn:
            job_id = await insert_job(conn, G, M, cost)
            await ledger.hold_in(conn, G, M, job_id, cost)
        jobs.append(job_id)
    a, b, c = jobs
    async with db.transaction() as conn:
        assert await ledger.charge_in(conn, b, 20)
        await conn.execute("UPDATE jobs SET state = 'delivered' WHERE id = ?", (b,))
    async with db.transaction() as conn:
        assert await ledger.release_in(conn, c, "failed")
        await conn.execute("UPDATE jobs SET state = 'failed' WHERE id = ?", (c,))
    await ledger.grant(G, OTHER, 5, MOD, None)
    yield Books(db, path, a, b, c)
    await db.close()


async def test_healthy_books_have_no_problems(books: Books) -> None:
    assert await check_invariants(books.db) == []
    row = await books.db.fetchone("SELECT available, held FROM balances WHERE member_id = ?", (M,))
    assert row is not None and tuple(row) == (50, 30)


async def test_an_empty_database_has_no_problems(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "empty.db")
    try:
        assert await check_invariants(db) == []
    finally:
        await db.close()


async def test_a_balance_changed_without_a_ledger_row(books: Books) -> None:
    books.raw("UPDATE balances SET available = 55 WHERE member_id = ?", (M,))
    last = await books.row_id(books.c, "release")
    assert await check_invariants(books.db) == [
        f"member {G}/{M}: the balance says 55 available and 30 held,"
        " the ledger sums to 50 available and 30 held",
        f"member {G}/{M}: the balance says 55 available and 30 held,"
        f" its newest ledger row #{last} says 50 and 30",
    ]


async def test_held_coins_changed_without_a_ledger_row(books: Books) -> None:
    books.raw("UPDATE balances SET held = 0 WHERE member_id = ?", (M,))
    problems = await check_invariants(books.db)
    assert (
        f"member {G}/{M}: the balance says 50 available and 0 held,"
        " the ledger sums to 50 available and 30 held" in problems
    )


async def test_a_row_whose_after_values_do_not_follow(books: Books) -> None:
    hold_b = await books.row_id(books.b, "hold")
    books.raw("UPDATE ledger SET balance_after = balance_after + 1 WHERE id = ?", (hold_b,))
    assert await check_invariants(books.db) == [
        f"member {G}/{M}: ledger row #{hold_b} says 51 available and 50 held after it,"
        " the rows up to it sum to 50 and 50"
    ]


async def test_a_row_count_beside_the_balance_that_differs_from_the_ledger(books: Books) -> None:
    row = await books.db.fetchone("SELECT COUNT(*) FROM ledger WHERE member_id = ?", (M,))
    assert row is not None and row[0] > 0
    books.raw("UPDATE balances SET ledger_rows = ledger_rows - 1 WHERE member_id = ?", (M,))
    assert await check_invariants(books.db) == [
        f"member {G}/{M}: the balance counts {row[0] - 1} ledger row(s), the ledger has {row[0]}"
    ]


async def test_ledger_rows_without_a_balance(books: Books) -> None:
    row_id = books.raw(
        "INSERT INTO ledger (guild_id, member_id, kind, amount, balance_after, held_after, created_at)"
        " VALUES (?, 555, 'grant', 5, 5, 0, 0)",
        (G,),
    )
    assert row_id
    assert await check_invariants(books.db) == [f"member {G}/555: 1 ledger row(s) but no balance"]


async def test_a_row_of_the_wrong_shape(books: Books) -> None:
    # a "grant" that removes coins, with the balance moved to match so only the shape is wrong
    row_id = books.raw(
        "INSERT INTO ledger (guild_id, member_id, kind, amount, balance_after, held_after, created_at)"
        " VALUES (?, ?, 'grant', -5, 45, 30, 0)",
        (G, M),
    )
    books.raw("UPDATE balances SET available = 45, ledger_rows = ledger_rows + 1 WHERE member_id = ?", (M,))
    assert await check_invariants(books.db) == [
        f"ledger row #{row_id}: a grant cannot change available by -5 and held by 0"
    ]


async def test_a_hold_for_a_job_that_does_not_exist(books: Books) -> None:
    row_id = books.raw(
        "INSERT INTO ledger (guild_id, member_id, kind, amount, held_change, balance_after, held_after,"
        " job_id, created_at) VALUES (?, ?, 'hold', -5, 5, 45, 35, 999, 0)",
        (G, M),
    )
    books.raw("UPDATE balances SET available = 45, held = 35, ledger_rows = ledger_rows + 1 WHERE member_id = ?", (M,))
    assert await check_invariants(books.db) == [
        f"ledger row #{row_id}: a hold for job #999, which does not exist"
    ]


async def test_a_job_without_a_hold(books: Books) -> None:
    job_id = books.raw(
        "INSERT INTO jobs (guild_id, channel_id, member_id, alias, state, cost, created_at, updated_at)"
        " VALUES (?, 1, ?, 'x', 'queued', 5, 0, 0)",
        (G, M),
    )
    assert await check_invariants(books.db) == [f"job #{job_id} (queued): no hold"]


async def test_a_job_whose_cost_differs_from_its_hold(books: Books) -> None:
    books.raw("UPDATE jobs SET cost = 31 WHERE id = ?", (books.a,))
    assert await check_invariants(books.db) == [f"job #{books.a} (pending): costs 31 but holds 30"]


async def test_a_job_with_two_holds(books: Books) -> None:
    books.raw("DROP INDEX ledger_one_hold")
    books.raw(
        "INSERT INTO ledger (guild_id, member_id, kind, amount, held_change, balance_after, held_after,"
        " job_id, created_at) VALUES (?, ?, 'hold', -30, 30, 20, 60, ?, 0)",
        (G, M, books.a),
    )
    books.raw("UPDATE balances SET available = 20, held = 60, ledger_rows = ledger_rows + 1 WHERE member_id = ?", (M,))
    assert await check_invariants(books.db) == [f"job #{books.a} (pending): 2 holds"]


async def test_a_job_both_charged_and_released(books: Books) -> None:
    books.raw("DROP INDEX ledger_one_settle")
    # released after its charge (the balance follows, so only the job is wrong)
    books.raw(
        "INSERT INTO ledger (guild_id, member_id, kind, amount, held_change, balance_after, held_after,"
        " job_id, created_at) VALUES (?, ?, 'release', 20, -20, 70, 10, ?, 0)",
        (G, M, books.b),
    )
    books.raw("UPDATE balances SET available = 70, held = 10, ledger_rows = ledger_rows + 1 WHERE member_id = ?", (M,))
    assert await check_invariants(books.db) == [
        f"job #{books.b} (delivered): both charged and released",
        f"job #{books.b} (delivered): succeeded but its hold was released",
    ]


async def test_a_job_settled_twice(books: Books) -> None:
    books.raw("DROP INDEX ledger_one_settle")
    books.raw(
        "INSERT INTO ledger (guild_id, member_id, kind, amount, held_change, balance_after, held_after,"
        " job_id, created_at) VALUES (?, ?, 'charge', 0, -20, 50, 10, ?, 0)",
        (G, M, books.b),
    )
    books.raw("UPDATE balances SET held = 10, ledger_rows = ledger_rows + 1 WHERE member_id = ?", (M,))
    assert await check_invariants(books.db) == [f"job #{books.b} (delivered): settled 2 times"]


async def test_a_settlement_of_the_wrong_size(books: Books) -> None:
    charge = await books.row_id(books.b, "charge")
    # charge 5 of the 20 held: every later row and the balance follow, so only the job is wrong
    books.raw("UPDATE ledger SET held_change = -5 WHERE id = ?", (charge,))
    books.raw("UPDATE ledger SET held_after = held_after + 15 WHERE id >= ? AND member_id = ?", (charge, M))
    books.raw("UPDATE balances SET held = 45 WHERE member_id = ?", (M,))
    assert await check_invariants(books.db) == [
        f"job #{books.b} (delivered): settles 5 of the 20 coins it holds"
    ]


async def test_a_job_with_rows_of_another_member(books: Books) -> None:
    books.raw("UPDATE jobs SET member_id = ? WHERE id = ?", (OTHER, books.a))
    assert await check_invariants(books.db) == [
        f"job #{books.a} (pending): 1 ledger row(s) belong to another member"
    ]


@pytest.mark.parametrize(
    ("job", "state", "message"),
    [
        ("a", "delivered", "succeeded but its hold is not charged"),
        ("a", "succeeded", "succeeded but its hold is not charged"),
        ("a", "cancelled", "finished but its hold is not released"),
        ("a", "timed_out", "finished but its hold is not released"),
        ("b", "running", "still active but its hold is already charged"),
        ("c", "unknown", "still active but its hold is already released"),
        ("c", "succeeded", "succeeded but its hold was released"),
        ("b", "failed", "did not succeed but its hold was charged"),
    ],
)
async def test_a_job_state_that_does_not_match_its_money(
    books: Books, job: str, state: str, message: str
) -> None:
    job_id = getattr(books, job)
    books.raw("UPDATE jobs SET state = ? WHERE id = ?", (state, job_id))
    assert await check_invariants(books.db) == [f"job #{job_id} ({state}): {message}"]


@pytest.mark.parametrize("state", ["preparing", "pending", "submitting", "queued", "running", "unknown"])
async def test_an_active_job_with_its_hold_is_fine(books: Books, state: str) -> None:
    books.raw("UPDATE jobs SET state = ? WHERE id = ?", (state, books.a))
    assert await check_invariants(books.db) == []
