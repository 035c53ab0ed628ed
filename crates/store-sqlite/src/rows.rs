//! Rows as SQLite types them (times as Unix seconds), moved into the backend-neutral rows of
//! `honnin_core::stored`.

use honnin_core::{
    Attestation, AuditRecord, Challenge, OutboxId, OutboxItem, StoreError,
    stored::{self, corrupt},
};
use time::OffsetDateTime;

pub(crate) fn secs(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn time_of(s: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(s).map_err(|_| corrupt("timestamp"))
}

/// Outbox ids as the JSON array `json_each` reads.
pub(crate) fn id_list(ids: &[OutboxId]) -> String {
    serde_json::Value::from(ids.iter().map(|i| i.0).collect::<Vec<_>>()).to_string()
}

/// A row of `challenges`.
pub(crate) struct ChallengeRow {
    pub(crate) id: Vec<u8>,
    pub(crate) purpose: String,
    pub(crate) wallet: Vec<u8>,
    pub(crate) audience: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) nonce: Vec<u8>,
    pub(crate) issued_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) chain_id: i64,
    pub(crate) registry: Vec<u8>,
    pub(crate) domain: String,
}

impl ChallengeRow {
    pub(crate) fn into_challenge(self) -> Result<Challenge, StoreError> {
        stored::ChallengeRow {
            id: self.id,
            purpose: self.purpose,
            wallet: self.wallet,
            audience: self.audience,
            scope: self.scope,
            nonce: self.nonce,
            issued_at: time_of(self.issued_at)?,
            expires_at: time_of(self.expires_at)?,
            chain_id: self.chain_id,
            registry: self.registry,
            domain: self.domain,
        }
        .into_challenge()
    }
}

/// A row of `attestations` as the API sees it.
pub(crate) struct AttestationRow {
    pub(crate) id: Vec<u8>,
    pub(crate) wallet: Vec<u8>,
    pub(crate) scope: Option<Vec<u8>>,
    pub(crate) status: String,
    pub(crate) level: i64,
    pub(crate) claims: i64,
    pub(crate) issued_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) tx_hash: Option<Vec<u8>>,
    pub(crate) block_number: Option<i64>,
    pub(crate) revocation_reason: Option<i64>,
    pub(crate) revoked_at: Option<i64>,
}

impl AttestationRow {
    pub(crate) fn into_attestation(self) -> Result<Attestation, StoreError> {
        stored::AttestationRow {
            id: self.id,
            wallet: self.wallet,
            scope: self.scope,
            status: self.status,
            level: self.level,
            claims: self.claims,
            issued_at: time_of(self.issued_at)?,
            expires_at: time_of(self.expires_at)?,
            tx_hash: self.tx_hash,
            block_number: self.block_number,
            revocation_reason: self.revocation_reason,
            revoked_at: self.revoked_at.map(time_of).transpose()?,
        }
        .into_attestation()
    }
}

/// A row of `outbox`.
pub(crate) struct OutboxRow {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) attestation_id: Vec<u8>,
    pub(crate) wallet: Vec<u8>,
    pub(crate) scope: Option<Vec<u8>>,
    pub(crate) level: Option<i64>,
    pub(crate) claims: Option<i64>,
    pub(crate) issued_at: Option<i64>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) reason: Option<i64>,
    pub(crate) state: String,
    pub(crate) attempts: i64,
    pub(crate) tx_hash: Option<Vec<u8>>,
    pub(crate) created_at: i64,
}

impl OutboxRow {
    pub(crate) fn into_stored(self) -> Result<stored::OutboxRow, StoreError> {
        Ok(stored::OutboxRow {
            id: self.id,
            kind: self.kind,
            attestation_id: self.attestation_id,
            wallet: self.wallet,
            scope: self.scope,
            level: self.level,
            claims: self.claims,
            issued_at: self.issued_at.map(time_of).transpose()?,
            expires_at: self.expires_at.map(time_of).transpose()?,
            reason: self.reason,
            state: self.state,
            attempts: self.attempts,
            tx_hash: self.tx_hash,
            created_at: time_of(self.created_at)?,
        })
    }
}

pub(crate) fn sorted_items(rows: Vec<OutboxRow>) -> Result<Vec<OutboxItem>, StoreError> {
    stored::sorted_items(rows.into_iter().map(OutboxRow::into_stored).collect::<Result<_, _>>()?)
}

/// A row of `audit_log` (times in Unix microseconds).
pub(crate) struct AuditRow {
    pub(crate) seq: i64,
    pub(crate) at: i64,
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
            at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.at) * 1_000)
                .map_err(|_| corrupt("audit time"))?,
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
