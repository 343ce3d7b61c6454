-- private_key_jwt: each client assertion's jti is accepted once until it expires.

CREATE TABLE client_assertions (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
