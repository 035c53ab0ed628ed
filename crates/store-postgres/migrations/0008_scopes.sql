-- Issue 15: scoped attestations (one record per (wallet, scope), per-dApp and unlinkable across
-- dApps). (The same model as the SQLite migration 0004.)
--
-- A scoped person or certificate is an ordinary `persons` / `certificates` row whose keyed hash
-- is the scope's own (honnin_core::Pepper::pseudonym_in / cert_hash_in): those tables get no
-- scope column, and nothing stored joins a person's rows across scopes. The scope is stored
-- only where the chain has it too: on the attestation (the registry's record), its outbox
-- items and its webhook deliveries; NULL is the global record.

-- A scope's name, as honnin_core::ScopeName accepts it.
CREATE DOMAIN honnin_scope_name AS TEXT CHECK (VALUE ~ '^[a-z0-9][a-z0-9.-]{0,63}$');

-- The registered scopes. Never deleted: their records must keep following the card, and the
-- life cycle reaches them only by computing the person's hashes in every scope listed here.
CREATE TABLE scopes (
    -- keccak256("honnin/v1/scope" || 0x00 || name)
    id         honnin_hash32 PRIMARY KEY,
    name       honnin_scope_name NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

-- The scope a challenge is for (its name: it is in the signed message); NULL: global.
ALTER TABLE challenges ADD COLUMN scope honnin_scope_name;

-- The record's scope. The foreign key keeps every scoped record in a registered scope (the
-- only ones the life cycle reaches); a global record (NULL) is not checked.
ALTER TABLE attestations ADD COLUMN scope honnin_hash32 REFERENCES scopes (id);

-- One live attestation per wallet and scope: the global index keeps its name (errors are
-- mapped by it) and now covers the global records only; the scoped records have their own.
DROP INDEX attestations_live_wallet;
CREATE UNIQUE INDEX attestations_live_wallet ON attestations (wallet)
    WHERE status IN ('pending', 'active') AND scope IS NULL;
CREATE UNIQUE INDEX attestations_live_wallet_scoped ON attestations (wallet, scope)
    WHERE status IN ('pending', 'active') AND scope IS NOT NULL;

-- The chain writer calls attest/revoke for NULL, attestScoped/revokeScoped for a scope.
ALTER TABLE outbox ADD COLUMN scope honnin_hash32;

-- Deliveries say which record changed (a table check, as the table's other columns have).
ALTER TABLE webhook_deliveries ADD COLUMN scope BYTEA CHECK (length(scope) = 32);

-- The attestation transaction with the record's scope (p_scope, NULL: global). Same steps,
-- locks, refusals and results as migration 0004, with two changes: the wallet's live
-- attestation that refuses (HN002) and the person's that count against the policy are those in
-- the same scope (the person's are in it anyway: their pseudonym and certificate hash are the
-- scope's), and the outbox items carry the scope. The signature changes, so the old function
-- is dropped: an instance of an older release cannot record attestations against this schema.
DROP FUNCTION honnin_record_attestation(BYTEA, BYTEA, BYTEA, BYTEA, TEXT, BYTEA, BYTEA,
    TIMESTAMPTZ, BYTEA, SMALLINT, BIGINT, TIMESTAMPTZ, TIMESTAMPTZ, INTEGER, BOOLEAN, SMALLINT,
    TIMESTAMPTZ);
CREATE FUNCTION honnin_record_attestation(
    p_id               BYTEA,
    p_challenge_id     BYTEA,
    p_request_digest   BYTEA,
    p_wallet           BYTEA,
    p_scope            BYTEA,
    p_wallet_proof     TEXT,
    p_pseudonym        BYTEA,
    p_cert_hash        BYTEA,
    p_cert_not_after   TIMESTAMPTZ,
    p_sealed           BYTEA,
    p_level            SMALLINT,
    p_claims           BIGINT,
    p_issued_at        TIMESTAMPTZ,
    p_expires_at       TIMESTAMPTZ,
    p_max_active       INTEGER,
    p_rotate           BOOLEAN,
    p_rotated_reason   SMALLINT,
    p_now              TIMESTAMPTZ,
    OUT rotated_ids     BYTEA[],
    OUT rotated_wallets BYTEA[])
LANGUAGE plpgsql AS $$
DECLARE
    v_cert         RECORD;
    v_person       BIGINT;
    v_cert_id      BIGINT;
    v_expired      BYTEA[] := '{}';
    v_live         RECORD;
    v_mine         BYTEA[] := '{}';
    v_mine_wallets BYTEA[] := '{}';
BEGIN
    rotated_ids := '{}';
    rotated_wallets := '{}';

    -- 1. The person: through the certificate if it is known (renewal links point a new
    --    certificate at an old person), else by pseudonym; locked until commit either way.
    SELECT id, person_id, revoked_at, (not_after IS NULL OR sealed IS NULL) AS incomplete
      INTO v_cert FROM certificates WHERE cert_hash = p_cert_hash;
    IF FOUND THEN
        PERFORM 1 FROM persons WHERE id = v_cert.person_id FOR UPDATE;
        IF v_cert.revoked_at IS NOT NULL THEN
            RAISE EXCEPTION 'certificate revoked' USING ERRCODE = 'HN001';
        END IF;
        IF v_cert.incomplete THEN
            -- Known through a renewal link (or recorded before serials were sealed): the
            -- certificate is presented now, so its notAfter and serial are known.
            UPDATE certificates
               SET not_after = COALESCE(not_after, p_cert_not_after),
                   sealed = COALESCE(sealed, p_sealed)
             WHERE id = v_cert.id;
        END IF;
        v_person := v_cert.person_id;
        v_cert_id := v_cert.id;
    ELSE
        -- The upsert locks the person row (also when it already existed).
        INSERT INTO persons (pseudonym, created_at) VALUES (p_pseudonym, p_now)
            ON CONFLICT (pseudonym) DO UPDATE SET pseudonym = EXCLUDED.pseudonym
            RETURNING id INTO v_person;
        INSERT INTO certificates (cert_hash, person_id, not_after, sealed, created_at)
            VALUES (p_cert_hash, v_person, p_cert_not_after, p_sealed, p_now)
            ON CONFLICT (cert_hash) DO UPDATE SET cert_hash = EXCLUDED.cert_hash
            RETURNING id, person_id, revoked_at INTO v_cert;
        IF v_cert.person_id <> v_person THEN
            -- Linked to another person between our two reads: lock that one too.
            PERFORM 1 FROM persons WHERE id = v_cert.person_id FOR UPDATE;
            v_person := v_cert.person_id;
        END IF;
        IF v_cert.revoked_at IS NOT NULL THEN
            RAISE EXCEPTION 'certificate revoked' USING ERRCODE = 'HN001';
        END IF;
        v_cert_id := v_cert.id;
    END IF;

    -- 2. The wallet's live attestation in the scope (there must be none) and the person's,
    --    oldest first. Lapsed ones stop counting: they are marked expired and their unsent
    --    `attest` items cancelled (the registry would refuse an already expired record). Two
    --    indexed lookups: an OR across the two columns would scan every live attestation.
    FOR v_live IN
        SELECT id, wallet, COALESCE(person_id = v_person, false) AS mine,
               expires_at <= p_now AS lapsed
          FROM (SELECT id, wallet, person_id, issued_at, expires_at, seq FROM attestations
                 WHERE wallet = p_wallet AND scope IS NOT DISTINCT FROM p_scope
                   AND status IN ('pending', 'active')
                UNION
                SELECT id, wallet, person_id, issued_at, expires_at, seq FROM attestations
                 WHERE person_id = v_person AND scope IS NOT DISTINCT FROM p_scope
                   AND status IN ('pending', 'active')) live
         ORDER BY issued_at, seq
    LOOP
        IF v_live.lapsed THEN
            v_expired := array_append(v_expired, v_live.id);
        ELSIF v_live.wallet = p_wallet THEN
            RAISE EXCEPTION 'wallet already attested' USING ERRCODE = 'HN002';
        ELSIF v_live.mine THEN
            v_mine := array_append(v_mine, v_live.id);
            v_mine_wallets := array_append(v_mine_wallets, v_live.wallet);
        END IF;
    END LOOP;
    IF cardinality(v_expired) > 0 THEN
        UPDATE attestations SET status = 'expired', updated_at = p_now
         WHERE id = ANY (v_expired) AND status IN ('pending', 'active');
        UPDATE outbox SET state = 'cancelled', updated_at = p_now
         WHERE kind = 'attest' AND state = 'pending' AND attestation_id = ANY (v_expired);
    END IF;

    -- 3. The policy: at the limit, refuse or rotate the oldest out. A rotated attestation's
    --    `attest` is cancelled if never claimed, else a `revoke` is queued (it waits behind the
    --    `attest`: claim_outbox keeps each wallet's order).
    IF cardinality(v_mine) >= p_max_active THEN
        IF NOT p_rotate THEN
            RAISE EXCEPTION 'wallet limit reached' USING ERRCODE = 'HN003';
        END IF;
        FOR i IN 1 .. cardinality(v_mine) + 1 - p_max_active LOOP
            UPDATE attestations
               SET status = 'revoked', revocation_reason = p_rotated_reason, revoked_at = p_now,
                   updated_at = p_now
             WHERE id = v_mine[i];
            UPDATE outbox SET state = 'cancelled', updated_at = p_now
             WHERE attestation_id = v_mine[i] AND kind = 'attest' AND state = 'pending';
            IF NOT FOUND THEN
                INSERT INTO outbox
                    (kind, attestation_id, wallet, scope, reason, state, next_attempt_at,
                     created_at, updated_at)
                VALUES ('revoke', v_mine[i], v_mine_wallets[i], p_scope, p_rotated_reason,
                        'pending', p_now, p_now, p_now);
            END IF;
            rotated_ids := array_append(rotated_ids, v_mine[i]);
            rotated_wallets := array_append(rotated_wallets, v_mine_wallets[i]);
        END LOOP;
    END IF;

    -- 4. The attestation and its outbox item.
    WITH attestation AS (
        INSERT INTO attestations
            (id, challenge_id, request_digest, wallet, scope, wallet_proof, person_id,
             certificate_id, level, claims, status, issued_at, expires_at, created_at,
             updated_at)
        VALUES (p_id, p_challenge_id, p_request_digest, p_wallet, p_scope, p_wallet_proof,
                v_person, v_cert_id, p_level, p_claims, 'pending', p_issued_at, p_expires_at,
                p_now, p_now)
        RETURNING id, wallet, scope, level, claims, issued_at, expires_at)
    INSERT INTO outbox
        (kind, attestation_id, wallet, scope, level, claims, issued_at, expires_at, state,
         next_attempt_at, created_at, updated_at)
    SELECT 'attest', id, wallet, scope, level, claims, issued_at, expires_at, 'pending', p_now,
           p_now, p_now
      FROM attestation;
END;
$$;

-- Migration 0007's trigger function, the delivery now carrying the record's scope. Everything
-- else (events, bits, conditions, columns, times) as before.
CREATE OR REPLACE FUNCTION honnin_webhook_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
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
        (message_id, endpoint_id, event, attestation_id, wallet, scope, status, reason,
         issued_at, expires_at, occurred_at, state, attempts, next_attempt_at, created_at,
         updated_at)
    SELECT uuid_send(gen_random_uuid()), e.id, v_event, NEW.id, NEW.wallet, NEW.scope,
           NEW.status, CASE WHEN NEW.status = 'revoked' THEN NEW.revocation_reason END,
           NEW.issued_at, NEW.expires_at, NEW.updated_at, 'pending', 0, NEW.updated_at,
           NEW.updated_at, NEW.updated_at
    FROM webhook_endpoints e
    WHERE e.events & v_bit <> 0;
    RETURN NULL;
END;
$$;
