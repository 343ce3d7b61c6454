-- The `age_over_N` predicate claims a relying party may ask for: one row per registered N.
CREATE TABLE client_age_thresholds (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    years BIGINT NOT NULL,
    PRIMARY KEY (client_id, years)
);
