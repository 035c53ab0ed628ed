//! The attestation transaction (one call of `honnin_record_attestation`), replays, reads.

use async_trait::async_trait;
use honnin_core::{
    Address, AtLimit, Attestation, AttestationId, AttestationReceipt, ChallengeId, NewAttestation,
    Policy, Recorded, RequestDigest, RevocationReason, Scope, StoreError,
    store::AttestationStore,
    stored::{AnswerRow, ChallengeAnswer, attestation_wallet, corrupt},
};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::{
    PgStore,
    error::{db, is_deadlock},
    rows::AttestationRow,
};

/// Who answered a challenge, for a request with `digest` (the rule is `honnin_core::stored`'s).
pub(crate) async fn challenge_answer(
    conn: &mut PgConnection,
    challenge: &ChallengeId,
    digest: &RequestDigest,
    now: OffsetDateTime,
) -> Result<ChallengeAnswer, StoreError> {
    let row = sqlx::query_as!(
        AnswerRow,
        r#"SELECT id, wallet, scope, status, expires_at, request_digest
           FROM attestations WHERE challenge_id = $1"#,
        challenge.as_bytes().as_slice(),
    )
    .fetch_optional(conn)
    .await
    .map_err(db)?;
    ChallengeAnswer::from_row(row, digest, now)
}

impl PgStore {
    /// The attestation transaction (see `honnin_core::store`) in one round trip: the
    /// `honnin_record_attestation` function (migrations 0003, 0004, 0008) runs its steps on the server, in
    /// the call's own transaction. A replay is only looked for when the challenge turns out to
    /// be answered already (the unique `challenge_id` refuses the insert).
    async fn record_once(
        &self,
        new: &NewAttestation,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError> {
        let row = sqlx::query!(
            r#"SELECT rotated_ids AS "rotated_ids!", rotated_wallets AS "rotated_wallets!"
               FROM honnin_record_attestation($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                                              $13, $14, $15, $16, $17, $18)"#,
            new.id.as_bytes().as_slice(),
            new.challenge_id.as_bytes().as_slice(),
            new.request_digest.as_bytes().as_slice(),
            new.wallet.as_slice(),
            new.scope.as_ref().map(|s| s.as_bytes().as_slice()),
            new.wallet_proof.as_str(),
            new.person.as_bytes().as_slice(),
            new.cert.as_bytes().as_slice(),
            new.cert_not_after,
            new.sealed.as_bytes(),
            i16::from(new.level.0),
            i64::from(new.claims.0),
            new.issued_at,
            new.expires_at,
            i32::try_from(policy.max_active_wallets.get()).unwrap_or(i32::MAX),
            policy.at_limit == AtLimit::Rotate,
            i16::from(RevocationReason::Rotated.code()),
            now,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| record_error(e, policy))?;
        if row.rotated_ids.len() != row.rotated_wallets.len() {
            return Err(corrupt("rotated attestations"));
        }
        let rotated = row
            .rotated_ids
            .iter()
            .zip(&row.rotated_wallets)
            .map(|(id, wallet)| attestation_wallet(id, wallet))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Recorded::new(new, rotated))
    }
}

/// The attestation function's refusals (raised with honnin's own SQLSTATEs, so the call's work
/// rolls back) and unique violations as domain errors.
pub(crate) fn record_error(e: sqlx::Error, policy: &Policy) -> StoreError {
    let code = e.as_database_error().and_then(|d| d.code());
    match code.as_deref() {
        Some("HN001") => StoreError::CertificateRevoked,
        Some("HN002") => StoreError::WalletAlreadyAttested,
        Some("HN003") => StoreError::WalletLimitReached { limit: policy.max_active_wallets.get() },
        _ => unique_violation(e),
    }
}

/// Unique violations while inserting an attestation, as domain errors: another submission
/// (for another person, so not serialised by the person lock) won the wallet or the challenge.
pub(crate) fn unique_violation(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        match d.constraint() {
            Some("attestations_challenge_id_key") => return StoreError::ChallengeAlreadyAnswered,
            Some("attestations_live_wallet" | "attestations_live_wallet_scoped") => {
                return StoreError::WalletAlreadyAttested;
            }
            _ => {}
        }
    }
    db(e)
}

#[async_trait]
impl AttestationStore for PgStore {
    async fn record_attestation(
        &self,
        new: &NewAttestation,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError> {
        // A deadlock is possible in a rare corner (two persons' transactions expiring each
        // other's lapsed rows by wallet); Postgres aborts one of them, which simply runs again.
        let mut attempt = 1;
        loop {
            let result = self.record_once(new, policy, now).await;
            match result {
                Err(e) if attempt < 3 && is_deadlock(&e) => {
                    tracing::debug!(target: "honnin::store", attempt, "deadlock recording an attestation; retrying");
                    attempt += 1;
                }
                // A refusal may be a re-sent request meeting its own first answer (the wallet
                // is taken by it, or the challenge is): that gets the original answer. Anything
                // the refused transaction did was rolled back.
                Err(
                    e @ (StoreError::ChallengeAlreadyAnswered
                    | StoreError::WalletAlreadyAttested
                    | StoreError::WalletLimitReached { .. }
                    | StoreError::CertificateRevoked),
                ) => {
                    let mut conn = self.pool.acquire().await.map_err(db)?;
                    let answer =
                        challenge_answer(&mut conn, &new.challenge_id, &new.request_digest, now)
                            .await?;
                    return answer.recorded().unwrap_or(Err(e));
                }
                other => return other,
            }
        }
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
        sqlx::query_as!(
            AttestationRow,
            r#"SELECT id, wallet, scope, status, level, claims, issued_at, expires_at,
                      COALESCE(tx_hash, (SELECT o.tx_hash FROM outbox o
                                          WHERE o.attestation_id = a.id AND o.kind = 'attest'
                                            AND o.tx_hash IS NOT NULL
                                          ORDER BY o.id DESC LIMIT 1)) AS tx_hash,
                      block_number, revocation_reason, revoked_at
               FROM attestations a WHERE id = $1"#,
            id.as_bytes().as_slice(),
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
        sqlx::query_as!(
            AttestationRow,
            r#"SELECT id, wallet, scope, status, level, claims, issued_at, expires_at,
                      COALESCE(tx_hash, (SELECT o.tx_hash FROM outbox o
                                          WHERE o.attestation_id = a.id AND o.kind = 'attest'
                                            AND o.tx_hash IS NOT NULL
                                          ORDER BY o.id DESC LIMIT 1)) AS tx_hash,
                      block_number, revocation_reason, revoked_at
               FROM attestations a WHERE wallet = $1 AND scope IS NOT DISTINCT FROM $2
               ORDER BY (status IN ('pending', 'active')) DESC, seq DESC
               LIMIT 1"#,
            wallet.as_slice(),
            scope.map(|s| s.as_bytes().as_slice()),
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(AttestationRow::into_attestation)
        .transpose()
    }
}
