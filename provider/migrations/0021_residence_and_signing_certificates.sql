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
