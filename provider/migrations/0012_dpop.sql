-- Issue 9: DPoP (RFC 9449) and the FAPI 2.0 Security Profile as a client option.

-- The JWK SHA-256 thumbprint (RFC 7638) an access or refresh token is bound to; NULL for a
-- bearer token.
ALTER TABLE tokens ADD COLUMN dpop_jkt TEXT;

-- A client whose tokens must be DPoP-bound; the security profile it is held to ('fapi2' or
-- NULL for none).
ALTER TABLE clients ADD COLUMN require_dpop BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN profile TEXT;

-- The `jti` of every DPoP proof accepted, per key, until the proof's `iat` is too old to be
-- accepted again: a proof is single use.
CREATE TABLE dpop_proofs (
    jkt TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (jkt, jti)
);
CREATE INDEX dpop_proofs_expires_at ON dpop_proofs (expires_at);
