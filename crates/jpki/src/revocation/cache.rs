//! A caching wrapper around any revocation source.

use std::{collections::HashMap, sync::Mutex};

use time::{Duration, OffsetDateTime};

use super::{BoxFuture, RevocationSource, RevocationStatus};
use crate::{CertRef, Result};

/// Caches `Good` and `Revoked` answers of an inner source for `ttl`, keyed by certificate.
///
/// `Unknown` answers and errors are never cached, so a transient failure is retried on the next
/// request. Entries live in memory only (they hold serials: personal data). At `max_entries` the
/// expired entries are dropped, and if that is not enough, all of them.
pub struct CachedSource<S> {
    inner: S,
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<CertRef, (RevocationStatus, OffsetDateTime)>>,
}

impl<S> CachedSource<S> {
    /// Wraps `inner`, keeping answers for `ttl` (OCSP: minutes; CRL-backed sources need no cache).
    pub fn new(inner: S, ttl: Duration) -> Self {
        Self { inner, ttl, max_entries: 100_000, entries: Mutex::new(HashMap::new()) }
    }

    /// Bounds the number of cached certificates (default 100 000).
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries.max(1);
        self
    }

    /// The wrapped source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn cached(&self, cert: &CertRef, at: OffsetDateTime) -> Option<RevocationStatus> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(cert)
            .filter(|(_, stored)| *stored <= at && at < *stored + self.ttl)
            .map(|(status, _)| *status)
    }

    fn store(&self, cert: &CertRef, status: RevocationStatus, at: OffsetDateTime) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.max_entries {
            entries.retain(|_, (_, stored)| at < *stored + self.ttl);
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        entries.insert(cert.clone(), (status, at));
    }
}

impl<S: RevocationSource> RevocationSource for CachedSource<S> {
    fn status<'a>(
        &'a self,
        cert: &'a CertRef,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<RevocationStatus>> {
        Box::pin(async move {
            if let Some(status) = self.cached(cert, at) {
                return Ok(status);
            }
            let status = self.inner.status(cert, at).await?;
            if status != RevocationStatus::Unknown {
                self.store(cert, status, at);
            }
            Ok(status)
        })
    }
}
