-- Portable SQL: the same file runs on SQLite and PostgreSQL. Times are Unix seconds (BIGINT),
-- flags are 0/1 (BIGINT), structured values are JSON text. Never edit once applied: add a file.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    level BIGINT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    family_name TEXT NOT NULL,
    middle_name TEXT,
    given_name TEXT NOT NULL,
    birthdate TEXT NOT NULL,
    gender TEXT NOT NULL,
    nationality TEXT,
    travel_document TEXT,
    portrait_jpeg TEXT,
    phone_number TEXT,
    phone_verified BIGINT NOT NULL DEFAULT 0,
    email TEXT,
    email_verified BIGINT NOT NULL DEFAULT 0,
    verified_at BIGINT NOT NULL,
    verification_evidence TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    doc_type TEXT NOT NULL,
    number TEXT NOT NULL,
    issued_on TEXT,
    expires_on TEXT,
    issuer TEXT,
    details TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX documents_account ON documents (account_id);

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    short_name TEXT,
    foreign_name TEXT,
    established_on TEXT NOT NULL,
    head_office_address TEXT NOT NULL,
    representative_account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX organizations_representative ON organizations (representative_account_id);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    auth_method TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    allowed_scopes TEXT NOT NULL,
    signing_alg TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    jwks TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE consents (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id)
);

CREATE TABLE browser_sessions (
    id_hash TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    level BIGINT,
    amr TEXT,
    auth_time BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX browser_sessions_account ON browser_sessions (account_id);

CREATE TABLE auth_requests (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    params TEXT NOT NULL,
    login_done BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE auth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    grant_data TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    grant_data TEXT NOT NULL,
    code_hash TEXT,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX tokens_code ON tokens (code_hash);
CREATE INDEX tokens_account ON tokens (account_id);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_jwe TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activate_at BIGINT NOT NULL,
    remove_at BIGINT
);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    account_id TEXT,
    client_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, at);
