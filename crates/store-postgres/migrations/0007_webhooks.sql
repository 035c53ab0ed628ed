-- Issue 14: webhook endpoints and their delivery outbox. (The same model as the SQLite
-- migration 0003.) Deliveries are queued by a trigger on attestations, in the transaction that
-- changes the attestation (honnin_record_attestation's rotation and lapsed expiry included),
-- so every path that changes a status queues them and a crash loses none. Deliveries carry no
-- personal data: wallet, status, reason, times.

CREATE TABLE webhook_endpoints (
    id         BYTEA PRIMARY KEY CHECK (length(id) = 16),
    -- registration order
    seq        BIGINT GENERATED ALWAYS AS IDENTITY,
    url        TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    -- bit set: 1 attestation.active, 2 attestation.revoked, 4 attestation.expired,
    -- 8 attestation.renewed
    events     SMALLINT NOT NULL CHECK (events BETWEEN 1 AND 15),
    -- `whsec_` + base64: the HMAC key has to be at hand to sign
    secret     TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('api', 'config')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the `webhook-id`, the same on every attempt
    message_id      BYTEA NOT NULL UNIQUE CHECK (length(message_id) = 16),
    endpoint_id     BYTEA NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event           TEXT NOT NULL CHECK (event IN ('attestation.active', 'attestation.revoked',
                                                   'attestation.expired', 'attestation.renewed')),
    attestation_id  BYTEA NOT NULL CHECK (length(attestation_id) = 16),
    wallet          BYTEA NOT NULL CHECK (length(wallet) = 20),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked', 'expired')),
    reason          SMALLINT CHECK (reason BETWEEN 1 AND 6),
    issued_at       TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    last_status     SMALLINT CHECK (last_status BETWEEN 100 AND 999),
    delivered_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_state ON webhook_deliveries (state, id);

-- One delivery per subscribed endpoint for a status change to active, revoked or expired, or
-- for a live attestation moving to its certificate's linked successor (a renewal; erasure,
-- which clears the certificate, is not one). The time is the row's updated_at, which every
-- writer sets to its `now`. The message id is 128 random bits (gen_random_uuid's, with its
-- version and variant bits: 122 random).
CREATE FUNCTION honnin_webhook_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_event TEXT;
    v_bit   SMALLINT;
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        CASE NEW.status
            WHEN 'active' THEN v_bit := 1;
            WHEN 'revoked' THEN v_bit := 2;
            WHEN 'expired' THEN v_bit := 4;
            ELSE RETURN NULL;
        END CASE;
        v_event := 'attestation.' || NEW.status;
    ELSIF NEW.status IN ('pending', 'active') AND OLD.certificate_id IS NOT NULL
          AND NEW.certificate_id IS NOT NULL AND NEW.certificate_id <> OLD.certificate_id THEN
        v_event := 'attestation.renewed';
        v_bit := 8;
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO webhook_deliveries
        (message_id, endpoint_id, event, attestation_id, wallet, status, reason, issued_at,
         expires_at, occurred_at, state, attempts, next_attempt_at, created_at, updated_at)
    SELECT uuid_send(gen_random_uuid()), e.id, v_event, NEW.id, NEW.wallet, NEW.status,
           CASE WHEN NEW.status = 'revoked' THEN NEW.revocation_reason END, NEW.issued_at,
           NEW.expires_at, NEW.updated_at, 'pending', 0, NEW.updated_at, NEW.updated_at,
           NEW.updated_at
    FROM webhook_endpoints e
    WHERE e.events & v_bit <> 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER honnin_webhook_enqueue AFTER UPDATE OF status, certificate_id ON attestations
    FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status
          OR NEW.certificate_id IS DISTINCT FROM OLD.certificate_id)
    EXECUTE FUNCTION honnin_webhook_enqueue();
