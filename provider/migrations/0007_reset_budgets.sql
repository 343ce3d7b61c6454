-- Password-reset budgets: codes sent and codes tried, per hour and per day, counted across codes
-- (a new code does not start a new count). Keyed by a hash of the identification number asked
-- for, so a number without an account costs the same work and gets the same answer.
-- `version` makes every change a compare-and-swap: concurrent requests cannot over-spend.

CREATE TABLE reset_budgets (
    subject_hash TEXT PRIMARY KEY,
    version BIGINT NOT NULL DEFAULT 0,
    hour_start BIGINT NOT NULL,
    hour_codes BIGINT NOT NULL DEFAULT 0,
    hour_attempts BIGINT NOT NULL DEFAULT 0,
    day_start BIGINT NOT NULL,
    day_codes BIGINT NOT NULL DEFAULT 0,
    day_attempts BIGINT NOT NULL DEFAULT 0
);
