-- Registration without an oracle (issue 7): the national app authenticates as a client with an
-- API permission and a client-credentials token; the registry holds each person's contact; the
-- per-number counters of submissions and portrait failures; outbox messages that were given up.

-- What a client may do at the provider's APIs besides logging citizens in (`registration`).
CREATE TABLE client_api_scopes (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    PRIMARY KEY (client_id, scope)
);

-- Access tokens of the client-credentials grant: a client acting for itself, no account.
CREATE TABLE client_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX client_tokens_client ON client_tokens (client_id);

-- The contact the registry holds: the only place a first password or a notice goes to.
ALTER TABLE registry_people ADD COLUMN phone_number TEXT;
ALTER TABLE registry_people ADD COLUMN email TEXT;

-- The client that submitted a registration (only it may read the decision back).
ALTER TABLE registrations ADD COLUMN client_id TEXT;

-- Per identification number: submissions in the current window, and portrait failures in the
-- current window (a match in flight counts as a failure until it succeeds, so concurrent
-- attempts cannot overrun the budget).
CREATE TABLE registration_guards (
    id_number TEXT PRIMARY KEY,
    submissions BIGINT NOT NULL DEFAULT 0,
    submissions_since BIGINT NOT NULL,
    portrait_failures BIGINT NOT NULL DEFAULT 0,
    portrait_failures_since BIGINT NOT NULL
);

-- A message given up after the last attempt; its body is erased if it carried a secret.
ALTER TABLE outbox ADD COLUMN given_up_at BIGINT;
