//! The person's page, served by `honnin serve` and `honnin dev` (through honnin-service) at `/`
//! (the verification flow) and `/status` (a wallet's attestation, self-revocation, erasure).
//!
//! Plain HTML, one CSS and one JS file, no build step, embedded with `include_str!`: nothing is
//! fetched from elsewhere (no CDN, no fonts), and every answer carries a strict
//! Content-Security-Policy (`default-src 'self'`, no inline script or style). The page talks to
//! the API of the same origin only. The text is in `app.js`, one table per language (Japanese
//! first, English as a switch), with a sentence and an action for every refusal code the API
//! returns.

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// The page's HTML (the same document for `/` and `/status`; the script picks the view).
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// The page's script.
pub const APP_JS: &str = include_str!("assets/app.js");
/// The page's style sheet.
pub const APP_CSS: &str = include_str!("assets/app.css");

/// The Content-Security-Policy on every answer: only this origin, no inline code, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page's routes: `/`, `/status`, `/assets/app.js`, `/assets/app.css`. Merge it into the
/// API's router (it has no fallback of its own).
pub fn router() -> Router {
    Router::new()
        .route("/", get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }))
        .route("/status", get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }))
        .route("/assets/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }))
        .route("/assets/app.css", get(|| async { asset("text/css; charset=utf-8", APP_CSS) }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
