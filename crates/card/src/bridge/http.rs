//! The bridge's HTTP side: the Host and Origin guard, CORS and private-network preflights, the
//! two routes, one request at a time.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Request, State as Extract},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use super::{Cards, MAX_BODY, Terminal, problem::Refusal, sign};

const TARGET: &str = "honnin::card::bridge";

/// What every request shares.
pub(super) struct State {
    pub(super) address: SocketAddr,
    pub(super) origins: Vec<String>,
    hosts: [String; 2],
    cards: Arc<dyn Cards>,
    /// The terminal, held by the one request being served.
    terminal: Arc<tokio::sync::Mutex<Box<dyn Terminal>>>,
}

impl State {
    pub(super) fn new(
        address: SocketAddr,
        origins: Vec<String>,
        cards: Arc<dyn Cards>,
        terminal: Box<dyn Terminal>,
    ) -> Self {
        let port = address.port();
        let hosts = [format!("{address}"), format!("localhost:{port}")];
        Self {
            address,
            origins,
            hosts,
            cards,
            terminal: Arc::new(tokio::sync::Mutex::new(terminal)),
        }
    }
}

pub(super) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/bridge", get(bridge))
        .route("/v1/sign", post(sign_request))
        .fallback(|| async { Refusal::NotFound })
        .layer(middleware::from_fn_with_state(Arc::clone(&state), guard))
        .with_state(state)
}

/// The request's `Origin`, normalized (`Err`: present but not an origin).
fn origin(headers: &HeaderMap) -> Result<Option<String>, ()> {
    match headers.get(header::ORIGIN) {
        None => Ok(None),
        Some(value) => {
            let text = value.to_str().map_err(|_| ())?;
            super::normalize_origin(text).map(Some).ok_or(())
        }
    }
}

/// Host, then Origin, then the preflight; CORS headers on what a trusted origin gets.
async fn guard(Extract(state): Extract<Arc<State>>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let host_ok = host.is_some_and(|h| state.hosts.iter().any(|ok| ok.eq_ignore_ascii_case(h)));
    if !host_ok {
        tracing::info!(target: TARGET, host = host.unwrap_or(""), "refused: host not allowed");
        return Refusal::HostNotAllowed.into_response();
    }
    let origin = match origin(request.headers()) {
        Ok(Some(origin)) if state.origins.contains(&origin) => Some(origin),
        Ok(None) => None,
        Ok(Some(_)) | Err(()) => {
            tracing::info!(target: TARGET, "refused: origin not trusted");
            return Refusal::OriginNotTrusted.into_response();
        }
    };
    let mut response = if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        headers
            .insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        let private = request
            .headers()
            .get("access-control-request-private-network")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        if private {
            headers
                .insert("access-control-allow-private-network", HeaderValue::from_static("true"));
        }
        response
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(origin) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}

/// `GET /v1/bridge`: the bridge is here, and whether a card is.
async fn bridge(Extract(state): Extract<Arc<State>>) -> Response {
    let cards = Arc::clone(&state.cards);
    let presence = tokio::task::spawn_blocking(move || cards.presence()).await.ok();
    let (reader, card) = presence.map_or((None, false), |p| (p.reader, p.card));
    Json(json!({
        "bridge": "honnin",
        "version": env!("CARGO_PKG_VERSION"),
        "reader": reader,
        "card": card,
        "age": true,
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignBody {
    message: String,
    /// Age evidence too: the signing certificate and the signing key's signature.
    #[serde(default)]
    age: bool,
}

/// The message as the person will read it: no control characters but line feeds (an escape
/// sequence could hide part of it on the terminal), not empty.
fn parse(headers: &HeaderMap, bytes: &Bytes) -> Result<SignBody, Refusal> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Refusal::Malformed("expected content type application/json"));
    }
    let body: SignBody = serde_json::from_slice(bytes).map_err(|_| {
        Refusal::Malformed("expected {\"message\": \"…\"} (and \"age\": true or false)")
    })?;
    if body.message.is_empty() {
        return Err(Refusal::Malformed("the message is empty"));
    }
    if body.message.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Refusal::Malformed("the message holds control characters"));
    }
    Ok(body)
}

/// `POST /v1/sign`: one request at a time, the terminal flow on a blocking thread.
async fn sign_request(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| Refusal::Malformed("the body is larger than 4 KiB"))?;
    let SignBody { message, age } = parse(&headers, &bytes)?;
    let origin = origin(&headers).ok().flatten();
    let Ok(mut terminal) = Arc::clone(&state.terminal).try_lock_owned() else {
        tracing::info!(target: TARGET, "refused: busy");
        return Err(Refusal::Busy);
    };
    let cards = Arc::clone(&state.cards);
    let outcome = tokio::task::spawn_blocking(move || {
        sign::sign(&*cards, &mut **terminal, origin.as_deref(), &message, age)
    })
    .await
    .map_err(|_| Refusal::Declined)?;
    match outcome {
        Ok(signed) => {
            tracing::info!(target: TARGET, age = signed.signing.is_some(), "signed");
            let b64 = base64::engine::general_purpose::STANDARD;
            let mut answer = json!({
                "ok": true,
                "certificate": b64.encode(&signed.certificate),
                "signature": b64.encode(&signed.signature),
            });
            if let Some(signing) = &signed.signing {
                answer["signing_certificate"] = json!(b64.encode(&*signing.certificate));
                answer["signing_signature"] = json!(b64.encode(&signing.signature));
            }
            Ok(Json(answer).into_response())
        }
        Err(refusal) => {
            tracing::info!(target: TARGET, code = refusal.code(), "refused");
            Err(refusal)
        }
    }
}
