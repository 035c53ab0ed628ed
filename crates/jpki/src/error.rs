//! Operational errors: loading configuration, fetching and checking revocation data.
//!
//! These are failures of the verifier's own inputs and infrastructure. Why a *card* is refused is
//! a [`Refusal`](crate::Refusal), a separate type callers branch on.

use std::path::PathBuf;

/// Errors of the `honnin-jpki` crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A trust-anchor file holds no usable certificate or is not a valid certificate.
    #[error("invalid trust anchor in {path}: {reason}")]
    InvalidAnchor {
        /// The file the anchor came from.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No trust anchor was configured.
    #[error("no trust anchors found in {path}")]
    NoAnchors {
        /// The folder or bundle that was searched.
        path: PathBuf,
    },
    /// A CRL or OCSP response could not be decoded.
    #[error("malformed {what}: {reason}")]
    MalformedRevocationData {
        /// `crl` or `ocsp response`.
        what: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// A CRL or OCSP response names no configured root, or its signature does not verify.
    #[error("{what} signature does not verify against a configured root")]
    UntrustedRevocationData {
        /// `crl` or `ocsp response`.
        what: &'static str,
    },
    /// Revocation data is outside its validity window (`thisUpdate`..`nextUpdate` + grace).
    #[error("{what} is stale or not yet valid at the given instant")]
    StaleRevocationData {
        /// `crl` or `ocsp response`.
        what: &'static str,
    },
    /// The OCSP responder answered with a nonce other than the one sent.
    #[error("ocsp nonce mismatch")]
    NonceMismatch,
    /// The OCSP responder refused the request (`malformedRequest`, `tryLater`, …).
    #[error("ocsp responder answered status {0}")]
    OcspStatus(&'static str),
    /// The OCSP response does not answer for the certificate asked about.
    #[error("ocsp response does not cover the requested certificate")]
    OcspNoMatchingResponse,
    /// Fetching a CRL or OCSP response over HTTP failed.
    #[error("http request to {url} failed: {reason}")]
    Http {
        /// The URL that was requested.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Encoding a request failed (an internal error: inputs were checked before).
    #[error("der encoding failed: {0}")]
    Encode(#[from] der::Error),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
