-- Workflows managed from Discord (/workflow add|edit|remove): a guild's own aliases, and its
-- overrides of the file's aliases. Both are per guild; who changed what last, and when, is kept.

-- An alias added with /workflow add. `definition` is the alias as a workflows.toml table (JSON),
-- validated by the same code as the file when it is read back.
CREATE TABLE guild_workflows (
    guild_id    INTEGER NOT NULL,
    alias       TEXT    NOT NULL,
    definition  TEXT    NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  REAL    NOT NULL,
    updated_by  INTEGER NOT NULL,
    updated_at  REAL    NOT NULL,
    PRIMARY KEY (guild_id, alias)
);

-- A guild's own cost / enabled / timeout for an alias of workflows.toml (NULL: the file's value).
CREATE TABLE guild_workflow_overrides (
    guild_id    INTEGER NOT NULL,
    alias       TEXT    NOT NULL,
    cost        INTEGER CHECK (cost IS NULL OR cost >= 0),
    enabled     INTEGER CHECK (enabled IS NULL OR enabled IN (0, 1)),
    timeout     INTEGER CHECK (timeout IS NULL OR timeout > 0),
    updated_by  INTEGER NOT NULL,
    updated_at  REAL    NOT NULL,
    PRIMARY KEY (guild_id, alias)
);
