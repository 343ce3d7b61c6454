-- The Level 2 registration desk: officers' sessions and biometric verifications in progress.

CREATE TABLE desk_sessions (
    id_hash TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    officer_id TEXT NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE desk_verifications (
    id TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (id),
    id_number TEXT NOT NULL,
    evidence TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
