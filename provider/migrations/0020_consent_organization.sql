-- Issue 11 (organisation choice): a representative of several organisations chooses on the
-- consent page which one a service receives; the choice is part of the consent, remembered
-- with it (and withdrawn with it). NULL: no choice made (a representative of one organisation
-- releases that one).
ALTER TABLE consents ADD COLUMN organization_code TEXT;
