-- Delivery bookkeeping: a post that failed is retried with backoff, and a job whose post may
-- have reached Discord before a crash is looked up before it is posted again.
ALTER TABLE jobs ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN next_delivery_at REAL NOT NULL DEFAULT 0;
-- set when the member was told that the job failed, was cancelled or timed out
ALTER TABLE jobs ADD COLUMN notified_at REAL;
