//! Certificate status: revocations from a CRL or OCSP, renewal links, and the certificates an
//! OCSP re-check walks through (what the revocation sync needs).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{LeaseStore, ScopeStore};
use crate::{
    CertRevocationOutcome, LinkOutcome, LiveCertificate, RenewalLink, RevokedCertificate,
    StoreError,
};

/// What the revocation sync needs: certificate revocations, renewal links, live certificates,
/// a [lease](LeaseStore) so one instance runs a cycle at a time, and the
/// [registered scopes](ScopeStore), in whose hashes it applies each revocation and link too.
#[async_trait]
pub trait CertStatusStore: LeaseStore + ScopeStore {
    /// Applies certificate revocations reported by the revocation source (by keyed hash
    /// only), in one transaction. Known certificates are marked revoked (idempotent: the
    /// first reported time and reason stay); their live attestations are revoked with the
    /// reported reason and their `revoke` queued (or their unsent `attest` cancelled). A
    /// `superseded` certificate with a linked successor ([`CertStatusStore::link_renewals`])
    /// is the exception: its live attestations move to the successor and stay live, with no
    /// chain write. Unknown hashes are counted and ignored. Already revoked certificates that
    /// still have live attestations (recorded concurrently with an earlier call) are revoked
    /// again, so repeating a revocation list heals such races.
    async fn revoke_certificates(
        &self,
        revoked: &[RevokedCertificate],
        now: OffsetDateTime,
    ) -> Result<CertRevocationOutcome, StoreError>;

    /// Records renewal links (old → new certificate, keyed hashes). A known old certificate
    /// makes the new hash a certificate of the same person (its notAfter unknown until it is
    /// presented), so the uniqueness policy holds across the renewal and
    /// [`AttestationStore::record_attestation`](crate::AttestationStore::record_attestation)
    /// for the new certificate counts the same person. Unknown old certificates are ignored; a
    /// new certificate that already belongs to another person is a conflict, left alone. Both
    /// are counted.
    async fn link_renewals(
        &self,
        links: &[RenewalLink],
        now: OffsetDateTime,
    ) -> Result<LinkOutcome, StoreError>;

    /// Certificates (not revoked) with a live attestation, in id order after the cursor
    /// `after`, at most `limit`: what an OCSP re-check walks through.
    async fn live_certificates(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LiveCertificate>, StoreError>;
}
