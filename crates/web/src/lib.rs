//! The person's page, served by `honnin serve` and `honnin dev` (through honnin-service) at `/`
//! (the verification flow, with an optional age step: the card's signing certificate signs the
//! same message through the bridge or the page's second `honnin card sign --key signing`
//! command, and the page shows the age claims granted or why they were refused) and `/status`
//! (a wallet's attestation with its claims, self-revocation, erasure).
//!
//! Plain HTML, one CSS and one JS file, an SVG icon, no build step, embedded with
//! `include_str!`: nothing is fetched from elsewhere (no CDN, no fonts), and every answer
//! carries a strict Content-Security-Policy (`default-src 'self'`, no inline script or style).
//! The page talks to the API of its own origin and, when configured, to the local card bridge
//! (`honnin card bridge`) and nothing else. The text is in `app.js`, one table per language
//! (Japanese first, English as a switch), with a sentence and an action for every refusal code
//! the API returns and for every code an age claim is refused with.

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
/// The page's icon (a check mark; SVG, so no binary asset).
pub const APP_ICON: &str = include_str!("assets/icon.svg");

/// The Content-Security-Policy on every answer: only this origin (and the card bridge's, for
/// `fetch`), no inline code, no framing. `{connect}` is filled by [`content_security_policy`].
const CSP_TEMPLATE: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'{connect}; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The bridge URL the page uses when none is configured (`honnin card bridge`'s default).
pub const DEFAULT_BRIDGE_URL: &str = "http://127.0.0.1:48620";

/// What the page is told about its surroundings (config keys `page.bridge_url`,
/// `page.explorer_tx_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageConfig {
    /// The card bridge (`honnin card bridge`) the page asks for card signatures: rendered as
    /// `<meta name="honnin-bridge">`, its origin added to the CSP's `connect-src`. `None`: no
    /// bridge, the manual path only.
    pub bridge_url: Option<String>,
    /// A block explorer's transaction URL with `{tx}` for the hash: `<meta name="honnin-explorer">`.
    pub explorer_tx_url: Option<String>,
}

impl Default for PageConfig {
    fn default() -> Self {
        Self { bridge_url: Some(DEFAULT_BRIDGE_URL.to_owned()), explorer_tx_url: None }
    }
}

/// The origin (`http[s]://host[:port]`) of an `http`/`https` URL with nothing a CSP source
/// could be confused by; `None` otherwise.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let ok = !authority.is_empty()
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    ok.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// The page's Content-Security-Policy for `config`: `connect-src 'self'` plus the bridge's
/// origin, nothing else.
pub fn content_security_policy(config: &PageConfig) -> String {
    let connect = config
        .bridge_url
        .as_deref()
        .and_then(origin_of)
        .map_or_else(String::new, |origin| format!(" {origin}"));
    CSP_TEMPLATE.replace("{connect}", &connect)
}

fn attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The page's HTML with `config`'s `<meta>` tags.
pub fn index_html(config: &PageConfig) -> String {
    let mut metas = String::new();
    if let Some(url) = config.bridge_url.as_deref().filter(|u| origin_of(u).is_some()) {
        let url = url.trim_end_matches('/');
        metas.push_str(&format!("<meta name=\"honnin-bridge\" content=\"{}\">\n", attribute(url)));
    }
    if let Some(url) = &config.explorer_tx_url {
        metas
            .push_str(&format!("<meta name=\"honnin-explorer\" content=\"{}\">\n", attribute(url)));
    }
    INDEX_HTML.replacen("<title>", &format!("{metas}<title>"), 1)
}

/// The page's routes: `/`, `/status`, `/assets/app.js`, `/assets/app.css`, `/assets/icon.svg`
/// (also answered at `/favicon.ico`, which browsers ask for whatever the page says). Merge it into the
/// API's router (it has no fallback of its own).
pub fn router(config: &PageConfig) -> Router {
    // Both are checked above to hold only visible ASCII; the fallback is the strictest policy.
    let csp = HeaderValue::from_str(&content_security_policy(config))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    let html = axum::body::Bytes::from(index_html(config));
    let (c1, c2, c3, c4) = (csp.clone(), csp.clone(), csp.clone(), csp);
    let icon = move || {
        let csp = c4.clone();
        async move { asset("image/svg+xml", APP_ICON.into(), csp) }
    };
    let page = move || {
        let (html, csp) = (html.clone(), c1.clone());
        async move { asset("text/html; charset=utf-8", html, csp) }
    };
    Router::new()
        .route("/", get(page.clone()))
        .route("/status", get(page))
        .route(
            "/assets/app.js",
            get(move || async move { asset("text/javascript; charset=utf-8", APP_JS.into(), c2) }),
        )
        .route(
            "/assets/app.css",
            get(move || async move { asset("text/css; charset=utf-8", APP_CSS.into(), c3) }),
        )
        .route("/assets/icon.svg", get(icon.clone()))
        .route("/favicon.ico", get(icon))
}

fn asset(content_type: &'static str, body: axum::body::Bytes, csp: HeaderValue) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
