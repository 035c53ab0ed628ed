//! Rows as Postgres types them, moved into the backend-neutral rows of `honnin_core::stored`.

use honnin_core::{
    Attestation, AuditRecord, OutboxItem, StoreError,
    stored::{self},
};
use time::OffsetDateTime;

/// A row of `attestations` as the API sees it (column types as Postgres has them).
pub(crate) struct AttestationRow {
    pub(crate) id: Vec<u8>,
    pub(crate) wallet: Vec<u8>,
    pub(crate) scope: Option<Vec<u8>>,
    pub(crate) status: String,
    pub(crate) level: i16,
    pub(crate) claims: i64,
    pub(crate) issued_at: OffsetDateTime,
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) tx_hash: Option<Vec<u8>>,
    pub(crate) block_number: Option<i64>,
    pub(crate) revocation_reason: Option<i16>,
    pub(crate) revoked_at: Option<OffsetDateTime>,
}

impl AttestationRow {
    pub(crate) fn into_attestation(self) -> Result<Attestation, StoreError> {
        stored::AttestationRow {
            id: self.id,
            wallet: self.wallet,
            scope: self.scope,
            status: self.status,
            level: self.level.into(),
            claims: self.claims,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            tx_hash: self.tx_hash,
            block_number: self.block_number,
            revocation_reason: self.revocation_reason.map(i64::from),
            revoked_at: self.revoked_at,
        }
        .into_attestation()
    }
}

/// A row of `outbox` (column types as Postgres has them).
pub(crate) struct OutboxRow {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) attestation_id: Vec<u8>,
    pub(crate) wallet: Vec<u8>,
    pub(crate) scope: Option<Vec<u8>>,
    pub(crate) level: Option<i16>,
    pub(crate) claims: Option<i64>,
    pub(crate) issued_at: Option<OffsetDateTime>,
    pub(crate) expires_at: Option<OffsetDateTime>,
    pub(crate) reason: Option<i16>,
    pub(crate) state: String,
    pub(crate) attempts: i32,
    pub(crate) tx_hash: Option<Vec<u8>>,
    pub(crate) created_at: OffsetDateTime,
}

pub(crate) fn sorted_items(rows: Vec<OutboxRow>) -> Result<Vec<OutboxItem>, StoreError> {
    stored::sorted_items(
        rows.into_iter()
            .map(|r| stored::OutboxRow {
                id: r.id,
                kind: r.kind,
                attestation_id: r.attestation_id,
                wallet: r.wallet,
                scope: r.scope,
                level: r.level.map(i64::from),
                claims: r.claims,
                issued_at: r.issued_at,
                expires_at: r.expires_at,
                reason: r.reason.map(i64::from),
                state: r.state,
                attempts: r.attempts.into(),
                tx_hash: r.tx_hash,
                created_at: r.created_at,
            })
            .collect(),
    )
}

/// A row of `audit_log`.
pub(crate) struct AuditRow {
    pub(crate) seq: i64,
    pub(crate) at: OffsetDateTime,
    pub(crate) kind: String,
    pub(crate) code: Option<String>,
    pub(crate) attestation_id: Option<Vec<u8>>,
    pub(crate) request_id: Option<String>,
    pub(crate) client: Option<String>,
    pub(crate) api_key_id: Option<String>,
    pub(crate) prev_hash: Vec<u8>,
    pub(crate) hash: Vec<u8>,
}

impl AuditRow {
    pub(crate) fn into_record(self) -> Result<AuditRecord, StoreError> {
        stored::AuditRow {
            seq: self.seq,
            at: self.at,
            kind: self.kind,
            code: self.code,
            attestation_id: self.attestation_id,
            request_id: self.request_id,
            client: self.client,
            api_key_id: self.api_key_id,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
        .into_record()
    }
}
