-- Issue 11, items 1, 5, 6: organisations' own accounts with several representatives, the
-- business registry, the account lifecycle's notices, and documents re-synced with a history.

-- An organisation's own account (kind 'organization', no level: level 0) shares the id of its
-- `organizations` row. Nobody logs in to it: its password hash is a well-formed Argon2 hash of
-- nothing anyone knows. Existing organisations get theirs here.
INSERT INTO accounts (id, kind, level, username, password_hash, family_name, given_name,
    birthdate, gender, verified_at, status, created_at, updated_at)
SELECT id, 'organization', 0, 'org:' || code,
    '$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    name, '', established_on, 'none', created_at, 'active', created_at, created_at
FROM organizations;

-- Who represents an organisation: one or more Level 2 accounts; a removed representative keeps
-- the row with `removed_at` (the history), and releases nothing after.
CREATE TABLE organization_representatives (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    removed_at BIGINT
);
CREATE INDEX organization_representatives_account ON organization_representatives (account_id);
CREATE INDEX organization_representatives_org ON organization_representatives (organization_id);
INSERT INTO organization_representatives (id, organization_id, account_id, added_at)
SELECT 'rep-' || id, id, representative_account_id, created_at FROM organizations;

-- The business registry (National Business Registration Database), embedded copy.
-- `representatives` is a JSON array of the legal representatives' identification numbers.
CREATE TABLE registry_organizations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    short_name TEXT,
    foreign_name TEXT,
    established_on TEXT NOT NULL,
    head_office_address TEXT NOT NULL,
    status TEXT NOT NULL,
    representatives TEXT NOT NULL,
    imported_at BIGINT NOT NULL
);

-- Every change a re-sync from the sector databases made to an account's documents.
-- `change` is added, changed or removed; the values are the document as JSON text.
CREATE TABLE document_history (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    change TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    number TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    source TEXT NOT NULL
);
CREATE INDEX document_history_account ON document_history (account_id, at);

-- When an account's documents and cards were last compared with the registry.
ALTER TABLE accounts ADD COLUMN synced_at BIGINT;
CREATE INDEX accounts_synced ON accounts (synced_at);
