-- The attestation transaction (honnin_core::store, `record_attestation`) as one server-side
-- call. The same steps, locks and checks the Rust code ran as nine statements in an explicit
-- transaction; here they cost one round trip, which is most of the submit path's database time.
--
-- Refusals raise, so everything the call did rolls back:
--   HN001 the certificate is revoked
--   HN002 the wallet already has a live attestation
--   HN003 the person is at the wallet limit and the policy refuses
-- Unique violations (`attestations_challenge_id_key`, `attestations_live_wallet`) and deadlocks
-- reach the caller as Postgres raised them.
CREATE FUNCTION honnin_record_attestation(
    p_id               BYTEA,
    p_challenge_id     BYTEA,
    p_request_digest   BYTEA,
    p_wallet           BYTEA,
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
    v_expired      BYTEA[];
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

    -- 2. Lapsed attestations of the wallet or the person stop counting; their unsent `attest`
    --    items are cancelled (the registry would refuse an already expired record). Two indexed
    --    lookups: an OR across the two columns would scan every live attestation.
    WITH expired AS (
        UPDATE attestations SET status = 'expired', updated_at = p_now
         WHERE status IN ('pending', 'active')
           AND id IN (SELECT id FROM attestations
                       WHERE wallet = p_wallet AND status IN ('pending', 'active')
                         AND expires_at <= p_now
                      UNION ALL
                      SELECT id FROM attestations
                       WHERE person_id = v_person AND status IN ('pending', 'active')
                         AND expires_at <= p_now)
        RETURNING id)
    SELECT array_agg(id) INTO v_expired FROM expired;
    IF v_expired IS NOT NULL THEN
        UPDATE outbox SET state = 'cancelled', updated_at = p_now
         WHERE kind = 'attest' AND state = 'pending' AND attestation_id = ANY (v_expired);
    END IF;

    -- 3. The wallet's live attestation (there must be none) and the person's, oldest first.
    FOR v_live IN
        SELECT id, wallet, COALESCE(person_id = v_person, false) AS mine
          FROM (SELECT id, wallet, person_id, issued_at, seq FROM attestations
                 WHERE wallet = p_wallet AND status IN ('pending', 'active')
                UNION
                SELECT id, wallet, person_id, issued_at, seq FROM attestations
                 WHERE person_id = v_person AND status IN ('pending', 'active')) live
         ORDER BY issued_at, seq
    LOOP
        IF v_live.wallet = p_wallet THEN
            RAISE EXCEPTION 'wallet already attested' USING ERRCODE = 'HN002';
        END IF;
        IF v_live.mine THEN
            v_mine := array_append(v_mine, v_live.id);
            v_mine_wallets := array_append(v_mine_wallets, v_live.wallet);
        END IF;
    END LOOP;

    -- 4. The policy: at the limit, refuse or rotate the oldest out. A rotated attestation's
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
                    (kind, attestation_id, wallet, reason, state, next_attempt_at, created_at,
                     updated_at)
                VALUES ('revoke', v_mine[i], v_mine_wallets[i], p_rotated_reason, 'pending',
                        p_now, p_now, p_now);
            END IF;
            rotated_ids := array_append(rotated_ids, v_mine[i]);
            rotated_wallets := array_append(rotated_wallets, v_mine_wallets[i]);
        END LOOP;
    END IF;

    -- 5. The attestation and its outbox item.
    WITH attestation AS (
        INSERT INTO attestations
            (id, challenge_id, request_digest, wallet, wallet_proof, person_id, certificate_id,
             level, claims, status, issued_at, expires_at, created_at, updated_at)
        VALUES (p_id, p_challenge_id, p_request_digest, p_wallet, p_wallet_proof, v_person,
                v_cert_id, p_level, p_claims, 'pending', p_issued_at, p_expires_at, p_now, p_now)
        RETURNING id, wallet, level, claims, issued_at, expires_at)
    INSERT INTO outbox
        (kind, attestation_id, wallet, level, claims, issued_at, expires_at, state,
         next_attempt_at, created_at, updated_at)
    SELECT 'attest', id, wallet, level, claims, issued_at, expires_at, 'pending', p_now, p_now,
           p_now
      FROM attestation;
END;
$$;
