-- Issue 10 item 5: approval in the citizen's phone app (QR login, CIBA).

-- A phone app's device key, bound to an account from a Level 2 session. The public key is an
-- ES256 JWK; a removed device keeps its row (revoked_at set) so its history stays readable.
CREATE TABLE app_devices (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    public_jwk TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX app_devices_account ON app_devices (account_id);

-- One-time enrolment codes shown on /account (stored hashed), redeemed by the app with its key.
CREATE TABLE app_enrolment_codes (
    code_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The `jti` of every signed app request accepted, per device, until it expires: single use.
CREATE TABLE app_request_jtis (
    device_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, jti)
);
CREATE INDEX app_request_jtis_expires_at ON app_request_jtis (expires_at);

-- What the app is asked to approve: a QR login (`qr`, shown on a login page, bound to the
-- interaction and the browser session that showed it) or a CIBA request (`ciba`, for the
-- account its login_hint named; NULL when the hint named no account able to approve, so the
-- request simply expires). `summary` is the JSON the app shows and signs over.
-- status: pending, approved, denied, used.
CREATE TABLE app_approvals (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    binding_message TEXT,
    status TEXT NOT NULL,
    device_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    interaction_id TEXT,
    session_hash TEXT,
    auth_req_hash TEXT UNIQUE,
    request TEXT,
    notification_sealed TEXT,
    last_poll_at BIGINT,
    interval_seconds BIGINT NOT NULL DEFAULT 5
);
CREATE INDEX app_approvals_account ON app_approvals (account_id, status);
CREATE INDEX app_approvals_interaction ON app_approvals (interaction_id, session_hash);
CREATE INDEX app_approvals_expires_at ON app_approvals (expires_at);

-- A client registered for CIBA: its token delivery mode (`poll` or `ping`) and, for ping, where
-- the notification is POSTed.
CREATE TABLE ciba_clients (
    client_id TEXT PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    delivery_mode TEXT NOT NULL,
    notification_endpoint TEXT
);
