//! Reading stored rows back into domain values, once for every backend.
//!
//! The store backends keep their own row structs (sqlx's compile-checked macros need the
//! exact column types of each database), move the columns into these backend-neutral rows —
//! integers widened to `i64`, times as [`OffsetDateTime`] — and call `into_*` here. Every check
//! that a stored value is one the domain can read lives in this module, so Postgres and SQLite
//! cannot drift apart in what they accept.

use std::collections::BTreeSet;

use alloy_primitives::{Address, B256};
use time::OffsetDateTime;

use crate::{
    Attestation, AttestationId, AttestationReceipt, AttestationStatus, AttestationWallet, CertHash,
    Challenge, ChallengeId, Claims, Level, LiveCertificate, Nonce, OutboxAction, OutboxId,
    OutboxItem, Purpose, Recorded, RequestDigest, RevocationReason, Scope, ScopeName, SealedCert,
    StoreError,
    audit::{AuditContext, AuditRecord, NewAuditEvent},
    challenge::{Audience, ServiceDomain},
};

/// A stored value the domain cannot read.
pub fn corrupt(what: &'static str) -> StoreError {
    StoreError::Corrupt { what }
}

/// A 20-byte wallet or contract address.
pub fn address(bytes: &[u8]) -> Result<Address, StoreError> {
    <[u8; 20]>::try_from(bytes).map(Address::from).map_err(|_| corrupt("wallet address"))
}

/// A 32-byte hash (transaction hash, keyed hash).
pub fn b256(bytes: &[u8]) -> Result<B256, StoreError> {
    <[u8; 32]>::try_from(bytes).map(B256::from).map_err(|_| corrupt("32-byte hash"))
}

/// A 16-byte id; `what` names it in the error.
pub fn id16(bytes: &[u8], what: &'static str) -> Result<[u8; 16], StoreError> {
    <[u8; 16]>::try_from(bytes).map_err(|_| corrupt(what))
}

/// An attestation id and wallet read back, as an [`AttestationWallet`].
pub fn attestation_wallet(id: &[u8], wallet: &[u8]) -> Result<AttestationWallet, StoreError> {
    Ok(AttestationWallet {
        attestation_id: AttestationId::from_bytes(id16(id, "attestation id")?),
        wallet: address(wallet)?,
    })
}

/// A revocation reason code (the contract's `uint8`), when there is one.
pub fn reason(code: Option<i64>) -> Result<Option<RevocationReason>, StoreError> {
    code.map(|c| {
        u8::try_from(c)
            .ok()
            .and_then(|c| RevocationReason::try_from(c).ok())
            .ok_or_else(|| corrupt("revocation reason"))
    })
    .transpose()
}

/// Checks that an update touched every outbox id asked for; `expected` names the state the
/// items had to be in.
pub fn all_updated(
    asked: &[OutboxId],
    updated: &[i64],
    expected: &'static str,
) -> Result<(), StoreError> {
    let updated: BTreeSet<i64> = updated.iter().copied().collect();
    match asked.iter().find(|id| !updated.contains(&id.0)) {
        Some(&id) => Err(StoreError::OutboxItemNotFound { id, expected }),
        None => Ok(()),
    }
}

/// A stored scope id, when there is one (NULL: the global record).
pub fn scope(bytes: Option<&[u8]>) -> Result<Option<Scope>, StoreError> {
    bytes.map(|b| Scope::from_slice(b).ok_or_else(|| corrupt("scope id"))).transpose()
}

/// A stored attestation id.
pub fn attestation_id(bytes: &[u8]) -> Result<AttestationId, StoreError> {
    id16(bytes, "attestation id").map(AttestationId::from_bytes)
}

/// A `u64` for a signed 64-bit column; `what` names the value when it does not fit.
pub fn to_i64(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| corrupt(what))
}

/// The audit log's stored head (`audit_head` row: last `seq` and its hash).
pub fn audit_head(seq: i64, hash: &[u8]) -> Result<(u64, B256), StoreError> {
    Ok((u64::try_from(seq).map_err(|_| corrupt("audit head seq"))?, b256(hash)?))
}

/// The audit log's head as [`AuditStore::audit_head`](crate::AuditStore::audit_head) answers
/// it: `None` while the log is empty (the row holds `seq` 0).
pub fn audit_head_if_any(seq: i64, hash: &[u8]) -> Result<Option<(u64, B256)>, StoreError> {
    let (seq, hash) = audit_head(seq, hash)?;
    Ok((seq > 0).then_some((seq, hash)))
}

/// Why a challenge could not be consumed, from what its row (if any) still says.
pub fn not_consumed(row: Option<UnconsumedRow>, asked: Purpose) -> StoreError {
    match row {
        None => StoreError::ChallengeNotFound,
        Some(r) if r.purpose != asked.as_str() => StoreError::ChallengePurposeMismatch,
        Some(r) if r.consumed => StoreError::ChallengeUsed,
        Some(_) => StoreError::ChallengeExpired,
    }
}

/// A challenge row that a conditional consume did not match.
#[derive(Debug)]
pub struct UnconsumedRow {
    /// Its purpose, as stored.
    pub purpose: String,
    /// Whether it was consumed already.
    pub consumed: bool,
}

/// The attestation answering a challenge, as a replay reads it.
#[derive(Debug)]
#[allow(missing_docs)] // the columns of the table, named as in the schema
pub struct AnswerRow {
    pub id: Vec<u8>,
    pub wallet: Vec<u8>,
    pub scope: Option<Vec<u8>>,
    pub status: String,
    pub expires_at: OffsetDateTime,
    pub request_digest: Option<Vec<u8>>,
}

/// Who answered a challenge, for a request that uses it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeAnswer {
    /// No attestation answers it.
    Unanswered,
    /// The same request (same digest) did: its receipt, with the status at `now`.
    Same(AttestationReceipt),
    /// Another request (another digest, or one erased since) did.
    Other,
}

impl ChallengeAnswer {
    /// The answer from the row (if any) of the attestation that answered the challenge, for a
    /// request with `digest`, at `now`.
    pub fn from_row(
        row: Option<AnswerRow>,
        digest: &RequestDigest,
        now: OffsetDateTime,
    ) -> Result<Self, StoreError> {
        let Some(row) = row else { return Ok(Self::Unanswered) };
        if row.request_digest.as_deref() != Some(digest.as_bytes().as_slice()) {
            return Ok(Self::Other);
        }
        let status: AttestationStatus =
            row.status.parse().map_err(|_| corrupt("attestation status"))?;
        Ok(Self::Same(AttestationReceipt {
            attestation_id: attestation_id(&row.id)?,
            wallet: address(&row.wallet)?,
            scope: scope(row.scope.as_deref())?,
            status: status.at(row.expires_at, now),
            expires_at: row.expires_at,
        }))
    }

    /// What [`AttestationStore::replay`](crate::AttestationStore::replay) answers: the
    /// receipt for the same request, `None` otherwise.
    pub fn replayed(self) -> Option<AttestationReceipt> {
        match self {
            Self::Same(receipt) => Some(receipt),
            Self::Unanswered | Self::Other => None,
        }
    }

    /// What recording a request answers once its challenge is found answered: the original
    /// attestation for the same request, [`StoreError::ChallengeAlreadyAnswered`] for another;
    /// `None` when nobody answered it (recording goes on, or keeps its own refusal).
    pub fn recorded(self) -> Option<Result<Recorded, StoreError>> {
        match self {
            Self::Unanswered => None,
            Self::Same(receipt) => {
                Some(Ok(Recorded { receipt, replayed: true, rotated: Vec::new() }))
            }
            Self::Other => Some(Err(StoreError::ChallengeAlreadyAnswered)),
        }
    }
}

/// A certificate row with a live attestation, for the OCSP re-check.
#[derive(Debug)]
#[allow(missing_docs)] // the columns of the table, named as in the schema
pub struct LiveCertificateRow {
    pub id: i64,
    pub cert_hash: Vec<u8>,
    pub sealed: Option<Vec<u8>>,
}

impl LiveCertificateRow {
    /// The certificate, or [`StoreError::Corrupt`] for an unreadable hash.
    pub fn into_live(self) -> Result<LiveCertificate, StoreError> {
        Ok(LiveCertificate {
            id: self.id,
            cert: CertHash::from_slice(&self.cert_hash)
                .ok_or_else(|| corrupt("certificate hash"))?,
            sealed: self.sealed.map(SealedCert::from_bytes),
        })
    }
}

/// A `challenges` row.
#[derive(Debug)]
#[allow(missing_docs)] // the columns of the table, named as in the schema
pub struct ChallengeRow {
    pub id: Vec<u8>,
    pub purpose: String,
    pub wallet: Vec<u8>,
    pub audience: Option<String>,
    pub scope: Option<String>,
    pub nonce: Vec<u8>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub chain_id: i64,
    pub registry: Vec<u8>,
    pub domain: String,
}

impl ChallengeRow {
    /// The challenge, or [`StoreError::Corrupt`] naming the unreadable column.
    pub fn into_challenge(self) -> Result<Challenge, StoreError> {
        Ok(Challenge {
            id: ChallengeId::from_bytes(id16(&self.id, "challenge id")?),
            purpose: self.purpose.parse().map_err(|_| corrupt("challenge purpose"))?,
            wallet: address(&self.wallet)?,
            audience: self
                .audience
                .map(Audience::new)
                .transpose()
                .map_err(|_| corrupt("challenge audience"))?,
            scope: self
                .scope
                .map(ScopeName::new)
                .transpose()
                .map_err(|_| corrupt("challenge scope"))?,
            nonce: Nonce::from_bytes(
                <[u8; 32]>::try_from(self.nonce.as_slice()).map_err(|_| corrupt("nonce"))?,
            ),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            chain_id: u64::try_from(self.chain_id).map_err(|_| corrupt("chain id"))?,
            registry: address(&self.registry)?,
            domain: ServiceDomain::new(self.domain).map_err(|_| corrupt("service domain"))?,
        })
    }
}

/// An `attestations` row, as the API sees it.
#[derive(Debug)]
#[allow(missing_docs)] // the columns of the table, named as in the schema
pub struct AttestationRow {
    pub id: Vec<u8>,
    pub wallet: Vec<u8>,
    pub scope: Option<Vec<u8>>,
    pub status: String,
    pub level: i64,
    pub claims: i64,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub tx_hash: Option<Vec<u8>>,
    pub block_number: Option<i64>,
    pub revocation_reason: Option<i64>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl AttestationRow {
    /// The attestation, or [`StoreError::Corrupt`] naming the unreadable column.
    pub fn into_attestation(self) -> Result<Attestation, StoreError> {
        Ok(Attestation {
            id: AttestationId::from_bytes(id16(&self.id, "attestation id")?),
            wallet: address(&self.wallet)?,
            scope: scope(self.scope.as_deref())?,
            status: self.status.parse().map_err(|_| corrupt("attestation status"))?,
            level: Level(u8::try_from(self.level).map_err(|_| corrupt("level"))?),
            claims: Claims(u32::try_from(self.claims).map_err(|_| corrupt("claims"))?),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            tx_hash: self.tx_hash.as_deref().map(b256).transpose()?,
            block_number: self
                .block_number
                .map(|b| u64::try_from(b).map_err(|_| corrupt("block number")))
                .transpose()?,
            revocation_reason: reason(self.revocation_reason)?,
            revoked_at: self.revoked_at,
        })
    }
}

/// An `outbox` row.
#[derive(Debug)]
#[allow(missing_docs)] // the columns of the table, named as in the schema
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub attestation_id: Vec<u8>,
    pub wallet: Vec<u8>,
    pub scope: Option<Vec<u8>>,
    pub level: Option<i64>,
    pub claims: Option<i64>,
    pub issued_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
    pub reason: Option<i64>,
    pub state: String,
    pub attempts: i64,
    pub tx_hash: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
}

impl OutboxRow {
    /// The outbox item, or [`StoreError::Corrupt`] naming the unreadable column.
    pub fn into_item(self) -> Result<OutboxItem, StoreError> {
        let attestation = AttestationId::from_bytes(id16(&self.attestation_id, "attestation id")?);
        let wallet = address(&self.wallet)?;
        let scope = scope(self.scope.as_deref())?;
        let action = match self.kind.as_str() {
            "attest" => OutboxAction::Attest {
                attestation,
                wallet,
                level: Level(
                    self.level
                        .and_then(|l| u8::try_from(l).ok())
                        .ok_or_else(|| corrupt("level"))?,
                ),
                claims: Claims(
                    self.claims
                        .and_then(|c| u32::try_from(c).ok())
                        .ok_or_else(|| corrupt("claims"))?,
                ),
                issued_at: self.issued_at.ok_or_else(|| corrupt("outbox issued_at"))?,
                expires_at: self.expires_at.ok_or_else(|| corrupt("outbox expires_at"))?,
                scope,
            },
            "revoke" => OutboxAction::Revoke {
                attestation,
                wallet,
                reason: reason(self.reason)?.ok_or_else(|| corrupt("outbox reason"))?,
                scope,
            },
            _ => return Err(corrupt("outbox kind")),
        };
        Ok(OutboxItem {
            id: OutboxId(self.id),
            action,
            state: self.state.parse().map_err(|_| corrupt("outbox state"))?,
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("attempts"))?,
            tx_hash: self.tx_hash.as_deref().map(b256).transpose()?,
            created_at: self.created_at,
        })
    }
}

/// An `audit_log` row.
#[derive(Debug)]
#[allow(missing_docs)] // the columns of the table, named as in the schema
pub struct AuditRow {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub kind: String,
    pub code: Option<String>,
    pub attestation_id: Option<Vec<u8>>,
    pub request_id: Option<String>,
    pub client: Option<String>,
    pub api_key_id: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl AuditRow {
    /// The record, or [`StoreError::Corrupt`] naming the unreadable column.
    pub fn into_record(self) -> Result<AuditRecord, StoreError> {
        Ok(AuditRecord {
            seq: u64::try_from(self.seq).map_err(|_| corrupt("audit seq"))?,
            event: NewAuditEvent {
                at: self.at,
                kind: self.kind.parse().map_err(|_| corrupt("audit event kind"))?,
                code: self.code,
                attestation_id: self
                    .attestation_id
                    .map(|id| id16(&id, "attestation id").map(AttestationId::from_bytes))
                    .transpose()?,
                context: AuditContext {
                    request_id: self.request_id,
                    client: self.client,
                    api_key_id: self.api_key_id,
                },
            },
            prev_hash: b256(&self.prev_hash)?,
            hash: b256(&self.hash)?,
        })
    }
}

/// Outbox rows as items in queue (id) order.
pub fn sorted_items(rows: Vec<OutboxRow>) -> Result<Vec<OutboxItem>, StoreError> {
    let mut items = rows.into_iter().map(OutboxRow::into_item).collect::<Result<Vec<_>, _>>()?;
    items.sort_by_key(|i| i.id);
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox_row() -> OutboxRow {
        OutboxRow {
            id: 7,
            kind: "attest".into(),
            attestation_id: vec![1; 16],
            wallet: vec![2; 20],
            scope: None,
            level: Some(1),
            claims: Some(0),
            issued_at: Some(OffsetDateTime::UNIX_EPOCH),
            expires_at: Some(OffsetDateTime::UNIX_EPOCH),
            reason: None,
            state: "pending".into(),
            attempts: 0,
            tx_hash: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn corrupt_what(row: OutboxRow) -> &'static str {
        match row.into_item() {
            Err(StoreError::Corrupt { what }) => what,
            other => panic!("expected a corrupt value, got {other:?}"),
        }
    }

    #[test]
    fn a_readable_outbox_row_becomes_an_item() {
        let item = outbox_row().into_item().expect("readable");
        assert_eq!(item.id, OutboxId(7));
        assert!(matches!(item.action, OutboxAction::Attest { level: Level(1), scope: None, .. }));
        let scoped = OutboxRow { scope: Some(vec![3; 32]), ..outbox_row() }.into_item().unwrap();
        assert_eq!(scoped.action.scope(), Scope::from_bytes([3; 32]));
    }

    #[test]
    fn unreadable_columns_are_named() {
        assert_eq!(
            corrupt_what(OutboxRow { wallet: vec![2; 19], ..outbox_row() }),
            "wallet address"
        );
        assert_eq!(corrupt_what(OutboxRow { level: Some(256), ..outbox_row() }), "level");
        assert_eq!(corrupt_what(OutboxRow { kind: "mint".into(), ..outbox_row() }), "outbox kind");
        assert_eq!(
            corrupt_what(OutboxRow { kind: "revoke".into(), reason: Some(0), ..outbox_row() }),
            "revocation reason"
        );
        assert_eq!(corrupt_what(OutboxRow { attempts: -1, ..outbox_row() }), "attempts");
        assert_eq!(
            corrupt_what(OutboxRow { scope: Some(vec![0; 32]), ..outbox_row() }),
            "scope id"
        );
        assert_eq!(
            corrupt_what(OutboxRow { scope: Some(vec![3; 31]), ..outbox_row() }),
            "scope id"
        );
    }

    fn answer_row(digest: &[u8]) -> AnswerRow {
        AnswerRow {
            id: vec![1; 16],
            wallet: vec![2; 20],
            scope: None,
            status: "active".into(),
            expires_at: OffsetDateTime::UNIX_EPOCH + time::Duration::days(1),
            request_digest: Some(digest.to_vec()),
        }
    }

    #[test]
    fn a_challenge_answer_tells_the_same_request_from_another() {
        let digest = RequestDigest::from_bytes([9; 32]);
        let before = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            ChallengeAnswer::from_row(None, &digest, before).unwrap(),
            ChallengeAnswer::Unanswered
        );
        assert_eq!(
            ChallengeAnswer::from_row(Some(answer_row(&[8; 32])), &digest, before).unwrap(),
            ChallengeAnswer::Other
        );
        let same = ChallengeAnswer::from_row(Some(answer_row(&[9; 32])), &digest, before).unwrap();
        assert_eq!(same.clone().replayed().map(|r| r.status), Some(AttestationStatus::Active));
        assert!(matches!(same.recorded(), Some(Ok(Recorded { replayed: true, .. }))));
        // Live and past `expires_at`: expired, whatever the row says.
        let after = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
        let late = ChallengeAnswer::from_row(Some(answer_row(&[9; 32])), &digest, after).unwrap();
        assert_eq!(late.replayed().map(|r| r.status), Some(AttestationStatus::Expired));
        assert!(matches!(
            ChallengeAnswer::Other.recorded(),
            Some(Err(StoreError::ChallengeAlreadyAnswered))
        ));
        assert!(ChallengeAnswer::Unanswered.recorded().is_none());
    }

    #[test]
    fn a_lost_consume_says_why() {
        let row =
            |purpose: &str, consumed| Some(UnconsumedRow { purpose: purpose.into(), consumed });
        assert!(matches!(not_consumed(None, Purpose::Attest), StoreError::ChallengeNotFound));
        assert!(matches!(
            not_consumed(row("revoke", true), Purpose::Attest),
            StoreError::ChallengePurposeMismatch
        ));
        assert!(matches!(
            not_consumed(row("attest", true), Purpose::Attest),
            StoreError::ChallengeUsed
        ));
        assert!(matches!(
            not_consumed(row("attest", false), Purpose::Attest),
            StoreError::ChallengeExpired
        ));
    }

    #[test]
    fn the_audit_head_of_an_empty_log_is_none() {
        assert_eq!(audit_head_if_any(0, &[0; 32]).unwrap(), None);
        assert_eq!(audit_head_if_any(3, &[7; 32]).unwrap(), Some((3, B256::repeat_byte(7))));
        assert!(matches!(
            audit_head(-1, &[0; 32]),
            Err(StoreError::Corrupt { what: "audit head seq" })
        ));
    }

    #[test]
    fn the_first_report_of_each_certificate_wins() {
        use crate::{CertHash, RevocationReason, RevokedCertificate};
        let at = |s| OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(s);
        let report = |b, reason, s| RevokedCertificate {
            cert: CertHash::from_bytes([b; 32]),
            reason,
            revoked_at: at(s),
        };
        let reports = RevokedCertificate::first_reports(&[
            report(2, RevocationReason::CertificateRevoked, 20),
            report(1, RevocationReason::Superseded, 10),
            report(2, RevocationReason::Superseded, 5),
            report(2, RevocationReason::CertificateRevoked, 5),
        ]);
        assert_eq!(
            reports,
            vec![
                report(1, RevocationReason::Superseded, 10),
                report(2, RevocationReason::Superseded, 5),
            ]
        );
    }

    #[test]
    fn all_updated_names_the_first_missing_id() {
        assert!(all_updated(&[OutboxId(1), OutboxId(2)], &[2, 1], "claimed").is_ok());
        match all_updated(&[OutboxId(1), OutboxId(3)], &[1], "claimed") {
            Err(StoreError::OutboxItemNotFound { id, expected }) => {
                assert_eq!((id, expected), (OutboxId(3), "claimed"));
            }
            other => panic!("expected OutboxItemNotFound, got {other:?}"),
        }
    }
}
