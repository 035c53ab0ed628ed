//! The persistence port: what honnin needs from a database, by role.
//!
//! `honnin-store` implements these traits for Postgres (production, many instances) and
//! SQLite (the embedded default). Each user of the store takes only the role it uses; [`Store`]
//! is their union, implemented for every type that implements them all (a blanket impl). The
//! traits are object safe: services hold an `Arc<dyn Store>` and hand a part of it on
//! (`Arc<dyn Store>` coerces to `Arc<dyn OutboxStore>`), and tests run the same bodies against
//! both backends.
//!
//! | trait | what | used by |
//! |---|---|---|
//! | [`SchemaStore`] | migrations, ping | `honnin migrate`, `/ready` |
//! | [`ChallengeStore`] | insert, consume, purge challenges | the API, the challenge purge |
//! | [`AttestationStore`] | the attestation transaction, replays, reads | the API |
//! | [`RevocationStore`] | revoking one wallet's attestation | the API |
//! | [`ErasureStore`] | erasing a person | the API |
//! | [`ExpiryStore`] | expiring lapsed attestations | the expiry sweep |
//! | [`CertStatusStore`] | certificate revocations, renewal links, live certificates | the revocation sync |
//! | [`OutboxStore`] | claiming and settling chain work | the chain writer |
//! | [`LeaseStore`] | exclusive leases (a supertrait of the two above) | the chain writer, the revocation sync |
//! | [`AuditStore`] | appending and reading the audit log | [`crate::AuditLog`], audit export and verification |
//! | [`ScopeStore`] | the registered scopes (per-dApp records) | the API, the life cycle |
//! | [`WebhookStore`] | webhook endpoints and the delivery outbox (queued by the database in the change's transaction) | the admin API, the webhook worker |
//!
//! Every method that depends on the time takes `now` from the caller (use [`crate::time::now`]):
//! instances sharing a database should agree on it, and tests can move it.
//!
//! ## The attestation transaction
//!
//! [`AttestationStore::record_attestation`] does, in one transaction:
//!
//! 1. if an attestation already answers the challenge: the same request digest → return it
//!    ([`Recorded::replayed`]); another digest → [`StoreError::ChallengeAlreadyAnswered`];
//! 2. find the person: a known certificate hash answers it, whatever the pseudonym (so a
//!    certificate known through a renewal link, [`CertStatusStore::link_renewals`], counts as
//!    the person of the certificate it renews); else the pseudonym, created if new. **Lock**
//!    the person (Postgres `SELECT … FOR UPDATE`; SQLite takes the database write lock with
//!    `BEGIN IMMEDIATE`), so two concurrent submissions for one person are serialised and
//!    cannot both pass the limit. No lock is shared by different persons;
//! 3. record the certificate hash with its notAfter and [sealed serial](crate::SealedCert)
//!    (filling them in for a certificate known only through a link), refusing one marked
//!    revoked;
//! 4. mark the wallet's and the person's lapsed attestations in the scope expired; refuse if
//!    the wallet still has a live attestation in the same scope
//!    ([`StoreError::WalletAlreadyAttested`]);
//! 5. apply the policy: under the limit → go on; at it → [`AtLimit::Refuse`] answers
//!    [`StoreError::WalletLimitReached`], [`AtLimit::Rotate`] revokes the oldest live
//!    attestations (reason `rotated`) and queues their `revoke` (or cancels their `attest`
//!    if it was never claimed);
//! 6. insert the attestation (pending) and queue its `attest`.
//!
//! A scoped attestation ([`NewAttestation::scope`](crate::NewAttestation::scope)) goes through
//! the same steps: its pseudonym and certificate hash are the scoped ones, so steps 2–5 find
//! the person *of that scope*, and the policy holds per scope with no further rule (the
//! stores also count only the person's attestations in the scope, which are all of theirs).
//! Its scope must be registered ([`ScopeStore::register_scope`]): the stores refuse a record
//! in an unknown scope (a foreign key), since the life cycle would never reach it.
//!
//! ## Revocation, expiry and erasure
//!
//! Certificate revocations ([`CertStatusStore::revoke_certificates`]), expiry
//! ([`ExpiryStore::expire_attestations`]), wallet revocations
//! ([`RevocationStore::revoke_wallet`]) and erasure ([`ErasureStore::erase_person`]) revoke
//! live attestations the same way rotation does: status `revoked` with the reason, and a
//! `revoke` queued for the chain (or the `attest` cancelled when it was never claimed). The
//! status change is the claim: of two concurrent revocations of one attestation, one queues the
//! `revoke`. [`OutboxStore::claim_outbox`] keeps per-wallet order, so a `revoke` never reaches
//! the chain before the `attest` it undoes.
//!
//! ## The audit log
//!
//! [`AuditStore::append_audit`] chains rows as [`crate::audit`] describes. Its head row is the
//! only lock all appenders share; nothing else takes it, so the attestation transaction is not
//! serialised by auditing.
//!
//! [`AtLimit::Refuse`]: crate::AtLimit::Refuse
//! [`AtLimit::Rotate`]: crate::AtLimit::Rotate

mod attestations;
mod audit;
mod cert_status;
mod challenges;
mod erasure;
mod error;
mod expiry;
mod lease;
mod outbox;
mod revocations;
mod schema;
mod scopes;
mod webhooks;

pub use attestations::{AttestationStore, Recorded};
pub use audit::AuditStore;
pub use cert_status::CertStatusStore;
pub use challenges::ChallengeStore;
pub use erasure::ErasureStore;
pub use error::StoreError;
pub use expiry::ExpiryStore;
pub use lease::{Lease, LeaseName, LeaseStore};
pub use outbox::OutboxStore;
pub use revocations::RevocationStore;
pub use schema::SchemaStore;
pub use scopes::ScopeStore;
pub use webhooks::WebhookStore;

/// Everything honnin needs from a database: the union of the role traits, implemented for
/// every type that implements them all. Hold an `Arc<dyn Store>` where the whole store is
/// needed (the service's wiring, the API), and hand each part on as the role it uses.
pub trait Store:
    SchemaStore
    + ChallengeStore
    + AttestationStore
    + RevocationStore
    + ErasureStore
    + ExpiryStore
    + CertStatusStore
    + OutboxStore
    + LeaseStore
    + AuditStore
    + WebhookStore
    + ScopeStore
    + 'static
{
}

impl<T> Store for T where
    T: SchemaStore
        + ChallengeStore
        + AttestationStore
        + RevocationStore
        + ErasureStore
        + ExpiryStore
        + CertStatusStore
        + OutboxStore
        + LeaseStore
        + AuditStore
        + WebhookStore
        + ScopeStore
        + 'static
{
}
