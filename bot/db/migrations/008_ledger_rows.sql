-- Each member's number of ledger rows, kept beside the balance and changed in the same statement as
-- it: /quota history counts its pages from it instead of counting a long history's rows each time.
ALTER TABLE balances ADD COLUMN ledger_rows INTEGER NOT NULL DEFAULT 0 CHECK (ledger_rows >= 0);

UPDATE balances SET ledger_rows = (
    SELECT COUNT(*) FROM ledger l WHERE l.guild_id = balances.guild_id AND l.member_id = balances.member_id
);
