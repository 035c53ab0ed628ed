//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format.
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `honnin_challenges_issued_total` | counter | — | challenges issued |
//! | `honnin_verifications_total` | counter | `outcome` | attestation requests by outcome: `verified`, `replayed`, or the refusal code (`bad_signature`, `wallet_mismatch`, `challenge_used`, …) |
//! | `honnin_attestations_total` | counter | `state` | attestations entering a state, as seen by this instance: `pending` (recorded), `revoked` (rotated out); the chain writer adds `active` |
//! | `honnin_problems_total` | counter | `code` | error responses by problem code (any route, including `individual_number_forbidden` and `malformed_request`) |
//! | `honnin_http_request_duration_seconds` | histogram | `method`, `route`, `status` | request latency; `route` is the route template (`/v1/attestations/{wallet}`), never the raw path |
//!
//! Other parts of the service (the chain writer: batch sizes, gas) register their own metrics
//! in the same registry with [`Metrics::register`] before the app starts serving.

use std::sync::{Arc, Mutex};

use honnin_core::AttestationStatus;
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Metric, Registry},
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

fn latency_histogram() -> Histogram {
    // 1 ms … ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The service's metrics and the registry they live in. Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    challenges: Counter,
    verifications: Family<OutcomeLabels, Counter>,
    attestations: Family<StateLabels, Counter>,
    problems: Family<CodeLabels, Counter>,
    http: Family<HttpLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with the API's metrics registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let challenges = Counter::default();
        let verifications = Family::<OutcomeLabels, Counter>::default();
        let attestations = Family::<StateLabels, Counter>::default();
        let problems = Family::<CodeLabels, Counter>::default();
        let http = Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register("honnin_challenges_issued", "Challenges issued", challenges.clone());
        registry.register(
            "honnin_verifications",
            "Attestation requests by outcome (verified, replayed, or the refusal code)",
            verifications.clone(),
        );
        registry.register(
            "honnin_attestations",
            "Attestations entering a state, as seen by this instance",
            attestations.clone(),
        );
        registry.register("honnin_problems", "Error responses by problem code", problems.clone());
        registry.register(
            "honnin_http_request_duration_seconds",
            "HTTP request latency by method, route template and status",
            http.clone(),
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            challenges,
            verifications,
            attestations,
            problems,
            http,
        }
    }

    /// Registers another metric (for example the chain writer's batch sizes and gas). Names get
    /// the usual suffixes (`_total` for counters) when encoded.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.lock().register(name, help, metric);
    }

    /// Counts an issued challenge.
    pub fn challenge_issued(&self) {
        self.challenges.inc();
    }

    /// Counts an attestation request's outcome: `verified`, `replayed` or a refusal code.
    pub fn verification(&self, outcome: &'static str) {
        self.verifications.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// Counts `n` attestations entering `state`.
    pub fn attestations(&self, state: AttestationStatus, n: u64) {
        self.attestations.get_or_create(&StateLabels { state: state.as_str() }).inc_by(n);
    }

    /// Counts an error response with problem `code`.
    pub fn problem(&self, code: &'static str) {
        self.problems.get_or_create(&CodeLabels { code }).inc();
    }

    /// Records one HTTP request's latency.
    pub fn http_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http
            .get_or_create(&HttpLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .observe(seconds);
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        encode(&mut out, &self.lock())?;
        Ok(out)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while holding the lock cannot leave the registry half-written in a way that
        // matters for encoding; keep serving.
        self.registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
