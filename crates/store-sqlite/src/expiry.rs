//! Expiring lapsed attestations.

use async_trait::async_trait;
use honnin_core::{AttestationWallet, StoreError, store::ExpiryStore, stored::attestation_wallet};
use time::OffsetDateTime;

use crate::{SqliteStore, error::db, rows::secs};

#[async_trait]
impl ExpiryStore for SqliteStore {
    async fn expire_attestations(
        &self,
        now_t: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AttestationWallet>, StoreError> {
        let now = secs(now_t);
        let limit = i64::from(limit);
        let turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        // Under the write lock both statements see the same lapsed rows.
        sqlx::query!(
            r#"UPDATE outbox SET state = 'cancelled', updated_at = ?1
               WHERE kind = 'attest' AND state = 'pending'
                 AND attestation_id IN (SELECT id FROM attestations
                                        WHERE status IN ('pending', 'active') AND expires_at <= ?1
                                        ORDER BY expires_at LIMIT ?2)"#,
            now,
            limit,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let rows = sqlx::query!(
            r#"UPDATE attestations SET status = 'expired', updated_at = ?1
               WHERE id IN (SELECT id FROM attestations
                            WHERE status IN ('pending', 'active') AND expires_at <= ?1
                            ORDER BY expires_at LIMIT ?2)
               RETURNING id AS "id!", wallet AS "wallet!""#,
            now,
            limit,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        drop(turn);
        rows.into_iter().map(|r| attestation_wallet(&r.id, &r.wallet)).collect()
    }
}
