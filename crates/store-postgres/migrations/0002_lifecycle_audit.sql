-- Issue 5: renewal links, sealed serials for OCSP re-checks, expiry sweeps, per-wallet outbox
-- order, and the hash-chained audit log.

-- A renewed certificate linked to its predecessor is known before it is ever presented: its
-- notAfter is unknown until then.
ALTER TABLE certificates ALTER COLUMN not_after DROP NOT NULL;
-- The (root key id, serial) sealed with AES-256-GCM under a key derived from the pepper (nonce
-- || ciphertext || tag), for OCSP re-checks. Noise without the pepper; erasure deletes it with
-- the row. NULL for certificates recorded before this migration or known only through a link.
ALTER TABLE certificates ADD COLUMN sealed BYTEA CHECK (length(sealed) BETWEEN 29 AND 1024);
-- The certificate this one renews (the old -> new link from the revocation source).
ALTER TABLE certificates ADD COLUMN renewed_from BIGINT REFERENCES certificates (id)
    ON DELETE SET NULL;
CREATE INDEX certificates_renewed_from ON certificates (renewed_from)
    WHERE renewed_from IS NOT NULL;
-- The expiry sweep finds lapsed live attestations by time.
CREATE INDEX attestations_live_expiry ON attestations (expires_at)
    WHERE status IN ('pending', 'active');

-- Per-wallet order in the outbox: an item waits for every earlier open item of its wallet.
CREATE INDEX outbox_open_wallet ON outbox (wallet, id)
    WHERE state IN ('pending', 'claimed', 'sent');

-- The audit log: one row per event, nothing personal, each row's hash committing to the
-- previous row's (see honnin_core::audit). Rows are only ever inserted.
CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY CHECK (seq >= 1),
    at             TIMESTAMPTZ NOT NULL,
    kind           TEXT NOT NULL,
    code           TEXT,
    attestation_id BYTEA CHECK (length(attestation_id) = 16),
    request_id     TEXT,
    client         TEXT,
    api_key_id     TEXT,
    prev_hash      BYTEA NOT NULL CHECK (length(prev_hash) = 32),
    hash           BYTEA NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_kind ON audit_log (kind, seq);

-- The chain's head: exactly one row, locked by every append so the chain stays linear across
-- instances. seq 0 with a zero hash is the empty log. A deleted tail no longer matches it.
CREATE TABLE audit_head (
    id   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq  BIGINT NOT NULL CHECK (seq >= 0),
    hash BYTEA NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO audit_head (id, seq, hash) VALUES (TRUE, 0, decode(repeat('00', 32), 'hex'));
