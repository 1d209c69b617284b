"""Coins: balances, the ledger of every movement, the guild allowance policy and job money.

Every operation writes its balance change and its ledger row in one transaction, so for each
member SUM(ledger.amount) = available and SUM(ledger.held_change) = held. Refills are lazy: the
first time a member is seen in a new period their `available` is topped up to the allowance.

A role may have an allowance of its own (`role_policy`). A member's policy is the one with the
largest allowance among the guild's and those of the roles they hold (the callers pass the role
ids they know: Discord, not this module, knows who holds which role); its period decides when
they are topped up, and a top-up never takes coins away.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosqlite

from bot.db.database import Database
from bot.db.guild_settings import audit_in
from bot.errors import UserError

log = logging.getLogger(__name__)

PERIODS = ("none", "daily", "weekly", "monthly")
MAX_AMOUNT = 1_000_000  # the sane bound for grant/take/set/allowance amounts
MAX_REASON = 500  # characters kept for a moderator's reason
NO_PERIOD_KEY = "start"  # refill_key of members created while the policy has no period


class CoinsError(UserError):
    """A coin operation refused; nothing was written."""


class InsufficientCoins(CoinsError):
    """Fewer coins available than the operation needs."""

    def __init__(self, available: int, needed: int, key: str = "coins.insufficient") -> None:
        super().__init__(key, available=available, needed=needed)
        self.available = available
        self.needed = needed


@dataclass(frozen=True)
class Policy:
    allowance: int
    period: str
    explicit: bool  # False when the guild has no row and DEFAULT_ALLOWANCE / "none" applies


@dataclass(frozen=True)
class Balance:
    guild_id: int
    member_id: int
    available: int
    held: int
    next_refill: datetime | None  # start of the next period (UTC); None for period "none"


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    kind: str
    amount: int
    held_change: int
    balance_after: int
    held_after: int
    job_id: int | None
    actor_id: int | None
    reason: str | None
    consume_coins: int | None
    created_at: float


def period_key(period: str, at: float) -> str | None:
    """The key of the allowance period containing `at` (UTC), or None for period "none"."""
    moment = datetime.fromtimestamp(at, UTC)
    if period == "daily":
        return moment.strftime("%Y-%m-%d")
    if period == "weekly":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "monthly":
        return moment.strftime("%Y-%m")
    return None


def _period_of(key: str) -> str:
    """Which kind of period a refill key names: '2026-11-24' daily, '2026-W48' weekly, '2026-11' monthly."""
    if "-W" in key:
        return "weekly"
    return "daily" if len(key) == 10 else "monthly" if len(key) == 7 else key


def refill_due(stored: str | None, key: str) -> bool:
    """Whether the member was not yet topped up in the period `key`.

    `stored` holds the last key of each kind of period the member was topped up in ('|' between
    them), so a member whose roles change the period that applies (a daily server allowance, a
    weekly role's) is topped up once per period of each kind, however often the role comes and goes.
    """
    return key not in (stored or "").split("|")


def with_refill_key(stored: str | None, key: str) -> str:
    """`stored` with `key` in place of the last key of its kind ("start" goes once a period applies)."""
    kept = [k for k in (stored or "").split("|") if k and k != NO_PERIOD_KEY and _period_of(k) != _period_of(key)]
    return "|".join(sorted([*kept, key], key=lambda k: PERIODS.index(_period_of(k))))


def next_period_start(period: str, at: float) -> datetime | None:
    """When the period after the one containing `at` begins (UTC), or None for "none"."""
    moment = datetime.fromtimestamp(at, UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        return midnight + timedelta(days=1)
    if period == "weekly":
        return midnight + timedelta(days=7 - moment.weekday())
    if period == "monthly":
        first = midnight.replace(day=1)
        if first.month == 12:
            return first.replace(year=first.year + 1, month=1)
        return first.replace(month=first.month + 1)
    return None


def _check_amount(amount: object, minimum: int, key: str = "coins.bad_amount") -> int:
    # bool is an int subclass; True coins is a bug, not an amount
    if isinstance(amount, bool) or not isinstance(amount, int) or not minimum <= amount <= MAX_AMOUNT:
        raise CoinsError(key, minimum=minimum, maximum=MAX_AMOUNT)
    return amount


def _check_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise CoinsError("coins.reason_too_long", maximum=MAX_REASON)
    return reason or None


# One row even for an unknown member: their balance (or NULLs) and the guild's policy (or NULLs).
# One page of a member's rows. The rows skipped to reach the page are counted in the index alone
# (the subquery reads only ledger_member), so a deep page does not read every row before it.
_HISTORY_PAGE = (
    "SELECT id, kind, amount, held_change, balance_after, held_after, job_id, actor_id, reason, consume_coins,"
    " created_at FROM ledger WHERE guild_id = ? AND member_id = ? AND id {bound} ("
    "SELECT id FROM ledger WHERE guild_id = ? AND member_id = ? ORDER BY id {order} LIMIT 1 OFFSET ?)"
    " ORDER BY id {order} LIMIT ?"
)

_MEMBER_SQL = (
    "SELECT b.available, b.held, b.refill_key, p.allowance, p.period FROM (SELECT 1)"
    " LEFT JOIN balances b ON b.guild_id = ? AND b.member_id = ?"
    " LEFT JOIN guild_policy p ON p.guild_id = ?"
)


async def _one(conn: aiosqlite.Connection, sql: str, params: tuple) -> aiosqlite.Row | None:
    """The first row of a query, in one trip to aiosqlite's thread (a cursor takes three)."""
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0] if rows else None


@dataclass
class _Member:
    """A member's balance row as read inside a transaction, plus the policy that applied."""

    guild_id: int
    member_id: int
    available: int
    held: int
    policy: Policy


class Ledger:
    def __init__(
        self, db: Database, *, default_allowance: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.default_allowance = default_allowance
        self.clock = clock

    # ---- policy ---------------------------------------------------------------------------

    async def policy(self, guild_id: int) -> Policy:
        row = await self.db.fetchone(
            "SELECT allowance, period FROM guild_policy WHERE guild_id = ?", (guild_id,)
        )
        return self._policy_from(None, None) if row is None else self._policy_from(row[0], row[1])

    async def set_policy(
        self, guild_id: int, allowance: int, period: str, actor_id: int, *, role_id: int | None = None
    ) -> Policy:
        """The guild's policy, or with `role_id` that role's; recorded in the governance audit."""
        allowance = _check_amount(allowance, 0, "coins.bad_allowance")
        if period not in PERIODS:
            raise CoinsError("coins.bad_period", periods=", ".join(PERIODS))
        now = self.clock()
        async with self.db.transaction() as conn:
            if role_id is None:
                await conn.execute(
                    "INSERT INTO guild_policy (guild_id, allowance, period, updated_at, updated_by)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT(guild_id) DO UPDATE SET"
                    " allowance = excluded.allowance, period = excluded.period,"
                    " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                    (guild_id, allowance, period, now, actor_id),
                )
            else:
                await conn.execute(
                    "INSERT INTO role_policy (guild_id, role_id, allowance, period, updated_at, updated_by)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(guild_id, role_id) DO UPDATE SET"
                    " allowance = excluded.allowance, period = excluded.period,"
                    " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                    (guild_id, role_id, allowance, period, now, actor_id),
                )
            detail = {"allowance": allowance, "period": period, "role_id": role_id}
            await audit_in(conn, guild_id, actor_id, "policy", detail, now)
        log.info(
            "guild %s policy%s: %s coins, period %s (by %s)",
            guild_id, f" for role {role_id}" if role_id else "", allowance, period, actor_id,
        )
        return Policy(allowance, period, True)

    async def role_policies(self, guild_id: int) -> dict[int, Policy]:
        rows = await self.db.fetchall(
            "SELECT role_id, allowance, period FROM role_policy WHERE guild_id = ? ORDER BY role_id", (guild_id,)
        )
        return {int(r[0]): Policy(int(r[1]), str(r[2]), True) for r in rows}

    async def policy_for(self, guild_id: int, role_ids: Collection[int] = ()) -> Policy:
        """The policy that applies to a member holding `role_ids`: the largest allowance wins."""
        row = await self.db.fetchone(
            "SELECT allowance, period FROM guild_policy WHERE guild_id = ?", (guild_id,)
        )
        policy = self._policy_from(None, None) if row is None else self._policy_from(row[0], row[1])
        return await self._with_roles(self.db.conn, guild_id, policy, role_ids)

    async def _with_roles(
        self, conn: aiosqlite.Connection, guild_id: int, policy: Policy, role_ids: Collection[int]
    ) -> Policy:
        """`policy` (the guild's), or a held role's when that one's allowance is larger."""
        ids = sorted({int(r) for r in role_ids})
        if not ids:
            return policy
        marks = ",".join("?" * len(ids))
        rows = await conn.execute_fetchall(
            f"SELECT allowance, period FROM role_policy WHERE guild_id = ? AND role_id IN ({marks})"
            " ORDER BY allowance DESC, role_id LIMIT 1",
            (guild_id, *ids),
        )
        for allowance, period in rows:
            if int(allowance) > policy.allowance:
                return Policy(int(allowance), str(period), True)
        return policy

    def _policy_from(self, allowance: object, period: object) -> Policy:
        """The guild's policy from its row's columns (None when it has no row)."""
        if allowance is None:
            return Policy(self.default_allowance, "none", False)
        return Policy(int(allowance), str(period), True)

    # ---- reading --------------------------------------------------------------------------

    async def balance(self, guild_id: int, member_id: int, *, role_ids: Collection[int] = ()) -> Balance:
        """The member's coins, creating them or applying a due refill first."""
        now = self.clock()
        # Most looks need no write: read first, open a write transaction only when one is due.
        row = (await self.db.fetchall(_MEMBER_SQL, (guild_id, member_id, guild_id)))[0]
        policy = await self._with_roles(self.db.conn, guild_id, self._policy_from(row[3], row[4]), role_ids)
        key = period_key(policy.period, now)
        if row[0] is not None and (key is None or not refill_due(row[2], key)):
            return self._balance(guild_id, member_id, int(row[0]), int(row[1]), policy, now)
        async with self.db.transaction() as conn:
            member = await self._ensure(conn, guild_id, member_id, now, role_ids)
        return self._balance(guild_id, member_id, member.available, member.held, member.policy, now)

    async def history(
        self, guild_id: int, member_id: int, *, limit: int = 10, offset: int = 0, total: int | None = None
    ) -> list[LedgerEntry]:
        """The member's ledger rows, newest first. With `total` (count_history), a page past the middle
        is read from the oldest end, so the oldest page of a long history costs what the newest does."""
        limit, offset = max(0, limit), max(0, offset)
        if total is not None and offset > total // 2:
            from_start = max(0, total - offset - limit)
            rows = await self.db.fetchall(
                _HISTORY_PAGE.format(order="ASC", bound=">="), (guild_id, member_id, guild_id, member_id,
                                                                 from_start, min(limit, max(0, total - offset))),
            )
            return [LedgerEntry(*row) for row in reversed(rows)]
        rows = await self.db.fetchall(
            _HISTORY_PAGE.format(order="DESC", bound="<="), (guild_id, member_id, guild_id, member_id, offset, limit)
        )
        return [LedgerEntry(*row) for row in rows]

    async def count_history(self, guild_id: int, member_id: int) -> int:
        """The member's number of ledger rows, kept beside the balance (counting 100,000 rows is slow)."""
        row = await self.db.fetchone(
            "SELECT ledger_rows FROM balances WHERE guild_id = ? AND member_id = ?", (guild_id, member_id)
        )
        return int(row[0]) if row else 0

    # ---- moderator changes ----------------------------------------------------------------

    async def grant(
        self, guild_id: int, member_id: int, amount: int, actor_id: int, reason: str | None,
        *, role_ids: Collection[int] = (),
    ) -> Balance:
        amount = _check_amount(amount, 1)
        return await self._adjust(
            guild_id, member_id, "grant", lambda available: amount, actor_id, reason, role_ids
        )

    async def take(
        self, guild_id: int, member_id: int, amount: int, actor_id: int, reason: str | None,
        *, role_ids: Collection[int] = (),
    ) -> Balance:
        """Take coins from `available`; more than available is refused, never clamped."""
        amount = _check_amount(amount, 1)

        def change(available: int) -> int:
            if amount > available:
                raise InsufficientCoins(available, amount, "coins.take_too_much")
            return -amount

        return await self._adjust(guild_id, member_id, "take", change, actor_id, reason, role_ids)

    async def set(
        self, guild_id: int, member_id: int, amount: int, actor_id: int, reason: str | None,
        *, role_ids: Collection[int] = (),
    ) -> Balance:
        """Set `available` (held coins are untouched); recorded even when nothing changes."""
        amount = _check_amount(amount, 0)
        return await self._adjust(
            guild_id, member_id, "set", lambda available: amount - available, actor_id, reason, role_ids
        )

    async def _adjust(
        self,
        guild_id: int,
        member_id: int,
        kind: str,
        change: Callable[[int], int],
        actor_id: int,
        reason: str | None,
        role_ids: Collection[int] = (),
    ) -> Balance:
        reason = _check_reason(reason)
        now = self.clock()
        async with self.db.transaction() as conn:
            member = await self._ensure(conn, guild_id, member_id, now, role_ids)
            # may raise InsufficientCoins: the transaction (with any refill) rolls back
            delta = change(member.available)
            await self._move(conn, member, kind, delta, 0, now, actor_id=actor_id, reason=reason)
        log.info(
            "coins %s %+d for %s/%s by %s -> %s available", kind, delta, guild_id, member_id, actor_id,
            member.available,
        )
        return self._balance(guild_id, member_id, member.available, member.held, member.policy, now)

    # ---- job money ------------------------------------------------------------------------

    async def hold_in(
        self,
        conn: aiosqlite.Connection,
        guild_id: int,
        member_id: int,
        job_id: int,
        amount: int,
        *,
        role_ids: Collection[int] = (),
    ) -> Balance:
        """Move `amount` from available to held for the job, inside the caller's transaction.

        The job row must already exist in this transaction. A second hold for the same job
        changes nothing and returns the balance.
        """
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ValueError(f"a hold needs a whole number of coins >= 0, not {amount!r}")
        now = self.clock()
        member = await self._ensure(conn, guild_id, member_id, now, role_ids)
        if not await _one(conn, "SELECT 1 FROM ledger WHERE job_id = ? AND kind = 'hold'", (job_id,)):
            if amount > member.available:
                raise InsufficientCoins(member.available, amount)
            await self._move(conn, member, "hold", -amount, amount, now, job_id=job_id)
        return self._balance(guild_id, member_id, member.available, member.held, member.policy, now)

    async def charge_in(
        self, conn: aiosqlite.Connection, job_id: int, consume_coins: int | None = None
    ) -> bool:
        """Spend the job's held coins. False (nothing written) without a hold or once settled."""
        return await self._settle(conn, job_id, "charge", consume_coins=consume_coins)

    async def release_in(self, conn: aiosqlite.Connection, job_id: int, reason: str | None = None) -> bool:
        """Give the job's held coins back. False (nothing written) without a hold or once settled."""
        return await self._settle(conn, job_id, "release", reason=reason)

    async def hold(
        self, guild_id: int, member_id: int, job_id: int, amount: int, *, role_ids: Collection[int] = ()
    ) -> Balance:
        async with self.db.transaction() as conn:
            return await self.hold_in(conn, guild_id, member_id, job_id, amount, role_ids=role_ids)

    async def charge(self, job_id: int, consume_coins: int | None = None) -> bool:
        async with self.db.transaction() as conn:
            return await self.charge_in(conn, job_id, consume_coins)

    async def release(self, job_id: int, reason: str | None = None) -> bool:
        async with self.db.transaction() as conn:
            return await self.release_in(conn, job_id, reason)

    async def _settle(
        self,
        conn: aiosqlite.Connection,
        job_id: int,
        kind: str,
        *,
        consume_coins: int | None = None,
        reason: str | None = None,
    ) -> bool:
        row = await _one(
            conn,
            "SELECT h.guild_id, h.member_id, h.held_change, b.available, b.held,"
            " EXISTS (SELECT 1 FROM ledger s WHERE s.job_id = h.job_id AND s.kind IN ('charge', 'release'))"
            " FROM ledger h JOIN balances b ON b.guild_id = h.guild_id AND b.member_id = h.member_id"
            " WHERE h.job_id = ? AND h.kind = 'hold'",
            (job_id,),
        )
        if row is None or row[5]:
            return False
        guild_id, member_id, cost = int(row[0]), int(row[1]), int(row[2])
        # the policy is not needed to settle; the member is not "seen" (no refill here)
        member = _Member(guild_id, member_id, int(row[3]), int(row[4]), Policy(0, "none", False))
        amount = cost if kind == "release" else 0
        await self._move(
            conn, member, kind, amount, -cost, self.clock(), job_id=job_id, reason=reason,
            consume_coins=consume_coins,
        )
        log.info("job #%s: %s %d coins for %s/%s", job_id, kind, cost, guild_id, member_id)
        return True

    # ---- the two primitives every operation goes through ----------------------------------

    async def _ensure(
        self, conn: aiosqlite.Connection, guild_id: int, member_id: int, now: float, role_ids: Collection[int] = ()
    ) -> _Member:
        """Read the member inside `conn`, creating them or applying a due refill."""
        row = await _one(conn, _MEMBER_SQL, (guild_id, member_id, guild_id))
        assert row is not None
        policy = await self._with_roles(conn, guild_id, self._policy_from(row[3], row[4]), role_ids)
        key = period_key(policy.period, now)
        if row[0] is None:
            await conn.execute(
                "INSERT INTO balances (guild_id, member_id, available, held, refill_key, created_at)"
                " VALUES (?, ?, 0, 0, ?, ?)",
                (guild_id, member_id, key or NO_PERIOD_KEY, now),
            )
            member = _Member(guild_id, member_id, 0, 0, policy)
            if policy.allowance > 0:
                start = policy.allowance
                await self._move(conn, member, "refill", start, 0, now, reason="starting allowance")
            return member
        member = _Member(guild_id, member_id, int(row[0]), int(row[1]), policy)
        if key is not None and refill_due(row[2], key):
            await conn.execute(
                "UPDATE balances SET refill_key = ? WHERE guild_id = ? AND member_id = ?",
                (with_refill_key(row[2], key), guild_id, member_id),
            )
            top_up = policy.allowance - member.available  # never reduces; held coins don't count
            if top_up > 0:
                await self._move(conn, member, "refill", top_up, 0, now, reason=f"{policy.period} allowance")
        return member

    async def _move(
        self,
        conn: aiosqlite.Connection,
        member: _Member,
        kind: str,
        amount: int,
        held_change: int,
        now: float,
        *,
        job_id: int | None = None,
        actor_id: int | None = None,
        reason: str | None = None,
        consume_coins: int | None = None,
    ) -> None:
        """Change the balance row and write its ledger row; updates `member` in place."""
        available, held = member.available + amount, member.held + held_change
        if available < 0 or held < 0:
            # the callers check first; this guards the books against a bug
            raise RuntimeError(f"coins would go negative for {member.guild_id}/{member.member_id}")
        await conn.execute(
            "UPDATE balances SET available = ?, held = ?, ledger_rows = ledger_rows + 1"
            " WHERE guild_id = ? AND member_id = ?",
            (available, held, member.guild_id, member.member_id),
        )
        await conn.execute(
            "INSERT INTO ledger (guild_id, member_id, kind, amount, held_change, balance_after,"
            " held_after, job_id, actor_id, reason, consume_coins, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                member.guild_id, member.member_id, kind, amount, held_change, available, held,
                job_id, actor_id, reason, consume_coins, now,
            ),
        )
        member.available, member.held = available, held

    def _balance(
        self, guild_id: int, member_id: int, available: int, held: int, policy: Policy, now: float
    ) -> Balance:
        return Balance(guild_id, member_id, available, held, next_period_start(policy.period, now))
