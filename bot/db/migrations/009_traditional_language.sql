-- /settings language may be zh-TW (Traditional Chinese) too. SQLite cannot change a CHECK in place:
-- the table is made again with the new one and its rows copied (nothing refers to it).
CREATE TABLE guild_settings_new (
    guild_id           INTEGER PRIMARY KEY,
    modlog_channel_id  INTEGER,                      -- NULL: no moderator notices
    cooldown_seconds   INTEGER NOT NULL DEFAULT 0 CHECK (cooldown_seconds >= 0),
    language           TEXT    NOT NULL DEFAULT 'auto' CHECK (language IN ('auto', 'en', 'zh-CN', 'zh-TW')),
    updated_at         REAL    NOT NULL,
    updated_by         INTEGER
);

INSERT INTO guild_settings_new (guild_id, modlog_channel_id, cooldown_seconds, language, updated_at, updated_by)
    SELECT guild_id, modlog_channel_id, cooldown_seconds, language, updated_at, updated_by FROM guild_settings;

DROP TABLE guild_settings;

ALTER TABLE guild_settings_new RENAME TO guild_settings;
