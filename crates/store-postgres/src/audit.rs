//! The audit log: one-statement appends against the cached head, pages, the head.

use std::sync::PoisonError;

use async_trait::async_trait;
use honnin_core::{
    AuditQuery, AuditRecord, B256, NewAuditEvent, StoreError,
    audit::chain_after,
    store::AuditStore,
    stored::{self, to_i64},
};
use time::OffsetDateTime;

use crate::{PgStore, error::db, rows::AuditRow};

impl PgStore {
    /// Reads the audit chain's head (and remembers it for the next append).
    async fn read_audit_head(&self) -> Result<(u64, B256), StoreError> {
        let row = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id"#)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let head = stored::audit_head(row.seq, &row.hash)?;
        *self.audit_head.lock().unwrap_or_else(PoisonError::into_inner) = Some(head);
        Ok(head)
    }
}

/// How often one audit append re-reads a head that other instances keep moving before it gives
/// up (each try is one statement; the head row's lock queues them, so a try fails at most once
/// per other instance appending at the same moment).
pub(crate) const AUDIT_APPEND_ATTEMPTS: u32 = 64;

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        // One statement, one round trip: the rows go in only if the head row still holds the
        // head they were chained to, and the head moves in the same statement. An append from
        // another instance in between (or none known yet) leaves nothing written: read the head
        // and chain again. The head row's lock makes concurrent appenders take turns.
        let cached = *self.audit_head.lock().unwrap_or_else(PoisonError::into_inner);
        let mut head = match cached {
            Some(head) => head,
            None => self.read_audit_head().await?,
        };
        for _ in 0..AUDIT_APPEND_ATTEMPTS {
            let records = chain_after(head, events);
            let (seq, prev) = records.last().map_or(head, |r| (r.seq, r.hash));
            let mut rows = AuditColumns::with_capacity(records.len());
            for record in &records {
                rows.push(to_i64(record.seq, "audit seq above 2^63")?, record);
            }
            let appended = sqlx::query_scalar!(
                r#"WITH head AS (
                       UPDATE audit_head SET seq = $11, hash = $12
                        WHERE id AND seq = $13 AND hash = $14
                       RETURNING seq),
                   appended AS (
                       INSERT INTO audit_log
                           (seq, at, kind, code, attestation_id, request_id, client, api_key_id,
                            prev_hash, hash)
                       SELECT * FROM UNNEST($1::bigint[], $2::timestamptz[], $3::text[],
                                            $4::text[], $5::bytea[], $6::text[], $7::text[],
                                            $8::text[], $9::bytea[], $10::bytea[])
                        WHERE EXISTS (SELECT 1 FROM head))
                   SELECT count(*) AS "moved!" FROM head"#,
                &rows.seq,
                &rows.at,
                &rows.kind,
                &rows.code as &[Option<String>],
                &rows.attestation_id as &[Option<Vec<u8>>],
                &rows.request_id as &[Option<String>],
                &rows.client as &[Option<String>],
                &rows.api_key_id as &[Option<String>],
                &rows.prev_hash,
                &rows.hash,
                to_i64(seq, "audit seq above 2^63")?,
                prev.as_slice(),
                to_i64(head.0, "audit seq above 2^63")?,
                head.1.as_slice(),
            )
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
            if appended == 1 {
                *self.audit_head.lock().unwrap_or_else(PoisonError::into_inner) = Some((seq, prev));
                return Ok(());
            }
            head = self.read_audit_head().await?;
        }
        Err(StoreError::AuditHeadContended { attempts: AUDIT_APPEND_ATTEMPTS })
    }

    async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let kinds: Vec<String> = query.kinds.iter().map(|k| k.as_str().to_owned()).collect();
        let after = match query.after_seq {
            Some(seq) => to_i64(seq, "audit cursor above 2^63")?,
            None => 0,
        };
        let limit = i64::from(query.limit.min(AuditQuery::MAX_LIMIT));
        let rows = sqlx::query_as!(
            AuditRow,
            r#"SELECT seq, at, kind, code, attestation_id, request_id, client, api_key_id,
                      prev_hash, hash
               FROM audit_log
               WHERE seq > $1
                 AND ($2::timestamptz IS NULL OR at >= $2)
                 AND ($3::timestamptz IS NULL OR at < $3)
                 AND (cardinality($4::text[]) = 0 OR kind = ANY($4))
               ORDER BY seq
               LIMIT $5"#,
            after,
            query.from,
            query.to,
            &kinds,
            limit,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter().map(AuditRow::into_record).collect()
    }

    async fn audit_head(&self) -> Result<Option<(u64, B256)>, StoreError> {
        let head = sqlx::query!(r#"SELECT seq, hash FROM audit_head WHERE id"#)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        stored::audit_head_if_any(head.seq, &head.hash)
    }
}

/// The columns of audit rows to insert, one array each (for `UNNEST`).
#[derive(Default)]
pub(crate) struct AuditColumns {
    pub(crate) seq: Vec<i64>,
    pub(crate) at: Vec<OffsetDateTime>,
    pub(crate) kind: Vec<String>,
    pub(crate) code: Vec<Option<String>>,
    pub(crate) attestation_id: Vec<Option<Vec<u8>>>,
    pub(crate) request_id: Vec<Option<String>>,
    pub(crate) client: Vec<Option<String>>,
    pub(crate) api_key_id: Vec<Option<String>>,
    pub(crate) prev_hash: Vec<Vec<u8>>,
    pub(crate) hash: Vec<Vec<u8>>,
}

impl AuditColumns {
    fn with_capacity(n: usize) -> Self {
        Self {
            seq: Vec::with_capacity(n),
            at: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            code: Vec::with_capacity(n),
            attestation_id: Vec::with_capacity(n),
            request_id: Vec::with_capacity(n),
            client: Vec::with_capacity(n),
            api_key_id: Vec::with_capacity(n),
            prev_hash: Vec::with_capacity(n),
            hash: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, seq: i64, record: &AuditRecord) {
        let event = &record.event;
        self.seq.push(seq);
        self.at.push(event.at);
        self.kind.push(event.kind.as_str().to_owned());
        self.code.push(event.code.clone());
        self.attestation_id.push(event.attestation_id.map(|a| a.as_bytes().to_vec()));
        self.request_id.push(event.context.request_id.clone());
        self.client.push(event.context.client.clone());
        self.api_key_id.push(event.context.api_key_id.clone());
        self.prev_hash.push(record.prev_hash.to_vec());
        self.hash.push(record.hash.to_vec());
    }
}
