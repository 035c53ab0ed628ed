//! Revoking live attestations (shared by every revocation path), and wallet revocations.

use async_trait::async_trait;
use honnin_core::{
    Address, AttestationId, AttestationWallet, RevocationReason, Scope, StoreError,
    store::RevocationStore, stored::attestation_wallet,
};
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;

use crate::{PgStore, error::db};

#[async_trait]
impl RevocationStore for PgStore {
    async fn revoke_wallet(
        &self,
        wallet: Address,
        scope: Option<&Scope>,
        reason: RevocationReason,
        now: OffsetDateTime,
    ) -> Result<Option<AttestationId>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let live = sqlx::query_scalar!(
            r#"SELECT id FROM attestations
               WHERE wallet = $1 AND scope IS NOT DISTINCT FROM $2
                 AND status IN ('pending', 'active') AND expires_at > $3"#,
            wallet.as_slice(),
            scope.map(|s| s.as_bytes().as_slice()),
            now,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(id) = live else { return Ok(None) };
        let revoked = revoke_attestations(&mut tx, &[id], &[i16::from(reason.code())], now).await?;
        tx.commit().await.map_err(db)?;
        Ok(revoked.first().map(|r| r.attestation_id))
    }
}

/// Revokes those of `ids` that are still live, each for its reason (registry codes), and
/// queues their `revoke` in the attestation's scope (or cancels their `attest` when it was
/// never claimed). Returns the attestations revoked by this call, in the order given.
pub(crate) async fn revoke_attestations(
    tx: &mut Transaction<'static, Postgres>,
    ids: &[Vec<u8>],
    reasons: &[i16],
    now: OffsetDateTime,
) -> Result<Vec<AttestationWallet>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The status check is the claim: of two concurrent revocations, one revokes.
    let rows = sqlx::query!(
        r#"UPDATE attestations a
           SET status = 'revoked', revocation_reason = r.reason, revoked_at = $3, updated_at = $3
           FROM UNNEST($1::bytea[], $2::smallint[]) WITH ORDINALITY AS r(id, reason, n)
           WHERE a.id = r.id AND a.status IN ('pending', 'active')
           RETURNING a.id, a.wallet, a.scope, r.reason AS "reason!", r.n AS "n!""#,
        ids,
        reasons,
        now,
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    let revoked_ids: Vec<Vec<u8>> = rows.iter().map(|r| r.id.clone()).collect();
    let cancelled = sqlx::query_scalar!(
        r#"UPDATE outbox SET state = 'cancelled', updated_at = $2
           WHERE kind = 'attest' AND state = 'pending' AND attestation_id = ANY($1)
           RETURNING attestation_id"#,
        &revoked_ids,
        now,
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    let queue: Vec<_> = rows.iter().filter(|r| !cancelled.contains(&r.id)).collect();
    if !queue.is_empty() {
        let q_ids: Vec<Vec<u8>> = queue.iter().map(|r| r.id.clone()).collect();
        let q_wallets: Vec<Vec<u8>> = queue.iter().map(|r| r.wallet.clone()).collect();
        let q_scopes: Vec<Option<Vec<u8>>> = queue.iter().map(|r| r.scope.clone()).collect();
        let q_reasons: Vec<i16> = queue.iter().map(|r| r.reason).collect();
        sqlx::query!(
            r#"INSERT INTO outbox
                 (kind, attestation_id, wallet, scope, reason, state, next_attempt_at, created_at,
                  updated_at)
               SELECT 'revoke', r.id, r.wallet, r.scope, r.reason, 'pending', $5, $5, $5
               FROM UNNEST($1::bytea[], $2::bytea[], $3::bytea[], $4::smallint[]) WITH ORDINALITY
                    AS r(id, wallet, scope, reason, n)
               ORDER BY r.n"#,
            &q_ids,
            &q_wallets,
            // NULL elements (global records): no `&[Vec<u8>]`, so the macro's check is skipped.
            &q_scopes as &[Option<Vec<u8>>],
            &q_reasons,
            now,
        )
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    let mut rows = rows;
    rows.sort_by_key(|r| r.n);
    rows.iter().map(|r| attestation_wallet(&r.id, &r.wallet)).collect()
}
