//! Expiring lapsed attestations.

use async_trait::async_trait;
use honnin_core::{AttestationWallet, StoreError, store::ExpiryStore, stored::attestation_wallet};
use time::OffsetDateTime;

use crate::{PgStore, error::db};

#[async_trait]
impl ExpiryStore for PgStore {
    async fn expire_attestations(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AttestationWallet>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let rows = sqlx::query!(
            r#"UPDATE attestations a SET status = 'expired', updated_at = $1
               FROM (SELECT id FROM attestations
                     WHERE status IN ('pending', 'active') AND expires_at <= $1
                     ORDER BY expires_at
                     LIMIT $2
                     FOR UPDATE SKIP LOCKED) lapsed
               WHERE a.id = lapsed.id AND a.status IN ('pending', 'active')
               RETURNING a.id, a.wallet"#,
            now,
            i64::from(limit),
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let ids: Vec<Vec<u8>> = rows.iter().map(|r| r.id.clone()).collect();
        sqlx::query!(
            r#"UPDATE outbox SET state = 'cancelled', updated_at = $2
               WHERE kind = 'attest' AND state = 'pending' AND attestation_id = ANY($1)"#,
            &ids,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        rows.into_iter().map(|r| attestation_wallet(&r.id, &r.wallet)).collect()
    }
}
