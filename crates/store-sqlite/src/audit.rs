//! The audit log: appends under the write lock, pages, the head.

use async_trait::async_trait;
use honnin_core::{
    AuditQuery, AuditRecord, B256, NewAuditEvent, StoreError,
    audit::{chain_after, unix_micros},
    store::AuditStore,
    stored::{self, to_i64},
};

use crate::{SqliteStore, error::db, rows::AuditRow};

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let turn = self.write_turn().await;
        // `BEGIN IMMEDIATE` holds the database's write lock: the head cannot move under us.
        let mut tx = self.begin_write().await?;
        let head = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id = 1"#)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let head = stored::audit_head(head.seq, &head.hash)?;
        let records = chain_after(head, events);
        for record in &records {
            let event = &record.event;
            let row_seq = to_i64(record.seq, "audit seq above 2^63")?;
            let at = unix_micros(event.at);
            let kind = event.kind.as_str();
            let attestation = event.attestation_id.as_ref().map(|a| a.as_bytes().as_slice());
            let (prev_bytes, hash_bytes) = (record.prev_hash.as_slice(), record.hash.as_slice());
            sqlx::query!(
                r#"INSERT INTO audit_log
                     (seq, at, kind, code, attestation_id, request_id, client, api_key_id,
                      prev_hash, hash)
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"#,
                row_seq,
                at,
                kind,
                event.code,
                attestation,
                event.context.request_id,
                event.context.client,
                event.context.api_key_id,
                prev_bytes,
                hash_bytes,
            )
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let (seq, prev) = records.last().map_or(head, |r| (r.seq, r.hash));
        let head_seq = to_i64(seq, "audit seq above 2^63")?;
        let head_hash = prev.as_slice();
        sqlx::query!(
            r#"UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1"#,
            head_seq,
            head_hash
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        drop(turn);
        Ok(())
    }

    async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let kinds =
            serde_json::Value::from(query.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>())
                .to_string();
        let after = match query.after_seq {
            Some(seq) => to_i64(seq, "audit cursor above 2^63")?,
            None => 0,
        };
        let from = query.from.map(unix_micros);
        let to = query.to.map(unix_micros);
        let limit = i64::from(query.limit.min(AuditQuery::MAX_LIMIT));
        let rows = sqlx::query_as!(
            AuditRow,
            r#"SELECT seq AS "seq!", at, kind, code, attestation_id, request_id, client,
                      api_key_id, prev_hash, hash
               FROM audit_log
               WHERE seq > ?1
                 AND (?2 IS NULL OR at >= ?2)
                 AND (?3 IS NULL OR at < ?3)
                 AND (?4 = '[]' OR kind IN (SELECT value FROM json_each(?4)))
               ORDER BY seq
               LIMIT ?5"#,
            after,
            from,
            to,
            kinds,
            limit,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter().map(AuditRow::into_record).collect()
    }

    async fn audit_head(&self) -> Result<Option<(u64, B256)>, StoreError> {
        let head = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id = 1"#)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        stored::audit_head_if_any(head.seq, &head.hash)
    }
}
