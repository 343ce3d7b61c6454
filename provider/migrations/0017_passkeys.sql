-- Issue 10 item 4: passkeys (WebAuthn) as a Level 2 possession factor.

-- A passkey bound to an account. `credential` is webauthn-rs's serialised `Passkey` (the public
-- key and what the library needs to check an assertion); `counter` is the authenticator's
-- signature counter, kept apart so that a regression is refused by compare-and-set.
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    credential TEXT NOT NULL,
    counter BIGINT NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_account ON passkeys (account_id);

-- A registration or authentication ceremony between its two requests (several processes share
-- the database: no state in memory). Keyed by the hash of the ceremony id the page carries;
-- bound to the account and the browser session that started it; taken (deleted) once.
CREATE TABLE passkey_ceremonies (
    id_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);
