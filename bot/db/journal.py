"""The job journal: one row per job and its state machine, in the same database as the coins.

The states and their groups are in bot/jobs/states.py. Every transition is compare-and-set
(`UPDATE ... WHERE id = ? AND state IN (...)`), so two workers can never both move a job out of a
state; the money that goes with a transition (hold, charge, release) is written in the same
transaction, so a crash leaves either both or neither.

Why a job ended is stored as a `Msg` (a catalog key and its parameters, as JSON), never as
English text, so each member reads it in their own language.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from bot.db.database import Database
from bot.db.ledger import Ledger
from bot.errors import UserError
from bot.jobs.states import AT_RUNNINGHUB, CHARGED, COUNTED_AGAINST_CAP, ENDED_BADLY, WAITING, JobState
from bot.texts import Msg


@dataclass(frozen=True)
class JobOutput:
    job_id: int
    idx: int
    url: str
    file_type: str
    node_id: str | None
    text: str | None
    delivery: str


@dataclass(frozen=True)
class Job:
    id: int
    guild_id: int
    channel_id: int
    member_id: int
    alias: str
    state: JobState
    inputs: dict[str, Any]
    cost: int
    task_id: str | None
    status_message_id: int | None
    result_message_id: int | None
    consume_coins: int | None
    error: Msg | None
    locale: str | None
    source_job_id: int | None
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    submitted_at: float | None
    started_at: float | None
    finished_at: float | None
    delivered_at: float | None
    delivery_attempts: int = 0
    next_delivery_at: float = 0.0
    notified_at: float | None = None
    api_key_id: str | None = None  # fingerprint of the pool key its task belongs to (None: the first key)
    outputs: tuple[JobOutput, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"#{self.id}"

    def elapsed(self, now: float) -> float:
        """Seconds since the job was handed to RunningHub (or created), up to its end or `now`."""
        return (self.finished_at or now) - (self.submitted_at or self.created_at)

    @classmethod
    def from_row(cls, row: aiosqlite.Row, outputs: Sequence[JobOutput] = ()) -> Job:
        # zip(keys, row), not dict(row): four times faster, and the scheduler reads every waiting job.
        data = {k: v for k, v in zip(row.keys(), row, strict=True) if k in _JOB_COLUMNS}
        data["inputs"] = json.loads(data.get("inputs") or "{}")
        data["state"] = JobState(data["state"])
        data["error"] = Msg.from_json(data.get("error"))
        return cls(**data, outputs=tuple(outputs))


_JOB_COLUMNS = frozenset(Job.__dataclass_fields__) - {"outputs"}


class Journal:
    def __init__(self, db: Database, ledger: Ledger, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.ledger = ledger
        self.clock = clock

    # ---- creation -------------------------------------------------------------------------

    async def create(
        self,
        *,
        guild_id: int,
        channel_id: int,
        member_id: int,
        alias: str,
        cost: int,
        locale: str | None,
        inputs: dict[str, Any] | None = None,
        state: str = JobState.PREPARING,
        source_job_id: int | None = None,
        role_ids: Collection[int] = (),
        cooldown: float = 0,
    ) -> Job:
        """Insert the job and hold its cost in one transaction (InsufficientCoins rolls both back).

        `role_ids` are the member's roles, for a refill due at this hold (role allowances).
        `cooldown`: refuse when the member's previous job started less than this many seconds
        ago. The gate checks it before any download; this is the check two jobs started at the
        same moment cannot both pass.
        """
        now = self.clock()
        async with self.db.transaction() as conn:
            if cooldown > 0:
                rows = list(await conn.execute_fetchall(
                    "SELECT created_at FROM jobs WHERE guild_id = ? AND member_id = ? ORDER BY id DESC LIMIT 1",
                    (guild_id, member_id),
                ))
                left = float(rows[0][0]) + cooldown - now if rows else 0.0
                if left > 0:
                    raise UserError("gov.refused.cooldown", seconds=max(1, math.ceil(left)))
            cur = await conn.execute(
                "INSERT INTO jobs (guild_id, channel_id, member_id, alias, state, inputs, cost, locale,"
                " source_job_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (guild_id, channel_id, member_id, alias, state, json.dumps(inputs or {}), cost, locale,
                 source_job_id, now, now),
            )
            job_id = int(cur.lastrowid or 0)
            await self.ledger.hold_in(conn, guild_id, member_id, job_id, cost, role_ids=role_ids)
        job = await self.get(job_id)
        assert job is not None
        return job

    # ---- reading --------------------------------------------------------------------------

    async def get(self, job_id: int, *, with_outputs: bool = False) -> Job | None:
        row = await self.db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            return None
        outputs = await self.outputs(job_id) if with_outputs else ()
        return Job.from_row(row, outputs)

    async def outputs(self, job_id: int) -> list[JobOutput]:
        rows = await self.db.fetchall("SELECT * FROM job_outputs WHERE job_id = ? ORDER BY idx", (job_id,))
        return [JobOutput(**dict(r)) for r in rows]

    async def in_states(self, states: Iterable[JobState]) -> list[Job]:
        states = tuple(states)
        marks = ",".join("?" * len(states))
        rows = await self.db.fetchall(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY id", states)
        return [Job.from_row(r) for r in rows]

    async def ready_heads(self, now: float, per_member: int | None) -> list[Job]:
        """Pending jobs due by `now`: each member's oldest `per_member` (None: all), by id.

        The scheduler plans at most as many jobs as there are free slots, in a round-robin over
        members, so it needs only each member's first few: a long queue is not read whole each pass.
        """
        if per_member is None:
            rows = await self.db.fetchall(
                "SELECT * FROM jobs WHERE state = ? AND next_attempt_at <= ? ORDER BY id", (JobState.PENDING, now)
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY guild_id, member_id ORDER BY id) AS depth"
                " FROM jobs WHERE state = ? AND next_attempt_at <= ?) WHERE depth <= ? ORDER BY id",
                (JobState.PENDING, now, per_member),
            )
        return [Job.from_row(r) for r in rows]

    async def next_attempt_after(self, now: float) -> float | None:
        """When the first pending job that is not due yet becomes due (None: there is none)."""
        row = await self.db.fetchone(
            "SELECT MIN(next_attempt_at) FROM jobs WHERE state = ? AND next_attempt_at > ?", (JobState.PENDING, now)
        )
        return None if row is None or row[0] is None else float(row[0])

    async def recent_for_member(self, guild_id: int, member_id: int, limit: int = 10) -> list[Job]:
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE guild_id = ? AND member_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, member_id, limit),
        )
        return [Job.from_row(r) for r in rows]

    async def unnotified_endings(self) -> list[Job]:
        """Jobs that ended badly or whose start is unknown and whose member was not told yet."""
        states = (*ENDED_BADLY, JobState.UNKNOWN)
        marks = ",".join("?" * len(states))
        rows = await self.db.fetchall(
            f"SELECT * FROM jobs WHERE notified_at IS NULL AND state IN ({marks}) ORDER BY id", states
        )
        return [Job.from_row(r) for r in rows]

    async def count_waiting_or_running(self, guild_id: int, member_id: int) -> int:
        """The member's jobs that count against their cap (see COUNTED_AGAINST_CAP)."""
        states = COUNTED_AGAINST_CAP
        marks = ",".join("?" * len(states))
        row = await self.db.fetchone(
            f"SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND member_id = ? AND state IN ({marks})",
            (guild_id, member_id, *states),
        )
        return int(row[0]) if row else 0

    async def counts_by_state(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        return {str(r[0]): int(r[1]) for r in rows}

    async def queue_position(self, job: Job) -> int:
        """1-based place among pending jobs (by id); 0 when the job is not waiting."""
        if job.state not in WAITING:
            return 0
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM jobs WHERE state IN (?, ?) AND id <= ?", (*WAITING, job.id)
        )
        return int(row[0]) if row else 0

    # ---- transitions (compare-and-set) ------------------------------------------------------

    def _cas_update(
        self, job_id: int, from_states: Sequence[JobState], to: JobState, fields: dict[str, Any]
    ) -> tuple[str, tuple[Any, ...]]:
        """The UPDATE that moves a job to `to` only if it is still in one of `from_states`."""
        fields = {**fields, "updated_at": self.clock()}
        sets = ", ".join(f"{k} = ?" for k in fields)
        marks = ",".join("?" * len(from_states))
        return (
            f"UPDATE jobs SET state = ?, {sets} WHERE id = ? AND state IN ({marks})",
            (to, *fields.values(), job_id, *from_states),
        )

    async def _cas(
        self, conn: aiosqlite.Connection, job_id: int, from_states: Sequence[JobState], to: JobState, **fields: Any
    ) -> bool:
        cur = await conn.execute(*self._cas_update(job_id, from_states, to, fields))
        return cur.rowcount == 1

    async def transition(self, job_id: int, from_states: Sequence[JobState], to: JobState, **fields: Any) -> bool:
        return await self.db.execute(*self._cas_update(job_id, from_states, to, fields)) == 1

    async def ready(self, job_id: int, inputs: dict[str, Any]) -> bool:
        """preparing -> pending, once the inputs are uploaded."""
        return await self.transition(job_id, (JobState.PREPARING,), JobState.PENDING, inputs=json.dumps(inputs))

    async def set_inputs(self, job_id: int, inputs: dict[str, Any]) -> bool:
        """Replace a pending job's inputs (its files were uploaded for the key about to run it)."""
        return await self.db.execute(
            "UPDATE jobs SET inputs = ?, updated_at = ? WHERE id = ? AND state = ?",
            (json.dumps(inputs), self.clock(), job_id, JobState.PENDING),
        ) == 1

    async def postpone(self, job_id: int, delay: float) -> bool:
        """A pending job is not tried again for `delay` seconds (its upload failed on the way)."""
        return await self.db.execute(
            "UPDATE jobs SET attempts = attempts + 1, next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = ?",
            (self.clock() + delay, self.clock(), job_id, JobState.PENDING),
        ) == 1

    async def claim_submit(self, job_id: int, api_key_id: str | None = None) -> bool:
        """pending -> submitting on the given pool key (recorded first: a crash leaves it known)."""
        return await self.transition(
            job_id, (JobState.PENDING,), JobState.SUBMITTING, submitted_at=self.clock(), api_key_id=api_key_id
        )

    async def submitted(self, job_id: int, task_id: str, running: bool = False) -> bool:
        now = self.clock()
        return await self.transition(
            job_id, (JobState.SUBMITTING,), JobState.RUNNING if running else JobState.QUEUED, task_id=task_id,
            started_at=now if running else None,
        )

    async def retry_later(self, job_id: int, delay: float) -> bool:
        """submitting -> pending after a refusal (421/415 capacity, 802 key): nothing was created.
        The job may then go to any key."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, next_attempt_at = ?, submitted_at = NULL,"
                " api_key_id = NULL, updated_at = ? WHERE id = ? AND state = ?",
                (JobState.PENDING, self.clock() + delay, self.clock(), job_id, JobState.SUBMITTING),
            )
            return cur.rowcount == 1

    async def outcome_unknown(self, job_id: int, reason: Msg) -> bool:
        return await self.transition(job_id, (JobState.SUBMITTING,), JobState.UNKNOWN, error=reason.to_json())

    async def bind_task(self, job_id: int, task_id: str) -> bool:
        """An 'unknown' job whose task turned up (e.g. through its webhook): track it again."""
        return await self.transition(job_id, (JobState.UNKNOWN,), JobState.QUEUED, task_id=task_id, error=None)

    async def started(self, job_id: int) -> bool:
        return await self.transition(job_id, (JobState.QUEUED,), JobState.RUNNING, started_at=self.clock())

    async def succeed(
        self, job_id: int, outputs: Sequence[tuple[str, str, str | None, str | None]], consume_coins: int | None
    ) -> bool:
        """-> succeeded, charge the hold and record the outputs (url, file_type, node_id, text), atomically."""
        async with self.db.transaction() as conn:
            if not await self._cas(
                conn, job_id, AT_RUNNINGHUB, JobState.SUCCEEDED,
                finished_at=self.clock(), consume_coins=consume_coins,
            ):
                return False
            await conn.executemany(
                "INSERT INTO job_outputs (job_id, idx, url, file_type, node_id, text) VALUES (?,?,?,?,?,?)",
                [(job_id, i, url, ftype, node, text) for i, (url, ftype, node, text) in enumerate(outputs)],
            )
            await self.ledger.charge_in(conn, job_id, consume_coins)
            return True

    async def end(
        self, job_id: int, from_states: Sequence[JobState], to: JobState, reason: Msg | None, *, told: bool = False
    ) -> bool:
        """-> failed / cancelled / timed_out and release the hold, atomically.

        `told`: the member hears of it from the caller (an ephemeral answer), so it is marked
        notified in the same step; a sweep between two steps would post a notice as well.
        """
        assert to in ENDED_BADLY
        now = self.clock()
        async with self.db.transaction() as conn:
            if not await self._cas(conn, job_id, from_states, to, finished_at=now,
                                   error=reason.to_json() if reason else None, notified_at=now if told else None):
                return False
            await self.ledger.release_in(conn, job_id, to)
            return True

    async def delivered(self, job_id: int, message_id: int | None, deliveries: dict[int, str]) -> bool:
        async with self.db.transaction() as conn:
            if not await self._cas(
                conn, job_id, (JobState.SUCCEEDED,), JobState.DELIVERED, delivered_at=self.clock(),
                result_message_id=message_id,
            ):
                return False
            await conn.executemany(
                "UPDATE job_outputs SET delivery = ? WHERE job_id = ? AND idx = ?",
                [(how, job_id, idx) for idx, how in deliveries.items()],
            )
            return True

    async def delivery_failed(self, job_id: int, delay: float) -> None:
        """Try again after `delay` (the attempt itself was counted by note_delivery_attempt)."""
        await self.db.execute("UPDATE jobs SET next_delivery_at = ? WHERE id = ?", (self.clock() + delay, job_id))

    async def note_delivery_attempt(self, job_id: int) -> None:
        """Recorded before a post, so that after a crash we know to look for the message first."""
        await self.db.execute("UPDATE jobs SET delivery_attempts = delivery_attempts + 1 WHERE id = ?", (job_id,))

    # ---- the messages of a result, as they are posted ---------------------------------------

    async def delivery_parts(self, job_id: int) -> dict[int, int]:
        """part number (from 1) -> message id, for each part of the result already posted."""
        rows = await self.db.fetchall("SELECT part, message_id FROM delivery_parts WHERE job_id = ?", (job_id,))
        return {int(r[0]): int(r[1]) for r in rows}

    async def record_part(self, job_id: int, part: int, message_id: int) -> None:
        await self.db.execute(
            "INSERT INTO delivery_parts (job_id, part, message_id, posted_at) VALUES (?,?,?,?)"
            " ON CONFLICT(job_id, part) DO UPDATE SET message_id = excluded.message_id, posted_at = excluded.posted_at",
            (job_id, part, message_id, self.clock()),
        )

    async def forget_part(self, job_id: int, part: int) -> None:
        """The message was deleted from Discord: the part must be posted again."""
        await self.db.execute("DELETE FROM delivery_parts WHERE job_id = ? AND part = ?", (job_id, part))

    async def set_status_message(self, job_id: int, message_id: int | None) -> None:
        await self.db.execute("UPDATE jobs SET status_message_id = ? WHERE id = ?", (message_id, job_id))

    async def set_notified(self, job_id: int) -> None:
        await self.db.execute("UPDATE jobs SET notified_at = ? WHERE id = ?", (self.clock(), job_id))

    async def recent_run_times(self, alias: str, limit: int) -> list[float]:
        """Seconds from running to finished of the alias's latest successes, newest first."""
        rows = await self.db.fetchall(
            "SELECT finished_at - started_at FROM jobs WHERE alias = ? AND state IN (?, ?)"
            " AND started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?",
            (alias, *CHARGED, limit),
        )
        return [max(0.0, float(r[0])) for r in rows]

    async def last_served(self) -> dict[tuple[int, int], float]:
        """When each member last had a job submitted (for round-robin)."""
        rows = await self.db.fetchall(
            "SELECT guild_id, member_id, MAX(submitted_at) FROM jobs WHERE submitted_at IS NOT NULL"
            " GROUP BY guild_id, member_id"
        )
        return {(int(r[0]), int(r[1])): float(r[2]) for r in rows}
