//! The renewal link feed: old certificate → new certificate, as the platform operator reports
//! it (証明書新旧紐付け情報).
//!
//! A file, or an `https://` URL serving the same bytes, of JSON lines:
//!
//! ```text
//! {"issuer_key_id": "8cd5586a…", "old_serial": "0123456789", "new_serial": "0a1b2c3d4e"}
//! {"issuer_key_id": "8cd5586a…", "old_serial": "1111", "new_serial": "2222", "new_issuer_key_id": "1ac100f5…"}
//! ```
//!
//! - `issuer_key_id`: the issuing root's subject key identifier, hex (what the certificate's
//!   authority key identifier names);
//! - `old_serial`, `new_serial`: the certificates' serial numbers, hex (leading zeros and an
//!   optional `0x` are ignored);
//! - `new_issuer_key_id` (optional): the new certificate's root when a renewal moved to a newer
//!   root generation; defaults to `issuer_key_id`.
//!
//! Blank lines are skipped; any other malformed line fails the whole read with its line number
//! (never its content). Each line is hashed with the pepper at once
//! ([`Pepper::cert_hash`]): the serials are never stored or logged. The feed may be re-read
//! every cycle: recording a link twice does nothing.

use std::{fmt, path::PathBuf};

use honnin_core::{Pepper, RenewalLink, Scope};
use serde::Deserialize;

use crate::{Error, Result};

/// The largest feed accepted over HTTP (a file is read whole as well).
const MAX_FEED_BYTES: usize = 512 * 1024 * 1024;

/// Timeout of the whole HTTP request for a feed at a URL.
pub const FEED_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Where the renewal link feed is read from.
#[derive(Clone, PartialEq, Eq)]
pub enum LinkOrigin {
    /// A file of JSON lines.
    File(PathBuf),
    /// An `https://` URL (or `http://` to a loopback host, for tests and local proxies).
    Url(String),
}

impl LinkOrigin {
    /// `http://` and `https://` strings are URLs (checked: https, or http to loopback only),
    /// everything else a path.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("http://") {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            let host = match host.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or(""),
                None => host.split(':').next().unwrap_or(""),
            };
            let loopback = host == "localhost"
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(Error::InsecureLinkFeed { origin: s.to_owned() });
            }
            Ok(Self::Url(s.to_owned()))
        } else if s.starts_with("https://") {
            Ok(Self::Url(s.to_owned()))
        } else {
            Ok(Self::File(PathBuf::from(s)))
        }
    }
}

impl fmt::Display for LinkOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Url(url) => f.write_str(url),
        }
    }
}

impl fmt::Debug for LinkOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LinkOrigin({self})")
    }
}

/// A renewal link feed: reads its origin and hashes every line with the pepper.
#[derive(Debug, Clone)]
pub struct LinkFeed {
    origin: LinkOrigin,
    client: reqwest::Client,
}

impl LinkFeed {
    /// A feed read from `origin` (over HTTP with a [`FEED_TIMEOUT`] timeout).
    pub fn new(origin: LinkOrigin) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FEED_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { origin, client }
    }

    /// Where it reads from.
    pub fn origin(&self) -> &LinkOrigin {
        &self.origin
    }

    /// Reads the whole feed and hashes it, globally and in each of `scopes` (see
    /// [`parse_links`]). The parsing and hashing run on the blocking pool.
    pub async fn read(
        &self,
        pepper: std::sync::Arc<Pepper>,
        scopes: Vec<Scope>,
    ) -> Result<Vec<RenewalLink>> {
        let origin = self.origin.to_string();
        let failed = |reason: String| Error::LinkFeed { origin: origin.clone(), reason };
        let bytes = match &self.origin {
            LinkOrigin::File(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || std::fs::read(path))
                    .await
                    .map_err(|e| Error::Task(e.to_string()))?
                    .map_err(|e| failed(e.to_string()))?
            }
            LinkOrigin::Url(url) => self.fetch(url).await.map_err(failed)?,
        };
        tokio::task::spawn_blocking(move || parse_links(&bytes, &origin, &pepper, &scopes))
            .await
            .map_err(|e| Error::Task(e.to_string()))?
    }

    async fn fetch(&self, url: &str) -> std::result::Result<Vec<u8>, String> {
        let mut response = self.client.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_FEED_BYTES {
                return Err("response too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// One line as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    issuer_key_id: String,
    old_serial: String,
    new_serial: String,
    #[serde(default)]
    new_issuer_key_id: Option<String>,
}

/// Parses a feed (JSON lines, see the [module docs](self)) and hashes each link with `pepper`:
/// the global link, then one per scope of `scopes` (a person's certificates in a scope are
/// stored under that scope's hashes, so each scope needs its own link). `origin` only names the
/// feed in errors.
pub fn parse_links(
    bytes: &[u8],
    origin: &str,
    pepper: &Pepper,
    scopes: &[Scope],
) -> Result<Vec<RenewalLink>> {
    let malformed = |line: usize, reason: &'static str| Error::MalformedLink {
        origin: origin.to_owned(),
        line,
        reason,
    };
    let mut links = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            continue;
        }
        // serde_json's messages quote the input: map them to a fixed vocabulary instead.
        let parsed: Line = serde_json::from_slice(raw).map_err(|e| {
            malformed(
                line,
                match e.classify() {
                    serde_json::error::Category::Data => {
                        "expected an object with exactly issuer_key_id, old_serial and new_serial (and optionally new_issuer_key_id) as strings"
                    }
                    serde_json::error::Category::Syntax
                    | serde_json::error::Category::Eof
                    | serde_json::error::Category::Io => "not a JSON object",
                },
            )
        })?;
        let issuer = hex_field(&parsed.issuer_key_id)
            .ok_or_else(|| malformed(line, "issuer_key_id is not hex"))?;
        let new_issuer = match &parsed.new_issuer_key_id {
            Some(id) => {
                hex_field(id).ok_or_else(|| malformed(line, "new_issuer_key_id is not hex"))?
            }
            None => issuer.clone(),
        };
        let old = hex_field(&parsed.old_serial)
            .ok_or_else(|| malformed(line, "old_serial is not hex"))?;
        let new = hex_field(&parsed.new_serial)
            .ok_or_else(|| malformed(line, "new_serial is not hex"))?;
        let olds = pepper.cert_hashes(scopes, &issuer, &old);
        let news = pepper.cert_hashes(scopes, &new_issuer, &new);
        if olds[0] == news[0] {
            return Err(malformed(line, "old and new certificate are the same"));
        }
        links.extend(olds.into_iter().zip(news).map(|(old, new)| RenewalLink { old, new }));
    }
    Ok(links)
}

/// Non-empty hex, an optional `0x`, an odd digit count read with a leading zero.
fn hex_field(s: &str) -> Option<Vec<u8>> {
    let digits = s.trim();
    let digits = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")).unwrap_or(digits);
    if digits.is_empty() {
        return None;
    }
    if digits.len() % 2 == 1 {
        hex::decode(format!("0{digits}")).ok()
    } else {
        hex::decode(digits).ok()
    }
}
