//! Certificate status: what the revocation sync hands the store and what it answers:
//! certificate revocations (from a CRL or OCSP), renewal links, and the certificates an OCSP
//! re-check walks through ([`CertStatusStore`](crate::CertStatusStore)).
//!
//! Everything here is keyed: a revoked serial is hashed with the [`Pepper`] before it reaches
//! the store, and the store answers with keyed hashes and [`SealedCert`]s only.
//!
//! [`Pepper`]: crate::Pepper

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::{AttestationId, AttestationWallet, CertHash, RevocationReason, SealedCert};

/// A certificate the revocation source reports revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedCertificate {
    /// The certificate's keyed hash ([`Pepper::cert_hash`](crate::Pepper::cert_hash)).
    pub cert: CertHash,
    /// The reason for the registry: [`RevocationReason::CertificateRevoked`], or
    /// [`RevocationReason::Superseded`] when the source says the card was renewed.
    pub reason: RevocationReason,
    /// When the source says it was revoked.
    pub revoked_at: OffsetDateTime,
}

impl RevokedCertificate {
    /// The report each store applies for each certificate in `reported`: the first (earliest
    /// `revoked_at`; of equal times, the first listed), in the order of the certificates' keyed
    /// hashes, the order in which stores lock them. "The first reported time and reason stay."
    pub fn first_reports(reported: &[Self]) -> Vec<Self> {
        let mut first: BTreeMap<&[u8], Self> = BTreeMap::new();
        for report in reported {
            first
                .entry(report.cert.as_bytes().as_slice())
                .and_modify(|seen| {
                    if report.revoked_at < seen.revoked_at {
                        *seen = *report;
                    }
                })
                .or_insert(*report);
        }
        first.into_values().collect()
    }
}

/// What [`CertStatusStore::revoke_certificates`](crate::CertStatusStore::revoke_certificates) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertRevocationOutcome {
    /// How many of the reported certificates the store knows (revoked before or now).
    pub known: u64,
    /// How many it does not know (never attested here, or erased): ignored.
    pub unknown: u64,
    /// How many known certificates were newly marked revoked by this call.
    pub newly_revoked: u64,
    /// Live attestations revoked, each with its `revoke` queued (or its unsent `attest`
    /// cancelled).
    pub revoked: Vec<AttestationWallet>,
    /// Live attestations that survived a `superseded` revocation because a renewal link names
    /// the successor certificate: they now belong to the successor (no chain write).
    pub moved: Vec<AttestationId>,
}

/// A renewal: the old certificate was superseded by the new one, of the same person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalLink {
    /// The old certificate's keyed hash.
    pub old: CertHash,
    /// The new certificate's keyed hash.
    pub new: CertHash,
}

/// What [`CertStatusStore::link_renewals`](crate::CertStatusStore::link_renewals) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkOutcome {
    /// Links recorded now (the new certificate now belongs to the old one's person).
    pub linked: u64,
    /// Links already recorded before (the same old → new): nothing to do.
    pub already: u64,
    /// Links whose old certificate is unknown here: ignored.
    pub unknown_old: u64,
    /// Links whose new certificate already belongs to another person: left alone.
    pub conflicts: u64,
}

/// A certificate with a live attestation, for the OCSP re-check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCertificate {
    /// The certificate row's id: the cursor for the next page.
    pub id: i64,
    /// Its keyed hash.
    pub cert: CertHash,
    /// The sealed (root key id, serial) an OCSP request needs. `None` for certificates
    /// recorded before serials were sealed: they can be re-checked by CRL only.
    pub sealed: Option<SealedCert>,
}
