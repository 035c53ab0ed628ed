//! The HTTP layer around every route: request ids, tracing spans, latency metrics, the request
//! timeout and the body limit (an oversized `Content-Length` is refused at once). Connection
//! handling (timeouts, the connection cap, `Connection: close` when a refusal left the body
//! unread) is the server's: `honnin_service::http`.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use honnin_core::individual_number;
use tower_http::request_id::RequestId;

use crate::{
    caller::{REQUEST_ID_HEADER, REQUEST_ID_REPLACED_HEADER},
    error::{Error, ProblemCode},
    json::BodyLimit,
    state::{Limits, Shared},
};

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

/// Whether a client-sent request id may be kept: it is logged on every span, recorded in the
/// audit log and echoed, so only 1 to 64 characters of `A-Z a-z 0-9 - _ .` that carry no
/// individual number anywhere (the short-text rule: `user_123456789018` is refused too).
pub(crate) fn acceptable_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !individual_number::contains_in_short_text(value)
}

/// Drops a client-sent request id that could carry anything personal ([`acceptable_request_id`]);
/// a fresh UUID replaces it (the next layer) and the response says so in
/// `x-request-id-replaced: true`.
pub(crate) async fn sanitize_request_id(mut request: Request, next: Next) -> Response {
    let headers = request.headers_mut();
    let refused = headers
        .get(REQUEST_ID_HEADER)
        .is_some_and(|v| !v.to_str().is_ok_and(acceptable_request_id));
    if refused {
        headers.remove(REQUEST_ID_HEADER);
    }
    let mut response = next.run(request).await;
    if refused {
        response.headers_mut().insert(REQUEST_ID_REPLACED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// Makes the request id of a request that came without an acceptable one: a random UUID v4
/// that itself passes [`acceptable_request_id`] (about 1 in 120 random UUIDs holds twelve digits
/// with a valid check digit; those are drawn again), so no logged or audited id looks like an
/// individual number.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MakeRequestId;

impl tower_http::request_id::MakeRequestId for MakeRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        loop {
            let mut b = *honnin_core::ChallengeId::random().as_bytes();
            b[6] = (b[6] & 0x0f) | 0x40; // version 4
            b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
            let h = hex::encode(b);
            let id =
                format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]);
            if acceptable_request_id(&id) {
                return HeaderValue::from_str(&id).ok().map(RequestId::new);
            }
        }
    }
}

/// The route template, never the raw path (which may carry anything a client typed).
fn route_of(request: &Request) -> &str {
    request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str)
}

/// The request's span: method, route template, request id; the status is recorded later.
pub(crate) fn span(request: &Request) -> tracing::Span {
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

pub(crate) fn on_response(response: &Response, latency: Duration, span: &tracing::Span) {
    span.record("status", response.status().as_u16());
    tracing::info!(
        target: "honnin_api::http",
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "response"
    );
}

/// Latency by method, route and status, and problems by code.
pub(crate) async fn observe(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let method = method_label(request.method());
    let route = route_of(&request).to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    if let Some(ProblemCode(code)) = response.extensions().get() {
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

/// 503 `timeout` when the request takes longer than `Limits::request_timeout`.
pub(crate) async fn timeout(
    State(limits): State<Limits>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::Timeout.into_response(),
    }
}

/// Refuses at once (413, before any of the body is read) a request whose `Content-Length`
/// exceeds the body limit, on any route; and tells the JSON extractor the limit, so its
/// rejection can name it.
pub(crate) async fn body_limit(
    State(limits): State<Limits>,
    mut request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.body_bytes as u64) {
        return Error::BodyTooLarge { limit: limits.body_bytes }.into_response();
    }
    request.extensions_mut().insert(BodyLimit(limits.body_bytes));
    next.run(request).await
}
