-- Issue 5: renewal links, sealed serials for OCSP re-checks, expiry sweeps, per-wallet outbox
-- order, and the hash-chained audit log. (The same model as the Postgres migration.)

-- A renewed certificate linked to its predecessor is known before it is ever presented: its
-- notAfter is unknown until then. SQLite cannot drop NOT NULL in place, and rebuilding the
-- table would fire attestations' ON DELETE SET NULL: swap the column instead.
ALTER TABLE certificates ADD COLUMN not_after_new INTEGER;
UPDATE certificates SET not_after_new = not_after;
ALTER TABLE certificates DROP COLUMN not_after;
ALTER TABLE certificates RENAME COLUMN not_after_new TO not_after;
-- (root key id, serial) sealed with AES-256-GCM under a key derived from the pepper, for OCSP
-- re-checks; noise without the pepper, deleted with the row on erasure. NULL for certificates
-- recorded before this migration or known only through a link.
ALTER TABLE certificates ADD COLUMN sealed BLOB CHECK (length(sealed) BETWEEN 29 AND 1024);
-- The certificate this one renews (the old -> new link from the revocation source).
ALTER TABLE certificates ADD COLUMN renewed_from INTEGER REFERENCES certificates (id)
    ON DELETE SET NULL;
CREATE INDEX certificates_renewed_from ON certificates (renewed_from)
    WHERE renewed_from IS NOT NULL;

-- The expiry sweep finds lapsed live attestations by time.
CREATE INDEX attestations_live_expiry ON attestations (expires_at)
    WHERE status IN ('pending', 'active');

-- Per-wallet order in the outbox: an item waits for every earlier open item of its wallet.
CREATE INDEX outbox_open_wallet ON outbox (wallet, id)
    WHERE state IN ('pending', 'claimed', 'sent');

-- The audit log (see honnin_core::audit). Times are Unix microseconds here (the hash commits
-- to microseconds). Rows are only ever inserted.
CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
    at             INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    code           TEXT,
    attestation_id BLOB CHECK (length(attestation_id) = 16),
    request_id     TEXT,
    client         TEXT,
    api_key_id     TEXT,
    prev_hash      BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash           BLOB NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_kind ON audit_log (kind, seq);

-- The chain's head: exactly one row; seq 0 with a zero hash is the empty log.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  INTEGER NOT NULL CHECK (seq >= 0),
    hash BLOB NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));
