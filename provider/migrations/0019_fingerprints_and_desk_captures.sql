-- Issue 11 (items 2 and 4): the fingerprint templates captured at the desk, kept for later
-- verification and never released, each sealed with the key-encryption key (JWE); and the
-- capture of a matched desk verification (fingerprint templates, device, portrait photo),
-- sealed, kept until its enrolment stores it on the account.

CREATE TABLE fingerprint_templates (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    modality TEXT NOT NULL,
    template_sealed TEXT NOT NULL,
    device TEXT NOT NULL,
    captured_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, modality)
);

CREATE TABLE desk_captures (
    verification_id TEXT PRIMARY KEY REFERENCES desk_verifications (id) ON DELETE CASCADE,
    capture_sealed TEXT NOT NULL
);
