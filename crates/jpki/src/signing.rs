//! The signing certificate (署名用電子証明書): verified as rigorously as the user-authentication
//! certificate, for one purpose only: the holder's birth date, to compute age claims.

use std::sync::Arc;

use der::Decode as _;
use time::OffsetDateTime;
use x509_cert::{Certificate, ext::pkix::SubjectAltName};

use crate::{
    BirthDate, Policy, Refusal, RevocationSource, RevocationStatus, TrustAnchors, VerifiedCard,
    Verifier, check_revocation,
};

/// Checks signing-certificate evidence against the configured J-LIS signature roots
/// (`sign_ca_2015`, `sign_ca_2023`: a separate set from the user-authentication roots).
#[derive(Clone, Debug)]
pub struct SigningVerifier {
    verifier: Verifier,
}

impl SigningVerifier {
    /// A verifier trusting `anchors` (the signature roots) under [`Policy::signing`].
    pub fn new(anchors: impl Into<Arc<TrustAnchors>>) -> Self {
        Self { verifier: Verifier::new(anchors, Policy::signing()) }
    }

    /// The configured signature roots.
    pub fn anchors(&self) -> &Arc<TrustAnchors> {
        self.verifier.anchors()
    }

    /// Verifies a signing certificate (DER) and its signature over `message` at `at`, in the
    /// order and with the codes of [`Verifier::verify_card`] (root by authority key id, profile
    /// with the signature policy, validity, key, RSASSA-PKCS1-v1_5 with SHA-256 pinned), then
    /// reads the birth date ([`Refusal::MalformedBirthDate`]).
    ///
    /// CPU only: call it from `spawn_blocking` in async code. Revocation is separate:
    /// [`VerifiedSigning::check_revocation`].
    pub fn verify_signing(
        &self,
        cert_der: &[u8],
        message: &[u8],
        signature: &[u8],
        at: OffsetDateTime,
    ) -> Result<VerifiedSigning, Refusal> {
        let certificate = self.verifier.verify_card(cert_der, message, signature, at)?;
        // Verified above: the certificate decodes; only the subjectAltName is read here.
        let cert = Certificate::from_der(cert_der).map_err(|_| Refusal::MalformedCertificate)?;
        let san = cert
            .tbs_certificate
            .extensions
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .filter(|e| e.extn_id == <SubjectAltName as const_oid::AssociatedOid>::OID)
            .map(|e| e.extn_value.as_bytes())
            .collect::<Vec<_>>();
        let san = match san.as_slice() {
            [] => None,
            [one] => Some(*one),
            _ => return Err(Refusal::MalformedBirthDate),
        };
        let birth_date = BirthDate::from_subject_alt_name(san)?;
        Ok(VerifiedSigning { certificate, birth_date })
    }
}

/// A verified signing certificate: only what age claims need (the birth date) and what its
/// revocation check needs. `Debug` shows neither; nothing here may be logged or stored.
pub struct VerifiedSigning {
    certificate: VerifiedCard,
    birth_date: BirthDate,
}

impl VerifiedSigning {
    /// The holder's birth date (personal data: compute claims from it and drop it).
    pub fn birth_date(&self) -> &BirthDate {
        &self.birth_date
    }

    /// [`check_revocation`] for the signing certificate.
    pub async fn check_revocation(
        &self,
        source: &dyn RevocationSource,
        at: OffsetDateTime,
        allow_unknown: bool,
    ) -> Result<RevocationStatus, Refusal> {
        check_revocation(&self.certificate, source, at, allow_unknown).await
    }
}

impl std::fmt::Debug for VerifiedSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifiedSigning(<redacted>)")
    }
}
