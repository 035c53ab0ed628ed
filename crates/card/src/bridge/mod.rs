//! `honnin card bridge` (feature `bridge`): a loopback HTTP helper through which the person's
//! page asks the card for a signature. A browser cannot reach a PC/SC reader; the bridge can,
//! and it keeps the PIN on its own terminal: the page sends the message, the person sees which
//! site asks and the exact message in the bridge's terminal, confirms with `y`, types the PIN
//! there, and the page gets the certificate and the signature back.
//!
//! The protocol (fixed; the page and its browser test rely on it):
//!
//! - It listens on a loopback address only ([`Bridge::bind`] refuses any other).
//! - Every request's `Host` must be `<listen ip>:PORT` or `localhost:PORT`, or it gets 403
//!   `host_not_allowed` (a DNS-rebinding guard); an `Origin`, when present, must be one of the
//!   trusted origins, or 403 `origin_not_trusted` without CORS headers.
//! - `OPTIONS` from a trusted origin is a CORS preflight: 204 with
//!   `Access-Control-Allow-Origin: <origin>`, `-Methods: GET, POST`, `-Headers: content-type`,
//!   `Access-Control-Allow-Private-Network: true` when asked, `Vary: Origin`.
//! - `GET /v1/bridge` → `{"bridge":"honnin","version":…,"reader":…|null,"card":bool,"age":true}`
//!   (`age`: this bridge answers `"age": true` requests).
//! - `POST /v1/sign` `{"message":"…"}` (JSON, at most [`MAX_BODY`] bytes) → the terminal flow
//!   ([`sign`]), then 200 `{"ok":true,"certificate":…,"signature":…}` (base64, like
//!   `honnin card sign --json`), or problem+json `{type,title,status,code,detail,detail_ja}`
//!   ([`problem`]; a wrong PIN adds `pin_tries_left`, a wrong signing password
//!   `signing_password_tries_left`). One request at a time: a second one meanwhile gets 409
//!   `busy` at once.
//! - `POST /v1/sign` `{"message":"…","age":true}` asks for age evidence too (as `honnin card
//!   attest --age`): the terminal also says that the card's signing certificate, which holds the
//!   name, address, birth date and sex, will be sent and that honnin keeps only the age bits;
//!   after `y` it asks the PIN and then the signing password, each with its tries shown first
//!   and its last try confirmed; the answer adds `"signing_certificate"` and
//!   `"signing_signature"` (base64, the same message signed by the signing key). A wrong or
//!   locked signing password is `wrong_signing_password` / `signing_password_locked`, a card
//!   without one `no_signing_certificate`.
//!
//! The card side is a [`Cards`] (PC/SC in the CLI, the virtual card in tests) and the person's
//! side a [`Terminal`] (lines on standard input in the CLI, a script in tests).

mod http;
pub mod problem;
mod sign;

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use zeroize::Zeroizing;

use crate::{JpkiCard, Result, Transport};

pub use problem::Problem;
pub use sign::{Signed, SigningEvidence, sign};

/// The largest `POST /v1/sign` body accepted (a challenge message is a few hundred bytes).
pub const MAX_BODY: usize = 4 * 1024;

/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:48620";

/// The origins trusted when none is given: the page of a local `honnin dev` or `honnin serve`.
pub const DEFAULT_ORIGINS: [&str; 2] = ["http://127.0.0.1:8080", "http://localhost:8080"];

/// How long an in-flight request may still run after the shutdown signal (one waiting at the
/// terminal would otherwise hold the bridge open).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Where a card is, as `GET /v1/bridge` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// The reader the bridge would use (the one with a card, else the first), if any.
    pub reader: Option<String>,
    /// A card is on that reader.
    pub card: bool,
}

/// A card transport the bridge can move to its worker thread.
pub type CardTransport = Box<dyn Transport + Send>;

/// The card side: where a card is, and opening it for one request.
pub trait Cards: Send + Sync + 'static {
    /// The reader and whether a card is on it (never fails: no service means no reader).
    fn presence(&self) -> Presence;

    /// Opens the card's JPKI AP for one request, now (no waiting: a request without a card
    /// answers [`crate::Error::NoCard`]). Dropping the card ends the session (PC/SC: with a
    /// reset, so no verified state outlives the request).
    fn open(&self) -> Result<JpkiCard<CardTransport>>;
}

/// The person's side, at the bridge's terminal.
pub trait Terminal: Send + 'static {
    /// Shows one line (or several, separated by `\n`) to the person.
    fn show(&mut self, text: &str);

    /// Reads one line the person typed, without its line ending, in memory that is wiped when
    /// dropped. An error when the input ended.
    fn read_line(&mut self) -> io::Result<Zeroizing<String>>;

    /// Reads a secret (the PIN, the signing password) as one line, like [`Self::read_line`]
    /// but not echoed where the terminal can hide it (the CLI: with echo off when standard
    /// input is a terminal). The default is [`Self::read_line`].
    fn read_secret(&mut self) -> io::Result<Zeroizing<String>> {
        self.read_line()
    }
}

/// Which address to listen on and which origins to trust.
#[derive(Debug, Clone)]
pub struct Config {
    /// A loopback address (port 0: any free port).
    pub listen: SocketAddr,
    /// The origins whose pages may use the bridge (`scheme://host[:port]`).
    pub trusted_origins: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 48620))),
            trusted_origins: DEFAULT_ORIGINS.iter().map(|&o| o.to_owned()).collect(),
        }
    }
}

/// Normalizes an origin as a browser sends it: no trailing slash, lowercase scheme and host.
/// `None` when it is not `http://…` or `https://…` with a host and no path.
pub fn normalize_origin(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/');
    let (scheme, rest) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let ok = matches!(scheme.as_str(), "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' ']);
    ok.then(|| format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// A bridge bound to its socket, not yet serving.
pub struct Bridge {
    listener: tokio::net::TcpListener,
    state: Arc<http::State>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge").field("listener", &self.listener).finish_non_exhaustive()
    }
}

impl Bridge {
    /// Binds `config.listen`. Refuses a non-loopback address, and an untrusted-origin list
    /// that is empty or holds something that is not an origin.
    pub async fn bind(
        config: &Config,
        cards: impl Cards,
        terminal: impl Terminal,
    ) -> io::Result<Self> {
        if !config.listen.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the bridge listens on loopback only, not {}", config.listen),
            ));
        }
        let mut origins = Vec::new();
        for origin in &config.trusted_origins {
            let normalized = normalize_origin(origin).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{origin:?} is not an origin (scheme://host[:port])"),
                )
            })?;
            origins.push(normalized);
        }
        if origins.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no trusted origin"));
        }
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let address = listener.local_addr()?;
        let state = http::State::new(address, origins, Arc::new(cards), Box::new(terminal));
        Ok(Self { listener, state: Arc::new(state) })
    }

    /// The address it listens on (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.state.address
    }

    /// `http://IP:PORT`, the URL the page is given.
    pub fn url(&self) -> String {
        format!("http://{}", self.state.address)
    }

    /// The trusted origins, normalized.
    pub fn trusted_origins(&self) -> &[String] {
        &self.state.origins
    }

    /// Serves until `shutdown` resolves; a request still running then (e.g. waiting for the
    /// person's answer) gets [`SHUTDOWN_GRACE`] before the bridge returns anyway.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let stopping = Arc::new(tokio::sync::Notify::new());
        let notify = Arc::clone(&stopping);
        let server = axum::serve(self.listener, http::router(self.state))
            .with_graceful_shutdown(async move {
                shutdown.await;
                notify.notify_one();
            })
            .into_future();
        tokio::select! {
            result = server => result,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => Ok(()),
        }
    }
}
