//! The audit log: one row per event, hash-chained, nothing personal.
//!
//! Every event (a challenge issued, a verification accepted or refused, an attestation queued,
//! confirmed, revoked or expired, a renewal linked, an erasure, an admin action) is appended
//! with a sequence number and a hash that commits to the previous row's hash:
//!
//! ```text
//! hash(n) = SHA-256("honnin/v1/audit" || 0x00 || prev_hash || u64be(seq)
//!                   || u64be(len f) || f  for each field)
//! ```
//!
//! The fields, in order: the time as Unix microseconds (big-endian `i64`; the databases keep
//! microseconds), the kind's name, then the optional fields `code`, attestation id (16 bytes),
//! request id, client, API key id, each as a presence byte (`0` absent, `1` present) followed by
//! the length-prefixed bytes when present. The first row has `seq` 1 and a zero `prev_hash`.
//! The store keeps the head (last `seq` and hash) in its own row, so a truncated tail is
//! detected too. [`verify_chain`] (or a [`ChainVerifier`] fed page by page) names the first bad
//! row: an edited row no longer hashes to its stored hash; a deleted row leaves a gap in `seq`
//! or a `prev_hash` that does not match.
//!
//! What an event holds is deliberately thin: request id, client address, API key id, a code.
//! Never a wallet signature, certificate, serial, pseudonym or individual number.
//!
//! [`AuditLog`] is the writer services use: a cloneable handle and a future to spawn. Callers
//! wait until their events are committed (durable before the response); events queued while
//! one batch is being written go into the next batch, one transaction each (group commit).

use std::{fmt, future::Future, str::FromStr, sync::Arc};

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::{AttestationId, AuditStore, Error, Result, StoreError};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEventKind {
    /// A challenge was issued.
    ChallengeIssued,
    /// A card and wallet proof was accepted.
    VerificationAccepted,
    /// A card or wallet proof was refused (`code` says why).
    VerificationRefused,
    /// An attestation was recorded and queued for the chain.
    AttestationQueued,
    /// An attestation was confirmed on chain.
    AttestationConfirmed,
    /// An attestation was revoked (`code` names the reason).
    AttestationRevoked,
    /// A revocation was confirmed on chain.
    RevocationConfirmed,
    /// An attestation expired.
    AttestationExpired,
    /// A renewed certificate was linked to its predecessor.
    RenewalLinked,
    /// A person was erased.
    Erasure,
    /// An operator did something through an admin endpoint or tool (`code` names it).
    AdminAction,
}

impl AuditEventKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 11] = [
        Self::ChallengeIssued,
        Self::VerificationAccepted,
        Self::VerificationRefused,
        Self::AttestationQueued,
        Self::AttestationConfirmed,
        Self::AttestationRevoked,
        Self::RevocationConfirmed,
        Self::AttestationExpired,
        Self::RenewalLinked,
        Self::Erasure,
        Self::AdminAction,
    ];

    /// The snake_case name used in the database, the API and the export.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ChallengeIssued => "challenge_issued",
            Self::VerificationAccepted => "verification_accepted",
            Self::VerificationRefused => "verification_refused",
            Self::AttestationQueued => "attestation_queued",
            Self::AttestationConfirmed => "attestation_confirmed",
            Self::AttestationRevoked => "attestation_revoked",
            Self::RevocationConfirmed => "revocation_confirmed",
            Self::AttestationExpired => "attestation_expired",
            Self::RenewalLinked => "renewal_linked",
            Self::Erasure => "erasure",
            Self::AdminAction => "admin_action",
        }
    }
}

impl fmt::Display for AuditEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditEventKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(Error::InvalidAuditEvent)
    }
}

/// Who asked, with nothing personal: the request id, the client address, the API key id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditContext {
    /// The request's id (`x-request-id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The client's address (or the trusted proxy's forwarded address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The API key's id (never the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEvent {
    /// When it happened. Stored (and hashed) with microsecond precision.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    pub kind: AuditEventKind,
    /// A refusal code (`bad_signature`), a revocation reason (`holder`), an admin action's
    /// name, …: a fixed vocabulary, never free text from a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The attestation concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation_id: Option<AttestationId>,
    /// Who asked.
    #[serde(default)]
    pub context: AuditContext,
}

impl NewAuditEvent {
    /// An event of `kind` at `at` with no code, attestation or context.
    pub fn new(kind: AuditEventKind, at: OffsetDateTime) -> Self {
        Self { at, kind, code: None, attestation_id: None, context: AuditContext::default() }
    }

    /// The same event with `code`.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The same event about `attestation`.
    pub fn with_attestation(mut self, attestation: AttestationId) -> Self {
        self.attestation_id = Some(attestation);
        self
    }

    /// The same event with `context`.
    pub fn with_context(mut self, context: AuditContext) -> Self {
        self.context = context;
        self
    }

    /// The event with its time truncated to whole microseconds, as the store keeps it.
    pub fn truncated(mut self) -> Self {
        self.at = truncate_micros(self.at);
        self
    }
}

/// `at` truncated to whole microseconds (toward the past).
pub fn truncate_micros(at: OffsetDateTime) -> OffsetDateTime {
    let micros = unix_micros(at);
    // Within OffsetDateTime's range by construction (it was one a moment ago).
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).unwrap_or(at)
}

/// Unix microseconds, floored (saturating far outside any real time).
pub fn unix_micros(at: OffsetDateTime) -> i64 {
    let micros = at.unix_timestamp_nanos().div_euclid(1_000);
    i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

/// A stored event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Its sequence number: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// The event.
    #[serde(flatten)]
    pub event: NewAuditEvent,
    /// The previous row's hash (zero for the first row).
    pub prev_hash: B256,
    /// [`chain_hash`] of this row.
    pub hash: B256,
}

/// The hash of row `seq` holding `event`, after a row hashing to `prev`.
pub fn chain_hash(prev: &B256, seq: u64, event: &NewAuditEvent) -> B256 {
    fn field(h: &mut Sha256, bytes: &[u8]) {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    }
    fn optional(h: &mut Sha256, bytes: Option<&[u8]>) {
        match bytes {
            None => h.update([0]),
            Some(bytes) => {
                h.update([1]);
                field(h, bytes);
            }
        }
    }
    let mut h = Sha256::new();
    h.update(b"honnin/v1/audit");
    h.update([0]);
    h.update(prev.as_slice());
    h.update(seq.to_be_bytes());
    field(&mut h, &unix_micros(event.at).to_be_bytes());
    field(&mut h, event.kind.as_str().as_bytes());
    optional(&mut h, event.code.as_deref().map(str::as_bytes));
    optional(&mut h, event.attestation_id.as_ref().map(|a| a.as_bytes().as_slice()));
    optional(&mut h, event.context.request_id.as_deref().map(str::as_bytes));
    optional(&mut h, event.context.client.as_deref().map(str::as_bytes));
    optional(&mut h, event.context.api_key_id.as_deref().map(str::as_bytes));
    B256::from(<[u8; 32]>::from(h.finalize()))
}

/// Where the chain breaks. Each variant names the first row that does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditBreak {
    /// Row `seq` does not hash to its stored hash: it was edited.
    #[error("audit row {seq} was edited (its hash does not match its contents)")]
    Edited {
        /// The row.
        seq: u64,
    },
    /// Row `expected` is missing (the next row present is `found`): rows were deleted.
    #[error("audit row {expected} is missing (next row present: {found})")]
    Missing {
        /// The first missing sequence number.
        expected: u64,
        /// The sequence number found in its place.
        found: u64,
    },
    /// Row `seq` does not follow the row before it (its `prev_hash` differs from that row's
    /// hash): a row before it was deleted or replaced.
    #[error("audit row {seq} does not follow row {} (previous hash mismatch)", seq - 1)]
    Unlinked {
        /// The row.
        seq: u64,
    },
    /// The head says the chain ends at `head_seq`, but the rows end at `last_seq`: rows at
    /// the end were deleted (or the head was edited).
    #[error("audit rows after {last_seq} are missing (the head says the last row is {head_seq})")]
    Truncated {
        /// The head's last sequence number.
        head_seq: u64,
        /// The last row present.
        last_seq: u64,
    },
    /// The head's hash differs from the last row's hash.
    #[error("audit row {seq} does not match the stored head")]
    HeadMismatch {
        /// The last row.
        seq: u64,
    },
}

/// Checks a chain row by row, in `seq` order (for example page by page from the store).
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: u64,
    prev: B256,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// A verifier for a chain from its first row (`seq` 1, zero `prev_hash`).
    pub const fn new() -> Self {
        Self { next_seq: 1, prev: B256::ZERO, checked: 0 }
    }

    /// A verifier resuming after row `seq - 1` whose hash was `prev` (a trusted checkpoint).
    pub const fn resume(next_seq: u64, prev: B256) -> Self {
        Self { next_seq, prev, checked: 0 }
    }

    /// Checks the next row.
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), AuditBreak> {
        if record.seq != self.next_seq {
            return Err(if record.seq > self.next_seq {
                AuditBreak::Missing { expected: self.next_seq, found: record.seq }
            } else {
                // A repeated or out-of-order sequence number: the row was tampered with.
                AuditBreak::Edited { seq: record.seq }
            });
        }
        if chain_hash(&record.prev_hash, record.seq, &record.event) != record.hash {
            return Err(AuditBreak::Edited { seq: record.seq });
        }
        if record.prev_hash != self.prev {
            return Err(AuditBreak::Unlinked { seq: record.seq });
        }
        self.prev = record.hash;
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Checks that the rows seen end where the stored head says; returns how many rows were
    /// checked. `head` is `None` for an empty log.
    pub fn finish(self, head: Option<(u64, B256)>) -> Result<u64, AuditBreak> {
        let last_seq = self.next_seq - 1;
        match head {
            None if last_seq == 0 => Ok(self.checked),
            None => Err(AuditBreak::HeadMismatch { seq: last_seq }),
            Some((head_seq, _)) if head_seq > last_seq => {
                Err(AuditBreak::Truncated { head_seq, last_seq })
            }
            Some((head_seq, hash)) if head_seq < last_seq || hash != self.prev => {
                Err(AuditBreak::HeadMismatch { seq: last_seq })
            }
            Some(_) => Ok(self.checked),
        }
    }
}

/// `events` chained after `head` (the log's last `seq` and its hash, as the store keeps them:
/// `seq` 0 and a zero hash for an empty log): the rows to append, each event truncated to whole
/// microseconds as the store keeps it, numbered and hashed with [`chain_hash`].
pub fn chain_after(head: (u64, B256), events: &[NewAuditEvent]) -> Vec<AuditRecord> {
    let (mut seq, mut prev) = head;
    events
        .iter()
        .map(|event| {
            let event = event.clone().truncated();
            seq += 1;
            let hash = chain_hash(&prev, seq, &event);
            let record = AuditRecord { seq, event, prev_hash: prev, hash };
            prev = hash;
            record
        })
        .collect()
}

/// Checks `records` (the whole log, in `seq` order) against the stored `head`; returns how
/// many rows were checked, or the first break.
pub fn verify_chain(records: &[AuditRecord], head: Option<(u64, B256)>) -> Result<u64, AuditBreak> {
    let mut verifier = ChainVerifier::new();
    for record in records {
        verifier.check(record)?;
    }
    verifier.finish(head)
}

/// A page of the log: filters and a cursor. Results come in `seq` order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Events at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Events before this time.
    pub to: Option<OffsetDateTime>,
    /// Only these kinds (empty: every kind).
    pub kinds: Vec<AuditEventKind>,
    /// Only rows after this sequence number (the cursor).
    pub after_seq: Option<u64>,
    /// At most this many rows (the store caps it at [`AuditQuery::MAX_LIMIT`]).
    pub limit: u32,
}

impl AuditQuery {
    /// The largest page a store returns.
    pub const MAX_LIMIT: u32 = 10_000;

    /// Every row after `after_seq`, `limit` at a time (what verification and export page with).
    pub fn all_after(after_seq: Option<u64>, limit: u32) -> Self {
        Self { after_seq, limit, ..Self::default() }
    }
}

/// The most events one [`AuditLog`] batch writes in one transaction.
const MAX_BATCH: usize = 1_000;

type Request = (Vec<NewAuditEvent>, oneshot::Sender<Result<(), StoreError>>);

/// The group-committing audit writer: clone the handle into every task that records events;
/// spawn the future returned by [`AuditLog::new`] once. The future ends when every handle is
/// dropped (after writing what was queued).
#[derive(Debug, Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<Request>,
}

impl AuditLog {
    /// The handle, and the writer future to spawn.
    pub fn new(store: Arc<dyn AuditStore>) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = mpsc::channel(4_096);
        (Self { tx }, write_batches(store, rx))
    }

    /// Appends `events` and returns once they are committed. Errors: whatever the store
    /// answered for the batch they were in, or [`StoreError::AuditLogClosed`] when the writer
    /// future is not running.
    pub async fn record(&self, events: Vec<NewAuditEvent>) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        self.tx.send((events, done)).await.map_err(|_| StoreError::AuditLogClosed)?;
        answer.await.map_err(|_| StoreError::AuditLogClosed)?
    }

    /// Appends one event (see [`record`](Self::record)).
    pub async fn record_one(&self, event: NewAuditEvent) -> Result<(), StoreError> {
        self.record(vec![event]).await
    }
}

async fn write_batches(store: Arc<dyn AuditStore>, mut rx: mpsc::Receiver<Request>) {
    let mut waiting: Vec<(usize, oneshot::Sender<Result<(), StoreError>>)> = Vec::new();
    let mut events: Vec<NewAuditEvent> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        // Everything queued while the previous batch was written goes into this one.
        while let Some((batch, done)) = next.take() {
            waiting.push((batch.len(), done));
            events.extend(batch);
            if events.len() >= MAX_BATCH {
                break;
            }
            next = rx.try_recv().ok();
        }
        let result = store.append_audit(&events).await;
        events.clear();
        match result {
            Ok(()) => {
                for (_, done) in waiting.drain(..) {
                    // The caller may have gone away; its events are written all the same.
                    let _ = done.send(Ok(()));
                }
            }
            Err(error) => {
                let shared = Arc::new(error);
                for (_, done) in waiting.drain(..) {
                    let _ = done.send(Err(share(&shared)));
                }
            }
        }
    }
}

/// One batch failure, answered to every caller in the batch.
fn share(error: &Arc<StoreError>) -> StoreError {
    match **error {
        StoreError::PoolTimedOut => StoreError::PoolTimedOut,
        StoreError::AuditLogClosed => StoreError::AuditLogClosed,
        _ => StoreError::Database(Box::new(BatchFailed(Arc::clone(error)))),
    }
}

/// The store error of an audit batch, shared by the batch's callers.
#[derive(Debug)]
struct BatchFailed(Arc<StoreError>);

impl fmt::Display for BatchFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "audit batch failed: {}", self.0)
    }
}

impl std::error::Error for BatchFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: i64) -> NewAuditEvent {
        NewAuditEvent::new(
            AuditEventKind::VerificationRefused,
            OffsetDateTime::from_unix_timestamp(1_800_000_000 + n).expect("time"),
        )
        .with_code("bad_signature")
        .with_context(AuditContext {
            request_id: Some(format!("req-{n}")),
            client: Some("192.0.2.1".into()),
            api_key_id: None,
        })
    }

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut prev = B256::ZERO;
        (1..=n)
            .map(|seq| {
                let event = event(seq as i64);
                let hash = chain_hash(&prev, seq, &event);
                let record = AuditRecord { seq, event, prev_hash: prev, hash };
                prev = hash;
                record
            })
            .collect()
    }

    #[test]
    fn chaining_after_a_head_continues_the_chain() {
        let whole = chain(5);
        let events: Vec<NewAuditEvent> = whole[2..].iter().map(|r| r.event.clone()).collect();
        let rest = chain_after((whole[1].seq, whole[1].hash), &events);
        assert_eq!(rest, whole[2..].to_vec());
        assert_eq!(chain_after((0, B256::ZERO), &[event(1), event(2)]), chain(2));
    }

    fn head(records: &[AuditRecord]) -> Option<(u64, B256)> {
        records.last().map(|r| (r.seq, r.hash))
    }

    #[test]
    fn an_intact_chain_verifies() {
        let records = chain(5);
        assert_eq!(verify_chain(&records, head(&records)), Ok(5));
        assert_eq!(verify_chain(&[], None), Ok(0));
    }

    #[test]
    fn every_field_is_committed_to() {
        let base = event(1);
        let h = chain_hash(&B256::ZERO, 1, &base);
        let variants = [
            NewAuditEvent { code: None, ..base.clone() },
            NewAuditEvent { code: Some("bad_signaturf".into()), ..base.clone() },
            NewAuditEvent { kind: AuditEventKind::VerificationAccepted, ..base.clone() },
            NewAuditEvent { at: base.at + time::Duration::microseconds(1), ..base.clone() },
            NewAuditEvent {
                attestation_id: Some(AttestationId::from_bytes([0; 16])),
                ..base.clone()
            },
            base.clone().with_context(AuditContext::default()),
            base.clone().with_context(AuditContext {
                api_key_id: Some("req-1".into()),
                request_id: None,
                ..base.context.clone()
            }),
        ];
        for v in &variants {
            assert_ne!(chain_hash(&B256::ZERO, 1, v), h, "{v:?}");
        }
        assert_ne!(chain_hash(&B256::ZERO, 2, &base), h);
        assert_ne!(chain_hash(&B256::repeat_byte(1), 1, &base), h);
        // Sub-microsecond differences are not stored, so they do not count.
        let nanos =
            NewAuditEvent { at: base.at + time::Duration::nanoseconds(999), ..base.clone() };
        assert_eq!(chain_hash(&B256::ZERO, 1, &nanos), h);
    }

    #[test]
    fn an_edited_row_is_named() {
        let mut records = chain(5);
        records[2].event.code = Some("accepted".into());
        assert_eq!(verify_chain(&records, head(&records)), Err(AuditBreak::Edited { seq: 3 }));
    }

    #[test]
    fn a_rehashed_edit_breaks_the_next_link() {
        let mut records = chain(5);
        records[2].event.code = Some("accepted".into());
        records[2].hash = chain_hash(&records[2].prev_hash, 3, &records[2].event);
        assert_eq!(verify_chain(&records, head(&records)), Err(AuditBreak::Unlinked { seq: 4 }));
    }

    #[test]
    fn a_deleted_row_is_named() {
        let mut records = chain(5);
        records.remove(1);
        assert_eq!(
            verify_chain(&records, head(&records)),
            Err(AuditBreak::Missing { expected: 2, found: 3 })
        );
        let mut records = chain(3);
        records.remove(0);
        assert_eq!(
            verify_chain(&records, head(&records)),
            Err(AuditBreak::Missing { expected: 1, found: 2 })
        );
    }

    #[test]
    fn a_truncated_tail_is_detected_through_the_head() {
        let records = chain(5);
        let full_head = head(&records);
        assert_eq!(
            verify_chain(&records[..3], full_head),
            Err(AuditBreak::Truncated { head_seq: 5, last_seq: 3 })
        );
        assert_eq!(
            verify_chain(&[], full_head),
            Err(AuditBreak::Truncated { head_seq: 5, last_seq: 0 })
        );
        assert_eq!(verify_chain(&records, None), Err(AuditBreak::HeadMismatch { seq: 5 }));
        assert_eq!(
            verify_chain(&records, Some((5, B256::ZERO))),
            Err(AuditBreak::HeadMismatch { seq: 5 })
        );
    }

    #[test]
    fn verification_resumes_page_by_page() {
        let records = chain(6);
        let mut verifier = ChainVerifier::new();
        for page in records.chunks(4) {
            for r in page {
                verifier.check(r).expect("intact");
            }
        }
        assert_eq!(verifier.finish(head(&records)), Ok(6));
        let mut resumed = ChainVerifier::resume(4, records[2].hash);
        for r in &records[3..] {
            resumed.check(r).expect("intact");
        }
        assert_eq!(resumed.finish(head(&records)), Ok(3));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in AuditEventKind::ALL {
            assert_eq!(kind.as_str().parse::<AuditEventKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).expect("json"), kind.as_str());
        }
        assert!("launched".parse::<AuditEventKind>().is_err());
    }

    #[test]
    fn records_serialise_flat() {
        let record = &chain(1)[0];
        let json = serde_json::to_value(record).expect("json");
        assert_eq!(json["seq"], 1);
        assert_eq!(json["kind"], "verification_refused");
        assert_eq!(json["code"], "bad_signature");
        assert_eq!(json["context"]["client"], "192.0.2.1");
        let back: AuditRecord = serde_json::from_value(json).expect("parse");
        assert_eq!(&back, record);
    }
}
