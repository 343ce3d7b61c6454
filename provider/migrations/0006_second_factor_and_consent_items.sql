-- The second factor's own failure counter and lock (a correct password never resets them), and
-- consent kept as what the citizen saw: one row per released item (a claim name,
-- `verified_claims`, `offline_access`) with the level at which it was shown. The items hang off
-- the `consents` row, so withdrawing a consent removes them with it.

ALTER TABLE accounts ADD COLUMN second_factor_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN second_factor_locked_until BIGINT;

CREATE TABLE consent_items (
    account_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    item TEXT NOT NULL,
    level BIGINT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id, item),
    FOREIGN KEY (account_id, client_id) REFERENCES consents (account_id, client_id) ON DELETE CASCADE
);
