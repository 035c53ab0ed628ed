//! The revocation sync: renewal links, then CRLs, then OCSP re-checks of live certificates.
//!
//! | file | concern |
//! |---|---|
//! | `sync/mod.rs` | [`RevocationSync`]: its settings, and one cycle's order of stages |
//! | `sync/renewals.rs` | stage 1: the renewal link feed read and recorded |
//! | `sync/crl.rs` | stage 2: one CRL fetched, verified, hashed and applied in batches |
//! | `sync/recheck.rs` | stage 3: the OCSP re-check of every certificate with a live attestation |
//! | `sync/apply.rs` | revoked certificates into the store: audit events, metrics, waking the writer |
//! | `sync/job.rs` | the loop: a cycle per interval under [`SYNC_LEASE`] |
//! | `sync/progress.rs` | [`Progress`], what a running cycle says |
//! | `sync/report.rs` | [`CycleReport`] and its parts, what a cycle did |

mod apply;
mod crl;
mod job;
mod progress;
mod recheck;
mod renewals;
mod report;

use std::{fmt, sync::Arc};

use honnin_core::{AuditContext, CertStatusStore, Pepper, Scope, ScopeName, audit::AuditLog};
use honnin_jpki::{CrlOrigin, CrlSource, RevocationSource, TrustAnchors};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{LifecycleMetrics, Result, links::LinkFeed};

pub use job::SYNC_LEASE;
pub use progress::Progress;
pub use report::{CrlReport, CycleReport, LinkReport, RecheckReport};

const TARGET: &str = "honnin::lifecycle::sync";

/// A callback run after revokes were queued (wake the chain writer).
pub type OnQueued = Arc<dyn Fn() + Send + Sync>;

/// The revocation sync job. Build it with [`RevocationSync::new`] and the `with_*` methods, run
/// one cycle with [`cycle`](Self::cycle) or loop with [`run`](Self::run).
///
/// One cycle:
///
/// 1. the renewal link feed (if any) is read, hashed with the pepper and recorded
///    ([`Store::link_renewals`]), so that a `superseded` entry in the same cycle finds its link;
/// 2. each CRL origin is fetched and verified against the trust anchors; each entry's serial is
///    hashed with the CRL's root key id ([`Pepper::cert_hash`], the inputs the API hashed) and
///    sent to [`Store::revoke_certificates`] in batches (`superseded` → reason `Superseded`,
///    every other reason → `CertificateRevoked`); a verified CRL is also offered to the API's
///    [`CrlSource`] when one was given, so new cards are refused at once;
/// 3. when a re-check source is configured (an OCSP responder), every certificate with a live
///    attestation ([`Store::live_certificates`], in pages) is asked about through it, its
///    serial opened from the sealed column ([`Pepper::open_cert`]); revoked ones go to
///    [`Store::revoke_certificates`] too.
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
    /// Default of [`Self::with_batch_size`]: 1,000 certificates per store call.
    pub const DEFAULT_BATCH_SIZE: usize = 1_000;
    /// Default page size of [`Self::with_recheck_paging`]: 1,000 live certificates.
    pub const DEFAULT_PAGE_SIZE: u32 = 1_000;
    /// Default concurrency of [`Self::with_recheck_paging`]: 8 re-check requests in flight.
    pub const DEFAULT_CONCURRENCY: usize = 8;

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
            batch_size: Self::DEFAULT_BATCH_SIZE,
            page_size: Self::DEFAULT_PAGE_SIZE,
            concurrency: Self::DEFAULT_CONCURRENCY,
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

    /// Certificates per [`Store::revoke_certificates`] call (default
    /// [`Self::DEFAULT_BATCH_SIZE`]).
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Live certificates per re-check page (default [`Self::DEFAULT_PAGE_SIZE`]), and re-check
    /// requests in flight at once (default [`Self::DEFAULT_CONCURRENCY`]).
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
        let mut cycle = Cycle::new(progress, stop);
        // Every registered scope: each revocation and link is applied to the person's hashes
        // in each of them too, as nothing stored joins a person's scoped rows.
        cycle.scopes = self.store.scopes().await?.iter().map(ScopeName::id).collect();

        // 1. Renewal links first: a superseded entry below must find its link.
        if let Some(feed) = &self.links
            && self.renewals(feed, &mut cycle).await? == Stage::Interrupted
        {
            return Ok(cycle.interrupted());
        }

        // 2. CRLs.
        for origin in &self.crls {
            if cycle.stopping() || self.crl(origin, &mut cycle).await? == Stage::Interrupted {
                return Ok(cycle.interrupted());
            }
        }
        if let Some(oldest) = cycle.oldest_crl {
            let lag = honnin_core::time::now() - oldest;
            self.metrics.lag(lag.as_seconds_f64());
        }

        // 3. Re-check live certificates with the source.
        if recheck && let Some(source) = &self.recheck {
            let (recheck, stage) = self.recheck(source.as_ref(), &mut cycle).await?;
            cycle.report.recheck = Some(recheck);
            cycle.report.interrupted = stage == Stage::Interrupted;
        }

        if cycle.report.is_success() {
            self.metrics.success(OffsetDateTime::now_utc().unix_timestamp() as f64);
        }
        Ok(cycle.report)
    }
}

/// Whether a stage ran to its end or stopped between two batches because it was asked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Ran to its end (failures included: they are in the report).
    Finished,
    /// Asked to stop; what it applied so far is in the report.
    Interrupted,
}

/// One running cycle: what it has found so far and how it reports.
struct Cycle<'a> {
    /// The audit context of every event of the cycle (a cycle id as request id).
    context: AuditContext,
    progress: &'a mut (dyn FnMut(Progress) + Send),
    stop: Option<&'a watch::Receiver<bool>>,
    report: CycleReport,
    /// False when the link feed failed: `superseded` entries are then deferred.
    links_ok: bool,
    /// The oldest `thisUpdate` of the CRLs applied (for the lag metric).
    oldest_crl: Option<OffsetDateTime>,
    /// The registered scopes, read once at the start of the cycle.
    scopes: Vec<Scope>,
}

impl<'a> Cycle<'a> {
    fn new(
        progress: &'a mut (dyn FnMut(Progress) + Send),
        stop: Option<&'a watch::Receiver<bool>>,
    ) -> Self {
        let context = AuditContext {
            request_id: Some(format!(
                "revocation-sync-{}",
                OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000
            )),
            ..AuditContext::default()
        };
        Self {
            context,
            progress,
            stop,
            report: CycleReport::default(),
            links_ok: true,
            oldest_crl: None,
            scopes: Vec::new(),
        }
    }

    /// Whether the cycle was asked to stop.
    fn stopping(&self) -> bool {
        self.stop.is_some_and(|stop| *stop.borrow())
    }

    fn progress(&mut self, progress: Progress) {
        (self.progress)(progress);
    }

    /// Records a failed stage; the cycle goes on with the next one.
    fn fail(&mut self, metrics: &LifecycleMetrics, stage: &'static str, error: String) {
        tracing::warn!(target: TARGET, stage, %error, "revocation sync stage failed");
        metrics.failure(stage);
        self.report.failures.push(format!("{stage}: {error}"));
        self.progress(Progress::Failed { stage, error });
    }

    /// The report of a cycle that stopped early.
    fn interrupted(mut self) -> CycleReport {
        self.report.interrupted = true;
        self.report
    }
}
