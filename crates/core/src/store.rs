//! The persistence port: what honnin needs from a database.
//!
//! `honnin-store` implements [`Store`] for Postgres (production, many instances) and SQLite (the
//! embedded default). The trait is object safe: services hold an `Arc<dyn Store>` and tests run
//! the same bodies against both backends.
//!
//! Every method that depends on the time takes `now` from the caller (use [`crate::time::now`]):
//! instances sharing a database should agree on it, and tests can move it.
//!
//! ## The attestation transaction
//!
//! [`Store::record_attestation`] does, in one transaction:
//!
//! 1. if an attestation already answers the challenge: the same request digest → return it
//!    ([`Recorded::replayed`]); another digest → [`StoreError::ChallengeAlreadyAnswered`];
//! 2. create the person (pseudonym) if new and **lock** them (Postgres `SELECT … FOR UPDATE`;
//!    SQLite takes the database write lock with `BEGIN IMMEDIATE`), so two concurrent
//!    submissions for one person are serialised and cannot both pass the limit;
//! 3. record the certificate hash (refusing one marked revoked);
//! 4. mark the wallet's and the person's lapsed attestations expired; refuse if the wallet
//!    still has a live attestation ([`StoreError::WalletAlreadyAttested`]);
//! 5. apply the policy: under the limit → go on; at it → [`AtLimit::Refuse`] answers
//!    [`StoreError::WalletLimitReached`], [`AtLimit::Rotate`] revokes the oldest live
//!    attestations (reason `Rotated`) and queues their `revoke` (or cancels their `attest`
//!    if it was never claimed);
//! 6. insert the attestation (pending) and queue its `attest`.
//!
//! [`AtLimit::Refuse`]: crate::AtLimit::Refuse
//! [`AtLimit::Rotate`]: crate::AtLimit::Rotate

use std::fmt;

use alloy_primitives::{Address, B256};
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::{
    Attestation, AttestationId, AttestationReceipt, Challenge, ChallengeId, NewAttestation,
    OutboxId, OutboxItem, Policy, Purpose, RequestDigest,
};

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

/// What [`Store::record_attestation`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The answer for the client.
    pub receipt: AttestationReceipt,
    /// `true` when this was a re-sent request and `receipt` is the original attestation.
    pub replayed: bool,
    /// Attestations the rotate policy revoked to make room (empty otherwise).
    pub rotated: Vec<Rotated>,
}

/// An attestation revoked by rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    /// Its id.
    pub attestation_id: AttestationId,
    /// Its wallet.
    pub wallet: Address,
}

/// The name of an exclusive lease (one holder across every instance sharing the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseName(pub &'static str);

impl LeaseName {
    /// The chain writer's lease: one writer at a time sends transactions.
    pub const CHAIN_WRITER: Self = Self("chain-writer");
}

impl fmt::Display for LeaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// An exclusive lease, held until released or dropped.
///
/// Postgres: a session advisory lock on a dedicated connection (not from the pool); dropping
/// the lease closes the connection and the server releases the lock, also when the process
/// dies. SQLite: a row in a lease table with a holder token and an expiry, extended by
/// [`Lease::is_held`]; dropping it lets it lapse.
#[async_trait]
pub trait Lease: Send + Sync + fmt::Debug {
    /// The lease's name.
    fn name(&self) -> LeaseName;

    /// Whether the lease is still held (checks the connection, or extends a timed lease).
    /// Call it before each unit of exclusive work; stop when it answers `false`.
    async fn is_held(&mut self) -> Result<bool, StoreError>;

    /// Releases the lease now.
    async fn release(self: Box<Self>) -> Result<(), StoreError>;
}

/// What honnin needs from a database. See the [module docs](self) for the attestation
/// transaction.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Applies pending migrations. Safe to run from several instances at once.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Checks that the database answers (for `/ready`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a freshly issued challenge.
    async fn insert_challenge(&self, challenge: &Challenge) -> Result<(), StoreError>;

    /// Consumes a challenge atomically: exactly one caller, of any number racing, gets it,
    /// and only while `now < expires_at`. Errors: [`StoreError::ChallengeNotFound`],
    /// [`StoreError::ChallengeExpired`], [`StoreError::ChallengeUsed`],
    /// [`StoreError::ChallengePurposeMismatch`] (not consumed).
    async fn consume_challenge(
        &self,
        id: &ChallengeId,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Result<Challenge, StoreError>;

    /// Records a verified attestation under the policy, in one transaction (see the
    /// [module docs](self)).
    async fn record_attestation(
        &self,
        attestation: &NewAttestation,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError>;

    /// The attestation that answered `challenge`, if its request digest is `digest`: the
    /// answer to a re-sent request whose challenge is already used. `None` when no
    /// attestation answers the challenge or another request did.
    async fn replay(
        &self,
        challenge: &ChallengeId,
        digest: &RequestDigest,
        now: OffsetDateTime,
    ) -> Result<Option<AttestationReceipt>, StoreError>;

    /// An attestation by id.
    async fn attestation(&self, id: &AttestationId) -> Result<Option<Attestation>, StoreError>;

    /// The wallet's most recent attestation (live if it has one).
    async fn attestation_by_wallet(
        &self,
        wallet: Address,
    ) -> Result<Option<Attestation>, StoreError>;

    /// Claims up to `limit` items in queue order for `lease` (pending items due at `now`, and
    /// claimed items whose lease ran out). On Postgres concurrent claimers skip each other's
    /// rows (`FOR UPDATE SKIP LOCKED`); no item is handed to two claimers.
    async fn claim_outbox(
        &self,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<OutboxItem>, StoreError>;

    /// Items sent but not confirmed, in queue order: what a restarted writer reconciles.
    async fn outbox_in_flight(&self) -> Result<Vec<OutboxItem>, StoreError>;

    /// Records that claimed items were sent in transaction `tx_hash`; their attestations get
    /// the hash too.
    async fn mark_sent(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Records that claimed or sent items were included in `block_number` by transaction
    /// `tx_hash`: `attest` items make their attestation active (unless it was revoked or
    /// expired meanwhile).
    async fn mark_confirmed(
        &self,
        ids: &[OutboxId],
        tx_hash: B256,
        block_number: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Puts claimed or sent items back in the queue, due at `retry_at`, noting `error` (a short
    /// description with nothing personal in it). Clears the transaction hash.
    async fn mark_retry(
        &self,
        ids: &[OutboxId],
        error: &str,
        retry_at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Gives up on items (an operator must look), noting `error`.
    async fn mark_failed(&self, ids: &[OutboxId], error: &str) -> Result<(), StoreError>;

    /// Tries to take the exclusive lease `name`; `None` when another holder has it.
    async fn try_lease(&self, name: LeaseName) -> Result<Option<Box<dyn Lease>>, StoreError>;

    /// Deletes challenges that expired before `before`; returns how many.
    async fn purge_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
