//! The revocation sync: renewal links, then CRLs, then OCSP re-checks of live certificates.

use std::{fmt, sync::Arc, time::Duration};

use futures::StreamExt as _;
use honnin_core::{
    AuditContext, AuditEventKind, CertStatusStore, NewAuditEvent, Pepper, RevocationReason,
    audit::AuditLog,
    cert_status::{CertRevocationOutcome, LinkOutcome, RevokedCertificate},
    store::LeaseName,
};
use honnin_jpki::{
    CrlOrigin, CrlSource, RevocationSource, RevocationStatus, TrustAnchors,
    revocation::{RevocationReason as CardReason, cert_ref},
};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{Error, LifecycleMetrics, Result, links::LinkFeed};

/// The lease a sync loop holds while it runs a cycle: one instance at a time does the work
/// (every step is idempotent, so a second one would only repeat it).
pub const SYNC_LEASE: LeaseName = LeaseName("revocation-sync");

const TARGET: &str = "honnin::lifecycle::sync";

/// What a cycle reports while it runs (the CLI prints these; the loop logs them).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// The renewal link feed was read and hashed.
    LinksRead {
        /// The feed.
        origin: String,
        /// Links in it.
        links: usize,
    },
    /// The renewal links were recorded.
    LinksApplied(LinkOutcome),
    /// A CRL was fetched and verified.
    CrlFetched {
        /// Its file or URL.
        origin: String,
        /// Entries it lists.
        entries: usize,
        /// Its `thisUpdate`.
        this_update: OffsetDateTime,
        /// Its `nextUpdate`.
        next_update: Option<OffsetDateTime>,
        /// Whether it is past its `nextUpdate` (its entries are applied all the same).
        stale: bool,
    },
    /// A batch of a CRL's entries was applied.
    CrlBatch {
        /// The CRL's file or URL.
        origin: String,
        /// Entries applied so far.
        done: usize,
        /// Entries in the CRL.
        total: usize,
    },
    /// A page of live certificates was re-checked.
    RecheckPage {
        /// Certificates re-checked so far.
        checked: u64,
        /// Of those, reported revoked.
        revoked: u64,
    },
    /// A stage failed; the cycle goes on with the next one.
    Failed {
        /// `links`, `crl`, `recheck` or `store`.
        stage: &'static str,
        /// What went wrong (nothing personal).
        error: String,
    },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LinksRead { origin, links } => {
                write!(f, "renewal links: read {links} from {origin}")
            }
            Self::LinksApplied(o) => write!(
                f,
                "renewal links: {} new, {} already known, {} with an unknown old certificate, {} conflicts",
                o.linked, o.already, o.unknown_old, o.conflicts
            ),
            Self::CrlFetched { origin, entries, this_update, next_update, stale } => {
                write!(
                    f,
                    "crl {origin}: verified, {entries} entries, thisUpdate {}",
                    rfc3339(*this_update)
                )?;
                if let Some(next) = next_update {
                    write!(f, ", nextUpdate {}", rfc3339(*next))?;
                }
                if *stale {
                    f.write_str(" (STALE: past nextUpdate)")?;
                }
                Ok(())
            }
            Self::CrlBatch { origin, done, total } => {
                write!(f, "crl {origin}: applied {done}/{total}")
            }
            Self::RecheckPage { checked, revoked } => {
                write!(f, "re-check: {checked} certificates checked, {revoked} revoked")
            }
            Self::Failed { stage, error } => write!(f, "FAILED ({stage}): {error}"),
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// What one CRL did in a cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrlReport {
    /// Its file or URL.
    pub origin: String,
    /// Entries it lists.
    pub entries: u64,
    /// Entries whose certificate the store knows.
    pub known: u64,
    /// Known certificates newly marked revoked.
    pub newly_revoked: u64,
    /// Attestations revoked (their `revoke` queued).
    pub attestations_revoked: u64,
    /// Attestations that followed a renewed certificate.
    pub attestations_moved: u64,
    /// `superseded` entries left for the next cycle because the link feed could not be read
    /// (applying them without their links would revoke what should follow the new card).
    pub deferred: u64,
    /// Its `thisUpdate`.
    pub this_update: Option<OffsetDateTime>,
    /// Whether it was past its `nextUpdate`.
    pub stale: bool,
}

/// What the OCSP re-check did in a cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecheckReport {
    /// Certificates asked about.
    pub checked: u64,
    /// Answered good.
    pub good: u64,
    /// Answered revoked.
    pub revoked: u64,
    /// Answered unknown.
    pub unknown: u64,
    /// The source failed to answer (network, bad signature, stale).
    pub errors: u64,
    /// Certificates without a readable sealed serial (recorded before sealing, a root no longer
    /// configured, or another pepper): only a CRL can cover them.
    pub unreadable: u64,
    /// Attestations revoked.
    pub attestations_revoked: u64,
    /// Attestations that followed a renewed certificate.
    pub attestations_moved: u64,
}

/// What the link feed did in a cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkReport {
    /// Links in the feed.
    pub read: u64,
    /// What the store did with them.
    pub outcome: LinkOutcome,
}

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleReport {
    /// The renewal links (`None` without a feed, or when it failed).
    pub links: Option<LinkReport>,
    /// Each CRL (those that failed are in `failures`).
    pub crls: Vec<CrlReport>,
    /// The re-check (`None` when none was configured or due).
    pub recheck: Option<RecheckReport>,
    /// Each failure, `stage: message` (nothing personal).
    pub failures: Vec<String>,
    /// The cycle stopped early, between two batches, because it was asked to (shutdown).
    pub interrupted: bool,
}

impl CycleReport {
    /// Whether every stage succeeded. Individual re-check errors (one certificate the source did
    /// not answer for) count as a failure too: the certificate was not checked.
    pub fn is_success(&self) -> bool {
        !self.interrupted
            && self.failures.is_empty()
            && self.recheck.as_ref().is_none_or(|r| r.errors == 0)
    }

    /// Attestations revoked by CRLs and the re-check together.
    pub fn attestations_revoked(&self) -> u64 {
        self.crls.iter().map(|c| c.attestations_revoked).sum::<u64>()
            + self.recheck.as_ref().map_or(0, |r| r.attestations_revoked)
    }

    /// Attestations that followed a renewed certificate.
    pub fn attestations_moved(&self) -> u64 {
        self.crls.iter().map(|c| c.attestations_moved).sum::<u64>()
            + self.recheck.as_ref().map_or(0, |r| r.attestations_moved)
    }
}

impl fmt::Display for CycleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} attestation(s) revoked, {} moved to a renewed certificate",
            self.attestations_revoked(),
            self.attestations_moved()
        )?;
        if let Some(links) = &self.links {
            write!(f, ", {} new renewal link(s)", links.outcome.linked)?;
        }
        let entries: u64 = self.crls.iter().map(|c| c.entries).sum();
        write!(f, ", {} CRL(s) with {entries} entries", self.crls.len())?;
        if let Some(r) = &self.recheck {
            write!(f, ", {} certificate(s) re-checked ({} errors)", r.checked, r.errors)?;
        }
        if !self.failures.is_empty() {
            write!(f, "; {} failure(s)", self.failures.len())?;
        }
        if self.interrupted {
            f.write_str("; interrupted")?;
        }
        Ok(())
    }
}

/// A callback run after revokes were queued (wake the chain writer).
pub type OnQueued = Arc<dyn Fn() + Send + Sync>;

/// The revocation sync job. Build it with [`RevocationSync::new`] and the `with_*` methods, run
/// one cycle with [`cycle`](Self::cycle) or loop with [`run`](Self::run).
///
/// One cycle:
///
/// 1. the renewal link feed (if any) is read, hashed with the pepper and recorded
///    ([`CertStatusStore::link_renewals`]), so that a `superseded` entry in the same cycle finds its link;
/// 2. each CRL origin is fetched and verified against the trust anchors; each entry's serial is
///    hashed with the CRL's root key id ([`Pepper::cert_hash`], the inputs the API hashed) and
///    sent to [`CertStatusStore::revoke_certificates`] in batches (`superseded` → reason `Superseded`,
///    every other reason → `CertificateRevoked`); a verified CRL is also offered to the API's
///    [`CrlSource`] when one was given, so new cards are refused at once;
/// 3. when a re-check source is configured (an OCSP responder), every certificate with a live
///    attestation ([`CertStatusStore::live_certificates`], in pages) is asked about through it, its
///    serial opened from the sealed column ([`Pepper::open_cert`]); revoked ones go to
///    [`CertStatusStore::revoke_certificates`] too.
///
/// Every revoked or moved attestation and every new renewal link is recorded in the audit log
/// (kind, reason code, attestation id: nothing personal). After revokes were queued the
/// `on_queued` callback wakes the chain writer.
pub struct RevocationSync {
    store: Arc<dyn CertStatusStore>,
    pepper: Arc<Pepper>,
    anchors: Arc<TrustAnchors>,
    audit: AuditLog,
    crls: Vec<CrlOrigin>,
    offer_to: Option<Arc<CrlSource>>,
    recheck: Option<Arc<dyn RevocationSource>>,
    links: Option<LinkFeed>,
    batch_size: usize,
    page_size: u32,
    concurrency: usize,
    metrics: LifecycleMetrics,
    on_queued: Option<OnQueued>,
}

impl fmt::Debug for RevocationSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationSync")
            .field("crls", &self.crls)
            .field("recheck", &self.recheck.is_some())
            .field("links", &self.links)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl RevocationSync {
    /// A sync with nothing to follow yet: add CRLs, a re-check source and a link feed.
    pub fn new(
        store: Arc<dyn CertStatusStore>,
        pepper: Arc<Pepper>,
        anchors: Arc<TrustAnchors>,
        audit: AuditLog,
    ) -> Self {
        Self {
            store,
            pepper,
            anchors,
            audit,
            crls: Vec::new(),
            offer_to: None,
            recheck: None,
            links: None,
            batch_size: 1_000,
            page_size: 1_000,
            concurrency: 8,
            metrics: LifecycleMetrics::default(),
            on_queued: None,
        }
    }

    /// CRLs to follow (one per root, as `honnin serve`'s `revocation = "crl:…"` names them).
    pub fn with_crls(mut self, origins: Vec<CrlOrigin>) -> Self {
        self.crls = origins;
        self
    }

    /// Offers every verified CRL to `source` (the one the API checks new cards with).
    pub fn offer_crls_to(mut self, source: Arc<CrlSource>) -> Self {
        self.offer_to = Some(source);
        self
    }

    /// Re-checks certificates with live attestations through `source` (an OCSP responder).
    pub fn with_recheck(mut self, source: Arc<dyn RevocationSource>) -> Self {
        self.recheck = Some(source);
        self
    }

    /// Reads renewal links from `feed` at the start of each cycle.
    pub fn with_links(mut self, feed: LinkFeed) -> Self {
        self.links = Some(feed);
        self
    }

    /// Certificates per [`CertStatusStore::revoke_certificates`] call (default 1,000).
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Live certificates per re-check page (default 1,000), and re-check requests in flight
    /// at once (default 8).
    pub fn with_recheck_paging(mut self, page_size: u32, concurrency: usize) -> Self {
        self.page_size = page_size.max(1);
        self.concurrency = concurrency.max(1);
        self
    }

    /// Records into `metrics` (register [`LifecycleMetrics::metrics`] with the API's).
    pub fn with_metrics(mut self, metrics: LifecycleMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Calls `callback` after revokes were queued (the chain writer's waker).
    pub fn on_queued(mut self, callback: OnQueued) -> Self {
        self.on_queued = Some(callback);
        self
    }

    /// The metrics it records into.
    pub fn metrics(&self) -> &LifecycleMetrics {
        &self.metrics
    }

    /// Whether it has anything to follow.
    pub fn has_work(&self) -> bool {
        !self.crls.is_empty() || self.recheck.is_some() || self.links.is_some()
    }

    /// Runs one cycle (links, CRLs and, when `recheck` is true and a re-check source is
    /// configured, the re-check), reporting progress through `progress`.
    ///
    /// A failing stage (an unreadable feed or CRL, a re-check answer missing) is recorded in
    /// the report and the cycle goes on; `Err` only when the store or the audit log fails, as
    /// nothing can be recorded then.
    pub async fn cycle(
        &self,
        recheck: bool,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<CycleReport> {
        self.cycle_until(recheck, progress, None).await
    }

    /// [`cycle`](Self::cycle), stopping between two batches once `stop` says `true` (the
    /// report is then [`interrupted`](CycleReport::interrupted)). A batch is never abandoned
    /// half-way: what the store revoked is also audited and counted before the cycle stops.
    pub async fn cycle_until(
        &self,
        recheck: bool,
        progress: &mut (dyn FnMut(Progress) + Send),
        stop: Option<&watch::Receiver<bool>>,
    ) -> Result<CycleReport> {
        let stopping = || stop.is_some_and(|stop| *stop.borrow());
        let mut report = CycleReport::default();
        let context = AuditContext {
            request_id: Some(format!(
                "revocation-sync-{}",
                OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000
            )),
            ..AuditContext::default()
        };
        let fail = |report: &mut CycleReport,
                    progress: &mut (dyn FnMut(Progress) + Send),
                    stage: &'static str,
                    error: String| {
            tracing::warn!(target: TARGET, stage, %error, "revocation sync stage failed");
            self.metrics.failure(stage);
            report.failures.push(format!("{stage}: {error}"));
            progress(Progress::Failed { stage, error });
        };

        // 1. Renewal links first: a superseded entry below must find its link.
        let mut links_ok = true;
        if let Some(feed) = &self.links {
            match feed.read(self.pepper.clone()).await {
                Ok(links) => {
                    progress(Progress::LinksRead {
                        origin: feed.origin().to_string(),
                        links: links.len(),
                    });
                    let mut total = LinkOutcome::default();
                    for chunk in links.chunks(self.batch_size) {
                        if stopping() {
                            report.interrupted = true;
                            return Ok(report);
                        }
                        let now = honnin_core::time::now();
                        let outcome = self.store.link_renewals(chunk, now).await?;
                        let events = (0..outcome.linked)
                            .map(|_| {
                                NewAuditEvent::new(AuditEventKind::RenewalLinked, now)
                                    .with_code("renewal_linked")
                                    .with_context(context.clone())
                            })
                            .collect::<Vec<_>>();
                        if !events.is_empty() {
                            self.audit.record(events).await?;
                        }
                        total.linked += outcome.linked;
                        total.already += outcome.already;
                        total.unknown_old += outcome.unknown_old;
                        total.conflicts += outcome.conflicts;
                    }
                    self.metrics.links("linked", total.linked);
                    self.metrics.links("already", total.already);
                    self.metrics.links("unknown_old", total.unknown_old);
                    self.metrics.links("conflict", total.conflicts);
                    if total.conflicts > 0 {
                        tracing::warn!(target: TARGET, conflicts = total.conflicts, "renewal links whose new certificate belongs to another person were left alone");
                    }
                    progress(Progress::LinksApplied(total.clone()));
                    report.links = Some(LinkReport { read: links.len() as u64, outcome: total });
                }
                Err(error) => {
                    links_ok = false;
                    fail(&mut report, progress, "links", error.to_string());
                }
            }
        }

        // 2. CRLs.
        let mut oldest: Option<OffsetDateTime> = None;
        for origin in &self.crls {
            if stopping() {
                report.interrupted = true;
                return Ok(report);
            }
            let name = origin.to_string();
            let crl = match origin.fetch(&self.anchors).await {
                Ok(crl) => crl,
                Err(source) => {
                    let error = Error::Crl { origin: name.clone(), source };
                    fail(&mut report, progress, "crl", error.to_string());
                    continue;
                }
            };
            let now = honnin_core::time::now();
            let stale = crl.next_update().is_some_and(|next| next < now);
            progress(Progress::CrlFetched {
                origin: name.clone(),
                entries: crl.len(),
                this_update: crl.this_update(),
                next_update: crl.next_update(),
                stale,
            });
            if stale {
                tracing::warn!(target: TARGET, origin = %name, "the CRL is past its nextUpdate: the publisher is late");
            }
            oldest = Some(oldest.map_or(crl.this_update(), |o| o.min(crl.this_update())));
            self.metrics.crl_entries(crl.len() as u64);
            let mut crl_report = CrlReport {
                origin: name.clone(),
                entries: crl.len() as u64,
                this_update: Some(crl.this_update()),
                stale,
                ..CrlReport::default()
            };
            // Hash every entry with the CRL's root (off the async workers: HMAC per entry),
            // newest first, so the first batches hold the revocations that matter now.
            let root = crl.root_key_id().to_vec();
            let pepper = self.pepper.clone();
            let crl = Arc::new(crl);
            let hashed = {
                let crl = crl.clone();
                tokio::task::spawn_blocking(move || {
                    let mut hashed: Vec<RevokedCertificate> = crl
                        .entries()
                        .map(|entry| RevokedCertificate {
                            cert: pepper.cert_hash(&root, entry.serial),
                            reason: reason(entry.reason),
                            revoked_at: entry.revoked_at,
                        })
                        .collect();
                    hashed.sort_by_key(|r| std::cmp::Reverse(r.revoked_at));
                    hashed
                })
                .await
                .map_err(|e| Error::Task(e.to_string()))?
            };
            let total = hashed.len();
            let mut done = 0;
            for chunk in hashed.chunks(self.batch_size) {
                if stopping() {
                    report.crls.push(crl_report);
                    report.interrupted = true;
                    return Ok(report);
                }
                let applied = self.apply(chunk, links_ok, "crl", &context).await?;
                crl_report.known += applied.known;
                crl_report.newly_revoked += applied.newly_revoked;
                crl_report.attestations_revoked += applied.revoked;
                crl_report.attestations_moved += applied.moved;
                crl_report.deferred += applied.deferred;
                done += chunk.len();
                progress(Progress::CrlBatch { origin: name.clone(), done, total });
            }
            if let Some(source) = &self.offer_to {
                source.offer((*crl).clone());
            }
            report.crls.push(crl_report);
        }
        if let Some(oldest) = oldest {
            let lag = honnin_core::time::now() - oldest;
            self.metrics.lag(lag.as_seconds_f64());
        }

        // 3. Re-check live certificates with the source.
        if recheck && let Some(source) = &self.recheck {
            let (recheck, interrupted) =
                self.recheck(source.as_ref(), links_ok, &context, progress, &stopping).await?;
            report.recheck = Some(recheck);
            report.interrupted = interrupted;
        }

        if report.is_success() {
            self.metrics.success(OffsetDateTime::now_utc().unix_timestamp() as f64);
        }
        Ok(report)
    }

    /// Sends one batch to the store (by reason, so the audit says which), records the audit
    /// events, metrics and wakes the writer.
    async fn apply(
        &self,
        batch: &[RevokedCertificate],
        links_ok: bool,
        source: &'static str,
        context: &AuditContext,
    ) -> Result<Applied> {
        let mut applied = Applied::default();
        for reason in [RevocationReason::CertificateRevoked, RevocationReason::Superseded] {
            let part: Vec<RevokedCertificate> =
                batch.iter().filter(|r| r.reason == reason).copied().collect();
            if part.is_empty() {
                continue;
            }
            if reason == RevocationReason::Superseded && !links_ok {
                applied.deferred += part.len() as u64;
                continue;
            }
            let now = honnin_core::time::now();
            let outcome: CertRevocationOutcome = self.store.revoke_certificates(&part, now).await?;
            let code = match reason {
                RevocationReason::Superseded => "superseded",
                _ => "certificate_revoked",
            };
            let mut events: Vec<NewAuditEvent> = outcome
                .revoked
                .iter()
                .map(|r| {
                    NewAuditEvent::new(AuditEventKind::AttestationRevoked, now)
                        .with_code(code)
                        .with_attestation(r.attestation_id)
                        .with_context(context.clone())
                })
                .collect();
            events.extend(outcome.moved.iter().map(|id| {
                NewAuditEvent::new(AuditEventKind::RenewalLinked, now)
                    .with_code("attestation_moved")
                    .with_attestation(*id)
                    .with_context(context.clone())
            }));
            if !events.is_empty() {
                self.audit.record(events).await?;
            }
            if !outcome.revoked.is_empty() {
                // The newest revocation date of the batch: a lower bound of each delay (the
                // store does not say which entry revoked which attestation).
                let newest = part.iter().map(|r| r.revoked_at).max().unwrap_or(now);
                self.metrics.queue_delay(
                    source,
                    (now - newest).as_seconds_f64(),
                    outcome.revoked.len(),
                );
                self.metrics.revoked(source, outcome.revoked.len() as u64);
                if let Some(wake) = &self.on_queued {
                    wake();
                }
            }
            self.metrics.moved(outcome.moved.len() as u64);
            applied.known += outcome.known;
            applied.newly_revoked += outcome.newly_revoked;
            applied.revoked += outcome.revoked.len() as u64;
            applied.moved += outcome.moved.len() as u64;
        }
        Ok(applied)
    }

    async fn recheck(
        &self,
        source: &dyn RevocationSource,
        links_ok: bool,
        context: &AuditContext,
        progress: &mut (dyn FnMut(Progress) + Send),
        stopping: &(dyn Fn() -> bool + Sync),
    ) -> Result<(RecheckReport, bool)> {
        let mut report = RecheckReport::default();
        let mut after = None;
        loop {
            if stopping() {
                return Ok((report, true));
            }
            let page = self.store.live_certificates(after, self.page_size).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let full = page.len() as u32 >= self.page_size;
            let now = honnin_core::time::now();
            let answers: Vec<Answer> = futures::stream::iter(page)
                .map(|live| async move {
                    let Some((root, serial)) =
                        live.sealed.as_ref().and_then(|sealed| self.pepper.open_cert(sealed))
                    else {
                        return Answer::Unreadable;
                    };
                    let Some(cert) = cert_ref(&self.anchors, &root, &serial) else {
                        return Answer::Unreadable;
                    };
                    match source.status(&cert, now).await {
                        Ok(RevocationStatus::Good) => Answer::Good,
                        Ok(RevocationStatus::Unknown) => Answer::Unknown,
                        Ok(RevocationStatus::Revoked { reason: r, time }) => {
                            Answer::Revoked(RevokedCertificate {
                                cert: live.cert,
                                reason: reason(r),
                                revoked_at: time,
                            })
                        }
                        Err(error) => {
                            // The error names the responder, never the certificate.
                            tracing::warn!(target: TARGET, %error, "re-check: the source did not answer");
                            Answer::Error
                        }
                    }
                })
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
            let mut revoked = Vec::new();
            for answer in answers {
                report.checked += 1;
                let label = match answer {
                    Answer::Good => {
                        report.good += 1;
                        "good"
                    }
                    Answer::Unknown => {
                        report.unknown += 1;
                        "unknown"
                    }
                    Answer::Error => {
                        report.errors += 1;
                        "error"
                    }
                    Answer::Unreadable => {
                        report.unreadable += 1;
                        "unreadable"
                    }
                    Answer::Revoked(cert) => {
                        report.revoked += 1;
                        revoked.push(cert);
                        "revoked"
                    }
                };
                self.metrics.checked(label);
            }
            if !revoked.is_empty() {
                let applied = self.apply(&revoked, links_ok, "ocsp", context).await?;
                report.attestations_revoked += applied.revoked;
                report.attestations_moved += applied.moved;
            }
            progress(Progress::RecheckPage { checked: report.checked, revoked: report.revoked });
            if !full {
                break;
            }
        }
        if report.errors > 0 {
            self.metrics.failure("recheck");
        }
        Ok((report, false))
    }

    /// Runs a cycle every `interval` (the re-check every `recheck_every`, on the first cycle
    /// and then whenever that much time has passed) until `stop` turns true (a running cycle
    /// stops at its next batch boundary). Only the instance
    /// holding the [`SYNC_LEASE`] works; the others skip the cycle. Failures are logged and
    /// counted, and the next cycle tries again.
    pub async fn run(
        self,
        interval: Duration,
        recheck_every: Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_recheck: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = crate::stopped(&mut stop) => return,
            }
            let lease = match self.store.try_lease(SYNC_LEASE, honnin_core::time::now()).await {
                Ok(Some(lease)) => lease,
                Ok(None) => {
                    tracing::debug!(target: TARGET, "another instance runs the revocation sync");
                    continue;
                }
                Err(error) => {
                    tracing::warn!(target: TARGET, %error, "cannot take the revocation sync lease");
                    self.metrics.failure("store");
                    continue;
                }
            };
            let recheck = last_recheck.is_none_or(|t| t.elapsed() >= recheck_every);
            let started = std::time::Instant::now();
            let mut log = |p: Progress| tracing::debug!(target: TARGET, "{p}");
            // Not cancelled on stop: the cycle stops itself between batches, so every batch the
            // store applied is audited and counted too.
            let cycle = self.cycle_until(recheck, &mut log, Some(&stop)).await;
            if cycle.as_ref().is_ok_and(|report| report.interrupted) {
                let _ = lease.release().await;
                return;
            }
            match cycle {
                Ok(report) => {
                    if recheck && self.recheck.is_some() {
                        last_recheck = Some(tokio::time::Instant::now());
                    }
                    let elapsed_ms = started.elapsed().as_millis() as u64;
                    if report.is_success() {
                        tracing::info!(target: TARGET, elapsed_ms, "revocation sync: {report}");
                    } else {
                        tracing::warn!(target: TARGET, elapsed_ms, failures = ?report.failures, "revocation sync: {report}");
                    }
                }
                Err(error) => {
                    self.metrics.failure("store");
                    tracing::warn!(target: TARGET, %error, "revocation sync cycle failed");
                }
            }
            if let Err(error) = lease.release().await {
                tracing::debug!(target: TARGET, %error, "releasing the revocation sync lease");
            }
        }
    }
}

/// One certificate's re-check answer.
enum Answer {
    Good,
    Unknown,
    Error,
    Unreadable,
    Revoked(RevokedCertificate),
}

#[derive(Default)]
struct Applied {
    known: u64,
    newly_revoked: u64,
    revoked: u64,
    moved: u64,
    deferred: u64,
}

/// The registry's reason for a card revocation: `superseded` is a renewal (the attestation
/// may follow the new card), everything else (certificateHold included: fail closed) revokes.
fn reason(card: CardReason) -> RevocationReason {
    if card.is_renewal() {
        RevocationReason::Superseded
    } else {
        RevocationReason::CertificateRevoked
    }
}
