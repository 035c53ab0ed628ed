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
//! 2. find the person: a known certificate hash answers it, whatever the pseudonym (so a
//!    certificate known through a renewal link, [`Store::link_renewals`], counts as the person
//!    of the certificate it renews); else the pseudonym, created if new. **Lock** the person
//!    (Postgres `SELECT … FOR UPDATE`; SQLite takes the database write lock with
//!    `BEGIN IMMEDIATE`), so two concurrent submissions for one person are serialised and
//!    cannot both pass the limit. No lock is shared by different persons;
//! 3. record the certificate hash with its notAfter and [sealed serial](crate::SealedCert)
//!    (filling them in for a certificate known only through a link), refusing one marked
//!    revoked;
//! 4. mark the wallet's and the person's lapsed attestations expired; refuse if the wallet
//!    still has a live attestation ([`StoreError::WalletAlreadyAttested`]);
//! 5. apply the policy: under the limit → go on; at it → [`AtLimit::Refuse`] answers
//!    [`StoreError::WalletLimitReached`], [`AtLimit::Rotate`] revokes the oldest live
//!    attestations (reason `Rotated`) and queues their `revoke` (or cancels their `attest`
//!    if it was never claimed);
//! 6. insert the attestation (pending) and queue its `attest`.
//!
//! ## The life cycle
//!
//! Certificate revocations ([`Store::revoke_certificates`]), expiry
//! ([`Store::expire_attestations`]), wallet revocations ([`Store::revoke_wallet`]) and erasure
//! ([`Store::erase_person`]) revoke live attestations the same way rotation does: status
//! `revoked` with the reason, and a `revoke` queued for the chain (or the `attest` cancelled
//! when it was never claimed). The status change is the claim: of two concurrent revocations of
//! one attestation, one queues the `revoke`. [`Store::claim_outbox`] keeps per-wallet order, so
//! a `revoke` never reaches the chain before the `attest` it undoes.
//!
//! ## The audit log
//!
//! [`Store::append_audit`] chains rows as [`crate::audit`] describes. Its head row is the only
//! lock all appenders share; nothing else takes it, so the attestation transaction is not
//! serialised by auditing.
//!
//! [`AtLimit::Refuse`]: crate::AtLimit::Refuse
//! [`AtLimit::Rotate`]: crate::AtLimit::Rotate

use std::fmt;

use alloy_primitives::{Address, B256};
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::{
    Attestation, AttestationId, AttestationReceipt, AuditQuery, AuditRecord, CertHash,
    CertRevocationOutcome, Challenge, ChallengeId, LinkOutcome, LiveCertificate, NewAttestation,
    NewAuditEvent, OutboxId, OutboxItem, PersonPseudonym, Policy, Purpose, RenewalLink,
    RequestDigest, RevocationReason, RevokedCertificate,
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
    ///
    /// Per-wallet order: an item is not handed out while an earlier item for the same wallet
    /// is still open (pending, claimed or sent), so a `revoke` never overtakes the `attest`
    /// it undoes, even in another writer's batch.
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

    /// Appends events to the audit log in one transaction, chaining each to the previous row
    /// ([`crate::audit::chain_hash`]). The head (last `seq` and hash) is a row of its own,
    /// locked for the transaction (Postgres `FOR UPDATE`, SQLite `BEGIN IMMEDIATE`), so the
    /// chain stays linear across instances. Times are stored with microsecond precision.
    /// Services append through [`crate::AuditLog`], which batches concurrent callers.
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<(), StoreError>;

    /// A page of the audit log in `seq` order (see [`AuditQuery`]).
    async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;

    /// The stored head of the audit log: the last `seq` and its hash; `None` when empty.
    async fn audit_head(&self) -> Result<Option<(u64, B256)>, StoreError>;

    /// Applies certificate revocations reported by the revocation source (by keyed hash
    /// only), in one transaction. Known certificates are marked revoked (idempotent: the
    /// first reported time and reason stay); their live attestations are revoked with the
    /// reported reason and their `revoke` queued (or their unsent `attest` cancelled). A
    /// `superseded` certificate with a linked successor ([`Store::link_renewals`]) is the
    /// exception: its live attestations move to the successor and stay live, with no chain
    /// write. Unknown hashes are counted and ignored. Already revoked certificates that still
    /// have live attestations (recorded concurrently with an earlier call) are revoked again,
    /// so repeating a revocation list heals such races.
    async fn revoke_certificates(
        &self,
        revoked: &[RevokedCertificate],
        now: OffsetDateTime,
    ) -> Result<CertRevocationOutcome, StoreError>;

    /// Records renewal links (old → new certificate, keyed hashes). A known old certificate
    /// makes the new hash a certificate of the same person (its notAfter unknown until it is
    /// presented), so the uniqueness policy holds across the renewal and
    /// [`Store::record_attestation`] for the new certificate counts the same person. Unknown
    /// old certificates are ignored; a new certificate that already belongs to another person
    /// is a conflict, left alone. Both are counted.
    async fn link_renewals(
        &self,
        links: &[RenewalLink],
        now: OffsetDateTime,
    ) -> Result<LinkOutcome, StoreError>;

    /// Marks up to `limit` live attestations whose `expires_at` is not after `now` expired,
    /// cancelling their unsent `attest` items (the chain derives expiry itself). Returns them.
    async fn expire_attestations(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Rotated>, StoreError>;

    /// Revokes the wallet's live (unexpired) attestation for `reason` and queues its `revoke`
    /// (or cancels its unsent `attest`). `None` when the wallet has no live attestation.
    async fn revoke_wallet(
        &self,
        wallet: Address,
        reason: RevocationReason,
        now: OffsetDateTime,
    ) -> Result<Option<AttestationId>, StoreError>;

    /// Erases a person, found by certificate hash or else by pseudonym, in one transaction:
    /// their live attestations are revoked (reason [`RevocationReason::Erasure`]) with their
    /// `revoke` queued; then every attestation of theirs loses its person, certificate and
    /// request digest; their certificates (with renewal links and sealed serials) and the
    /// person are deleted. Afterwards nothing in the database links a chain record to a
    /// certificate. Returns the revoked attestations; [`StoreError::PersonNotFound`] when
    /// nobody matches.
    async fn erase_person(
        &self,
        cert: &CertHash,
        pseudonym: &PersonPseudonym,
        now: OffsetDateTime,
    ) -> Result<Vec<Rotated>, StoreError>;

    /// Certificates (not revoked) with a live attestation, in id order after the cursor
    /// `after`, at most `limit`: what an OCSP re-check walks through.
    async fn live_certificates(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LiveCertificate>, StoreError>;
}
