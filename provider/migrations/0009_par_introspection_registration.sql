-- Issue 9: pushed authorization requests (RFC 9126), resource servers for introspection
-- (RFC 7662), dynamic client registration (RFC 7591/7592).

-- A client that must push its authorization requests; a client that may introspect tokens;
-- the hash of the registration access token of a dynamically registered client.
ALTER TABLE clients ADD COLUMN require_par BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN resource_server BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN registration_token_hash TEXT;

-- A pushed, validated authorization request: single use, short-lived. `request_uri_hash` is the
-- hash of the request_uri handed to the client.
CREATE TABLE pushed_requests (
    request_uri_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    params TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
