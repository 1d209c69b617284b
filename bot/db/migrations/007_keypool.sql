-- A pool of RunningHub keys: which key a job's task belongs to, and the parts of a result posted.
-- The key is recorded by fingerprint (bot/runninghub/pool.py key_fingerprint), never the key itself.
ALTER TABLE jobs ADD COLUMN api_key_id TEXT;

-- One row per message of a job's result, written right after Discord accepted the message, so a
-- restart posts only the parts that are missing (each found again by its id, not by a history scan).
CREATE TABLE delivery_parts (
    job_id      INTEGER NOT NULL REFERENCES jobs(id),
    part        INTEGER NOT NULL CHECK (part >= 1),
    message_id  INTEGER NOT NULL,
    posted_at   REAL    NOT NULL,
    PRIMARY KEY (job_id, part)
);
