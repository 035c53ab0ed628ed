-- honnin's schema (Postgres). Nothing here identifies a certificate or a person without the
-- operator's pepper: no certificate bytes, serials, subjects or public keys, only keyed hashes.

-- Challenges: single use, consumed atomically (consumed_at), purged after expiry.
CREATE TABLE challenges (
    id          BYTEA PRIMARY KEY CHECK (length(id) = 16),
    purpose     TEXT NOT NULL CHECK (purpose IN ('attest', 'revoke', 'erase')),
    wallet      BYTEA NOT NULL CHECK (length(wallet) = 20),
    audience    TEXT,
    nonce       BYTEA NOT NULL CHECK (length(nonce) = 32),
    issued_at   TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    chain_id    BIGINT NOT NULL CHECK (chain_id >= 0),
    registry    BYTEA NOT NULL CHECK (length(registry) = 20),
    domain      TEXT NOT NULL,
    consumed_at TIMESTAMPTZ
);
CREATE INDEX challenges_expires_at ON challenges (expires_at);

-- Persons: a keyed pseudonym (HMAC of root key id and serial). Erasure deletes the row; its
-- certificates go with it and attestations keep only wallet and chain facts (person_id NULL).
CREATE TABLE persons (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pseudonym  BYTEA NOT NULL UNIQUE CHECK (length(pseudonym) = 32),
    created_at TIMESTAMPTZ NOT NULL
);

-- Certificates: keyed hash of (issuer key id, serial) -> person. A renewed certificate linked to
-- an old one (issue 5) is a row pointing at the old certificate's person.
CREATE TABLE certificates (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cert_hash         BYTEA NOT NULL UNIQUE CHECK (length(cert_hash) = 32),
    person_id         BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    not_after         TIMESTAMPTZ NOT NULL,
    revoked_at        TIMESTAMPTZ,
    -- the registry's reason code (3 certificate revoked, 4 superseded) once revoked
    revocation_reason SMALLINT CHECK (revocation_reason BETWEEN 1 AND 6),
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX certificates_person ON certificates (person_id);

-- Attestations. At most one live (pending or active) attestation per wallet; expiry is derived
-- from expires_at and written back lazily as status 'expired'.
CREATE TABLE attestations (
    id                BYTEA PRIMARY KEY CHECK (length(id) = 16),
    -- insertion order (times are whole seconds and tie)
    seq               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    challenge_id      BYTEA NOT NULL UNIQUE CHECK (length(challenge_id) = 16),
    -- keyed digest of the request, for idempotent re-submission; erasure clears it
    request_digest    BYTEA CHECK (length(request_digest) = 32),
    wallet            BYTEA NOT NULL CHECK (length(wallet) = 20),
    wallet_proof      TEXT NOT NULL CHECK (wallet_proof IN ('eoa', 'erc1271')),
    person_id         BIGINT REFERENCES persons (id) ON DELETE SET NULL,
    certificate_id    BIGINT REFERENCES certificates (id) ON DELETE SET NULL,
    level             SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 255),
    claims            BIGINT NOT NULL CHECK (claims BETWEEN 0 AND 4294967295),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked', 'expired')),
    issued_at         TIMESTAMPTZ NOT NULL,
    expires_at        TIMESTAMPTZ NOT NULL,
    tx_hash           BYTEA CHECK (length(tx_hash) = 32),
    block_number      BIGINT CHECK (block_number >= 0),
    revocation_reason SMALLINT CHECK (revocation_reason BETWEEN 1 AND 6),
    revoked_at        TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    CHECK ((status = 'revoked') = (revocation_reason IS NOT NULL))
);
CREATE UNIQUE INDEX attestations_live_wallet ON attestations (wallet)
    WHERE status IN ('pending', 'active');
CREATE INDEX attestations_live_person ON attestations (person_id, issued_at)
    WHERE status IN ('pending', 'active');
CREATE INDEX attestations_wallet ON attestations (wallet, seq DESC);
CREATE INDEX attestations_certificate ON attestations (certificate_id);

-- The outbox: chain work written in the same transaction as the change that causes it. Attest
-- items carry the record to write, so the writer needs no join.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('attest', 'revoke')),
    attestation_id  BYTEA NOT NULL REFERENCES attestations (id),
    wallet          BYTEA NOT NULL CHECK (length(wallet) = 20),
    level           SMALLINT,
    claims          BIGINT,
    issued_at       TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ,
    reason          SMALLINT CHECK (reason BETWEEN 1 AND 6),
    state           TEXT NOT NULL
        CHECK (state IN ('pending', 'claimed', 'sent', 'confirmed', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_until   TIMESTAMPTZ,
    tx_hash         BYTEA CHECK (length(tx_hash) = 32),
    block_number    BIGINT,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CHECK (kind <> 'attest' OR (level IS NOT NULL AND claims IS NOT NULL
                                AND issued_at IS NOT NULL AND expires_at IS NOT NULL)),
    CHECK (kind <> 'revoke' OR reason IS NOT NULL)
);
CREATE INDEX outbox_open ON outbox (id) WHERE state IN ('pending', 'claimed', 'sent');
CREATE INDEX outbox_attestation ON outbox (attestation_id);
