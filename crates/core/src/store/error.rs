//! The store's error type.

use crate::OutboxId;

/// Why the store refused or failed. Callers branch on the refusals; the API maps each variant
/// to a status in one exhaustive `match` (deliberately not `#[non_exhaustive]`: a new variant
/// must not compile in the API until someone decides its status).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No challenge with that id (never issued, or purged).
    #[error("challenge not found")]
    ChallengeNotFound,
    /// The challenge expired before it was used.
    #[error("challenge expired")]
    ChallengeExpired,
    /// The challenge was already used.
    #[error("challenge already used")]
    ChallengeUsed,
    /// The challenge was issued for another purpose (it is not consumed).
    #[error("challenge was issued for another purpose")]
    ChallengePurposeMismatch,
    /// A challenge with that id exists already (a random-id collision: issue a new one).
    #[error("challenge id already exists")]
    DuplicateChallenge,
    /// Another request (different evidence) was already recorded for this challenge.
    #[error("challenge already answered by another request")]
    ChallengeAlreadyAnswered,
    /// The person holds the maximum number of live attestations and the policy refuses more.
    #[error("the person already holds {limit} live attestation(s)")]
    WalletLimitReached {
        /// The policy's limit.
        limit: u32,
    },
    /// The wallet already has a live attestation.
    #[error("wallet already has a live attestation")]
    WalletAlreadyAttested,
    /// The certificate's hash is marked revoked.
    #[error("certificate revoked")]
    CertificateRevoked,
    /// An outbox id that does not exist, or is not in the state the call needs.
    #[error("outbox item {id} not found in state {expected}")]
    OutboxItemNotFound {
        /// The id.
        id: OutboxId,
        /// The state it should have been in.
        expected: &'static str,
    },
    /// Nobody to erase: no certificate or pseudonym matches.
    #[error("person not found")]
    PersonNotFound,
    /// Other instances kept moving the audit log's head: an append re-read it `attempts` times
    /// without once finding it where it had chained its rows.
    #[error("the audit head moved {attempts} times during one append")]
    AuditHeadContended {
        /// How often the append chained its rows again.
        attempts: u32,
    },
    /// The audit log's writer is not running (its future was not spawned, or it stopped).
    #[error("audit log writer stopped")]
    AuditLogClosed,
    /// A stored value the domain cannot read (schema drift or manual edits).
    #[error("corrupt stored value: {what}")]
    Corrupt {
        /// Which value.
        what: &'static str,
    },
    /// The pool had no free connection within its acquire timeout.
    #[error("database busy: no connection available")]
    PoolTimedOut,
    /// The database failed (connection, I/O, an unexpected constraint).
    #[error("database error")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// Migrating the schema failed.
    #[error("migration failed")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}
