#![doc = include_str!("../README.md")]

// Resources: each holds its request and response types, handlers and `router()`.
mod admin;
mod attestations;
mod challenges;
mod erasures;
mod operations;
mod revocations;
mod scopes;
mod webhooks;

// What the resources share.
mod audit;
mod auth;
mod caller;
mod claims;
mod error;
mod evidence;
mod fields;
mod http;
mod json;
mod metrics;
mod openapi;
mod rate;
mod ratelimit;
mod state;

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::DefaultBodyLimit,
    http::HeaderName,
    middleware::{self},
};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::{
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub use admin::{AdminRevocationRequest, AuditEventView, AuditPage};
pub use attestations::{AttestationAccepted, AttestationRequest, AttestationView};
pub use auth::{AdminToken, ApiKey, Auth, AuthConfigError, InvalidTokenDigest, TokenDigest};
pub use caller::{REQUEST_ID_HEADER, REQUEST_ID_REPLACED_HEADER};
pub use challenges::{ChallengeRequest, ChallengeResponse};
pub use claims::{ClaimRefused, SigningEvidence};
pub use erasures::{ErasureAccepted, ErasureRequest};
pub use error::{Error, PROBLEM_JSON, PROBLEM_TYPE_BASE, Problem, Result};
pub use metrics::Metrics;
pub use openapi::openapi;
pub use operations::Health;
pub use rate::{Rate, RateLimits};
pub use ratelimit::API_KEY_HEADER;
pub use revocations::{RevocationAccepted, RevocationRequest};
pub use scopes::{ScopeList, ScopeRequest, ScopeView};
pub use state::{AppState, Limits, OnQueued, Revocation};
pub use webhooks::{
    WebhookDeliveryPage, WebhookDeliveryView, WebhookEndpointCreated, WebhookEndpointList,
    WebhookEndpointRequest, WebhookEndpointView,
};

/// The API as an axum [`Router`]: every resource's routes, with the middleware around them
/// (outermost first): `Connection: close` after an unread body, request ids (an unsafe one
/// replaced), tracing spans, latency metrics, client identification, the request timeout, and
/// the body limit (an oversized `Content-Length` refused at once). Public routes are rate
/// limited; admin routes need a bearer token.
///
/// Serve it on a server that gives each request its peer address as `ConnectInfo<SocketAddr>`
/// (`honnin_service::http` does) so rate limits and the audit log see each client's address;
/// without it every anonymous client shares one bucket.
pub fn app(state: AppState) -> Router {
    let limits = state.limits;
    let openapi = serde_json::to_vec(&openapi()).map(Bytes::from).unwrap_or_default();
    let limiter = Arc::new(ratelimit::Limiter::new(state.rate_limits.clone(), state.auth.clone()));
    let shared = Arc::new(state::Shared {
        verify_permits: Semaphore::new(limits.verify_concurrency.max(1)),
        limiter: limiter.clone(),
        state,
        openapi,
    });
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    // Rate limited per client; an unknown API key is refused.
    let public = Router::new()
        .merge(challenges::router())
        .merge(attestations::router())
        .merge(revocations::router())
        .merge(erasures::router())
        .route_layer(middleware::from_fn_with_state(limiter.clone(), ratelimit::limit));
    Router::new()
        .merge(public)
        .merge(admin::router(shared.clone()))
        .merge(scopes::router(shared.clone()))
        .merge(webhooks::router(shared.clone()))
        .merge(operations::router())
        .fallback(operations::not_found)
        .method_not_allowed_fallback(operations::method_not_allowed)
        .layer(
            // Top to bottom is outermost to innermost.
            ServiceBuilder::new()
                .layer(middleware::from_fn(http::sanitize_request_id))
                .layer(SetRequestIdLayer::new(request_id.clone(), http::MakeRequestId))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(http::span)
                        .on_response(http::on_response),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn_with_state(shared.clone(), http::observe))
                .layer(middleware::from_fn_with_state(limiter, ratelimit::identify))
                .layer(middleware::from_fn_with_state(limits, http::timeout))
                .layer(middleware::from_fn_with_state(limits, http::body_limit))
                .layer(DefaultBodyLimit::max(limits.body_bytes)),
        )
        .with_state(shared)
}
