-- Issue 11 (item 4): a child's Level 2 at the desk from 6 to under 14 waits for its recorded
-- parent or guardian to approve in their own session, as the app's registration does. One row
-- per desk verification and guardian named; it lapses with the verification.

CREATE TABLE desk_guardian_requests (
    id TEXT PRIMARY KEY,
    verification_id TEXT NOT NULL REFERENCES desk_verifications (id) ON DELETE CASCADE,
    guardian_account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    relation TEXT NOT NULL,
    child_id_number TEXT NOT NULL,
    child_name TEXT NOT NULL,
    child_birthdate TEXT NOT NULL,
    station TEXT NOT NULL,
    -- pending, approved or denied; a decision is final.
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    UNIQUE (verification_id, guardian_account_id)
);

CREATE INDEX desk_guardian_requests_guardian ON desk_guardian_requests (guardian_account_id, status);
