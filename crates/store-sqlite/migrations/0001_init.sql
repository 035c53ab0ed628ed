-- honnin's schema (SQLite), the same model as the Postgres schema. Times are Unix seconds
-- (INTEGER). Nothing here identifies a certificate or a person without the operator's pepper:
-- no certificate bytes, serials, subjects or public keys, only keyed hashes.

CREATE TABLE challenges (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    purpose     TEXT NOT NULL CHECK (purpose IN ('attest', 'revoke', 'erase')),
    wallet      BLOB NOT NULL CHECK (length(wallet) = 20),
    audience    TEXT,
    nonce       BLOB NOT NULL CHECK (length(nonce) = 32),
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    chain_id    INTEGER NOT NULL CHECK (chain_id >= 0),
    registry    BLOB NOT NULL CHECK (length(registry) = 20),
    domain      TEXT NOT NULL,
    consumed_at INTEGER
) WITHOUT ROWID;
CREATE INDEX challenges_expires_at ON challenges (expires_at);

CREATE TABLE persons (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    pseudonym  BLOB NOT NULL UNIQUE CHECK (length(pseudonym) = 32),
    created_at INTEGER NOT NULL
);

CREATE TABLE certificates (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    cert_hash         BLOB NOT NULL UNIQUE CHECK (length(cert_hash) = 32),
    person_id         INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    not_after         INTEGER NOT NULL,
    revoked_at        INTEGER,
    revocation_reason INTEGER CHECK (revocation_reason BETWEEN 1 AND 6),
    created_at        INTEGER NOT NULL
);
CREATE INDEX certificates_person ON certificates (person_id);

CREATE TABLE attestations (
    id                BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    challenge_id      BLOB NOT NULL UNIQUE CHECK (length(challenge_id) = 16),
    request_digest    BLOB CHECK (length(request_digest) = 32),
    wallet            BLOB NOT NULL CHECK (length(wallet) = 20),
    wallet_proof      TEXT NOT NULL CHECK (wallet_proof IN ('eoa', 'erc1271')),
    person_id         INTEGER REFERENCES persons (id) ON DELETE SET NULL,
    certificate_id    INTEGER REFERENCES certificates (id) ON DELETE SET NULL,
    level             INTEGER NOT NULL CHECK (level BETWEEN 0 AND 255),
    claims            INTEGER NOT NULL CHECK (claims BETWEEN 0 AND 4294967295),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked', 'expired')),
    issued_at         INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    tx_hash           BLOB CHECK (length(tx_hash) = 32),
    block_number      INTEGER CHECK (block_number >= 0),
    revocation_reason INTEGER CHECK (revocation_reason BETWEEN 1 AND 6),
    revoked_at        INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    CHECK ((status = 'revoked') = (revocation_reason IS NOT NULL))
);
CREATE UNIQUE INDEX attestations_live_wallet ON attestations (wallet)
    WHERE status IN ('pending', 'active');
CREATE INDEX attestations_live_person ON attestations (person_id, issued_at)
    WHERE status IN ('pending', 'active');
-- queue order of attestations is the rowid (monotonic: rows are never deleted but by erasure)
CREATE INDEX attestations_wallet ON attestations (wallet);
CREATE INDEX attestations_certificate ON attestations (certificate_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('attest', 'revoke')),
    attestation_id  BLOB NOT NULL REFERENCES attestations (id),
    wallet          BLOB NOT NULL CHECK (length(wallet) = 20),
    level           INTEGER,
    claims          INTEGER,
    issued_at       INTEGER,
    expires_at      INTEGER,
    reason          INTEGER CHECK (reason BETWEEN 1 AND 6),
    state           TEXT NOT NULL
        CHECK (state IN ('pending', 'claimed', 'sent', 'confirmed', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    tx_hash         BLOB CHECK (length(tx_hash) = 32),
    block_number    INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK (kind <> 'attest' OR (level IS NOT NULL AND claims IS NOT NULL
                                AND issued_at IS NOT NULL AND expires_at IS NOT NULL)),
    CHECK (kind <> 'revoke' OR reason IS NOT NULL)
);
CREATE INDEX outbox_open ON outbox (id) WHERE state IN ('pending', 'claimed', 'sent');
CREATE INDEX outbox_attestation ON outbox (attestation_id);

-- Exclusive leases (the chain writer): a holder token and an expiry the holder keeps extending.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     BLOB NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
