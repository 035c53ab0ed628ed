//! What the handlers share: [`AppState`] (built by `honnin serve` from its configuration) and
//! its parts ([`Limits`], [`Revocation`], [`OnQueued`]).

use std::{fmt, sync::Arc, time::Duration};

use axum::body::Bytes;
use honnin_core::{ChallengeSettings, ContractWallets, Pepper, Policy, Store, audit::AuditLog};
use honnin_jpki::{RevocationSource, Verifier};
use tokio::sync::Semaphore;

use crate::{
    auth::Auth, claims::SigningEvidence, metrics::Metrics, rate::RateLimits, ratelimit::Limiter,
};

/// Where revocation status comes from.
#[derive(Clone)]
pub enum Revocation {
    /// Ask `source` for every certificate.
    Check {
        /// The source (CRL, OCSP, cached, or a fake in tests).
        source: Arc<dyn RevocationSource>,
        /// Accept an `Unknown` answer (dev mode only; said loudly at start-up).
        allow_unknown: bool,
    },
    /// No revocation check at all. Dev mode only: `honnin serve` refuses it otherwise.
    Disabled,
}

impl fmt::Debug for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Check { allow_unknown, .. } => f
                .debug_struct("Check")
                .field("allow_unknown", allow_unknown)
                .finish_non_exhaustive(),
            Self::Disabled => f.write_str("Disabled"),
        }
    }
}

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body accepted, in bytes (default 64 KiB: a certificate and two
    /// signatures in base64 need about 3 KiB).
    pub body_bytes: usize,
    /// How long a request may take before it is answered 503 `timeout` (default 10 s).
    pub request_timeout: Duration,
    /// How many card verifications run at once on the blocking pool (default: the number of
    /// CPUs). Further requests wait for a slot.
    pub verify_concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            verify_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// Called after an attestation, revocation or erasure was queued for the chain: `honnin serve`
/// passes a closure that wakes the chain writer, so it need not wait for its next poll.
pub type OnQueued = Arc<dyn Fn() + Send + Sync>;

/// Everything the handlers need.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Card evidence: trust anchors and the JPKI profile.
    pub verifier: Verifier,
    /// Revocation checking.
    pub revocation: Revocation,
    /// Age claims from the signing certificate: its roots and revocation (`None`: not offered;
    /// a request carrying a signing certificate gets its claims refused, `claims_not_offered`).
    pub signing: Option<SigningEvidence>,
    /// The operator's secret for keyed hashes.
    pub pepper: Arc<Pepper>,
    /// Wallets per person, behaviour at the limit, attestation lifetime.
    pub policy: Policy,
    /// Domain, chain id, registry and lifetime of challenges.
    pub challenges: ChallengeSettings,
    /// ERC-1271 checks for contract wallets; without it only EOA signatures are accepted.
    pub contract_wallets: Option<Arc<dyn ContractWallets>>,
    /// The metrics registry.
    pub metrics: Metrics,
    /// Request limits.
    pub limits: Limits,
    /// Admin bearer tokens and dApp API keys (default: none, so admin endpoints answer 401).
    pub auth: Auth,
    /// Per-client rate limits and trusted proxies (default: on, generous).
    pub rate_limits: RateLimits,
    /// Wakes the chain writer after work was queued (`None`: it finds the work on its next poll).
    pub on_queued: Option<OnQueued>,
    /// The audit log writer. Its future (from `AuditLog::new`) must be running: handlers wait
    /// for their events to be committed before answering.
    pub audit: AuditLog,
    /// Which webhook endpoint URLs may be registered (`https` outside dev mode; private
    /// addresses only when allowed).
    pub webhook_policy: honnin_core::webhook::AddressPolicy,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("revocation", &self.revocation)
            .field("signing", &self.signing)
            .field("policy", &self.policy)
            .field("challenges", &self.challenges)
            .field("limits", &self.limits)
            .field("auth", &self.auth)
            .field("rate_limits", &self.rate_limits)
            .field("on_queued", &self.on_queued.is_some())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Tells the chain writer that work was queued.
    pub(crate) fn queued(&self) {
        if let Some(wake) = &self.on_queued {
            wake();
        }
    }
}

/// What the handlers share: the state and what `app` derives from it.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: AppState,
    /// Card verifications running at once (`Limits::verify_concurrency`).
    pub(crate) verify_permits: Semaphore,
    /// The OpenAPI document, serialised once.
    pub(crate) openapi: Bytes,
    /// The rate limiter (also the client resolver: it knows the API keys).
    pub(crate) limiter: Arc<Limiter>,
}
