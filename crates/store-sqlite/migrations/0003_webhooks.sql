-- Issue 14: webhook endpoints and their delivery outbox. (The same model as the Postgres
-- migration 0007.) Deliveries are queued by triggers on attestations, in the transaction that
-- changes the attestation, so every path that changes a status queues them and a crash loses
-- none. Deliveries carry no personal data: wallet, status, reason, times.

CREATE TABLE webhook_endpoints (
    id         BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    url        TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    -- bit set: 1 attestation.active, 2 attestation.revoked, 4 attestation.expired,
    -- 8 attestation.renewed
    events     INTEGER NOT NULL CHECK (events BETWEEN 1 AND 15),
    -- `whsec_` + base64: the HMAC key has to be at hand to sign
    secret     TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('api', 'config')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- the `webhook-id`, the same on every attempt
    message_id      BLOB NOT NULL UNIQUE CHECK (length(message_id) = 16),
    endpoint_id     BLOB NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event           TEXT NOT NULL CHECK (event IN ('attestation.active', 'attestation.revoked',
                                                   'attestation.expired', 'attestation.renewed')),
    attestation_id  BLOB NOT NULL CHECK (length(attestation_id) = 16),
    wallet          BLOB NOT NULL CHECK (length(wallet) = 20),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked', 'expired')),
    reason          INTEGER CHECK (reason BETWEEN 1 AND 6),
    issued_at       INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    occurred_at     INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    last_status     INTEGER CHECK (last_status BETWEEN 100 AND 999),
    delivered_at    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_state ON webhook_deliveries (state, id);

-- A status change to active, revoked or expired: one delivery per subscribed endpoint. The
-- time is the row's updated_at, which every writer sets to its `now`.
CREATE TRIGGER webhook_status_changed AFTER UPDATE OF status ON attestations
FOR EACH ROW
WHEN NEW.status <> OLD.status AND NEW.status IN ('active', 'revoked', 'expired')
BEGIN
    INSERT INTO webhook_deliveries
        (message_id, endpoint_id, event, attestation_id, wallet, status, reason, issued_at,
         expires_at, occurred_at, state, attempts, next_attempt_at, created_at, updated_at)
    SELECT randomblob(16), e.id, 'attestation.' || NEW.status, NEW.id, NEW.wallet, NEW.status,
           CASE WHEN NEW.status = 'revoked' THEN NEW.revocation_reason END, NEW.issued_at,
           NEW.expires_at, NEW.updated_at, 'pending', 0, NEW.updated_at, NEW.updated_at,
           NEW.updated_at
    FROM webhook_endpoints e
    WHERE e.events & (CASE NEW.status WHEN 'active' THEN 1 WHEN 'revoked' THEN 2 ELSE 4 END) <> 0;
END;

-- A renewal: a live attestation moves to its certificate's linked successor (erasure, which
-- clears the certificate, is not one).
CREATE TRIGGER webhook_renewed AFTER UPDATE OF certificate_id ON attestations
FOR EACH ROW
WHEN NEW.status = OLD.status AND NEW.status IN ('pending', 'active')
     AND OLD.certificate_id IS NOT NULL AND NEW.certificate_id IS NOT NULL
     AND NEW.certificate_id <> OLD.certificate_id
BEGIN
    INSERT INTO webhook_deliveries
        (message_id, endpoint_id, event, attestation_id, wallet, status, reason, issued_at,
         expires_at, occurred_at, state, attempts, next_attempt_at, created_at, updated_at)
    SELECT randomblob(16), e.id, 'attestation.renewed', NEW.id, NEW.wallet, NEW.status, NULL,
           NEW.issued_at, NEW.expires_at, NEW.updated_at, 'pending', 0, NEW.updated_at,
           NEW.updated_at, NEW.updated_at
    FROM webhook_endpoints e
    WHERE e.events & 8 <> 0;
END;
