//! Why a card's evidence was refused.

use std::fmt;

use crate::revocation::RevocationReason;

/// Which signature failed to verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed {
    /// The certificate's signature by its root.
    Certificate,
    /// The card's signature over the message.
    Message,
}

impl fmt::Display for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Certificate => "certificate signature by the issuing root",
            Self::Message => "card signature over the message",
        })
    }
}

/// Why a certificate or card signature was refused.
///
/// Callers branch on the variant or on its stable [`code`](Self::code); the `Display` text is for
/// people. Neither ever contains a serial number, the subject, or key bytes: refusals may be
/// logged and returned to clients.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The certificate is not valid DER or not a well-formed X.509 v3 certificate.
    #[error("malformed certificate")]
    MalformedCertificate,
    /// No configured root matches the certificate's authority key identifier, the issuer name
    /// differs from that root's subject, or the root itself is not valid at the instant.
    #[error("certificate is not issued by a configured, currently valid root")]
    UntrustedIssuer,
    /// The certificate's `notAfter` is before the instant.
    #[error("certificate has expired")]
    Expired,
    /// The certificate's `notBefore` is after the instant.
    #[error("certificate is not yet valid")]
    NotYetValid,
    /// Key usage is missing, not critical, or lacks digitalSignature.
    #[error("certificate key usage does not allow digital signatures")]
    WrongKeyUsage,
    /// Extended key usage is missing or lacks clientAuth.
    #[error("certificate extended key usage does not include client authentication")]
    WrongExtendedKeyUsage,
    /// No accepted certificate policy (by default the JPKI user-authentication policy).
    #[error("certificate policy is not an accepted user-authentication policy")]
    WrongPolicy,
    /// The certificate carries a critical extension this verifier does not understand.
    #[error("certificate carries an unsupported critical extension")]
    UnsupportedCriticalExtension,
    /// The subject key is not RSA (2048–4096 bits, e = 65537), ECDSA P-256 or ECDSA P-384.
    #[error("unsupported subject key (algorithm, size or exponent)")]
    UnsupportedKey,
    /// The signature algorithm is not one honnin accepts (other than a weak hash).
    #[error("unsupported signature algorithm")]
    UnsupportedSignatureAlgorithm,
    /// A signature was made over SHA-1 (or another hash than the one required).
    #[error("signature uses a hash other than the required one (e.g. sha-1)")]
    WeakHash,
    /// The signature bytes cannot be a signature of this key (wrong length or encoding).
    #[error("malformed signature")]
    MalformedSignature,
    /// A signature does not verify.
    #[error("{0} does not verify")]
    BadSignature(Signed),
    /// The certificate is revoked.
    #[error("certificate is revoked ({reason})")]
    Revoked {
        /// The reason code from the CRL or OCSP response.
        reason: RevocationReason,
        /// When the certificate was revoked.
        time: time::OffsetDateTime,
    },
    /// The revocation source could not say, and unknown status is not allowed.
    #[error("revocation status is unknown")]
    RevocationUnknown,
    /// The revocation data available is out of date.
    #[error("revocation data is stale")]
    StaleRevocationData,
    /// A signing certificate's birth date attribute is missing, repeated or not `EYYYYMMDD`
    /// (see [`crate::BirthDate`]). The value is never part of the refusal.
    #[error("signing certificate has no well-formed birth date")]
    MalformedBirthDate,
}

impl Refusal {
    /// The stable snake_case code the API returns for this refusal.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::MalformedCertificate => "malformed_certificate",
            Self::UntrustedIssuer => "untrusted_issuer",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongKeyUsage => "wrong_key_usage",
            Self::WrongExtendedKeyUsage => "wrong_extended_key_usage",
            Self::WrongPolicy => "wrong_policy",
            Self::UnsupportedCriticalExtension => "unsupported_critical_extension",
            Self::UnsupportedKey => "unsupported_key",
            Self::UnsupportedSignatureAlgorithm => "unsupported_signature_algorithm",
            Self::WeakHash => "weak_hash",
            Self::MalformedSignature => "malformed_signature",
            Self::BadSignature(_) => "bad_signature",
            Self::Revoked { .. } => "revoked",
            Self::RevocationUnknown => "revocation_unknown",
            Self::StaleRevocationData => "stale_revocation_data",
            Self::MalformedBirthDate => "malformed_birth_date",
        }
    }

    /// Every refusal code, for documentation and exhaustive tests.
    pub const ALL_CODES: &'static [&'static str] = &[
        "malformed_certificate",
        "untrusted_issuer",
        "expired",
        "not_yet_valid",
        "wrong_key_usage",
        "wrong_extended_key_usage",
        "wrong_policy",
        "unsupported_critical_extension",
        "unsupported_key",
        "unsupported_signature_algorithm",
        "weak_hash",
        "malformed_signature",
        "bad_signature",
        "revoked",
        "revocation_unknown",
        "stale_revocation_data",
        "malformed_birth_date",
    ];
}
