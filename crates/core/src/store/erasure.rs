//! Erasing a person.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{AttestationWallet, CertHash, PersonPseudonym, StoreError};

/// Erasure (the API's erasure resource).
#[async_trait]
pub trait ErasureStore: Send + Sync + std::fmt::Debug {
    /// Erases a person in one transaction, under each of `identities`: the global
    /// (certificate hash, pseudonym) and the scoped ones of every registered scope
    /// ([`Pepper::cert_hash_in`](crate::Pepper::cert_hash_in),
    /// [`Pepper::pseudonym_in`](crate::Pepper::pseudonym_in)). Each identity's person is found
    /// by certificate hash or else by pseudonym;
    /// their live attestations are revoked (reason
    /// [`RevocationReason::Erasure`](crate::RevocationReason::Erasure)) with their `revoke`
    /// queued; then every attestation of theirs loses its person, certificate and request
    /// digest; their certificates (with renewal links and sealed serials) and the person are
    /// deleted. Afterwards nothing in the database links a chain record to a certificate.
    /// Returns the revoked attestations; [`StoreError::PersonNotFound`] when no identity
    /// matches anybody.
    async fn erase_person(
        &self,
        identities: &[(CertHash, PersonPseudonym)],
        now: OffsetDateTime,
    ) -> Result<Vec<AttestationWallet>, StoreError>;
}
