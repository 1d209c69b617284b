-- Coins, the ledger, guild policy, the job journal and its outputs.
-- Timestamps are Unix seconds (REAL). Ids from Discord are INTEGER.

CREATE TABLE guild_policy (
    guild_id    INTEGER PRIMARY KEY,
    allowance   INTEGER NOT NULL CHECK (allowance >= 0),
    period      TEXT    NOT NULL CHECK (period IN ('none', 'daily', 'weekly', 'monthly')),
    updated_at  REAL    NOT NULL,
    updated_by  INTEGER
);

CREATE TABLE balances (
    guild_id     INTEGER NOT NULL,
    member_id    INTEGER NOT NULL,
    available    INTEGER NOT NULL CHECK (available >= 0),
    held         INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
    -- key of the allowance period last refilled ('2026-11-24', '2026-W48', '2026-11', 'start')
    refill_key   TEXT,
    created_at   REAL    NOT NULL,
    PRIMARY KEY (guild_id, member_id)
);

-- One row per job: the state machine lives in `state`; transitions are compare-and-set.
CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY,
    guild_id           INTEGER NOT NULL,
    channel_id         INTEGER NOT NULL,
    member_id          INTEGER NOT NULL,
    alias              TEXT    NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN (
                           'preparing', 'pending', 'submitting', 'queued', 'running',
                           'succeeded', 'delivered', 'failed', 'cancelled', 'timed_out', 'unknown')),
    inputs             TEXT    NOT NULL DEFAULT '{}',   -- JSON: prompt, params, uploaded names, nodeInfoList
    cost               INTEGER NOT NULL CHECK (cost >= 0),
    task_id            TEXT UNIQUE,
    status_message_id  INTEGER,
    result_message_id  INTEGER,
    consume_coins      INTEGER,                          -- RunningHub's own figure for the task
    error              TEXT,                             -- plain words for the member
    locale             TEXT,
    source_job_id      INTEGER REFERENCES jobs(id),      -- set on re-runs
    attempts           INTEGER NOT NULL DEFAULT 0,       -- capacity (421/415) refusals so far
    next_attempt_at    REAL    NOT NULL DEFAULT 0,
    created_at         REAL    NOT NULL,
    updated_at         REAL    NOT NULL,
    submitted_at       REAL,
    started_at         REAL,
    finished_at        REAL,
    delivered_at       REAL
);
CREATE INDEX jobs_state ON jobs(state);
CREATE INDEX jobs_member ON jobs(guild_id, member_id, id);

CREATE TABLE job_outputs (
    job_id      INTEGER NOT NULL REFERENCES jobs(id),
    idx         INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    file_type   TEXT    NOT NULL DEFAULT '',
    node_id     TEXT,
    text        TEXT,
    delivery    TEXT    NOT NULL DEFAULT 'pending' CHECK (delivery IN ('pending', 'file', 'link', 'text', 'failed')),
    PRIMARY KEY (job_id, idx)
);

-- Every coin movement. `amount` is the change to `available`, `held_change` the change to `held`;
-- so for each member SUM(amount) = available and SUM(held_change) = held.
CREATE TABLE ledger (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    member_id      INTEGER NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('grant', 'take', 'set', 'refill', 'hold', 'charge', 'release')),
    amount         INTEGER NOT NULL,
    held_change    INTEGER NOT NULL DEFAULT 0,
    balance_after  INTEGER NOT NULL CHECK (balance_after >= 0),
    held_after     INTEGER NOT NULL CHECK (held_after >= 0),
    job_id         INTEGER REFERENCES jobs(id),
    actor_id       INTEGER,
    reason         TEXT,
    consume_coins  INTEGER,      -- on charge rows: RunningHub's consumeCoins for the task
    created_at     REAL    NOT NULL,
    FOREIGN KEY (guild_id, member_id) REFERENCES balances(guild_id, member_id),
    CHECK ((kind IN ('hold', 'charge', 'release')) = (job_id IS NOT NULL))
);
CREATE INDEX ledger_member ON ledger(guild_id, member_id, id);
-- Idempotency in the schema: one hold per job, and one settlement (charge or release) per job.
CREATE UNIQUE INDEX ledger_one_hold ON ledger(job_id) WHERE kind = 'hold';
CREATE UNIQUE INDEX ledger_one_settle ON ledger(job_id) WHERE kind IN ('charge', 'release');

-- Small key/value store (e.g. the hash of the last synced command set).
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
