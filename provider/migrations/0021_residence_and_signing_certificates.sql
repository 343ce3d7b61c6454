-- The permanent residence the population registry records (JSON: address and province code).
ALTER TABLE registry_people ADD COLUMN permanent_residence TEXT;

-- Only the province (current code) of an account's permanent residence, never the address:
-- what the `resident_of:<code>` predicate is computed from. Set from the registry when the
-- account is made and at every re-sync.
ALTER TABLE accounts ADD COLUMN residence_province TEXT;

-- The `resident_of:<code>` predicate claims a relying party may ask for: one row per province.
CREATE TABLE client_resident_provinces (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    province TEXT NOT NULL,
    PRIMARY KEY (client_id, province)
);

-- The certificate chain (x5c: base64 DER, leaf first, JSON array) an operator CA issued for a
-- signing key, published with the key in the JWKS and the key history.
CREATE TABLE signing_key_certificates (
    kid TEXT PRIMARY KEY REFERENCES signing_keys (kid) ON DELETE CASCADE,
    chain TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
