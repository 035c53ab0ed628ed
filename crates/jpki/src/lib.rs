#![doc = include_str!("../README.md")]

mod anchors;
mod birth_date;
mod crypto;
mod error;
pub mod oids;
mod refusal;
pub mod revocation;
mod signing;
mod util;
mod verify;

#[cfg(feature = "test-utils")]
pub mod test_utils;

pub use anchors::{TrustAnchor, TrustAnchors};
pub use birth_date::BirthDate;
pub use error::{Error, Result};
pub use refusal::{Refusal, Signed};
pub use revocation::{
    RevocationReason, RevocationSource, RevocationStatus,
    cache::CachedSource,
    check_revocation,
    crl::{Crl, CrlOrigin, CrlSource},
    ocsp::{OcspChecker, OcspSource},
};
pub use signing::{SigningVerifier, VerifiedSigning};
pub use verify::{
    CertRef, CertificateSummary, KeyAlgorithm, Policy, VerifiedCard, Verifier, certificate_der,
    inspect,
};
