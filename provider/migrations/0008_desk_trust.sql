-- The desk under issue 7: officers' roles, their second factor's own failure counter and lock,
-- and verifications bound to the officer and the desk session (the station's terminal) that made
-- them.

UPDATE officers SET role = 'registrar' WHERE role = 'registration_officer';

ALTER TABLE officers ADD COLUMN totp_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE officers ADD COLUMN totp_locked_until BIGINT;

ALTER TABLE desk_verifications ADD COLUMN station TEXT NOT NULL DEFAULT '';
ALTER TABLE desk_verifications ADD COLUMN session_hash TEXT NOT NULL DEFAULT '';
