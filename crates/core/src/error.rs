//! The crate's error type for malformed domain values.

/// A value the domain refuses: a malformed id, audience, domain, signature or secret.
///
/// Messages never repeat the offending input: it may be personal (an audience or a body field
/// could carry anything), so the variant names what was wrong, not what was sent.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An id did not have the expected prefix and 32 lowercase hex digits.
    #[error("malformed {kind} id")]
    InvalidId {
        /// Which id (`challenge`, `attestation`).
        kind: &'static str,
    },
    /// An audience was empty, too long, or used characters outside `[A-Za-z0-9._:/@-]`.
    #[error("audience must be 1 to {max} characters of A-Z a-z 0-9 . _ : / @ -")]
    InvalidAudience {
        /// The maximum length.
        max: usize,
    },
    /// A service domain was not a host name with an optional port.
    #[error("service domain must be a host name with an optional port")]
    InvalidDomain,
    /// A challenge lifetime outside the allowed range.
    #[error("challenge lifetime must be between {min_secs} and {max_secs} seconds")]
    InvalidLifetime {
        /// Shortest allowed lifetime, in seconds.
        min_secs: i64,
        /// Longest allowed lifetime, in seconds.
        max_secs: i64,
    },
    /// A purpose name other than `attest`, `revoke`, `erase`.
    #[error("unknown challenge purpose")]
    InvalidPurpose,
    /// A nonce that is not 64 hex digits.
    #[error("nonce must be 64 hex digits")]
    InvalidNonce,
    /// A wallet signature that is not hex, or is empty or too long.
    #[error("wallet signature must be 1 to {max} bytes of 0x-prefixed or bare hex")]
    InvalidWalletSignature {
        /// The maximum length in bytes.
        max: usize,
    },
    /// A pepper shorter than the minimum.
    #[error("pepper must be at least {min} bytes")]
    PepperTooShort {
        /// The minimum length in bytes.
        min: usize,
    },
    /// A pepper that is not valid hex.
    #[error("pepper must be hex")]
    PepperNotHex,
    /// A status name other than `pending`, `active`, `revoked`, `expired`.
    #[error("unknown attestation status")]
    InvalidStatus,
    /// A revocation reason code outside 1..=6.
    #[error("unknown revocation reason code {code}")]
    InvalidRevocationReason {
        /// The code.
        code: u8,
    },
    /// A policy value out of range (for example a zero or negative maximum age).
    #[error("invalid policy: {what}")]
    InvalidPolicy {
        /// Which setting.
        what: &'static str,
    },
    /// A wallet proof name other than `eoa`, `erc1271`.
    #[error("unknown wallet proof")]
    InvalidWalletProof,
    /// An audit event kind that is not known.
    #[error("unknown audit event kind")]
    InvalidAuditEvent,
    /// An outbox state or action name that is not known.
    #[error("unknown outbox {what}")]
    InvalidOutbox {
        /// Which field.
        what: &'static str,
    },
    /// A webhook signing secret that is not `whsec_` and base64 of 24 to 64 bytes.
    #[error("webhook secret must be `whsec_` and the base64 of 24 to 64 bytes")]
    InvalidWebhookSecret,
    /// A webhook event name that is not known.
    #[error(
        "unknown webhook event (expected attestation.active, attestation.revoked, attestation.expired or attestation.renewed)"
    )]
    InvalidWebhookEvent,
    /// A webhook delivery state name that is not known.
    #[error("unknown webhook delivery state (expected pending, delivered or dead)")]
    InvalidDeliveryState,
    /// A scope name outside the allowed characters or length.
    #[error("scope name must be 1 to {max} characters: a-z 0-9, then a-z 0-9 . - (e.g. kyc-drop)")]
    InvalidScopeName {
        /// The longest name accepted.
        max: usize,
    },
    /// A scope id that is not `0x` and 64 hex digits, or is zero.
    #[error("scope id must be 0x and 64 hex digits, not all zero")]
    InvalidScopeId,
}

/// `Result` with this crate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
