-- Registration (Decree 59/2022 Art. 14, Decree 69/2024): the embedded population registry, the
-- registration requests, the outbox of notifications, registration officers, one-time codes.

CREATE TABLE registry_people (
    id_number TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    family_name TEXT NOT NULL,
    middle_name TEXT,
    given_name TEXT NOT NULL,
    birthdate TEXT NOT NULL,
    gender TEXT NOT NULL,
    nationality TEXT,
    travel_document TEXT,
    residence_card TEXT,
    imported_at BIGINT NOT NULL
);

CREATE TABLE registry_documents (
    id TEXT PRIMARY KEY,
    id_number TEXT NOT NULL REFERENCES registry_people (id_number) ON DELETE CASCADE,
    doc_type TEXT NOT NULL,
    number TEXT NOT NULL,
    issued_on TEXT,
    expires_on TEXT,
    issuer TEXT,
    details TEXT
);
CREATE INDEX registry_documents_person ON registry_documents (id_number);

CREATE TABLE registry_biometrics (
    id_number TEXT NOT NULL REFERENCES registry_people (id_number) ON DELETE CASCADE,
    modality TEXT NOT NULL,
    template TEXT NOT NULL,
    PRIMARY KEY (id_number, modality)
);

CREATE TABLE registrations (
    id TEXT PRIMARY KEY,
    id_number TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    reasons TEXT,
    submission TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    account_id TEXT,
    evidence TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX registrations_person ON registrations (id_number);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    kind TEXT NOT NULL,
    account_id TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    leased_until BIGINT,
    sent_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

CREATE TABLE officers (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    station TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE one_time_codes (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    target TEXT,
    code_hash TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX one_time_codes_account ON one_time_codes (account_id, purpose);
