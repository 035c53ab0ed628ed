//! The chain writer's Prometheus metrics (`prometheus-client`, the crate `honnin-api` serves
//! `/metrics` with).
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `honnin_chain_batch_size` | histogram | `kind` (`attest`, `revoke`) | records per transaction sent |
//! | `honnin_chain_gas_per_tx` | histogram | `kind` | gas used per confirmed transaction (from its receipt) |
//! | `honnin_chain_gas_per_record` | histogram | `kind` | gas used per record in a confirmed transaction |
//! | `honnin_chain_confirm_seconds` | histogram | `kind` | from sending a transaction to its confirmation |
//! | `honnin_chain_queue_to_confirm_seconds` | histogram | `kind` | from an item entering the outbox to its confirmation |
//! | `honnin_chain_items_total` | counter | `kind`, `outcome` (`confirmed`, `retried`, `failed`) | outbox items by outcome |
//! | `honnin_chain_writer_leader` | gauge | — | 1 while this instance holds the chain-writer lease |
//!
//! The service registers them next to its own:
//!
//! ```no_run
//! # fn f(registry: &mut prometheus_client::registry::Registry) {
//! let metrics = honnin_chain::metrics::WriterMetrics::default();
//! for (name, help, metric) in metrics.metrics() {
//!     registry.register(name, help, metric);
//! }
//! # }
//! ```

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::{MetricType, TypedMetric};

use crate::writer::BatchKind;

/// The label set of the per-kind histograms: `kind`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    kind: &'static str,
}

/// The label set of the item counters: `kind`, `outcome`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    kind: &'static str,
    outcome: &'static str,
}

impl KindLabels {
    fn of(kind: BatchKind) -> Self {
        Self { kind: kind.label() }
    }
}

/// What became of an outbox item: the `outcome` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Confirmed on chain.
    Confirmed,
    /// Put back for another attempt.
    Retried,
    /// Given up on.
    Failed,
}

impl Outcome {
    const fn label(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Retried => "retried",
            Self::Failed => "failed",
        }
    }
}

type HistogramFamily = Family<KindLabels, Histogram, fn() -> Histogram>;

fn size_buckets() -> Histogram {
    // 1 … 2048 records.
    Histogram::new(exponential_buckets(1.0, 2.0, 12))
}

fn gas_tx_buckets() -> Histogram {
    // 25k … ~100M gas.
    Histogram::new(exponential_buckets(25_000.0, 2.0, 13))
}

fn gas_record_buckets() -> Histogram {
    // 5k … ~640k gas.
    Histogram::new(exponential_buckets(5_000.0, 1.5, 13))
}

fn latency_buckets() -> Histogram {
    // 1 ms … ~65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// The chain writer's metrics. Cheap to clone (shared handles).
#[derive(Clone, Debug)]
pub struct WriterMetrics {
    batch_size: HistogramFamily,
    gas_per_tx: HistogramFamily,
    gas_per_record: HistogramFamily,
    confirm_seconds: HistogramFamily,
    queue_to_confirm_seconds: HistogramFamily,
    items: Family<OutcomeLabels, Counter>,
    leader: Gauge,
}

impl Default for WriterMetrics {
    fn default() -> Self {
        Self {
            batch_size: HistogramFamily::new_with_constructor(size_buckets),
            gas_per_tx: HistogramFamily::new_with_constructor(gas_tx_buckets),
            gas_per_record: HistogramFamily::new_with_constructor(gas_record_buckets),
            confirm_seconds: HistogramFamily::new_with_constructor(latency_buckets),
            queue_to_confirm_seconds: HistogramFamily::new_with_constructor(latency_buckets),
            items: Family::default(),
            leader: Gauge::default(),
        }
    }
}

/// One of the writer's metrics, ready to register in a `prometheus_client` registry.
#[derive(Clone, Debug)]
pub enum WriterMetric {
    /// A histogram family labelled by `kind`.
    Histograms(Family<KindLabels, Histogram, fn() -> Histogram>),
    /// A counter family labelled by `kind` and `outcome`.
    Counters(Family<OutcomeLabels, Counter>),
    /// A gauge.
    Gauge(Gauge),
}

impl EncodeMetric for WriterMetric {
    fn encode(&self, encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        match self {
            Self::Histograms(m) => m.encode(encoder),
            Self::Counters(m) => m.encode(encoder),
            Self::Gauge(m) => m.encode(encoder),
        }
    }

    fn metric_type(&self) -> MetricType {
        match self {
            Self::Histograms(_) => Histogram::TYPE,
            Self::Counters(_) => Counter::<u64>::TYPE,
            Self::Gauge(_) => Gauge::<i64>::TYPE,
        }
    }
}

impl WriterMetrics {
    /// Every metric with its name and help, for `Registry::register` (or `honnin-api`'s
    /// `Metrics::register`).
    pub fn metrics(&self) -> Vec<(&'static str, &'static str, WriterMetric)> {
        vec![
            (
                "honnin_chain_batch_size",
                "Records per chain transaction sent, by kind",
                WriterMetric::Histograms(self.batch_size.clone()),
            ),
            (
                "honnin_chain_gas_per_tx",
                "Gas used per confirmed chain transaction, by kind",
                WriterMetric::Histograms(self.gas_per_tx.clone()),
            ),
            (
                "honnin_chain_gas_per_record",
                "Gas used per record in a confirmed chain transaction, by kind",
                WriterMetric::Histograms(self.gas_per_record.clone()),
            ),
            (
                "honnin_chain_confirm_seconds",
                "Seconds from sending a chain transaction to its confirmation, by kind",
                WriterMetric::Histograms(self.confirm_seconds.clone()),
            ),
            (
                "honnin_chain_queue_to_confirm_seconds",
                "Seconds from an outbox item being queued to its confirmation, by kind",
                WriterMetric::Histograms(self.queue_to_confirm_seconds.clone()),
            ),
            (
                "honnin_chain_items",
                "Outbox items handled by the chain writer, by kind and outcome",
                WriterMetric::Counters(self.items.clone()),
            ),
            (
                "honnin_chain_writer_leader",
                "1 while this instance holds the chain-writer lease",
                WriterMetric::Gauge(self.leader.clone()),
            ),
        ]
    }

    pub(crate) fn sent(&self, kind: BatchKind, records: usize) {
        self.batch_size.get_or_create(&KindLabels::of(kind)).observe(records as f64);
    }

    pub(crate) fn confirmed(&self, kind: BatchKind, records: usize, gas_used: u64, secs: f64) {
        let labels = KindLabels::of(kind);
        self.gas_per_tx.get_or_create(&labels).observe(gas_used as f64);
        if records > 0 {
            self.gas_per_record.get_or_create(&labels).observe(gas_used as f64 / records as f64);
        }
        self.confirm_seconds.get_or_create(&labels).observe(secs);
        self.item_outcome(kind, Outcome::Confirmed, records as u64);
    }

    pub(crate) fn queued_to_confirmed(&self, kind: BatchKind, secs: f64) {
        self.queue_to_confirm_seconds.get_or_create(&KindLabels::of(kind)).observe(secs);
    }

    pub(crate) fn item_outcome(&self, kind: BatchKind, outcome: Outcome, n: u64) {
        let labels = OutcomeLabels { kind: kind.label(), outcome: outcome.label() };
        self.items.get_or_create(&labels).inc_by(n);
    }

    pub(crate) fn leader(&self, held: bool) {
        self.leader.set(i64::from(held));
    }

    /// How many items of `kind` (`attest`, `revoke`) ended with `outcome` (`confirmed`,
    /// `retried`, `failed`) so far: for tests and logs.
    pub fn items(&self, kind: &'static str, outcome: &'static str) -> u64 {
        self.items.get_or_create(&OutcomeLabels { kind, outcome }).get()
    }

    /// Whether this instance holds the chain-writer lease now.
    pub fn is_leader(&self) -> bool {
        self.leader.get() == 1
    }
}
