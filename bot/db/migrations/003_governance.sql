-- Governance (design §9): per-guild settings, the blocklist, blocked members, role allowances,
-- and an audit row for every change a moderator makes to any of them.

CREATE TABLE guild_settings (
    guild_id           INTEGER PRIMARY KEY,
    modlog_channel_id  INTEGER,                      -- NULL: no moderator notices
    cooldown_seconds   INTEGER NOT NULL DEFAULT 0 CHECK (cooldown_seconds >= 0),
    language           TEXT    NOT NULL DEFAULT 'auto' CHECK (language IN ('auto', 'en', 'zh-CN')),
    updated_at         REAL    NOT NULL,
    updated_by         INTEGER
);

-- Channels where members may start jobs; none listed: everywhere.
CREATE TABLE allowed_channels (
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    added_at    REAL    NOT NULL,
    added_by    INTEGER,
    PRIMARY KEY (guild_id, channel_id)
);

-- Entries are stored normalised (bot/governance/blocklist.py: NFKC, case folded, no format chars).
CREATE TABLE blocklist (
    guild_id  INTEGER NOT NULL,
    entry     TEXT    NOT NULL CHECK (length(entry) BETWEEN 1 AND 100),
    added_at  REAL    NOT NULL,
    added_by  INTEGER,
    PRIMARY KEY (guild_id, entry)
);

CREATE TABLE blocked_members (
    guild_id    INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    reason      TEXT,
    blocked_at  REAL    NOT NULL,
    blocked_by  INTEGER,
    PRIMARY KEY (guild_id, member_id)
);

-- A role's allowance: a member's is the largest of the guild's (guild_policy) and their roles'.
CREATE TABLE role_policy (
    guild_id    INTEGER NOT NULL,
    role_id     INTEGER NOT NULL,
    allowance   INTEGER NOT NULL CHECK (allowance >= 0),
    period      TEXT    NOT NULL CHECK (period IN ('none', 'daily', 'weekly', 'monthly')),
    updated_at  REAL    NOT NULL,
    updated_by  INTEGER,
    PRIMARY KEY (guild_id, role_id)
);

-- Who changed what, when. `detail` is JSON (the new value, the entry, the member and reason...).
CREATE TABLE governance_audit (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    actor_id    INTEGER,
    action      TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '{}',
    created_at  REAL    NOT NULL
);
CREATE INDEX governance_audit_guild ON governance_audit(guild_id, id);
