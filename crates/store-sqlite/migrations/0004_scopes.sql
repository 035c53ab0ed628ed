-- Issue 15: scoped attestations (one record per (wallet, scope), per-dApp and unlinkable across
-- dApps). (The same model as the Postgres migration 0008.)
--
-- A scoped person or certificate is an ordinary `persons` / `certificates` row whose keyed hash
-- is the scope's own (honnin_core::Pepper::pseudonym_in / cert_hash_in): those tables get no
-- scope column, and nothing stored joins a person's rows across scopes. The scope is stored
-- only where the chain has it too: on the attestation (the registry's record), its outbox
-- items and its webhook deliveries; NULL is the global record.

-- The registered scopes. Never deleted: their records must keep following the card, and the
-- life cycle reaches them only by computing the person's hashes in every scope listed here.
-- The name as honnin_core::ScopeName accepts it.
CREATE TABLE scopes (
    -- keccak256("honnin/v1/scope" || 0x00 || name)
    id         BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 32),
    name       TEXT NOT NULL UNIQUE
        CHECK (length(name) BETWEEN 1 AND 64 AND substr(name, 1, 1) GLOB '[a-z0-9]'
               AND name NOT GLOB '*[^a-z0-9.-]*'),
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- The scope a challenge is for (its name: it is in the signed message); NULL: global.
ALTER TABLE challenges ADD COLUMN scope TEXT
    CHECK (length(scope) BETWEEN 1 AND 64 AND substr(scope, 1, 1) GLOB '[a-z0-9]'
           AND scope NOT GLOB '*[^a-z0-9.-]*');

-- The record's scope. The foreign key keeps every scoped record in a registered scope (the
-- only ones the life cycle reaches); a global record (NULL) is not checked.
ALTER TABLE attestations ADD COLUMN scope BLOB REFERENCES scopes (id)
    CHECK (length(scope) = 32);

-- One live attestation per wallet and scope. SQLite cannot change an index's predicate: the
-- global index is dropped and created again (same name) for the global records only; the
-- scoped records get their own. Unique violations name the columns (attestations.wallet, and
-- attestations.scope for the second).
DROP INDEX attestations_live_wallet;
CREATE UNIQUE INDEX attestations_live_wallet ON attestations (wallet)
    WHERE status IN ('pending', 'active') AND scope IS NULL;
CREATE UNIQUE INDEX attestations_live_wallet_scoped ON attestations (wallet, scope)
    WHERE status IN ('pending', 'active') AND scope IS NOT NULL;

-- The chain writer calls attest/revoke for NULL, attestScoped/revokeScoped for a scope.
ALTER TABLE outbox ADD COLUMN scope BLOB CHECK (length(scope) = 32);

-- Deliveries say which record changed.
ALTER TABLE webhook_deliveries ADD COLUMN scope BLOB CHECK (length(scope) = 32);

-- Migration 0003's triggers, the delivery now carrying the record's scope. SQLite cannot
-- change a trigger: each is dropped and created again, with everything else (events, bits,
-- conditions, columns, times) as before.
DROP TRIGGER webhook_status_changed;
CREATE TRIGGER webhook_status_changed AFTER UPDATE OF status ON attestations
FOR EACH ROW
WHEN NEW.status <> OLD.status AND NEW.status IN ('active', 'revoked', 'expired')
BEGIN
    INSERT INTO webhook_deliveries
        (message_id, endpoint_id, event, attestation_id, wallet, scope, status, reason,
         issued_at, expires_at, occurred_at, state, attempts, next_attempt_at, created_at,
         updated_at)
    SELECT randomblob(16), e.id, 'attestation.' || NEW.status, NEW.id, NEW.wallet, NEW.scope,
           NEW.status, CASE WHEN NEW.status = 'revoked' THEN NEW.revocation_reason END,
           NEW.issued_at, NEW.expires_at, NEW.updated_at, 'pending', 0, NEW.updated_at,
           NEW.updated_at, NEW.updated_at
    FROM webhook_endpoints e
    WHERE e.events & (CASE NEW.status WHEN 'active' THEN 1 WHEN 'revoked' THEN 2 ELSE 4 END) <> 0;
END;

DROP TRIGGER webhook_renewed;
CREATE TRIGGER webhook_renewed AFTER UPDATE OF certificate_id ON attestations
FOR EACH ROW
WHEN NEW.status = OLD.status AND NEW.status IN ('pending', 'active')
     AND OLD.certificate_id IS NOT NULL AND NEW.certificate_id IS NOT NULL
     AND NEW.certificate_id <> OLD.certificate_id
BEGIN
    INSERT INTO webhook_deliveries
        (message_id, endpoint_id, event, attestation_id, wallet, scope, status, reason,
         issued_at, expires_at, occurred_at, state, attempts, next_attempt_at, created_at,
         updated_at)
    SELECT randomblob(16), e.id, 'attestation.renewed', NEW.id, NEW.wallet, NEW.scope,
           NEW.status, NULL, NEW.issued_at, NEW.expires_at, NEW.updated_at, 'pending', 0,
           NEW.updated_at, NEW.updated_at, NEW.updated_at
    FROM webhook_endpoints e
    WHERE e.events & 8 <> 0;
END;
