//! The background jobs next to the API: the revocation sync (when there is anything to
//! follow), the expiry sweep and the challenge purge. `honnin revocation sync` builds its sync
//! with [`revocation_sync`] too.

use std::{sync::Arc, time::Duration};

use honnin_api::{Metrics, OnQueued};
use honnin_core::{Pepper, Store, audit::AuditLog};
use honnin_jpki::{CrlOrigin, CrlSource, OcspSource, TrustAnchors};
use honnin_lifecycle::{ExpirySweep, LifecycleMetrics, LinkFeed, LinkOrigin, RevocationSync};
use tokio::{sync::watch, task::JoinHandle};

use crate::config::{JobsConfig, RevocationConfig};

const TARGET: &str = "honnin::jobs";

/// The revocation sync `revocation` and `links` describe: the CRLs to follow, or the OCSP
/// responder to re-check live certificates with, and the renewal link feed.
pub fn revocation_sync(
    store: Arc<dyn Store>,
    pepper: Arc<Pepper>,
    anchors: Arc<TrustAnchors>,
    audit: AuditLog,
    revocation: &RevocationConfig,
    links: Option<&LinkOrigin>,
) -> RevocationSync {
    let mut sync = RevocationSync::new(store, pepper, anchors.clone(), audit);
    match revocation {
        RevocationConfig::Crl(origins) => {
            sync = sync.with_crls(origins.iter().map(|o| CrlOrigin::parse(o)).collect());
        }
        RevocationConfig::Ocsp(url) => {
            sync = sync.with_recheck(Arc::new(OcspSource::new(anchors, url.clone())));
        }
        RevocationConfig::None => {}
    }
    if let Some(origin) = links {
        sync = sync.with_links(LinkFeed::new(origin.clone()));
    }
    sync
}

/// What the jobs share with the API.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) pepper: Arc<Pepper>,
    pub(crate) anchors: Arc<TrustAnchors>,
    pub(crate) audit: AuditLog,
    /// The API's CRL source: the sync offers it every CRL it verified.
    pub(crate) crl_source: Option<Arc<CrlSource>>,
    /// Wakes the chain writer after revokes were queued.
    pub(crate) on_queued: Option<OnQueued>,
}

impl Shared {
    /// The sync as the service runs it: the API's CRL source kept current, the writer woken.
    pub(crate) fn sync(&self, revocation: &RevocationConfig, jobs: &JobsConfig) -> RevocationSync {
        let mut sync = revocation_sync(
            self.store.clone(),
            self.pepper.clone(),
            self.anchors.clone(),
            self.audit.clone(),
            revocation,
            jobs.renewal_links.as_ref(),
        );
        if let Some(source) = &self.crl_source {
            sync = sync.offer_crls_to(source.clone());
        }
        if let Some(wake) = &self.on_queued {
            sync = sync.on_queued(wake.clone());
        }
        sync
    }
}

/// The running jobs.
pub(crate) struct Jobs {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Starts the revocation sync (when it has anything to follow), the expiry sweep and the
    /// challenge purge, their metrics registered next to the API's.
    pub(crate) fn spawn(
        shared: &Shared,
        revocation: &RevocationConfig,
        config: &JobsConfig,
        metrics: &Metrics,
    ) -> Self {
        let lifecycle = LifecycleMetrics::default();
        for (name, help, metric) in lifecycle.metrics() {
            metrics.register(name, help, metric);
        }
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let sync = shared.sync(revocation, config).with_metrics(lifecycle.clone());
        if sync.has_work() {
            tracing::info!(
                target: TARGET,
                every_secs = config.sync_interval.as_secs(),
                recheck_every_secs = config.recheck_interval.as_secs(),
                renewal_links = config.renewal_links.is_some(),
                "revocation sync started"
            );
            tasks.push(tokio::spawn(sync.run(
                config.sync_interval,
                config.recheck_interval,
                stopped.clone(),
            )));
        } else {
            tracing::warn!(
                target: TARGET,
                "no revocation sync: no revocation source and no renewal link feed"
            );
        }
        let sweep =
            ExpirySweep::new(shared.store.clone(), shared.audit.clone()).with_metrics(lifecycle);
        tasks.push(tokio::spawn(sweep.run(config.sweep_interval, stopped.clone())));
        tasks.push(tokio::spawn(purge_challenges(
            shared.store.clone(),
            config.purge_interval,
            config.purge_after,
            stopped,
        )));
        Self { stop, tasks }
    }

    /// Stops every job (a running sync cycle at its next batch boundary) and waits for them.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Resolves once `stop` says `true` or its sender is gone (holds no borrow across an await).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Deletes challenges that expired more than `after` ago, every `interval`, until `stop`.
async fn purge_challenges(
    store: Arc<dyn Store>,
    interval: Duration,
    after: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let after = time::Duration::try_from(after).unwrap_or(time::Duration::MAX);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = stopped(&mut stop) => return,
        }
        let before = honnin_core::time::now() - after;
        match store.purge_challenges(before).await {
            Ok(purged) => tracing::debug!(target: TARGET, purged, "purged expired challenges"),
            Err(error) => tracing::warn!(target: TARGET, %error, "purging challenges failed"),
        }
    }
}
