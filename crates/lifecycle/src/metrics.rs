//! The life-cycle jobs' Prometheus metrics (`prometheus-client`, as `honnin-api` serves them).
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `honnin_revocation_lag_seconds` | gauge | — | at the last cycle, now − `thisUpdate` of the oldest CRL applied (how far behind the source the service can be) |
//! | `honnin_revocation_queue_delay_seconds` | histogram | `source` (`crl`, `ocsp`) | from a certificate's revocation date to its attestation's `revoke` being queued |
//! | `honnin_revocation_crl_entries_total` | counter | — | CRL entries seen (every cycle counts every entry again) |
//! | `honnin_revocation_certificates_checked_total` | counter | `answer` (`good`, `revoked`, `unknown`, `error`, `unreadable`) | live certificates re-checked with the revocation source |
//! | `honnin_revocation_attestations_revoked_total` | counter | `source` | attestations revoked (their `revoke` queued) |
//! | `honnin_revocation_attestations_moved_total` | counter | — | attestations that followed a renewed certificate |
//! | `honnin_revocation_renewal_links_total` | counter | `outcome` (`linked`, `already`, `unknown_old`, `conflict`) | renewal links read from the feed |
//! | `honnin_revocation_last_success_timestamp_seconds` | gauge | — | Unix time at which the last cycle finished without failure |
//! | `honnin_revocation_sync_failures_total` | counter | `stage` (`links`, `crl`, `recheck`, `store`, `expiry`) | failures |
//! | `honnin_attestations_expired_total` | counter | — | attestations the expiry sweep marked expired |
//!
//! Register them next to the API's:
//!
//! ```no_run
//! # fn f(registry: &mut prometheus_client::registry::Registry) {
//! let metrics = honnin_lifecycle::LifecycleMetrics::default();
//! for (name, help, metric) in metrics.metrics() {
//!     registry.register(name, help, metric);
//! }
//! # }
//! ```

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder},
    metrics::{
        MetricType, TypedMetric,
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
};
use std::sync::atomic::AtomicU64;

/// A label set of one label, `source`, `answer`, `outcome` or `stage`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    source: &'static str,
}

/// The `answer` label of the re-check counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AnswerLabels {
    answer: &'static str,
}

/// The `outcome` label of the link counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    outcome: &'static str,
}

/// The `stage` label of the failure counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    stage: &'static str,
}

fn delay_buckets() -> Histogram {
    // 1 s … ~12 days.
    Histogram::new(exponential_buckets(1.0, 2.0, 21))
}

type DelayFamily = Family<SourceLabels, Histogram, fn() -> Histogram>;

/// The life-cycle metrics. Cheap to clone (shared handles).
#[derive(Clone, Debug)]
pub struct LifecycleMetrics {
    lag: Gauge<f64, AtomicU64>,
    queue_delay: DelayFamily,
    crl_entries: Counter,
    checked: Family<AnswerLabels, Counter>,
    revoked: Family<SourceLabels, Counter>,
    moved: Counter,
    links: Family<OutcomeLabels, Counter>,
    last_success: Gauge<f64, AtomicU64>,
    failures: Family<StageLabels, Counter>,
    expired: Counter,
}

impl Default for LifecycleMetrics {
    fn default() -> Self {
        Self {
            lag: Gauge::default(),
            queue_delay: DelayFamily::new_with_constructor(delay_buckets),
            crl_entries: Counter::default(),
            checked: Family::default(),
            revoked: Family::default(),
            moved: Counter::default(),
            links: Family::default(),
            last_success: Gauge::default(),
            failures: Family::default(),
            expired: Counter::default(),
        }
    }
}

/// One of the life-cycle metrics, ready to register in a `prometheus_client` registry.
#[derive(Clone, Debug)]
pub enum LifecycleMetric {
    /// A floating-point gauge.
    Gauge(Gauge<f64, AtomicU64>),
    /// A histogram family labelled by `source`.
    Histograms(DelayFamily),
    /// A counter.
    Counter(Counter),
    /// A counter family labelled by `source`.
    BySource(Family<SourceLabels, Counter>),
    /// A counter family labelled by `answer`.
    ByAnswer(Family<AnswerLabels, Counter>),
    /// A counter family labelled by `outcome`.
    ByOutcome(Family<OutcomeLabels, Counter>),
    /// A counter family labelled by `stage`.
    ByStage(Family<StageLabels, Counter>),
}

impl EncodeMetric for LifecycleMetric {
    fn encode(&self, encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        match self {
            Self::Gauge(m) => m.encode(encoder),
            Self::Histograms(m) => m.encode(encoder),
            Self::Counter(m) => m.encode(encoder),
            Self::BySource(m) => m.encode(encoder),
            Self::ByAnswer(m) => m.encode(encoder),
            Self::ByOutcome(m) => m.encode(encoder),
            Self::ByStage(m) => m.encode(encoder),
        }
    }

    fn metric_type(&self) -> MetricType {
        match self {
            Self::Gauge(_) => Gauge::<f64, AtomicU64>::TYPE,
            Self::Histograms(_) => Histogram::TYPE,
            Self::Counter(_)
            | Self::BySource(_)
            | Self::ByAnswer(_)
            | Self::ByOutcome(_)
            | Self::ByStage(_) => Counter::<u64>::TYPE,
        }
    }
}

impl LifecycleMetrics {
    /// Every metric with its name (without the `_total` suffix counters get when encoded) and
    /// help text.
    pub fn metrics(&self) -> Vec<(&'static str, &'static str, LifecycleMetric)> {
        use LifecycleMetric as M;
        vec![
            (
                "honnin_revocation_lag_seconds",
                "At the last cycle: now minus thisUpdate of the oldest CRL applied",
                M::Gauge(self.lag.clone()),
            ),
            (
                "honnin_revocation_queue_delay_seconds",
                "From a certificate's revocation date to its attestation's revoke being queued",
                M::Histograms(self.queue_delay.clone()),
            ),
            (
                "honnin_revocation_crl_entries",
                "CRL entries seen by the revocation sync",
                M::Counter(self.crl_entries.clone()),
            ),
            (
                "honnin_revocation_certificates_checked",
                "Live certificates re-checked with the revocation source, by answer",
                M::ByAnswer(self.checked.clone()),
            ),
            (
                "honnin_revocation_attestations_revoked",
                "Attestations revoked because their certificate was revoked, by source",
                M::BySource(self.revoked.clone()),
            ),
            (
                "honnin_revocation_attestations_moved",
                "Attestations that followed a renewed certificate",
                M::Counter(self.moved.clone()),
            ),
            (
                "honnin_revocation_renewal_links",
                "Renewal links read from the feed, by outcome",
                M::ByOutcome(self.links.clone()),
            ),
            (
                "honnin_revocation_last_success_timestamp_seconds",
                "Unix time at which the last revocation sync cycle finished without failure",
                M::Gauge(self.last_success.clone()),
            ),
            (
                "honnin_revocation_sync_failures",
                "Revocation sync failures, by stage",
                M::ByStage(self.failures.clone()),
            ),
            (
                "honnin_attestations_expired",
                "Attestations the expiry sweep marked expired",
                M::Counter(self.expired.clone()),
            ),
        ]
    }

    pub(crate) fn lag(&self, seconds: f64) {
        self.lag.set(seconds);
    }

    pub(crate) fn queue_delay(&self, source: &'static str, seconds: f64, n: usize) {
        let histogram = self.queue_delay.get_or_create(&SourceLabels { source });
        for _ in 0..n {
            histogram.observe(seconds.max(0.0));
        }
    }

    pub(crate) fn crl_entries(&self, n: u64) {
        self.crl_entries.inc_by(n);
    }

    pub(crate) fn checked(&self, answer: &'static str) {
        self.checked.get_or_create(&AnswerLabels { answer }).inc();
    }

    pub(crate) fn revoked(&self, source: &'static str, n: u64) {
        self.revoked.get_or_create(&SourceLabels { source }).inc_by(n);
    }

    pub(crate) fn moved(&self, n: u64) {
        self.moved.inc_by(n);
    }

    pub(crate) fn links(&self, outcome: &'static str, n: u64) {
        self.links.get_or_create(&OutcomeLabels { outcome }).inc_by(n);
    }

    pub(crate) fn success(&self, unix_seconds: f64) {
        self.last_success.set(unix_seconds);
    }

    pub(crate) fn failure(&self, stage: &'static str) {
        self.failures.get_or_create(&StageLabels { stage }).inc();
    }

    pub(crate) fn expired(&self, n: u64) {
        self.expired.inc_by(n);
    }
}
