#![doc = include_str!("../README.md")]

mod admin;
mod attest;
mod audit;
mod auth;
mod error;
mod extract;
mod lifecycle;
mod metrics;
mod openapi;
mod ratelimit;
mod routes;

use std::{fmt, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, Method},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use honnin_core::{ChallengeSettings, ContractWallets, Pepper, Policy, Store, audit::AuditLog};
use honnin_jpki::{RevocationSource, Verifier};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub use admin::{AdminRevocationRequest, AuditEventView, AuditPage};
pub use auth::{AdminToken, ApiKey, Auth, AuthConfigError, InvalidTokenDigest, TokenDigest};
pub use error::{Error, PROBLEM_JSON, PROBLEM_TYPE_BASE, Problem, Result};
pub use metrics::Metrics;
pub use openapi::openapi;
pub use ratelimit::{API_KEY_HEADER, Rate, RateLimits};
pub use routes::{
    AttestationAccepted, AttestationRequest, AttestationView, ChallengeRequest, ChallengeResponse,
    ErasureAccepted, ErasureRequest, Health, RevocationAccepted, RevocationRequest,
};

/// The request-id header: taken from the request when the client sent one, else a fresh UUID;
/// echoed on the response and recorded on the request's tracing span.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

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
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("revocation", &self.revocation)
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
    pub(crate) verify_permits: Semaphore,
    pub(crate) openapi: Bytes,
    pub(crate) limiter: ratelimit::Limiter,
}

/// The API as an axum [`Router`], with its middleware: request ids, tracing spans, latency
/// metrics, client identification and rate limits, the body limit and the request timeout.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so rate limits and the
/// audit log see each client's address; without it every anonymous client shares one bucket.
pub fn app(state: AppState) -> Router {
    let limits = state.limits;
    let openapi = serde_json::to_vec(&openapi()).map(Bytes::from).unwrap_or_default();
    let shared = Arc::new(Shared {
        verify_permits: Semaphore::new(limits.verify_concurrency.max(1)),
        limiter: ratelimit::Limiter::new(state.rate_limits.clone()),
        state,
        openapi,
    });
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    // Rate limited per client; an unknown API key is refused.
    let public = Router::new()
        .route("/v1/challenges", post(routes::create_challenge))
        .route("/v1/attestations", post(routes::submit_attestation))
        .route("/v1/attestations/{wallet}", get(routes::get_attestation))
        .route("/v1/revocations", post(routes::submit_revocation))
        .route("/v1/erasures", post(routes::submit_erasure))
        .route_layer(middleware::from_fn_with_state(shared.clone(), ratelimit::limit));
    // Bearer token required; refused requests are rate limited and audited.
    let admin = Router::new()
        .route("/v1/admin/audit", get(admin::read_audit))
        .route("/v1/admin/revocations", post(admin::revoke))
        .route_layer(middleware::from_fn_with_state(shared.clone(), auth::require_admin));
    Router::new()
        .merge(public)
        .merge(admin)
        .route("/health", get(routes::health))
        .route("/ready", get(routes::ready))
        .route("/metrics", get(routes::metrics))
        .route("/openapi.json", get(routes::openapi))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(
            // Top to bottom is outermost to innermost.
            ServiceBuilder::new()
                .layer(middleware::from_fn(sanitize_request_id))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(span).on_response(on_response))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn_with_state(shared.clone(), observe))
                .layer(middleware::from_fn_with_state(shared.clone(), ratelimit::identify))
                .layer(middleware::from_fn_with_state(limits, timeout))
                .layer(DefaultBodyLimit::max(limits.body_bytes))
                .layer(middleware::from_fn_with_state(limits, body_limit_extension)),
        )
        .with_state(shared)
}

/// The method as a fixed label: the standard methods by name, anything else `other` (a method
/// is a client-chosen token; it must not reach logs or multiply metric series).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Drops a client-sent request id that could carry anything personal: it is logged on every
/// span, so only 1 to 64 characters of `A-Z a-z 0-9 - _ .` without an individual number are
/// kept; otherwise a fresh UUID replaces it.
async fn sanitize_request_id(mut request: Request, next: Next) -> Response {
    let acceptable = |value: &str| {
        (1..=64).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && !honnin_core::individual_number::contains_in_text(value)
    };
    let headers = request.headers_mut();
    if headers.get(REQUEST_ID_HEADER).is_some_and(|v| !v.to_str().is_ok_and(acceptable)) {
        headers.remove(REQUEST_ID_HEADER);
    }
    next.run(request).await
}

/// The route template, never the raw path (which may carry anything a client typed).
fn route_of(request: &Request) -> &str {
    request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str)
}

/// The request's span: method, route template, request id; the status is recorded later.
fn span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        target: "honnin_api::http",
        "request",
        method = method_label(request.method()),
        path = route_of(request),
        request_id,
        status = tracing::field::Empty,
    )
}

fn on_response(response: &Response, latency: Duration, span: &tracing::Span) {
    span.record("status", response.status().as_u16());
    tracing::info!(
        target: "honnin_api::http",
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "response"
    );
}

async fn observe(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = route_of(&request).to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    if let Some(error::ProblemCode(code)) = response.extensions().get() {
        shared.state.metrics.problem(code);
    }
    shared.state.metrics.http_request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

async fn timeout(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::Timeout.into_response(),
    }
}

async fn body_limit_extension(
    State(limits): State<Limits>,
    mut request: Request,
    next: Next,
) -> Response {
    request.extensions_mut().insert(extract::BodyLimit(limits.body_bytes));
    next.run(request).await
}
