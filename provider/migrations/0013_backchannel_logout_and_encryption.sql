-- Back-channel logout (OpenID Connect Back-Channel Logout 1.0): a `sid` per logged-in browser
-- session, stable while it lasts, and the clients that session logged in to, each with the
-- subject it knows the citizen by, so that the end of the session can be told to each of them.
ALTER TABLE browser_sessions ADD COLUMN sid TEXT;
CREATE INDEX browser_sessions_sid ON browser_sessions (sid);

CREATE TABLE session_clients (
    sid TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    sub TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (sid, client_id)
);
CREATE INDEX session_clients_expiry ON session_clients (expires_at);

-- A client's back-channel logout endpoint, and how it wants its ID tokens and UserInfo:
-- encrypted to one of its registered keys (JWE alg and enc), UserInfo signed (JWS alg).
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN id_token_encrypted_response_alg TEXT;
ALTER TABLE clients ADD COLUMN id_token_encrypted_response_enc TEXT;
ALTER TABLE clients ADD COLUMN userinfo_encrypted_response_alg TEXT;
ALTER TABLE clients ADD COLUMN userinfo_encrypted_response_enc TEXT;
ALTER TABLE clients ADD COLUMN userinfo_signed_response_alg TEXT;
