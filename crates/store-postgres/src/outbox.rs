//! The outbox: claiming in per-wallet order with `FOR UPDATE SKIP LOCKED`, settling items.

use async_trait::async_trait;
use honnin_core::{
    B256, OutboxId, OutboxItem, StoreError,
    store::OutboxStore,
    stored::{all_updated, to_i64},
};
use time::{Duration, OffsetDateTime};

use crate::{
    PgStore,
    error::db,
    rows::{OutboxRow, sorted_items},
};

#[async_trait]
impl OutboxStore for PgStore {
    async fn claim_outbox(
        &self,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        // An item waits while an earlier item for the same wallet is still open, so a revoke
        // never overtakes the attest it undoes (also when another writer holds the attest): it
        // must be its wallet's first open item. The order is per wallet, not per (wallet,
        // scope): a record is keyed by both on chain, so only the items of one scope need it,
        // but ordering a wallet's items across its scopes too is harmless (it only delays an
        // item behind another scope's open one) and keeps this lookup on its (wallet, id)
        // index with no NULL-aware comparison. Written as a correlated subquery, not an
        // anti-join: Postgres runs it per candidate with the wallet bound, an index lookup,
        // where an anti-join planned on stale statistics (a queue that grew from empty faster
        // than autovacuum analyses it) compared every candidate with every open item.
        let rows = sqlx::query_as!(
            OutboxRow,
            r#"UPDATE outbox o
               SET state = 'claimed', claimed_until = $3, attempts = o.attempts + 1, updated_at = $2
               FROM (SELECT id FROM outbox c
                     WHERE ((c.state = 'pending' AND c.next_attempt_at <= $2)
                            OR (c.state = 'claimed' AND c.claimed_until <= $2))
                       AND c.id = (SELECT p.id FROM outbox p
                                   WHERE p.wallet = c.wallet
                                     AND p.state IN ('pending', 'claimed', 'sent')
                                   ORDER BY p.id
                                   LIMIT 1)
                     ORDER BY id
                     LIMIT $1
                     FOR UPDATE SKIP LOCKED) picked
               WHERE o.id = picked.id
               RETURNING o.id, o.kind, o.attestation_id, o.wallet, o.scope, o.level, o.claims,
                         o.issued_at, o.expires_at, o.reason, o.state, o.attempts, o.tx_hash,
                         o.created_at"#,
            i64::from(limit),
            now,
            now + lease,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
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
        let asked = ids;
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        // Only the outbox: a pending attestation shows its item's hash (see `attestation`), so
        // sending costs no second rewrite of the attestation rows and all their indexes.
        let mut tx = self.pool.begin().await.map_err(db)?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'sent', tx_hash = $2, claimed_until = NULL, updated_at = $3
               WHERE id = ANY($1) AND state = 'claimed'
               RETURNING id"#,
            &ids,
            tx_hash.as_slice(),
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(asked, &updated, "claimed")?;
        tx.commit().await.map_err(db)
    }

    async fn mark_confirmed(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        block_number: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let asked = ids;
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        let block = to_i64(block_number, "block number above 2^63")?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'confirmed', tx_hash = $2, block_number = $3,
                      claimed_until = NULL, updated_at = $4
               WHERE id = ANY($1) AND state IN ('claimed', 'sent')
               RETURNING id"#,
            &ids,
            tx_hash.as_slice(),
            block,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(asked, &updated, "claimed or sent")?;
        sqlx::query!(
            r#"UPDATE attestations a
               SET status = 'active', tx_hash = $2, block_number = $3, updated_at = $4
               FROM outbox o
               WHERE o.id = ANY($1) AND o.kind = 'attest' AND a.id = o.attestation_id
                 AND a.status = 'pending'"#,
            &ids,
            tx_hash.as_slice(),
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
        let asked = ids;
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        let mut tx = self.pool.begin().await.map_err(db)?;
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'pending', next_attempt_at = $2, claimed_until = NULL,
                      tx_hash = NULL, last_error = $3, updated_at = $4
               WHERE id = ANY($1) AND state IN ('claimed', 'sent')
               RETURNING id"#,
            &ids,
            retry_at,
            error,
            now,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        all_updated(asked, &updated, "claimed or sent")?;
        // Sending no longer writes attestation rows (since the release with migration 0005);
        // this clears the hash that a batch sent by an older version put on them.
        sqlx::query!(
            r#"UPDATE attestations a SET tx_hash = NULL, updated_at = $2
               FROM outbox o
               WHERE o.id = ANY($1) AND o.kind = 'attest' AND a.id = o.attestation_id
                 AND a.status = 'pending'"#,
            &ids,
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
        let asked = ids;
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        let updated = sqlx::query_scalar!(
            r#"UPDATE outbox SET state = 'failed', claimed_until = NULL, last_error = $2,
                      updated_at = $3
               WHERE id = ANY($1) AND state IN ('pending', 'claimed', 'sent')
               RETURNING id"#,
            &ids,
            error,
            now,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        all_updated(asked, &updated, "pending, claimed or sent")
    }
}
