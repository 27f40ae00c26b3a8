-- Failed sign-ins are counted under a SHA-256 hash of the typed email, so the
-- table never holds addresses (or passwords typed into the wrong field).
DELETE FROM sign_in_failure;
ALTER TABLE sign_in_failure RENAME COLUMN email TO email_hash;
ALTER TABLE sign_in_failure ADD CONSTRAINT sign_in_failure_email_hash_format
    CHECK (email_hash ~ '^[0-9a-f]{64}$');
ALTER INDEX sign_in_failure_email_idx RENAME TO sign_in_failure_email_hash_idx;
