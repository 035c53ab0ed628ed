//! Certificate revocation lists (RFC 5280 §5), from files or URLs.

use std::{
    collections::HashMap,
    fmt,
    path::PathBuf,
    sync::{Arc, Mutex, RwLock},
    time::{Duration as StdDuration, Instant},
};

use der::Decode;
use time::{Duration, OffsetDateTime};
use x509_cert::{
    crl::CertificateList,
    ext::pkix::{AuthorityKeyIdentifier, CrlReason},
};

use super::{
    BoxFuture, RevocationReason, RevocationSource, RevocationStatus, http_client, http_fetch,
};
use crate::{
    CertRef, Error, Result, TrustAnchor, TrustAnchors, oids,
    util::{tbs_bytes, to_offset},
};

const WHAT: &str = "crl";

fn malformed(reason: impl fmt::Display) -> Error {
    Error::MalformedRevocationData { what: WHAT, reason: reason.to_string() }
}

/// Decodes a CRL (DER) without checking its signature. For tools and fuzzing; use
/// [`Crl::from_der`] to get a CRL you can trust.
pub fn decode(der: &[u8]) -> Result<CertificateList> {
    CertificateList::from_der(der).map_err(malformed)
}

/// A CRL whose signature verified against a configured root, indexed by serial number.
#[derive(Clone)]
pub struct Crl {
    root_key_id: Vec<u8>,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    revoked: HashMap<Vec<u8>, (RevocationReason, OffsetDateTime)>,
}

impl fmt::Debug for Crl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crl")
            .field("root_key_id", &hex::encode(&self.root_key_id))
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("entries", &self.revoked.len())
            .finish()
    }
}

impl Crl {
    /// Decodes a CRL and verifies its signature with the root named by its authority key
    /// identifier (or, without one, a root whose subject is the CRL issuer and whose key
    /// verifies it: the signature decides, never the name alone).
    ///
    /// Refuses CRLs with critical extensions honnin does not implement (delta CRLs, issuing
    /// distribution points): those cover only part of the certificates, and treating them as
    /// complete would report revoked certificates as good.
    pub fn from_der(der: &[u8], anchors: &TrustAnchors) -> Result<Self> {
        let crl = decode(der)?;
        let tbs_raw = tbs_bytes(der).map_err(malformed)?;
        let tbs = &crl.tbs_cert_list;
        if tbs.signature != crl.signature_algorithm {
            return Err(malformed("signature algorithm fields differ"));
        }
        let signature = crl.signature.as_bytes().ok_or_else(|| malformed("signature bits"))?;
        let mut aki_key_id = None;
        for ext in tbs.crl_extensions.as_deref().unwrap_or(&[]) {
            if ext.extn_id == oids::AUTHORITY_KEY_ID {
                let aki = AuthorityKeyIdentifier::from_der(ext.extn_value.as_bytes())
                    .map_err(malformed)?;
                aki_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
            } else if ext.critical && ext.extn_id != oids::CRL_NUMBER {
                return Err(malformed(format_args!(
                    "unsupported critical extension {}",
                    ext.extn_id
                )));
            }
        }
        let candidates: Vec<&TrustAnchor> = match &aki_key_id {
            Some(id) => anchors.get(id).into_iter().collect(),
            None => anchors.iter().filter(|a| a.subject == tbs.issuer).collect(),
        };
        let root = candidates
            .into_iter()
            .find(|root| {
                root.subject == tbs.issuer
                    && root.key.verify_x509(&crl.signature_algorithm, tbs_raw, signature).is_ok()
            })
            .ok_or(Error::UntrustedRevocationData { what: WHAT })?;

        let mut revoked = HashMap::new();
        for entry in tbs.revoked_certificates.as_deref().unwrap_or(&[]) {
            let mut reason = Some(RevocationReason::Unspecified);
            for ext in entry.crl_entry_extensions.as_deref().unwrap_or(&[]) {
                if ext.extn_id == oids::CRL_REASON {
                    let asn1 = CrlReason::from_der(ext.extn_value.as_bytes()).map_err(malformed)?;
                    reason = RevocationReason::from_asn1(asn1);
                } else if ext.critical && ext.extn_id != oids::INVALIDITY_DATE {
                    return Err(malformed("unsupported critical entry extension"));
                }
            }
            if let Some(reason) = reason {
                revoked.insert(
                    entry.serial_number.as_bytes().to_vec(),
                    (reason, to_offset(entry.revocation_date)),
                );
            }
        }
        Ok(Self {
            root_key_id: root.key_id.clone(),
            this_update: to_offset(tbs.this_update),
            next_update: tbs.next_update.map(to_offset),
            revoked,
        })
    }

    /// The issuing root's subject key identifier.
    pub fn root_key_id(&self) -> &[u8] {
        &self.root_key_id
    }

    /// When the CRL was issued.
    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    /// When the next CRL is due.
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.next_update
    }

    /// How many certificates it lists.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    /// Whether it lists no certificate.
    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }

    /// Whether the CRL may be used at `at`: `thisUpdate - grace <= at <= nextUpdate + grace`.
    /// A CRL without `nextUpdate` is never fresh (RFC 5280 requires the field).
    pub fn is_fresh(&self, at: OffsetDateTime, grace: Duration) -> bool {
        self.next_update.is_some_and(|next| self.this_update - grace <= at && at <= next + grace)
    }

    /// The status this CRL gives a serial number (no freshness check).
    pub fn lookup(&self, serial: &[u8]) -> RevocationStatus {
        match self.revoked.get(serial) {
            Some(&(reason, time)) => RevocationStatus::Revoked { reason, time },
            None => RevocationStatus::Good,
        }
    }

    /// Every certificate the CRL lists (in no particular order; `removeFromCRL` entries are
    /// left out), for a revocation sync that hashes each serial and looks it up.
    ///
    /// The serials are personal data: hash them, never log or store them.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = CrlEntryRef<'_>> + '_ {
        self.revoked.iter().map(|(serial, &(reason, revoked_at))| CrlEntryRef {
            serial,
            reason,
            revoked_at,
        })
    }
}

/// One certificate listed by a verified [`Crl`] (see [`Crl::entries`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CrlEntryRef<'a> {
    /// The revoked certificate's serial number (DER `INTEGER` content bytes; personal data).
    pub serial: &'a [u8],
    /// The entry's reason code (`unspecified` when the entry carries none).
    pub reason: RevocationReason,
    /// The entry's revocation date.
    pub revoked_at: OffsetDateTime,
}

impl fmt::Debug for CrlEntryRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrlEntryRef")
            .field("serial", &"<redacted>")
            .field("reason", &self.reason)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

/// Where a CRL is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlOrigin {
    /// A DER (or PEM `X509 CRL`) file.
    File(PathBuf),
    /// An `http://` URL (CRLs are signed, so plain HTTP is the norm).
    Url(String),
}

impl CrlOrigin {
    /// `http://` and `https://` strings are URLs, everything else a path.
    pub fn parse(s: &str) -> Self {
        if s.starts_with("http://") || s.starts_with("https://") {
            Self::Url(s.to_owned())
        } else {
            Self::File(PathBuf::from(s))
        }
    }

    /// Reads the CRL (DER or PEM) from this origin and verifies it against `anchors`
    /// (see [`Crl::from_der`]). Freshness is the caller's decision ([`Crl::is_fresh`]).
    pub async fn fetch(&self, anchors: &TrustAnchors) -> Result<Crl> {
        self.fetch_with(&http_client(), anchors).await
    }

    async fn fetch_with(&self, client: &reqwest::Client, anchors: &TrustAnchors) -> Result<Crl> {
        let bytes = match self {
            Self::File(path) => tokio_free_read(path)?,
            Self::Url(url) => http_fetch(client, url, None).await?,
        };
        Crl::from_der(&crl_der(&bytes)?, anchors)
    }
}

impl fmt::Display for CrlOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Url(url) => f.write_str(url),
        }
    }
}

/// A revocation source backed by one CRL per root, reloaded when missing or stale.
///
/// A certificate whose root has no CRL is `Unknown`. A CRL past `nextUpdate + grace` is reloaded
/// from its origin (at most once per [`with_retry_interval`](Self::with_retry_interval), so a
/// late publisher is not hammered by every request); if the CRL is still stale the answer is
/// [`Error::StaleRevocationData`].
pub struct CrlSource {
    anchors: Arc<TrustAnchors>,
    origins: Vec<CrlOrigin>,
    grace: Duration,
    retry_interval: StdDuration,
    last_reload: Mutex<Option<Instant>>,
    client: reqwest::Client,
    loaded: RwLock<HashMap<Vec<u8>, Arc<Crl>>>,
}

impl fmt::Debug for CrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrlSource")
            .field("origins", &self.origins)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl CrlSource {
    /// A source reading CRLs from `origins` (loaded on first use, or with [`refresh`]).
    ///
    /// [`refresh`]: Self::refresh
    pub fn new(anchors: Arc<TrustAnchors>, origins: Vec<CrlOrigin>) -> Self {
        Self {
            anchors,
            origins,
            grace: Duration::ZERO,
            retry_interval: StdDuration::from_secs(60),
            last_reload: Mutex::new(None),
            client: http_client(),
            loaded: RwLock::new(HashMap::new()),
        }
    }

    /// A source over CRLs already loaded (no origin to reload from).
    pub fn from_crls(anchors: Arc<TrustAnchors>, crls: impl IntoIterator<Item = Crl>) -> Self {
        let source = Self::new(anchors, Vec::new());
        source.install(crls);
        source
    }

    /// How long past `nextUpdate` a CRL is still used (default: zero).
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The least time between two reloads triggered by a missing or stale CRL (default 60 s).
    /// [`refresh`](Self::refresh) itself is never limited.
    pub fn with_retry_interval(mut self, interval: StdDuration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// Whether a lookup may reload now; records the attempt.
    fn may_reload(&self) -> bool {
        let mut last = self.last_reload.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < self.retry_interval) {
            return false;
        }
        *last = Some(now);
        true
    }

    fn install(&self, crls: impl IntoIterator<Item = Crl>) {
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        for crl in crls {
            let newer =
                loaded.get(&crl.root_key_id).is_none_or(|old| old.this_update <= crl.this_update);
            if newer {
                loaded.insert(crl.root_key_id.clone(), Arc::new(crl));
            }
        }
    }

    /// Reads every origin again, verifies each CRL and keeps the newest per root.
    /// Fails on the first origin that cannot be read or verified (the old CRLs stay).
    pub async fn refresh(&self) -> Result<()> {
        let mut crls = Vec::with_capacity(self.origins.len());
        for origin in &self.origins {
            crls.push(origin.fetch_with(&self.client, &self.anchors).await?);
        }
        tracing::info!(target: "honnin_jpki::crl", count = crls.len(), "loaded crls");
        self.install(crls);
        Ok(())
    }

    /// The origins this source reads.
    pub fn origins(&self) -> &[CrlOrigin] {
        &self.origins
    }

    /// Offers a CRL fetched and verified elsewhere (a revocation sync): it replaces the one
    /// held for its root when it is at least as new, so lookups see new revocations at once.
    pub fn offer(&self, crl: Crl) {
        self.install([crl]);
    }

    fn current(&self, root_key_id: &[u8]) -> Option<Arc<Crl>> {
        self.loaded.read().unwrap_or_else(|e| e.into_inner()).get(root_key_id).cloned()
    }

    async fn lookup(&self, cert: &CertRef, at: OffsetDateTime) -> Result<RevocationStatus> {
        let mut crl = self.current(cert.root_key_id());
        let fresh = |c: &Option<Arc<Crl>>| c.as_ref().is_some_and(|c| c.is_fresh(at, self.grace));
        if !fresh(&crl) && !self.origins.is_empty() && self.may_reload() {
            self.refresh().await?;
            crl = self.current(cert.root_key_id());
        }
        match crl {
            None => Ok(RevocationStatus::Unknown),
            Some(crl) if !crl.is_fresh(at, self.grace) => {
                Err(Error::StaleRevocationData { what: WHAT })
            }
            Some(crl) => Ok(crl.lookup(cert.serial())),
        }
    }
}

impl RevocationSource for CrlSource {
    fn status<'a>(
        &'a self,
        cert: &'a CertRef,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<RevocationStatus>> {
        Box::pin(self.lookup(cert, at))
    }
}

/// Files are small and read rarely (at refresh): a blocking read is acceptable here.
fn tokio_free_read(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })
}

/// Accepts a CRL as DER or PEM (`X509 CRL`).
pub fn crl_der(bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let (label, der) = der::pem::decode_vec(bytes.trim_ascii()).map_err(malformed)?;
        if label != "X509 CRL" {
            return Err(malformed(format_args!("unexpected PEM label {label}")));
        }
        Ok(der)
    } else {
        Ok(bytes.to_vec())
    }
}
