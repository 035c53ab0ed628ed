//! Erasing a person.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{AttestationWallet, CertHash, PersonPseudonym, StoreError};

/// Erasure (the API's erasure resource).
#[async_trait]
pub trait ErasureStore: Send + Sync + std::fmt::Debug {
    /// Erases a person, found by certificate hash or else by pseudonym, in one transaction:
    /// their live attestations are revoked (reason
    /// [`RevocationReason::Erasure`](crate::RevocationReason::Erasure)) with their `revoke`
    /// queued; then every attestation of theirs loses its person, certificate and request
    /// digest; their certificates (with renewal links and sealed serials) and the person are
    /// deleted. Afterwards nothing in the database links a chain record to a certificate.
    /// Returns the revoked attestations; [`StoreError::PersonNotFound`] when nobody matches.
    async fn erase_person(
        &self,
        cert: &CertHash,
        pseudonym: &PersonPseudonym,
        now: OffsetDateTime,
    ) -> Result<Vec<AttestationWallet>, StoreError>;
}
