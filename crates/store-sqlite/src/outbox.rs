//! The outbox: claiming in per-wallet order, settling items.

use async_trait::async_trait;
use honnin_core::{
    B256, OutboxId, OutboxItem, StoreError,
    store::OutboxStore,
    stored::{all_updated, to_i64},
};
use time::{Duration, OffsetDateTime};

use crate::{
    SqliteStore,
    error::db,
    rows::{OutboxRow, id_list, secs, sorted_items},
};

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_outbox(
        &self,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let limit = i64::from(limit);
        let until = secs(now + lease);
        let now = secs(now);
        // One statement under SQLite's single write lock: no two claimers get the same item.
        // An item waits while an earlier item for the same wallet is still open, so a revoke
        // never overtakes the attest it undoes (also when another writer holds the attest). The
        // order is per wallet, not per (wallet, scope): only a scope's items need it (a record is
        // keyed by both on chain), but ordering a wallet's items across scopes is harmless (it
        // only delays an item behind another scope's open one).
        let turn = self.write_turn().await;
        let rows = sqlx::query_as!(
            OutboxRow,
            r#"UPDATE outbox
               SET state = 'claimed', claimed_until = ?3, attempts = attempts + 1, updated_at = ?2
               WHERE id IN (SELECT c.id FROM outbox c
                            WHERE ((c.state = 'pending' AND c.next_attempt_at <= ?2)
                                   OR (c.state = 'claimed' AND c.claimed_until <= ?2))
                              AND NOT EXISTS (SELECT 1 FROM outbox p
                                              WHERE p.wallet = c.wallet
                                                AND p.id < c.id
                                                AND p.state IN ('pending', 'claimed', 'sent'))
                            ORDER BY c.id
                            LIMIT ?1)
               RETURNING id AS "id!", kind AS "kind!", attestation_id AS "attestation_id!",
                         wallet AS "wallet!", scope, level, claims, issued_at, expires_at, reason,
                         state AS "state!", attempts AS "attempts!", tx_hash,
                         created_at AS "created_at!""#,
            limit,
            now,
            until,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        drop(turn);
        sorted_items(rows)
    }

    async fn outbox_in_flight(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let rows = sqlx::query_as!(
            OutboxRow,
            r#"SELECT id, kind, attestation_id, wallet, scope, level, claims, issued_at, expires_at,
                      reason, state, attempts, tx_hash, created_at
               FROM outbox WHERE state = 'sent' ORDER BY id"#,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        sorted_items(rows)
    }

    async fn mark_sent(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let list = id_list(ids);
        let hash = tx_hash.as_slice();
        let now = secs(now);
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'sent', tx_hash = ?2, claimed_until = NULL, updated_at = ?3
               WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'claimed'
               RETURNING id AS "id!""#,
            list,
            hash,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(ids, &updated, "claimed")?;
        sqlx::query!(
            r#"UPDATE attestations SET tx_hash = ?2, updated_at = ?3
               WHERE status = 'pending'
                 AND id IN (SELECT attestation_id FROM outbox
                            WHERE id IN (SELECT value FROM json_each(?1)) AND kind = 'attest')"#,
            list,
            hash,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn mark_confirmed(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        block_number: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let list = id_list(ids);
        let hash = tx_hash.as_slice();
        let block = to_i64(block_number, "block number above 2^63")?;
        let now = secs(now);
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'confirmed', tx_hash = ?2, block_number = ?3,
                      claimed_until = NULL, updated_at = ?4
               WHERE id IN (SELECT value FROM json_each(?1)) AND state IN ('claimed', 'sent')
               RETURNING id AS "id!""#,
            list,
            hash,
            block,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(ids, &updated, "claimed or sent")?;
        sqlx::query!(
            r#"UPDATE attestations
               SET status = 'active', tx_hash = ?2, block_number = ?3, updated_at = ?4
               WHERE status = 'pending'
                 AND id IN (SELECT attestation_id FROM outbox
                            WHERE id IN (SELECT value FROM json_each(?1)) AND kind = 'attest')"#,
            list,
            hash,
            block,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn mark_retry(
        &self,
        ids: &[OutboxId],
        error: &str,
        retry_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let list = id_list(ids);
        let retry_at = secs(retry_at);
        let now = secs(now);
        let _turn = self.write_turn().await;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'pending', next_attempt_at = ?2, claimed_until = NULL,
                      tx_hash = NULL, last_error = ?3, updated_at = ?4
               WHERE id IN (SELECT value FROM json_each(?1)) AND state IN ('claimed', 'sent')
               RETURNING id AS "id!""#,
            list,
            retry_at,
            error,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(ids, &updated, "claimed or sent")?;
        sqlx::query!(
            r#"UPDATE attestations SET tx_hash = NULL, updated_at = ?2
               WHERE status = 'pending'
                 AND id IN (SELECT attestation_id FROM outbox
                            WHERE id IN (SELECT value FROM json_each(?1)) AND kind = 'attest')"#,
            list,
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn mark_failed(
        &self,
        ids: &[OutboxId],
        error: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let list = id_list(ids);
        let now = secs(now);
        let turn = self.write_turn().await;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'failed', claimed_until = NULL, last_error = ?2,
                      updated_at = ?3
               WHERE id IN (SELECT value FROM json_each(?1))
                 AND state IN ('pending', 'claimed', 'sent')
               RETURNING id AS "id!""#,
            list,
            error,
            now,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        drop(turn);
        all_updated(ids, &updated, "pending, claimed or sent")
    }
}
