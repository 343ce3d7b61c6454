-- The `age_over_N` predicate claims a relying party may ask for: one row per registered N.
CREATE TABLE client_age_thresholds (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    years BIGINT NOT NULL,
    PRIMARY KEY (client_id, years)
);

-- Account-status Security Event Tokens (RFC 8417): where a client wants them pushed (RFC 8935).
CREATE TABLE event_receivers (
    client_id TEXT PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL
);

-- The audit events already turned into SETs (each at most once, whichever process did it).
CREATE TABLE security_event_sources (
    audit_id TEXT PRIMARY KEY,
    dispatched_at BIGINT NOT NULL
);

-- One signed SET per event and client: pushed when the client has a receiver (retried with
-- backoff under a lease), and offered at the poll endpoint (RFC 8936) until delivered or acked.
CREATE TABLE security_events (
    jti TEXT PRIMARY KEY,
    audit_id TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    set_jws TEXT NOT NULL,
    push BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    leased_until BIGINT,
    delivered_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (audit_id, client_id)
);
CREATE INDEX security_events_due ON security_events (delivered_at, next_attempt_at);
CREATE INDEX audit_events_kind ON audit_events (kind, at);
