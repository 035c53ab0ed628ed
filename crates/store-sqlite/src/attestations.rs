//! The attestation transaction (in Rust, under `BEGIN IMMEDIATE`), replays, reads.

use async_trait::async_trait;
use honnin_core::{
    Address, Attestation, AttestationId, AttestationReceipt, ChallengeId, NewAttestation, Policy,
    Recorded, RequestDigest, RevocationReason, Scope, StoreError,
    store::AttestationStore,
    stored::{self, AnswerRow, ChallengeAnswer, corrupt},
};
use sqlx::SqliteConnection;
use time::OffsetDateTime;

use crate::{
    SqliteStore,
    error::db,
    revocations::revoke_one,
    rows::{AttestationRow, secs, time_of},
};

/// Unique violations while inserting an attestation, as domain errors.
pub(crate) fn unique_violation(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        // SQLite names the columns, not the index: "UNIQUE constraint failed: attestations.wallet"
        // (and ", attestations.scope" for a scoped record).
        let message = d.message();
        if message.contains("attestations.challenge_id") {
            return StoreError::ChallengeAlreadyAnswered;
        }
        if message.contains("attestations.wallet") {
            return StoreError::WalletAlreadyAttested;
        }
    }
    db(e)
}

/// Who answered a challenge, for a request with `digest` (the rule is `honnin_core::stored`'s).
pub(crate) async fn challenge_answer(
    conn: &mut SqliteConnection,
    challenge: &ChallengeId,
    digest: &RequestDigest,
    now: OffsetDateTime,
) -> Result<ChallengeAnswer, StoreError> {
    let challenge = challenge.as_bytes().as_slice();
    let row = sqlx::query!(
        r#"SELECT id, wallet, scope, status, expires_at, request_digest
           FROM attestations WHERE challenge_id = ?1"#,
        challenge,
    )
    .fetch_optional(conn)
    .await
    .map_err(db)?;
    let row = row
        .map(|r| {
            Ok::<_, StoreError>(AnswerRow {
                id: r.id,
                wallet: r.wallet,
                scope: r.scope,
                status: r.status,
                expires_at: time_of(r.expires_at)?,
                request_digest: r.request_digest,
            })
        })
        .transpose()?;
    ChallengeAnswer::from_row(row, digest, now)
}

/// Marks lapsed live attestations of a wallet or a person in `scope` (NULL: global) expired and
/// cancels their unsent `attest` items (the registry would refuse an already expired record).
pub(crate) async fn expire_lapsed(
    tx: &mut SqliteConnection,
    wallet: &[u8],
    scope: Option<&[u8]>,
    person_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query!(
        // Two indexed lookups (an OR across two columns would scan every live attestation).
        r#"UPDATE outbox SET state = 'cancelled', updated_at = ?3
           WHERE kind = 'attest' AND state = 'pending'
             AND attestation_id IN (SELECT id FROM attestations
                                    WHERE wallet = ?1 AND scope IS ?4
                                      AND status IN ('pending', 'active') AND expires_at <= ?3
                                    UNION ALL
                                    SELECT id FROM attestations
                                    WHERE person_id = ?2 AND scope IS ?4
                                      AND status IN ('pending', 'active') AND expires_at <= ?3)"#,
        wallet,
        person_id,
        now,
        scope,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query!(
        r#"UPDATE attestations SET status = 'expired', updated_at = ?3
           WHERE id IN (SELECT id FROM attestations
                        WHERE wallet = ?1 AND scope IS ?4
                          AND status IN ('pending', 'active') AND expires_at <= ?3
                        UNION ALL
                        SELECT id FROM attestations
                        WHERE person_id = ?2 AND scope IS ?4
                          AND status IN ('pending', 'active') AND expires_at <= ?3)"#,
        wallet,
        person_id,
        now,
        scope,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// Revokes one attestation by rotation: cancels its `attest` if never claimed, else queues a
/// `revoke` (which waits behind the `attest` in the queue; see `claim_outbox`).
pub(crate) async fn rotate_out(
    tx: &mut SqliteConnection,
    id: &[u8],
    now: i64,
) -> Result<(), StoreError> {
    let code = i64::from(RevocationReason::Rotated.code());
    match revoke_one(tx, id, code, now).await? {
        Some(_) => Ok(()),
        // The caller read it live in this transaction (the database is locked meanwhile).
        None => Err(corrupt("rotated attestation no longer live")),
    }
}

pub(crate) async fn record_in_tx(
    tx: &mut SqliteConnection,
    new: &NewAttestation,
    policy: &Policy,
    now_t: OffsetDateTime,
) -> Result<Recorded, StoreError> {
    let now = secs(now_t);
    let wallet = new.wallet.as_slice();
    let scope = new.scope.as_ref().map(|s| s.as_bytes().as_slice());
    let cert_hash = new.cert.as_bytes().as_slice();

    // 1. A re-sent request answers with the original attestation.
    let answer = challenge_answer(&mut *tx, &new.challenge_id, &new.request_digest, now_t).await?;
    if let Some(recorded) = answer.recorded() {
        return recorded;
    }

    // 2. The person: through the certificate if it is known (renewal links point a new
    // certificate at an old person), else by pseudonym. `BEGIN IMMEDIATE` already holds the
    // write lock, so nobody else changes this person until commit.
    let cert = sqlx::query!(
        r#"SELECT id AS "id!", person_id, revoked_at,
                  (not_after IS NULL OR sealed IS NULL) AS "incomplete!: bool"
           FROM certificates WHERE cert_hash = ?1"#,
        cert_hash,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let (person_id, certificate_id) = match cert {
        Some(c) if c.revoked_at.is_some() => return Err(StoreError::CertificateRevoked),
        Some(c) => {
            if c.incomplete {
                // Known through a renewal link (or recorded before serials were sealed): the
                // certificate is presented now, so its notAfter and serial are known.
                let not_after = secs(new.cert_not_after);
                let sealed = new.sealed.as_bytes();
                sqlx::query!(
                    r#"UPDATE certificates
                       SET not_after = COALESCE(not_after, ?2), sealed = COALESCE(sealed, ?3)
                       WHERE id = ?1"#,
                    c.id,
                    not_after,
                    sealed,
                )
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
            (c.person_id, c.id)
        }
        None => {
            let pseudonym = new.person.as_bytes().as_slice();
            let person_id = sqlx::query_scalar!(
                r#"INSERT INTO persons (pseudonym, created_at) VALUES (?1, ?2)
                   ON CONFLICT (pseudonym) DO UPDATE SET pseudonym = excluded.pseudonym
                   RETURNING id AS "id!""#,
                pseudonym,
                now,
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            let not_after = secs(new.cert_not_after);
            let sealed = new.sealed.as_bytes();
            let certificate_id = sqlx::query_scalar!(
                r#"INSERT INTO certificates (cert_hash, person_id, not_after, sealed, created_at)
                   VALUES (?1, ?2, ?3, ?4, ?5)
                   RETURNING id AS "id!""#,
                cert_hash,
                person_id,
                not_after,
                sealed,
                now,
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            (person_id, certificate_id)
        }
    };

    // 3. Lapsed attestations stop counting; the wallet must not have a live one in the scope.
    expire_lapsed(&mut *tx, wallet, scope, person_id, now).await?;
    let existing = sqlx::query_scalar!(
        r#"SELECT id FROM attestations
           WHERE wallet = ?1 AND scope IS ?2 AND status IN ('pending', 'active')"#,
        wallet,
        scope,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    if existing.is_some() {
        return Err(StoreError::WalletAlreadyAttested);
    }

    // 4. The policy, over the person's live attestations in the scope (all of theirs: their
    // pseudonym and certificate hash are the scope's).
    let live = sqlx::query!(
        r#"SELECT id, wallet FROM attestations
           WHERE person_id = ?1 AND scope IS ?2 AND status IN ('pending', 'active')
           ORDER BY issued_at, rowid"#,
        person_id,
        scope,
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let mut rotated = Vec::new();
    for old in &live[..policy.make_room(live.len())?] {
        rotate_out(&mut *tx, &old.id, now).await?;
        rotated.push(stored::attestation_wallet(&old.id, &old.wallet)?);
    }

    // 5. The attestation and its outbox item.
    let id = new.id.as_bytes().as_slice();
    let challenge_id = new.challenge_id.as_bytes().as_slice();
    let digest = new.request_digest.as_bytes().as_slice();
    let proof = new.wallet_proof.as_str();
    let level = i64::from(new.level.0);
    let claims = i64::from(new.claims.0);
    let issued_at = secs(new.issued_at);
    let expires_at = secs(new.expires_at);
    sqlx::query!(
        r#"INSERT INTO attestations
             (id, challenge_id, request_digest, wallet, scope, wallet_proof, person_id,
              certificate_id, level, claims, status, issued_at, expires_at, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?13, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, ?11, ?12, ?12)"#,
        id,
        challenge_id,
        digest,
        wallet,
        proof,
        person_id,
        certificate_id,
        level,
        claims,
        issued_at,
        expires_at,
        now,
        scope,
    )
    .execute(&mut *tx)
    .await
    .map_err(unique_violation)?;
    sqlx::query!(
        r#"INSERT INTO outbox
             (kind, attestation_id, wallet, scope, level, claims, issued_at, expires_at, state,
              next_attempt_at, created_at, updated_at)
           VALUES ('attest', ?1, ?2, ?8, ?3, ?4, ?5, ?6, 'pending', ?7, ?7, ?7)"#,
        id,
        wallet,
        level,
        claims,
        issued_at,
        expires_at,
        now,
        scope,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;

    Ok(Recorded::new(new, rotated))
}

#[async_trait]
impl AttestationStore for SqliteStore {
    async fn record_attestation(
        &self,
        new: &NewAttestation,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        // On error the transaction rolls back when dropped.
        let recorded = record_in_tx(&mut tx, new, policy, now).await?;
        tx.commit().await.map_err(unique_violation)?;
        Ok(recorded)
    }

    async fn replay(
        &self,
        challenge: &ChallengeId,
        digest: &RequestDigest,
        now: OffsetDateTime,
    ) -> Result<Option<AttestationReceipt>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        Ok(challenge_answer(&mut conn, challenge, digest, now).await?.replayed())
    }

    async fn attestation(&self, id: &AttestationId) -> Result<Option<Attestation>, StoreError> {
        let id = id.as_bytes().as_slice();
        sqlx::query_as!(
            AttestationRow,
            r#"SELECT id, wallet, scope, status, level, claims, issued_at, expires_at, tx_hash,
                      block_number, revocation_reason, revoked_at
               FROM attestations WHERE id = ?1"#,
            id,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(AttestationRow::into_attestation)
        .transpose()
    }

    async fn attestation_by_wallet(
        &self,
        wallet: Address,
        scope: Option<&Scope>,
    ) -> Result<Option<Attestation>, StoreError> {
        let wallet = wallet.as_slice();
        let scope = scope.map(|s| s.as_bytes().as_slice());
        sqlx::query_as!(
            AttestationRow,
            r#"SELECT id, wallet, scope, status, level, claims, issued_at, expires_at, tx_hash,
                      block_number, revocation_reason, revoked_at
               FROM attestations WHERE wallet = ?1 AND scope IS ?2
               ORDER BY (status IN ('pending', 'active')) DESC, rowid DESC
               LIMIT 1"#,
            wallet,
            scope,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(AttestationRow::into_attestation)
        .transpose()
    }
}
