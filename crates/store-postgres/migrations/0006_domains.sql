-- Column checks as domains. A table CHECK is re-read from the catalog and planned again by every
-- statement that writes the table (Postgres keeps no per-backend cache of them), so each
-- INSERT or UPDATE on the attestation path paid for about twenty of them. A domain's check is
-- parsed once per connection and cached. The rules are the same as before; the checks that
-- relate two columns stay table checks.
--
-- Also: `attestations.seq` loses its unique index (an identity column is unique by
-- construction; nothing looks rows up by seq), and `outbox.attestation_id` its foreign key (the
-- item is written by the statement that writes the attestation, and attestations are never
-- deleted); both were paid for by every write on the submit path.

CREATE DOMAIN honnin_id16 AS BYTEA CHECK (length(VALUE) = 16);
CREATE DOMAIN honnin_address AS BYTEA CHECK (length(VALUE) = 20);
CREATE DOMAIN honnin_hash32 AS BYTEA CHECK (length(VALUE) = 32);
CREATE DOMAIN honnin_reason AS SMALLINT CHECK (VALUE BETWEEN 1 AND 6);
CREATE DOMAIN honnin_level AS SMALLINT CHECK (VALUE BETWEEN 0 AND 255);
CREATE DOMAIN honnin_claims AS BIGINT CHECK (VALUE BETWEEN 0 AND 4294967295);
CREATE DOMAIN honnin_uint AS BIGINT CHECK (VALUE >= 0);
CREATE DOMAIN honnin_purpose AS TEXT CHECK (VALUE IN ('attest', 'revoke', 'erase'));
CREATE DOMAIN honnin_wallet_proof AS TEXT CHECK (VALUE IN ('eoa', 'erc1271'));
CREATE DOMAIN honnin_attestation_status AS TEXT
    CHECK (VALUE IN ('pending', 'active', 'revoked', 'expired'));
CREATE DOMAIN honnin_outbox_kind AS TEXT CHECK (VALUE IN ('attest', 'revoke'));
CREATE DOMAIN honnin_outbox_state AS TEXT
    CHECK (VALUE IN ('pending', 'claimed', 'sent', 'confirmed', 'failed', 'cancelled'));

ALTER TABLE challenges
    DROP CONSTRAINT challenges_id_check,
    DROP CONSTRAINT challenges_purpose_check,
    DROP CONSTRAINT challenges_wallet_check,
    DROP CONSTRAINT challenges_nonce_check,
    DROP CONSTRAINT challenges_chain_id_check,
    DROP CONSTRAINT challenges_registry_check,
    ALTER COLUMN id TYPE honnin_id16,
    ALTER COLUMN purpose TYPE honnin_purpose,
    ALTER COLUMN wallet TYPE honnin_address,
    ALTER COLUMN nonce TYPE honnin_hash32,
    ALTER COLUMN chain_id TYPE honnin_uint,
    ALTER COLUMN registry TYPE honnin_address;

ALTER TABLE persons
    DROP CONSTRAINT persons_pseudonym_check,
    ALTER COLUMN pseudonym TYPE honnin_hash32;

ALTER TABLE certificates
    DROP CONSTRAINT certificates_cert_hash_check,
    DROP CONSTRAINT certificates_revocation_reason_check,
    ALTER COLUMN cert_hash TYPE honnin_hash32,
    ALTER COLUMN revocation_reason TYPE honnin_reason;

ALTER TABLE attestations
    DROP CONSTRAINT attestations_seq_key,
    DROP CONSTRAINT attestations_id_check,
    DROP CONSTRAINT attestations_challenge_id_check,
    DROP CONSTRAINT attestations_request_digest_check,
    DROP CONSTRAINT attestations_wallet_check,
    DROP CONSTRAINT attestations_wallet_proof_check,
    DROP CONSTRAINT attestations_level_check,
    DROP CONSTRAINT attestations_claims_check,
    DROP CONSTRAINT attestations_status_check,
    DROP CONSTRAINT attestations_tx_hash_check,
    DROP CONSTRAINT attestations_block_number_check,
    DROP CONSTRAINT attestations_revocation_reason_check,
    ALTER COLUMN id TYPE honnin_id16,
    ALTER COLUMN challenge_id TYPE honnin_id16,
    ALTER COLUMN request_digest TYPE honnin_hash32,
    ALTER COLUMN wallet TYPE honnin_address,
    ALTER COLUMN wallet_proof TYPE honnin_wallet_proof,
    ALTER COLUMN level TYPE honnin_level,
    ALTER COLUMN claims TYPE honnin_claims,
    ALTER COLUMN status TYPE honnin_attestation_status,
    ALTER COLUMN tx_hash TYPE honnin_hash32,
    ALTER COLUMN block_number TYPE honnin_uint,
    ALTER COLUMN revocation_reason TYPE honnin_reason;

ALTER TABLE outbox
    DROP CONSTRAINT outbox_attestation_id_fkey,
    DROP CONSTRAINT outbox_kind_check,
    DROP CONSTRAINT outbox_wallet_check,
    DROP CONSTRAINT outbox_reason_check,
    DROP CONSTRAINT outbox_state_check,
    DROP CONSTRAINT outbox_tx_hash_check,
    ALTER COLUMN kind TYPE honnin_outbox_kind,
    ALTER COLUMN attestation_id TYPE honnin_id16,
    ALTER COLUMN wallet TYPE honnin_address,
    ALTER COLUMN reason TYPE honnin_reason,
    ALTER COLUMN state TYPE honnin_outbox_state,
    ALTER COLUMN tx_hash TYPE honnin_hash32;
