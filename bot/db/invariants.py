"""Do the books balance? Every check the ledger promises, as read-only queries.

`check_invariants(db)` returns one line per problem (an empty list means all is well); it is
used by `python -m bot check` and by the tests after every operation.
"""

from __future__ import annotations

import logging

from bot.db.database import Database

log = logging.getLogger(__name__)

ACTIVE_STATES = ("preparing", "pending", "submitting", "queued", "running", "unknown")
CHARGED_STATES = ("succeeded", "delivered")  # the charge is written with the move to succeeded
RELEASED_STATES = ("failed", "cancelled", "timed_out")

# What each kind of row may do to (available, held); `amount` moves available, `held_change` held.
_ROW_SHAPES = {
    "grant": "amount > 0 AND held_change = 0",
    "take": "amount < 0 AND held_change = 0",
    "set": "held_change = 0",
    "refill": "amount >= 0 AND held_change = 0",
    "hold": "amount = -held_change AND held_change >= 0",
    "charge": "amount = 0 AND held_change <= 0",
    "release": "amount = -held_change AND amount >= 0",
}


async def check_invariants(db: Database) -> list[str]:
    problems: list[str] = []
    problems += await _member_totals(db)
    problems += await _running_totals(db)
    problems += await _row_shapes(db)
    problems += await _job_money(db)
    if problems:
        log.warning("the books do not balance: %d problem(s)", len(problems))
    return problems


async def _member_totals(db: Database) -> list[str]:
    problems = []
    rows = await db.fetchall(
        "SELECT b.guild_id, b.member_id, b.available, b.held, b.ledger_rows,"
        " COALESCE(SUM(l.amount), 0), COALESCE(SUM(l.held_change), 0), COUNT(l.id)"
        " FROM balances b LEFT JOIN ledger l ON l.guild_id = b.guild_id AND l.member_id = b.member_id"
        " GROUP BY b.guild_id, b.member_id"
        " HAVING b.available != COALESCE(SUM(l.amount), 0) OR b.held != COALESCE(SUM(l.held_change), 0)"
        " OR b.ledger_rows != COUNT(l.id)"
    )
    for guild_id, member_id, available, held, ledger_rows, sum_amount, sum_held, count in rows:
        if ledger_rows != count:
            problems.append(
                f"member {guild_id}/{member_id}: the balance counts {ledger_rows} ledger row(s), the ledger has {count}"
            )
        if (available, held) != (sum_amount, sum_held):
            problems.append(
                f"member {guild_id}/{member_id}: the balance says {available} available and {held} held,"
                f" the ledger sums to {sum_amount} available and {sum_held} held"
            )
    rows = await db.fetchall(
        "SELECT b.guild_id, b.member_id, b.available, b.held, l.id, l.balance_after, l.held_after"
        " FROM balances b JOIN ledger l ON l.id = ("
        "   SELECT MAX(id) FROM ledger WHERE guild_id = b.guild_id AND member_id = b.member_id)"
        " WHERE l.balance_after != b.available OR l.held_after != b.held"
    )
    for guild_id, member_id, available, held, row_id, balance_after, held_after in rows:
        problems.append(
            f"member {guild_id}/{member_id}: the balance says {available} available and {held} held,"
            f" its newest ledger row #{row_id} says {balance_after} and {held_after}"
        )
    rows = await db.fetchall(
        "SELECT guild_id, member_id, COUNT(*) FROM ledger l WHERE NOT EXISTS ("
        "   SELECT 1 FROM balances b WHERE b.guild_id = l.guild_id AND b.member_id = l.member_id)"
        " GROUP BY guild_id, member_id"
    )
    for guild_id, member_id, count in rows:
        problems.append(f"member {guild_id}/{member_id}: {count} ledger row(s) but no balance")
    return problems


async def _running_totals(db: Database) -> list[str]:
    """Each row's balance_after/held_after must be the running sum of its member's rows."""
    rows = await db.fetchall(
        "SELECT id, guild_id, member_id, balance_after, held_after, run_amount, run_held FROM ("
        "   SELECT id, guild_id, member_id, balance_after, held_after,"
        "   SUM(amount) OVER w AS run_amount, SUM(held_change) OVER w AS run_held FROM ledger"
        "   WINDOW w AS (PARTITION BY guild_id, member_id ORDER BY id))"
        " WHERE balance_after != run_amount OR held_after != run_held ORDER BY id"
    )
    problems, seen = [], set()
    for row_id, guild_id, member_id, balance_after, held_after, run_amount, run_held in rows:
        if (guild_id, member_id) in seen:
            continue  # one wrong row throws off the rest: name the first
        seen.add((guild_id, member_id))
        problems.append(
            f"member {guild_id}/{member_id}: ledger row #{row_id} says {balance_after} available and"
            f" {held_after} held after it, the rows up to it sum to {run_amount} and {run_held}"
        )
    return problems


async def _row_shapes(db: Database) -> list[str]:
    shapes = " OR ".join(f"(kind = '{kind}' AND {rule})" for kind, rule in _ROW_SHAPES.items())
    rows = await db.fetchall(
        f"SELECT id, kind, amount, held_change FROM ledger WHERE NOT ({shapes}) ORDER BY id"
    )
    problems = [
        f"ledger row #{row_id}: a {kind} cannot change available by {amount} and held by {held_change}"
        for row_id, kind, amount, held_change in rows
    ]
    rows = await db.fetchall(
        "SELECT l.id, l.kind, l.job_id FROM ledger l LEFT JOIN jobs j ON j.id = l.job_id"
        " WHERE l.job_id IS NOT NULL AND j.id IS NULL ORDER BY l.id"
    )
    problems += [
        f"ledger row #{row_id}: a {kind} for job #{job_id}, which does not exist"
        for row_id, kind, job_id in rows
    ]
    return problems


async def _job_money(db: Database) -> list[str]:
    rows = await db.fetchall(
        "SELECT j.id, j.state, j.cost,"
        " COALESCE(SUM(l.kind = 'hold'), 0), COALESCE(SUM(l.kind = 'charge'), 0),"
        " COALESCE(SUM(l.kind = 'release'), 0),"
        " SUM(CASE WHEN l.kind = 'hold' THEN l.held_change END),"
        " SUM(CASE WHEN l.kind IN ('charge', 'release') THEN -l.held_change END),"
        " COALESCE(SUM(l.guild_id != j.guild_id OR l.member_id != j.member_id), 0)"
        " FROM jobs j LEFT JOIN ledger l ON l.job_id = j.id GROUP BY j.id ORDER BY j.id"
    )
    problems = []
    for job_id, state, cost, holds, charges, releases, held, settled, strangers in rows:
        name = f"job #{job_id} ({state})"
        if holds == 0:
            problems.append(f"{name}: no hold")
        elif holds > 1:
            problems.append(f"{name}: {holds} holds")
        elif held != cost:
            problems.append(f"{name}: costs {cost} but holds {held}")
        if strangers:
            problems.append(f"{name}: {strangers} ledger row(s) belong to another member")
        if charges and releases:
            problems.append(f"{name}: both charged and released")
        elif charges + releases > 1:
            problems.append(f"{name}: settled {charges + releases} times")
        elif charges + releases == 1 and holds == 1 and settled != held:
            problems.append(f"{name}: settles {settled} of the {held} coins it holds")
        if state in CHARGED_STATES:
            if releases:
                problems.append(f"{name}: succeeded but its hold was released")
            elif not charges:
                problems.append(f"{name}: succeeded but its hold is not charged")
        elif state in RELEASED_STATES:
            if charges:
                problems.append(f"{name}: did not succeed but its hold was charged")
            elif not releases:
                problems.append(f"{name}: finished but its hold is not released")
        elif charges or releases:
            settlement = "charged" if charges else "released"
            problems.append(f"{name}: still active but its hold is already {settlement}")
    return problems
