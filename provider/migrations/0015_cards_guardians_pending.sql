-- Issue 11 (cards, guardians, portraits, pending registrations): the identity card and the
-- recorded parents and guardians the population registry holds for a person (JSON text), and
-- the registrations held for a later decision.

ALTER TABLE registry_people ADD COLUMN identity_card TEXT;
ALTER TABLE registry_people ADD COLUMN relations TEXT;

-- A registration not decided at once: the registry was unreachable (`registry_unreachable`,
-- retried by the worker) or a parent or guardian must approve (`guardian`). The capture
-- (template, device, portrait photo) is sealed with the key-encryption key and deleted with
-- the hold when the registration is decided.
CREATE TABLE registration_holds (
    registration_id TEXT PRIMARY KEY REFERENCES registrations (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    capture_sealed TEXT NOT NULL,
    guardian_account_id TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX registration_holds_due ON registration_holds (reason, next_attempt_at);
CREATE INDEX registration_holds_guardian ON registration_holds (guardian_account_id);

-- A child's account and the recorded parent or guardian who requested and approved it.
CREATE TABLE guardianships (
    child_account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    guardian_account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    relation TEXT NOT NULL,
    registration_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (child_account_id, guardian_account_id)
);
CREATE INDEX guardianships_guardian ON guardianships (guardian_account_id);
