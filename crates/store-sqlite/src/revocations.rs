//! Revoking live attestations (shared by every revocation path), and wallet revocations.

use async_trait::async_trait;
use honnin_core::{
    Address, AttestationId, AttestationWallet, RevocationReason, Scope, StoreError,
    store::RevocationStore, stored::attestation_wallet,
};
use sqlx::SqliteConnection;
use time::OffsetDateTime;

use crate::{SqliteStore, error::db, rows::secs};

#[async_trait]
impl RevocationStore for SqliteStore {
    async fn revoke_wallet(
        &self,
        wallet: Address,
        scope: Option<&Scope>,
        reason: RevocationReason,
        now_t: OffsetDateTime,
    ) -> Result<Option<AttestationId>, StoreError> {
        let now = secs(now_t);
        let wallet = wallet.as_slice();
        let scope = scope.map(|s| s.as_bytes().as_slice());
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let live = sqlx::query_scalar!(
            r#"SELECT id FROM attestations
               WHERE wallet = ?1 AND scope IS ?2 AND status IN ('pending', 'active')
                 AND expires_at > ?3"#,
            wallet,
            scope,
            now,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(id) = live else { return Ok(None) };
        let revoked = revoke_one(&mut tx, &id, i64::from(reason.code()), now).await?;
        tx.commit().await.map_err(db)?;
        drop(turn);
        Ok(revoked.map(|r| r.attestation_id))
    }
}

/// Revokes attestation `id` if it is still live, for `reason` (a registry code), and queues
/// its `revoke` in the attestation's scope (or cancels its `attest` when it was never claimed).
pub(crate) async fn revoke_one(
    tx: &mut SqliteConnection,
    id: &[u8],
    reason: i64,
    now: i64,
) -> Result<Option<AttestationWallet>, StoreError> {
    let revoked = sqlx::query!(
        r#"UPDATE attestations
           SET status = 'revoked', revocation_reason = ?2, revoked_at = ?3, updated_at = ?3
           WHERE id = ?1 AND status IN ('pending', 'active')
           RETURNING wallet AS "wallet!", scope"#,
        id,
        reason,
        now,
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(revoked) = revoked else { return Ok(None) };
    let cancelled = sqlx::query!(
        r#"UPDATE outbox SET state = 'cancelled', updated_at = ?2
           WHERE attestation_id = ?1 AND kind = 'attest' AND state = 'pending'"#,
        id,
        now,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?
    .rows_affected();
    if cancelled == 0 {
        sqlx::query!(
            r#"INSERT INTO outbox
                 (kind, attestation_id, wallet, scope, reason, state, next_attempt_at, created_at,
                  updated_at)
               VALUES ('revoke', ?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?5)"#,
            id,
            revoked.wallet,
            revoked.scope,
            reason,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    attestation_wallet(id, &revoked.wallet).map(Some)
}
