//! Revocation: one trait, a CRL source, an OCSP source, a cache, and (with `test-utils`) a fake.

use std::{fmt, future::Future, pin::Pin, sync::Arc};

use time::OffsetDateTime;
use x509_cert::ext::pkix::CrlReason;

use crate::{CertRef, Error, Refusal, Result, TrustAnchors, VerifiedCard};

pub mod cache;
pub mod crl;
pub mod ocsp;

/// A boxed, `Send` future, as [`RevocationSource`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// RFC 5280 CRL reason codes (also used by OCSP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationReason {
    /// No reason given.
    Unspecified,
    /// The card's key was compromised.
    KeyCompromise,
    /// The CA's key was compromised.
    CaCompromise,
    /// An attribute on the card changed (e.g. name or address).
    AffiliationChanged,
    /// Replaced by a new certificate: a renewal.
    Superseded,
    /// No longer needed (e.g. the card was returned).
    CessationOfOperation,
    /// Temporarily suspended.
    CertificateHold,
    /// Privilege withdrawn.
    PrivilegeWithdrawn,
    /// Attribute authority compromised.
    AaCompromise,
}

impl RevocationReason {
    /// The stable snake_case code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "key_compromise",
            Self::CaCompromise => "ca_compromise",
            Self::AffiliationChanged => "affiliation_changed",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessation_of_operation",
            Self::CertificateHold => "certificate_hold",
            Self::PrivilegeWithdrawn => "privilege_withdrawn",
            Self::AaCompromise => "aa_compromise",
        }
    }

    /// Whether this revocation is a renewal (`superseded`): the person's identity may carry
    /// over to the new certificate when the platform operator supplies the link.
    pub const fn is_renewal(self) -> bool {
        matches!(self, Self::Superseded)
    }

    /// From the ASN.1 reason; `None` for `removeFromCRL`, which un-lists an entry.
    pub(crate) fn from_asn1(reason: CrlReason) -> Option<Self> {
        Some(match reason {
            CrlReason::Unspecified => Self::Unspecified,
            CrlReason::KeyCompromise => Self::KeyCompromise,
            CrlReason::CaCompromise => Self::CaCompromise,
            CrlReason::AffiliationChanged => Self::AffiliationChanged,
            CrlReason::Superseded => Self::Superseded,
            CrlReason::CessationOfOperation => Self::CessationOfOperation,
            CrlReason::CertificateHold => Self::CertificateHold,
            CrlReason::RemoveFromCRL => return None,
            CrlReason::PrivilegeWithdrawn => Self::PrivilegeWithdrawn,
            CrlReason::AaCompromise => Self::AaCompromise,
        })
    }

    /// To the ASN.1 reason.
    pub fn to_asn1(self) -> CrlReason {
        match self {
            Self::Unspecified => CrlReason::Unspecified,
            Self::KeyCompromise => CrlReason::KeyCompromise,
            Self::CaCompromise => CrlReason::CaCompromise,
            Self::AffiliationChanged => CrlReason::AffiliationChanged,
            Self::Superseded => CrlReason::Superseded,
            Self::CessationOfOperation => CrlReason::CessationOfOperation,
            Self::CertificateHold => CrlReason::CertificateHold,
            Self::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
            Self::AaCompromise => CrlReason::AaCompromise,
        }
    }

    /// Every reason, for tests.
    pub const ALL: [Self; 9] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::CaCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
        Self::CertificateHold,
        Self::PrivilegeWithdrawn,
        Self::AaCompromise,
    ];
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a revocation source says about one certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Not revoked, according to current data.
    Good,
    /// Revoked.
    Revoked {
        /// Why.
        reason: RevocationReason,
        /// Since when.
        time: OffsetDateTime,
    },
    /// The source has no answer for this certificate.
    Unknown,
}

/// Where revocation status comes from: a CRL, an OCSP responder, a cache, a test fake.
///
/// Implementations return `Ok(status)` when they have an answer they trust (signature verified,
/// fresh at `at`) and `Err` when they cannot give one (network, bad signature, stale data);
/// [`check_revocation`] turns both into a decision, failing closed.
pub trait RevocationSource: Send + Sync {
    /// The status of `cert` at instant `at`.
    fn status<'a>(
        &'a self,
        cert: &'a CertRef,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<RevocationStatus>>;
}

impl<T: RevocationSource + ?Sized> RevocationSource for Arc<T> {
    fn status<'a>(
        &'a self,
        cert: &'a CertRef,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<RevocationStatus>> {
        (**self).status(cert, at)
    }
}

/// Checks a verified card's revocation status and decides.
///
/// - `Good` → `Ok(Good)`.
/// - `Revoked` → [`Refusal::Revoked`] with reason and time.
/// - `Unknown` → [`Refusal::RevocationUnknown`], unless `allow_unknown` (dev mode only), which
///   returns `Ok(Unknown)` so the caller can say so loudly.
/// - Stale data → [`Refusal::StaleRevocationData`]; any other source error (network, bad
///   signature, nonce mismatch) → [`Refusal::RevocationUnknown`], whatever `allow_unknown` says:
///   data that fails its checks is never taken as absence of data. The cause is logged without
///   personal data.
pub async fn check_revocation(
    card: &VerifiedCard,
    source: &dyn RevocationSource,
    at: OffsetDateTime,
    allow_unknown: bool,
) -> Result<RevocationStatus, Refusal> {
    match source.status(card.cert_ref(), at).await {
        Ok(RevocationStatus::Good) => Ok(RevocationStatus::Good),
        Ok(RevocationStatus::Revoked { reason, time }) => Err(Refusal::Revoked { reason, time }),
        Ok(RevocationStatus::Unknown) if allow_unknown => {
            tracing::warn!(target: "honnin_jpki::revocation", "revocation status unknown; allowed by configuration");
            Ok(RevocationStatus::Unknown)
        }
        Ok(RevocationStatus::Unknown) => Err(Refusal::RevocationUnknown),
        Err(Error::StaleRevocationData { what }) => {
            tracing::warn!(target: "honnin_jpki::revocation", what, "revocation data is stale");
            Err(Refusal::StaleRevocationData)
        }
        Err(error) => {
            tracing::warn!(target: "honnin_jpki::revocation", %error, "revocation check failed");
            Err(Refusal::RevocationUnknown)
        }
    }
}

/// The [`CertRef`] of the certificate with `serial` issued by the root whose key identifier is
/// `root_key_id`, to ask a [`RevocationSource`] about a certificate known only by (root,
/// serial), as an OCSP re-check of stored attestations does. `None` when no configured root has
/// that key identifier.
pub fn cert_ref(anchors: &TrustAnchors, root_key_id: &[u8], serial: &[u8]) -> Option<CertRef> {
    anchors.get(root_key_id).map(|root| CertRef::new(root, serial))
}

/// Fetches a URL with GET (CRL) or POST (OCSP), bounded in size and time.
pub(crate) async fn http_fetch(
    client: &reqwest::Client,
    url: &str,
    post: Option<(&'static str, Vec<u8>)>,
) -> Result<Vec<u8>> {
    const MAX_BYTES: usize = 64 * 1024 * 1024;
    let http = |reason: String| Error::Http { url: url.to_owned(), reason };
    let request = match post {
        Some((content_type, body)) => {
            client.post(url).header(reqwest::header::CONTENT_TYPE, content_type).body(body)
        }
        None => client.get(url),
    };
    let mut response = request.send().await.map_err(|e| http(e.to_string()))?;
    if !response.status().is_success() {
        return Err(http(format!("status {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| http(e.to_string()))? {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(http("response too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}
