//! The settings as given (flags, environment, file), before defaults and validation. Each
//! field's help text is its `--help` line and the README's table row; the defaults it names
//! are the constants the resolution uses.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    path::{Path, PathBuf},
};

use honnin_core::{Address, AtLimit};
use honnin_service::{Secret, config as defaults};
use serde::Deserialize;

use super::{error::ConfigError, page::PageSettings, webhooks::WebhookSettings};

/// The log filter when none is set.
pub(crate) const DEFAULT_LOG_FILTER: &str = "info";

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[default: …]` for a duration in seconds.
fn secs(text: &str, default: std::time::Duration) -> String {
    format!("{text} [default: {}]", default.as_secs())
}

fn limits() -> honnin_api::Limits {
    honnin_api::Limits::default()
}

/// Settings as given (flags, environment, file), before defaults and validation.
#[derive(Debug, Default, Clone, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    /// Development mode: allows `revocation = "none"`, generates a throwaway pepper when none
    /// is set, and defaults domain `localhost`, chain id 31337 and a zero registry address.
    /// Never in production. [default: false]
    #[arg(long, env = "HONNIN_DEV", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) dev: Option<bool>,

    // ---- HTTP ----
    #[arg(long, env = "HONNIN_LISTEN", value_name = "ADDR",
        help = format!("Address and port to listen on. [default: {}]", defaults::DEFAULT_LISTEN))]
    pub(crate) listen: Option<SocketAddr>,
    #[arg(long, env = "HONNIN_BODY_LIMIT_BYTES", value_name = "BYTES",
        help = format!("Largest request body accepted, in bytes. [default: {}]", limits().body_bytes))]
    pub(crate) body_limit_bytes: Option<usize>,
    #[arg(long, env = "HONNIN_REQUEST_TIMEOUT_SECS", value_name = "SECS",
        help = secs("Longest a request may take before it is answered 503 `timeout`, in seconds.", limits().request_timeout))]
    pub(crate) request_timeout_secs: Option<u64>,
    #[arg(long, env = "HONNIN_SHUTDOWN_TIMEOUT_SECS", value_name = "SECS",
        help = secs("How long in-flight requests get to finish after SIGINT/SIGTERM, in seconds.", defaults::DEFAULT_SHUTDOWN_TIMEOUT))]
    pub(crate) shutdown_timeout_secs: Option<u64>,
    #[arg(long, env = "HONNIN_HEADER_READ_TIMEOUT_SECS", value_name = "SECS",
        help = secs("Longest a client may take to send a request's headers (from the connection's start, or from the request's first byte on a kept-alive connection), in seconds; then the connection is closed.", defaults::DEFAULT_HEADER_READ_TIMEOUT))]
    pub(crate) header_read_timeout_secs: Option<u64>,
    #[arg(long, env = "HONNIN_KEEP_ALIVE_TIMEOUT_SECS", value_name = "SECS",
        help = secs("Longest a kept-alive connection may wait idle for its next request, in seconds; then it is closed.", defaults::DEFAULT_KEEP_ALIVE_TIMEOUT))]
    pub(crate) keep_alive_timeout_secs: Option<u64>,
    #[arg(long, env = "HONNIN_MAX_CONNECTIONS", value_name = "N",
        help = format!("Most client connections open at once; at the cap new ones wait in the listen backlog until one closes. [default: {}]", defaults::DEFAULT_MAX_CONNECTIONS))]
    pub(crate) max_connections: Option<usize>,
    /// Card verifications running at once (CPU work on the blocking pool). [default: number of CPUs]
    #[arg(long, env = "HONNIN_VERIFY_CONCURRENCY", value_name = "N")]
    pub(crate) verify_concurrency: Option<usize>,

    // ---- database ----
    #[arg(long, env = "HONNIN_DATABASE_URL", hide_env_values = true, value_name = "URL",
        help = format!("Database URL: `postgres://user:pass@host/db` or `sqlite://path/to/file.db?mode=rwc`. [default: {}]", defaults::DEFAULT_DATABASE_URL))]
    pub(crate) database_url: Option<Secret>,
    #[arg(long, env = "HONNIN_DB_MAX_CONNECTIONS", value_name = "N", help = {
        let options = honnin_store::StoreOptions::default();
        format!("Most connections in the database pool. [default: {} for Postgres, {} for SQLite]",
            options.postgres.max_connections, options.sqlite.max_connections)
    })]
    pub(crate) db_max_connections: Option<u32>,
    #[arg(long, env = "HONNIN_DB_ACQUIRE_TIMEOUT_SECS", value_name = "SECS",
        help = secs("How long a request waits for a free database connection before 503, in seconds.", honnin_store::StoreOptions::default().postgres.acquire_timeout))]
    pub(crate) db_acquire_timeout_secs: Option<u64>,

    // ---- card evidence ----
    /// Trust anchors: a folder of PEM/DER roots or a PEM bundle (the J-LIS user-authentication
    /// roots in production). Required.
    #[arg(long, env = "HONNIN_TRUST_ANCHORS", value_name = "PATH")]
    pub(crate) trust_anchors: Option<PathBuf>,
    /// Revocation source: `crl:<file-or-url>[,<file-or-url>…]` (one CRL per root), `ocsp:<url>`,
    /// or `none` (dev mode only). Required.
    #[arg(long, env = "HONNIN_REVOCATION", value_name = "SOURCE")]
    pub(crate) revocation: Option<String>,
    #[arg(long, env = "HONNIN_REVOCATION_CACHE_SECS", value_name = "SECS",
        help = secs("How long good/revoked answers are cached, in seconds; 0 disables the cache.", defaults::DEFAULT_REVOCATION_CACHE))]
    pub(crate) revocation_cache_secs: Option<u64>,
    /// Accept an `unknown` revocation answer (dev mode only). [default: false]
    #[arg(long, env = "HONNIN_REVOCATION_ALLOW_UNKNOWN", value_name = "BOOL")]
    pub(crate) revocation_allow_unknown: Option<bool>,
    /// Age claims: the J-LIS signature roots (`sign_ca_2015`, `sign_ca_2023`), a folder or PEM
    /// bundle. Unset: age claims are not offered (`claims_not_offered`).
    #[arg(long, env = "HONNIN_SIGNING_TRUST_ANCHORS", value_name = "PATH")]
    pub(crate) signing_trust_anchors: Option<PathBuf>,
    /// Revocation source for signing certificates, as `revocation` (their own CRLs or OCSP
    /// responder). Required with `signing_trust_anchors`.
    #[arg(long, env = "HONNIN_SIGNING_REVOCATION", value_name = "SOURCE")]
    pub(crate) signing_revocation: Option<String>,

    // ---- privacy and policy ----
    /// The pepper: at least 32 bytes as hex (`openssl rand -hex 32`). Keyed hashes of
    /// certificates and persons depend on it: keep it secret and never change it. Required
    /// outside dev mode.
    #[arg(long, env = "HONNIN_PEPPER", hide_env_values = true, value_name = "HEX")]
    pub(crate) pepper: Option<Secret>,
    #[arg(long, env = "HONNIN_WALLETS_PER_PERSON", value_name = "N",
        help = format!("Live attestations one person may hold. [default: {}]", honnin_core::Policy::default().max_active_wallets))]
    pub(crate) wallets_per_person: Option<NonZeroU32>,
    #[arg(long, env = "HONNIN_AT_LIMIT", value_name = "refuse|rotate",
        help = format!("At that limit: `refuse` (409 wallet_limit_reached) or `rotate` (revoke the oldest). [default: {}]", AtLimit::default().as_str()))]
    pub(crate) at_limit: Option<AtLimit>,
    #[arg(long, env = "HONNIN_ATTESTATION_MAX_AGE_DAYS", value_name = "DAYS",
        help = format!("Longest an attestation lives, in days (never past the certificate's notAfter). [default: {}]", honnin_core::Policy::DEFAULT_MAX_AGE.whole_days()))]
    pub(crate) attestation_max_age_days: Option<u32>,

    // ---- challenges ----
    /// The service's domain, first word of every challenge message (host name, optional port).
    /// Required outside dev mode.
    #[arg(long, env = "HONNIN_DOMAIN", value_name = "HOST")]
    pub(crate) domain: Option<String>,
    #[arg(long, env = "HONNIN_CHALLENGE_LIFETIME_SECS", value_name = "SECS", help = format!(
        "How long a challenge stays usable, in seconds ({} to {}). [default: {}]",
        honnin_core::ChallengeSettings::MIN_LIFETIME.whole_seconds(),
        honnin_core::ChallengeSettings::MAX_LIFETIME.whole_seconds(),
        honnin_core::ChallengeSettings::DEFAULT_LIFETIME.whole_seconds()))]
    pub(crate) challenge_lifetime_secs: Option<u64>,

    // ---- chain ----
    /// Chain id of the registry's chain (in every message). Required outside dev mode.
    #[arg(long, env = "HONNIN_CHAIN_ID", value_name = "ID")]
    pub(crate) chain_id: Option<u64>,
    /// Address of the KycRegistry contract. Required outside dev mode.
    #[arg(long, env = "HONNIN_REGISTRY", value_name = "ADDRESS")]
    pub(crate) registry: Option<Address>,
    /// JSON-RPC URL of the chain (ERC-1271 checks of contract wallets; the chain writer).
    #[arg(long, env = "HONNIN_RPC_URL", value_name = "URL")]
    pub(crate) rpc_url: Option<String>,
    /// The attester's private key (hex), holder of the registry's attester role; used by the
    /// chain writer.
    #[arg(long, env = "HONNIN_ATTESTER_KEY", hide_env_values = true, value_name = "HEX")]
    pub(crate) attester_key: Option<Secret>,
    // ---- operator access and abuse ----
    /// Admin bearer tokens for `/v1/admin/*`, as `id:sha256hex` (the SHA-256 of the token, never
    /// the token; `printf %s "$token" | sha256sum`), comma-separated. [default: none: admin
    /// endpoints answer 401]
    #[arg(long, env = "HONNIN_ADMIN_TOKENS", value_delimiter = ',', value_name = "ID:SHA256")]
    pub(crate) admin_tokens: Option<Vec<String>>,
    /// dApp API keys (sent in `x-api-key`), as `id:sha256hex[:per_minute[/burst]]`,
    /// comma-separated; a key without a rate gets `api_key_rate_limit`. [default: none]
    #[arg(long, env = "HONNIN_API_KEYS", value_delimiter = ',', value_name = "ID:SHA256[:RATE]")]
    pub(crate) api_keys: Option<Vec<String>>,
    #[arg(long, env = "HONNIN_RATE_LIMIT", value_name = "RATE|off", help = {
        let rate = honnin_api::RateLimits::default().anonymous;
        format!("Each anonymous client's rate limit on the public endpoints, `per_minute[/burst]` (burst defaults to a sixth of the rate), or `off`. [default: {}/{}]", rate.per_minute, rate.burst)
    })]
    pub(crate) rate_limit: Option<String>,
    #[arg(long, env = "HONNIN_API_KEY_RATE_LIMIT", value_name = "RATE", help = {
        let rate = honnin_api::RateLimits::default().api_key;
        format!("Each API key's rate limit unless the key sets its own, `per_minute[/burst]`. [default: {}/{}]", rate.per_minute, rate.burst)
    })]
    pub(crate) api_key_rate_limit: Option<String>,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed (for rate limits and
    /// the audit log's client address), comma-separated. [default: none]
    #[arg(long, env = "HONNIN_TRUSTED_PROXIES", value_delimiter = ',', value_name = "IP")]
    pub(crate) trusted_proxies: Option<Vec<IpAddr>>,

    // ---- revocation sync, renewal, expiry ----
    /// The renewal link feed: a file or an `https://` URL of JSON lines
    /// `{"issuer_key_id": hex, "old_serial": hex, "new_serial": hex}`. [default: none: a
    /// superseded certificate's attestation is revoked]
    #[arg(long, env = "HONNIN_RENEWAL_LINKS", value_name = "FILE|URL")]
    pub(crate) renewal_links: Option<String>,
    #[arg(long, env = "HONNIN_REVOCATION_SYNC_SECS", value_name = "SECS",
        help = secs("How often the revocation sync runs (renewal links, CRLs), in seconds.", defaults::DEFAULT_SYNC_INTERVAL))]
    pub(crate) revocation_sync_secs: Option<u64>,
    #[arg(long, env = "HONNIN_REVOCATION_RECHECK_SECS", value_name = "SECS",
        help = secs("How often certificates with live attestations are re-checked with the OCSP responder (`revocation = \"ocsp:…\"` only), in seconds.", defaults::DEFAULT_RECHECK_INTERVAL))]
    pub(crate) revocation_recheck_secs: Option<u64>,

    // ---- chain writer ----
    /// Most records in one chain writer transaction. [default: 200]
    #[arg(long, env = "HONNIN_WRITER_BATCH_SIZE", value_name = "N")]
    pub(crate) writer_batch_size: Option<u32>,
    /// How long the chain writer keeps filling a batch that is not full, in milliseconds.
    /// [default: 100]
    #[arg(long, env = "HONNIN_WRITER_LINGER_MS", value_name = "MS")]
    pub(crate) writer_linger_ms: Option<u64>,
    /// Blocks a transaction must have (its own included) before its records count as
    /// confirmed. [default: 1]
    #[arg(long, env = "HONNIN_WRITER_CONFIRMATIONS", value_name = "N")]
    pub(crate) writer_confirmations: Option<u64>,

    // ---- logs ----
    #[arg(long, env = "HONNIN_LOG", value_name = "FILTER",
        help = format!("Log filter (tracing `EnvFilter` syntax, e.g. `info,honnin_api=debug`). [default: {DEFAULT_LOG_FILTER}]"))]
    pub(crate) log: Option<String>,
    /// Log format: `text` or `json`. [default: text]
    #[arg(long, env = "HONNIN_LOG_FORMAT", value_name = "text|json")]
    pub(crate) log_format: Option<LogFormat>,

    // ---- scopes ----
    /// Scopes (dApps whose records are kept apart, by name: `a-z 0-9`, then `a-z 0-9 . -`, at
    /// most 64) registered at start-up, besides those registered with `POST /v1/admin/scopes`;
    /// a scope is never removed. In the file: `scopes = ["kyc-drop"]`. [default: none]
    #[arg(long = "scope", env = "HONNIN_SCOPES", value_delimiter = ',', value_name = "NAME")]
    pub(crate) scopes: Option<Vec<String>>,

    // ---- webhooks ----
    /// The `[webhooks]` table.
    #[command(flatten)]
    #[serde(default)]
    pub(crate) webhooks: WebhookSettings,

    // ---- the page ----
    /// The `[page]` table.
    #[command(flatten)]
    #[serde(default)]
    pub(crate) page: PageSettings,
}

macro_rules! merge {
    ($high:expr, $low:expr; $($field:ident),* $(,)?) => {
        Settings { $($field: $high.$field.or($low.$field)),*, webhooks: $high.webhooks.or($low.webhooks), page: $high.page.or($low.page) }
    };
}

impl Settings {
    /// These settings, with gaps filled from `file`.
    pub(crate) fn or(self, file: Self) -> Self {
        merge!(self, file;
            dev, listen, body_limit_bytes, request_timeout_secs, shutdown_timeout_secs,
            header_read_timeout_secs, keep_alive_timeout_secs, max_connections,
            verify_concurrency, database_url, db_max_connections, db_acquire_timeout_secs,
            trust_anchors, revocation, revocation_cache_secs, revocation_allow_unknown,
            signing_trust_anchors, signing_revocation, pepper,
            wallets_per_person, at_limit, attestation_max_age_days, domain,
            challenge_lifetime_secs, chain_id, registry, rpc_url, attester_key, admin_tokens,
            api_keys, rate_limit, api_key_rate_limit, trusted_proxies, renewal_links,
            revocation_sync_secs, revocation_recheck_secs, writer_batch_size, writer_linger_ms,
            writer_confirmations, log, log_format, scopes,
        )
    }

    /// Reads a TOML file of settings (keys as the field names).
    pub(crate) fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::File {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        toml::from_str(&text)
            .map_err(|error| ConfigError::File { path: path.to_owned(), reason: error.to_string() })
    }

    /// Flags and environment (`self`) over the file at `config`, if any.
    pub(crate) fn with_file(self, config: Option<&Path>) -> Result<Self, ConfigError> {
        match config {
            Some(path) => Ok(self.or(Self::from_file(path)?)),
            None => Ok(self),
        }
    }
}
