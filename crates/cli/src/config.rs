//! Typed configuration for `honnin serve` and `honnin migrate`.
//!
//! Every setting comes from, in order of precedence: a command-line flag, a `HONNIN_*`
//! environment variable, the TOML file named by `--config` / `HONNIN_CONFIG` (keys are the
//! field names below, e.g. `trust_anchors = "/etc/honnin/roots"`), then the default. Each field's
//! doc comment is its `--help` text and the README's table row. Missing or invalid settings fail
//! start-up with a message naming the setting, its variable and its flag.
//!
//! Secrets (`pepper`, `attester_key`, `database_url`, which may hold a password) are never
//! printed: their `Debug` is redacted and clap hides their environment values.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use honnin_core::{Address, AtLimit};
use serde::Deserialize;

/// The default database: SQLite in `./honnin-data`, created when missing.
pub(crate) const DEFAULT_DATABASE_URL: &str = "sqlite://./honnin-data/honnin.db?mode=rwc";

/// A secret setting: never shown in `Debug` output or logs.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
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
    /// Address and port to listen on. [default: 127.0.0.1:8080]
    #[arg(long, env = "HONNIN_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,
    /// Largest request body accepted, in bytes. [default: 65536]
    #[arg(long, env = "HONNIN_BODY_LIMIT_BYTES", value_name = "BYTES")]
    pub(crate) body_limit_bytes: Option<usize>,
    /// Longest a request may take before it is answered 503 `timeout`, in seconds. [default: 10]
    #[arg(long, env = "HONNIN_REQUEST_TIMEOUT_SECS", value_name = "SECS")]
    pub(crate) request_timeout_secs: Option<u64>,
    /// How long in-flight requests get to finish after SIGINT/SIGTERM, in seconds. [default: 30]
    #[arg(long, env = "HONNIN_SHUTDOWN_TIMEOUT_SECS", value_name = "SECS")]
    pub(crate) shutdown_timeout_secs: Option<u64>,
    /// Card verifications running at once (CPU work on the blocking pool). [default: number of CPUs]
    #[arg(long, env = "HONNIN_VERIFY_CONCURRENCY", value_name = "N")]
    pub(crate) verify_concurrency: Option<usize>,

    // ---- database ----
    /// Database URL: `postgres://user:pass@host/db` or `sqlite://path/to/file.db?mode=rwc`.
    /// [default: sqlite://./honnin-data/honnin.db?mode=rwc]
    #[arg(long, env = "HONNIN_DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub(crate) database_url: Option<Secret>,
    /// Most connections in the database pool. [default: 16 for Postgres, 8 for SQLite]
    #[arg(long, env = "HONNIN_DB_MAX_CONNECTIONS", value_name = "N")]
    pub(crate) db_max_connections: Option<u32>,
    /// How long a request waits for a free database connection before 503, in seconds. [default: 5]
    #[arg(long, env = "HONNIN_DB_ACQUIRE_TIMEOUT_SECS", value_name = "SECS")]
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
    /// How long good/revoked answers are cached, in seconds; 0 disables the cache. [default: 300]
    #[arg(long, env = "HONNIN_REVOCATION_CACHE_SECS", value_name = "SECS")]
    pub(crate) revocation_cache_secs: Option<u64>,
    /// Accept an `unknown` revocation answer (dev mode only). [default: false]
    #[arg(long, env = "HONNIN_REVOCATION_ALLOW_UNKNOWN", value_name = "BOOL")]
    pub(crate) revocation_allow_unknown: Option<bool>,

    // ---- privacy and policy ----
    /// The pepper: at least 32 bytes as hex (`openssl rand -hex 32`). Keyed hashes of
    /// certificates and persons depend on it: keep it secret and never change it. Required
    /// outside dev mode.
    #[arg(long, env = "HONNIN_PEPPER", hide_env_values = true, value_name = "HEX")]
    pub(crate) pepper: Option<Secret>,
    /// Live attestations one person may hold. [default: 1]
    #[arg(long, env = "HONNIN_WALLETS_PER_PERSON", value_name = "N")]
    pub(crate) wallets_per_person: Option<NonZeroU32>,
    /// At that limit: `refuse` (409 wallet_limit_reached) or `rotate` (revoke the oldest). [default: refuse]
    #[arg(long, env = "HONNIN_AT_LIMIT", value_name = "refuse|rotate")]
    pub(crate) at_limit: Option<AtLimit>,
    /// Longest an attestation lives, in days (never past the certificate's notAfter). [default: 365]
    #[arg(long, env = "HONNIN_ATTESTATION_MAX_AGE_DAYS", value_name = "DAYS")]
    pub(crate) attestation_max_age_days: Option<u32>,

    // ---- challenges ----
    /// The service's domain, first word of every challenge message (host name, optional port).
    /// Required outside dev mode.
    #[arg(long, env = "HONNIN_DOMAIN", value_name = "HOST")]
    pub(crate) domain: Option<String>,
    /// How long a challenge stays usable, in seconds (30 to 86400). [default: 600]
    #[arg(long, env = "HONNIN_CHALLENGE_LIFETIME_SECS", value_name = "SECS")]
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
    /// Each anonymous client's rate limit on the public endpoints, `per_minute[/burst]` (burst
    /// defaults to a sixth of the rate), or `off`. [default: 600/100]
    #[arg(long, env = "HONNIN_RATE_LIMIT", value_name = "RATE|off")]
    pub(crate) rate_limit: Option<String>,
    /// Each API key's rate limit unless the key sets its own, `per_minute[/burst]`.
    /// [default: 6000/1000]
    #[arg(long, env = "HONNIN_API_KEY_RATE_LIMIT", value_name = "RATE")]
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
    /// How often the revocation sync runs (renewal links, CRLs), in seconds. [default: 900]
    #[arg(long, env = "HONNIN_REVOCATION_SYNC_SECS", value_name = "SECS")]
    pub(crate) revocation_sync_secs: Option<u64>,
    /// How often certificates with live attestations are re-checked with the OCSP responder
    /// (`revocation = "ocsp:…"` only), in seconds. [default: 86400]
    #[arg(long, env = "HONNIN_REVOCATION_RECHECK_SECS", value_name = "SECS")]
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
    /// Log filter (tracing `EnvFilter` syntax, e.g. `info,honnin_api=debug`). [default: info]
    #[arg(long, env = "HONNIN_LOG", value_name = "FILTER")]
    pub(crate) log: Option<String>,
    /// Log format: `text` or `json`. [default: text]
    #[arg(long, env = "HONNIN_LOG_FORMAT", value_name = "text|json")]
    pub(crate) log_format: Option<LogFormat>,
}

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

macro_rules! merge {
    ($high:expr, $low:expr; $($field:ident),* $(,)?) => {
        Settings { $($field: $high.$field.or($low.$field)),* }
    };
}

impl Settings {
    /// These settings, with gaps filled from `file`.
    pub(crate) fn or(self, file: Self) -> Self {
        merge!(self, file;
            dev, listen, body_limit_bytes, request_timeout_secs, shutdown_timeout_secs,
            verify_concurrency, database_url, db_max_connections, db_acquire_timeout_secs,
            trust_anchors, revocation, revocation_cache_secs, revocation_allow_unknown, pepper,
            wallets_per_person, at_limit, attestation_max_age_days, domain,
            challenge_lifetime_secs, chain_id, registry, rpc_url, attester_key, admin_tokens,
            api_keys, rate_limit, api_key_rate_limit, trusted_proxies, renewal_links,
            revocation_sync_secs, revocation_recheck_secs, writer_batch_size, writer_linger_ms,
            writer_confirmations, log, log_format,
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

/// Why the configuration is unusable. Each names the setting.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// A required setting is missing.
    #[error("missing setting `{key}`: set {env}, --{flag}, or `{key}` in the --config file")]
    Missing {
        /// The field / TOML key.
        key: &'static str,
        /// The environment variable.
        env: &'static str,
        /// The flag.
        flag: &'static str,
    },
    /// A setting has an unusable value.
    #[error("invalid setting `{key}`: {reason}")]
    Invalid {
        /// The field / TOML key.
        key: &'static str,
        /// What is wrong (never the value of a secret).
        reason: String,
    },
    /// The config file cannot be read or parsed.
    #[error("cannot read config file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

fn missing(key: &'static str, env: &'static str, flag: &'static str) -> ConfigError {
    ConfigError::Missing { key, env, flag }
}

fn invalid(key: &'static str, reason: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.to_string() }
}

/// The database settings (`honnin migrate` needs only these).
#[derive(Debug, Clone)]
pub(crate) struct DatabaseConfig {
    pub(crate) url: Secret,
    pub(crate) options: honnin_store::StoreOptions,
}

/// Where revocation status comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RevocationConfig {
    /// CRLs from files or URLs.
    Crl(Vec<String>),
    /// An OCSP responder.
    Ocsp(String),
    /// No revocation checking (dev mode only).
    None,
}

impl FromStr for RevocationConfig {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "none" {
            return Ok(Self::None);
        }
        if let Some(list) = s.strip_prefix("crl:") {
            let origins: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect();
            if origins.is_empty() {
                return Err("`crl:` needs at least one file or URL".into());
            }
            return Ok(Self::Crl(origins));
        }
        if let Some(url) = s.strip_prefix("ocsp:") {
            let url = url.trim();
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return Err("`ocsp:` needs an http:// or https:// URL".into());
            }
            return Ok(Self::Ocsp(url.to_owned()));
        }
        Err("expected `crl:<file-or-url>[,…]`, `ocsp:<url>` or `none`".into())
    }
}

/// The chain settings.
#[derive(Debug, Clone)]
pub(crate) struct ChainConfig {
    pub(crate) chain_id: u64,
    pub(crate) registry: Address,
    pub(crate) rpc_url: Option<String>,
    pub(crate) attester_key: Option<Secret>,
    pub(crate) writer: WriterTuning,
}

/// Chain writer tuning; `None` keeps `WriterConfig::new`'s default.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriterTuning {
    pub(crate) max_batch: Option<u32>,
    pub(crate) linger: Option<Duration>,
    pub(crate) confirmations: Option<u64>,
}

/// Admin tokens, API keys and rate limits, validated.
#[derive(Debug, Clone)]
pub(crate) struct AccessConfig {
    pub(crate) auth: honnin_api::Auth,
    pub(crate) rate_limits: honnin_api::RateLimits,
}

/// `per_minute[/burst]`; burst defaults to a sixth of the rate (ten seconds' worth), at least 1.
fn parse_rate(key: &'static str, text: &str) -> Result<honnin_api::Rate, ConfigError> {
    let (per_minute, burst) = match text.trim().split_once('/') {
        Some((rate, burst)) => (rate, Some(burst)),
        None => (text.trim(), None),
    };
    let number = |n: &str| {
        n.trim().parse::<u32>().ok().filter(|&n| n >= 1).ok_or_else(|| {
            invalid(key, "expected `per_minute[/burst]`, both whole numbers of at least 1")
        })
    };
    let per_minute = number(per_minute)?;
    let burst = match burst {
        Some(burst) => number(burst)?,
        None => (per_minute / 6).max(1),
    };
    Ok(honnin_api::Rate { per_minute, burst })
}

/// `id:sha256hex`, the first two fields of an admin token or API key setting.
fn parse_credential(
    key: &'static str,
    text: &str,
) -> Result<(String, honnin_api::TokenDigest, Option<String>), ConfigError> {
    let mut parts = text.trim().splitn(3, ':');
    let id = parts.next().unwrap_or("").trim();
    let digest = parts.next().ok_or_else(|| {
        invalid(
            key,
            format_args!(
                "`{id}`: expected `id:sha256hex` (the SHA-256 of the token, never the token)"
            ),
        )
    })?;
    let digest = digest.parse().map_err(|error| invalid(key, format_args!("`{id}`: {error}")))?;
    Ok((id.to_owned(), digest, parts.next().map(str::to_owned)))
}

impl AccessConfig {
    pub(crate) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let mut auth = honnin_api::Auth::default();
        for entry in s.admin_tokens.iter().flatten().filter(|e| !e.trim().is_empty()) {
            let (id, sha256, rest) = parse_credential("admin_tokens", entry)?;
            if rest.is_some() {
                return Err(invalid(
                    "admin_tokens",
                    format_args!("`{id}`: expected `id:sha256hex`"),
                ));
            }
            auth.admin_tokens.push(honnin_api::AdminToken { id, sha256 });
        }
        for entry in s.api_keys.iter().flatten().filter(|e| !e.trim().is_empty()) {
            let (id, sha256, rate) = parse_credential("api_keys", entry)?;
            let rate = rate.map(|rate| parse_rate("api_keys", &rate)).transpose()?;
            auth.api_keys.push(honnin_api::ApiKey { id, sha256, rate });
        }
        // Admin tokens alone first, so the error names the setting at fault.
        honnin_api::Auth { admin_tokens: auth.admin_tokens.clone(), api_keys: Vec::new() }
            .validate()
            .map_err(|error| invalid("admin_tokens", error))?;
        auth.validate().map_err(|error| invalid("api_keys", error))?;

        let mut rate_limits = honnin_api::RateLimits::default();
        match s.rate_limit.as_deref().map(str::trim) {
            Some("off") => rate_limits.enabled = false,
            Some(rate) => rate_limits.anonymous = parse_rate("rate_limit", rate)?,
            None => {}
        }
        if let Some(rate) = &s.api_key_rate_limit {
            rate_limits.api_key = parse_rate("api_key_rate_limit", rate)?;
        }
        rate_limits.trusted_proxies = s.trusted_proxies.clone().unwrap_or_default();
        Ok(Self { auth, rate_limits })
    }
}

/// The life-cycle jobs' settings.
#[derive(Debug, Clone)]
pub(crate) struct LifecycleConfig {
    pub(crate) renewal_links: Option<honnin_lifecycle::LinkOrigin>,
    pub(crate) sync_interval: Duration,
    pub(crate) recheck_interval: Duration,
}

impl LifecycleConfig {
    pub(crate) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let renewal_links = s
            .renewal_links
            .as_deref()
            .filter(|l| !l.trim().is_empty())
            .map(honnin_lifecycle::LinkOrigin::parse)
            .transpose()
            .map_err(|error| invalid("renewal_links", error))?;
        let secs = |key: &'static str, value: Option<u64>, default: u64| match value {
            Some(0) => Err(invalid(key, "must be at least 1")),
            value => Ok(Duration::from_secs(value.unwrap_or(default))),
        };
        Ok(Self {
            renewal_links,
            sync_interval: secs("revocation_sync_secs", s.revocation_sync_secs, 900)?,
            recheck_interval: secs("revocation_recheck_secs", s.revocation_recheck_secs, 86_400)?,
        })
    }
}

/// What `honnin revocation sync` needs: the database, the trust anchors, the revocation source,
/// the pepper (never a throwaway one: it would match nothing) and the link feed.
#[derive(Debug)]
pub(crate) struct SyncConfig {
    pub(crate) database: DatabaseConfig,
    pub(crate) trust_anchors: PathBuf,
    pub(crate) revocation: RevocationConfig,
    pub(crate) pepper: honnin_core::Pepper,
    pub(crate) lifecycle: LifecycleConfig,
    pub(crate) log: LogConfig,
}

impl SyncConfig {
    pub(crate) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let database = DatabaseConfig::from_settings(s)?;
        let trust_anchors = s
            .trust_anchors
            .clone()
            .ok_or_else(|| missing("trust_anchors", "HONNIN_TRUST_ANCHORS", "trust-anchors"))?;
        let revocation: RevocationConfig = s
            .revocation
            .as_deref()
            .ok_or_else(|| missing("revocation", "HONNIN_REVOCATION", "revocation"))?
            .parse()
            .map_err(|reason| invalid("revocation", reason))?;
        let pepper =
            s.pepper.as_ref().ok_or_else(|| missing("pepper", "HONNIN_PEPPER", "pepper"))?;
        let pepper = honnin_core::Pepper::from_hex(pepper.expose())
            .map_err(|error| invalid("pepper", error))?;
        Ok(Self {
            database,
            trust_anchors,
            revocation,
            pepper,
            lifecycle: LifecycleConfig::from_settings(s)?,
            log: LogConfig::from_settings(s),
        })
    }
}

/// `honnin serve`'s configuration, validated, with defaults applied.
#[derive(Debug)]
pub(crate) struct ServeConfig {
    pub(crate) dev: bool,
    pub(crate) listen: SocketAddr,
    pub(crate) limits: honnin_api::Limits,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) database: DatabaseConfig,
    pub(crate) trust_anchors: PathBuf,
    pub(crate) revocation: RevocationConfig,
    pub(crate) revocation_cache: Duration,
    pub(crate) revocation_allow_unknown: bool,
    /// `None` in dev mode without a configured pepper: a throwaway one is generated.
    pub(crate) pepper: Option<honnin_core::Pepper>,
    pub(crate) policy: honnin_core::Policy,
    pub(crate) challenges: honnin_core::ChallengeSettings,
    pub(crate) chain: ChainConfig,
    pub(crate) access: AccessConfig,
    pub(crate) lifecycle: LifecycleConfig,
    pub(crate) log: LogConfig,
}

/// Logging settings (resolved first: tracing starts right after the configuration).
#[derive(Debug, Clone)]
pub(crate) struct LogConfig {
    pub(crate) filter: String,
    pub(crate) format: LogFormat,
}

impl LogConfig {
    pub(crate) fn from_settings(s: &Settings) -> Self {
        Self {
            filter: s.log.clone().unwrap_or_else(|| "info".to_owned()),
            format: s.log_format.unwrap_or_default(),
        }
    }
}

impl DatabaseConfig {
    pub(crate) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let url = s.database_url.clone().unwrap_or_else(|| Secret(DEFAULT_DATABASE_URL.to_owned()));
        honnin_store::Backend::of_url(url.expose())
            .map_err(|error| invalid("database_url", error))?;
        let mut options = honnin_store::StoreOptions::default();
        if let Some(n) = s.db_max_connections {
            if n == 0 {
                return Err(invalid("db_max_connections", "must be at least 1"));
            }
            options.postgres.max_connections = n;
            options.sqlite.max_connections = n;
        }
        if let Some(secs) = s.db_acquire_timeout_secs {
            options.postgres.acquire_timeout = Duration::from_secs(secs);
            options.sqlite.acquire_timeout = Duration::from_secs(secs);
        }
        Ok(Self { url, options })
    }

    /// For a SQLite file URL, the folder the file lives in (created before connecting).
    pub(crate) fn sqlite_dir(&self) -> Option<PathBuf> {
        let rest = self.url.expose().strip_prefix("sqlite:")?;
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or("");
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf)
    }
}

impl ServeConfig {
    /// Applies defaults and validates; the first problem names its setting.
    pub(crate) fn from_settings(s: Settings) -> Result<Self, ConfigError> {
        let dev = s.dev.unwrap_or(false);
        let database = DatabaseConfig::from_settings(&s)?;

        let mut limits = honnin_api::Limits::default();
        if let Some(bytes) = s.body_limit_bytes {
            if bytes < 1024 {
                return Err(invalid("body_limit_bytes", "must be at least 1024"));
            }
            limits.body_bytes = bytes;
        }
        if let Some(secs) = s.request_timeout_secs {
            if secs == 0 {
                return Err(invalid("request_timeout_secs", "must be at least 1"));
            }
            limits.request_timeout = Duration::from_secs(secs);
        }
        if let Some(n) = s.verify_concurrency {
            if n == 0 {
                return Err(invalid("verify_concurrency", "must be at least 1"));
            }
            limits.verify_concurrency = n;
        }

        let trust_anchors = s
            .trust_anchors
            .clone()
            .ok_or_else(|| missing("trust_anchors", "HONNIN_TRUST_ANCHORS", "trust-anchors"))?;
        let revocation: RevocationConfig = s
            .revocation
            .as_deref()
            .ok_or_else(|| missing("revocation", "HONNIN_REVOCATION", "revocation"))?
            .parse()
            .map_err(|reason| invalid("revocation", reason))?;
        if revocation == RevocationConfig::None && !dev {
            return Err(invalid("revocation", "`none` is allowed only in dev mode (HONNIN_DEV)"));
        }
        let revocation_allow_unknown = s.revocation_allow_unknown.unwrap_or(false);
        if revocation_allow_unknown && !dev {
            return Err(invalid(
                "revocation_allow_unknown",
                "allowed only in dev mode (HONNIN_DEV)",
            ));
        }

        let pepper = match &s.pepper {
            Some(hex) => Some(
                honnin_core::Pepper::from_hex(hex.expose())
                    .map_err(|error| invalid("pepper", error))?,
            ),
            None if dev => None,
            None => return Err(missing("pepper", "HONNIN_PEPPER", "pepper")),
        };

        let max_age_days = s.attestation_max_age_days.unwrap_or(365);
        let policy = honnin_core::Policy::new(
            s.wallets_per_person.unwrap_or(NonZeroU32::MIN),
            s.at_limit.unwrap_or_default(),
            time::Duration::days(i64::from(max_age_days)),
        )
        .map_err(|error| invalid("attestation_max_age_days", error))?;

        let domain = match (&s.domain, dev) {
            (Some(domain), _) => domain.clone(),
            (None, true) => "localhost".to_owned(),
            (None, false) => return Err(missing("domain", "HONNIN_DOMAIN", "domain")),
        };
        let domain =
            honnin_core::ServiceDomain::new(domain).map_err(|error| invalid("domain", error))?;
        let chain_id = match (s.chain_id, dev) {
            (Some(id), _) => id,
            (None, true) => 31337,
            (None, false) => return Err(missing("chain_id", "HONNIN_CHAIN_ID", "chain-id")),
        };
        let registry = match (s.registry, dev) {
            (Some(address), _) => address,
            (None, true) => Address::ZERO,
            (None, false) => return Err(missing("registry", "HONNIN_REGISTRY", "registry")),
        };
        let lifetime = time::Duration::seconds(
            i64::try_from(s.challenge_lifetime_secs.unwrap_or(600))
                .map_err(|error| invalid("challenge_lifetime_secs", error))?,
        );
        let challenges = honnin_core::ChallengeSettings::new(domain, chain_id, registry)
            .with_lifetime(lifetime)
            .map_err(|error| invalid("challenge_lifetime_secs", error))?;
        if let Some(key) = &s.attester_key {
            let digits = key.expose().trim().trim_start_matches("0x");
            if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid("attester_key", "must be 32 bytes of hex"));
            }
        }

        Ok(Self {
            dev,
            listen: s.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            limits,
            shutdown_timeout: Duration::from_secs(s.shutdown_timeout_secs.unwrap_or(30)),
            database,
            trust_anchors,
            revocation,
            revocation_cache: Duration::from_secs(s.revocation_cache_secs.unwrap_or(300)),
            revocation_allow_unknown,
            pepper,
            policy,
            challenges,
            chain: ChainConfig {
                chain_id,
                registry,
                rpc_url: s.rpc_url.clone(),
                attester_key: s.attester_key.clone(),
                writer: WriterTuning {
                    max_batch: match s.writer_batch_size {
                        Some(0) => return Err(invalid("writer_batch_size", "must be at least 1")),
                        n => n,
                    },
                    linger: s.writer_linger_ms.map(Duration::from_millis),
                    confirmations: match s.writer_confirmations {
                        Some(0) => {
                            return Err(invalid("writer_confirmations", "must be at least 1"));
                        }
                        n => n,
                    },
                },
            },
            access: AccessConfig::from_settings(&s)?,
            lifecycle: LifecycleConfig::from_settings(&s)?,
            log: LogConfig::from_settings(&s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> Settings {
        Settings {
            trust_anchors: Some("/etc/honnin/roots".into()),
            revocation: Some("crl:/var/lib/honnin/auth.crl".into()),
            pepper: Some(Secret("11".repeat(32))),
            domain: Some("kyc.example.jp".into()),
            chain_id: Some(1),
            registry: Some(Address::repeat_byte(1)),
            ..Settings::default()
        }
    }

    #[test]
    fn production_settings_resolve_with_defaults() {
        let config = ServeConfig::from_settings(production()).unwrap();
        assert!(!config.dev);
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.database.url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(config.database.sqlite_dir(), Some(PathBuf::from("./honnin-data")));
        assert_eq!(
            config.revocation,
            RevocationConfig::Crl(vec!["/var/lib/honnin/auth.crl".into()])
        );
        assert_eq!(config.challenges.lifetime(), time::Duration::minutes(10));
        assert_eq!(config.policy, honnin_core::Policy::default());
        assert_eq!(config.limits.body_bytes, 64 * 1024);
    }

    #[test]
    fn each_missing_required_setting_is_named() {
        for (key, clear) in [
            ("trust_anchors", (|s: &mut Settings| s.trust_anchors = None) as fn(&mut Settings)),
            ("revocation", |s| s.revocation = None),
            ("pepper", |s| s.pepper = None),
            ("domain", |s| s.domain = None),
            ("chain_id", |s| s.chain_id = None),
            ("registry", |s| s.registry = None),
        ] {
            let mut settings = production();
            clear(&mut settings);
            let error = ServeConfig::from_settings(settings).unwrap_err();
            assert!(matches!(error, ConfigError::Missing { key: k, .. } if k == key), "{error}");
            assert!(error.to_string().contains(&format!("`{key}`")), "{error}");
        }
    }

    #[test]
    fn dev_only_settings_are_refused_outside_dev() {
        let settings = Settings { revocation: Some("none".into()), ..production() };
        let error = ServeConfig::from_settings(settings.clone()).unwrap_err();
        assert!(error.to_string().contains("dev mode"), "{error}");
        let config = ServeConfig::from_settings(Settings { dev: Some(true), ..settings }).unwrap();
        assert_eq!(config.revocation, RevocationConfig::None);

        let dev = Settings {
            dev: Some(true),
            trust_anchors: Some("roots".into()),
            revocation: Some("none".into()),
            ..Settings::default()
        };
        let config = ServeConfig::from_settings(dev).unwrap();
        assert!(config.pepper.is_none());
        assert_eq!(config.chain.chain_id, 31337);
    }

    #[test]
    fn invalid_values_are_named_without_echoing_secrets() {
        let settings = Settings { pepper: Some(Secret("abcd".into())), ..production() };
        let error = ServeConfig::from_settings(settings).unwrap_err().to_string();
        assert!(error.contains("`pepper`") && !error.contains("abcd"), "{error}");
        let settings = Settings { revocation: Some("ldap://x".into()), ..production() };
        assert!(
            ServeConfig::from_settings(settings).unwrap_err().to_string().contains("`revocation`")
        );
        let settings = Settings { challenge_lifetime_secs: Some(5), ..production() };
        assert!(
            ServeConfig::from_settings(settings)
                .unwrap_err()
                .to_string()
                .contains("`challenge_lifetime_secs`")
        );
        assert_eq!(format!("{:?}", Secret("s3cret".into())), "<redacted>");
    }

    #[test]
    fn access_settings_resolve_and_name_the_bad_one() {
        let digest = "ab".repeat(32);
        let settings = Settings {
            admin_tokens: Some(vec![format!("ops:{digest}")]),
            api_keys: Some(vec![format!("shop:{digest}:1200/200"), format!("app:{digest}")]),
            rate_limit: Some("60".into()),
            trusted_proxies: Some(vec!["10.0.0.1".parse().unwrap()]),
            ..production()
        };
        let config = ServeConfig::from_settings(settings).unwrap();
        let auth = &config.access.auth;
        assert_eq!(auth.admin_tokens.len(), 1);
        assert_eq!(auth.admin_tokens[0].id, "ops");
        assert_eq!(auth.api_keys[0].rate, Some(honnin_api::Rate { per_minute: 1200, burst: 200 }));
        assert_eq!(auth.api_keys[1].rate, None);
        let limits = &config.access.rate_limits;
        assert!(limits.enabled);
        assert_eq!(limits.anonymous, honnin_api::Rate { per_minute: 60, burst: 10 });
        assert_eq!(limits.trusted_proxies.len(), 1);

        let off = Settings { rate_limit: Some("off".into()), ..production() };
        assert!(!ServeConfig::from_settings(off).unwrap().access.rate_limits.enabled);

        for (settings, key) in [
            // A token where its digest belongs: refused, and never echoed.
            (
                Settings { admin_tokens: Some(vec!["ops:s3cret-token".into()]), ..production() },
                "admin_tokens",
            ),
            (
                Settings { admin_tokens: Some(vec![format!("bad id:{digest}")]), ..production() },
                "admin_tokens",
            ),
            (
                Settings {
                    api_keys: Some(vec![format!("a:{digest}"), format!("a:{digest}")]),
                    ..production()
                },
                "api_keys",
            ),
            (
                Settings { api_keys: Some(vec![format!("a:{digest}:0/1")]), ..production() },
                "api_keys",
            ),
            (Settings { rate_limit: Some("fast".into()), ..production() }, "rate_limit"),
            (
                Settings { api_key_rate_limit: Some("10/0".into()), ..production() },
                "api_key_rate_limit",
            ),
            (
                Settings {
                    renewal_links: Some("http://operator.example/links".into()),
                    ..production()
                },
                "renewal_links",
            ),
            (Settings { revocation_sync_secs: Some(0), ..production() }, "revocation_sync_secs"),
        ] {
            let error = ServeConfig::from_settings(settings).unwrap_err().to_string();
            assert!(error.contains(&format!("`{key}`")), "{error}");
            assert!(!error.contains("s3cret"), "{error}");
        }
    }

    #[test]
    fn writer_settings_resolve_and_refuse_zero() {
        let config = ServeConfig::from_settings(production()).unwrap();
        assert!(config.chain.writer.max_batch.is_none() && config.chain.writer.linger.is_none());
        let settings = Settings {
            writer_batch_size: Some(10),
            writer_linger_ms: Some(5),
            writer_confirmations: Some(3),
            ..production()
        };
        let writer = ServeConfig::from_settings(settings).unwrap().chain.writer;
        assert_eq!(writer.max_batch, Some(10));
        assert_eq!(writer.linger, Some(Duration::from_millis(5)));
        assert_eq!(writer.confirmations, Some(3));
        for (settings, key) in [
            (Settings { writer_batch_size: Some(0), ..production() }, "writer_batch_size"),
            (Settings { writer_confirmations: Some(0), ..production() }, "writer_confirmations"),
        ] {
            let error = ServeConfig::from_settings(settings).unwrap_err().to_string();
            assert!(error.contains(&format!("`{key}`")), "{error}");
        }
    }

    #[test]
    fn lifecycle_settings_default_and_resolve() {
        let config = ServeConfig::from_settings(production()).unwrap();
        assert_eq!(config.lifecycle.sync_interval, Duration::from_secs(900));
        assert_eq!(config.lifecycle.recheck_interval, Duration::from_secs(86_400));
        assert!(config.lifecycle.renewal_links.is_none());
        let settings = Settings {
            renewal_links: Some("https://operator.example/links.jsonl".into()),
            revocation_sync_secs: Some(60),
            ..production()
        };
        let config = ServeConfig::from_settings(settings).unwrap();
        assert!(matches!(
            config.lifecycle.renewal_links,
            Some(honnin_lifecycle::LinkOrigin::Url(_))
        ));
        assert_eq!(config.lifecycle.sync_interval, Duration::from_secs(60));

        // The sync needs a real pepper even in dev mode: a throwaway one matches nothing.
        let dev = Settings { dev: Some(true), pepper: None, ..production() };
        let error = SyncConfig::from_settings(&dev).unwrap_err().to_string();
        assert!(error.contains("missing setting `pepper`"), "{error}");
        assert!(SyncConfig::from_settings(&production()).is_ok());
    }

    #[test]
    fn flags_and_environment_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("honnin.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndomain = \"file.example\"\nat_limit = \"rotate\"\nwallets_per_person = 2\n",
        )
        .unwrap();
        let given = Settings { domain: Some("flag.example".into()), ..production() };
        let merged = given.with_file(Some(&path)).unwrap();
        let config = ServeConfig::from_settings(merged).unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(config.challenges.domain.as_str(), "flag.example");
        assert_eq!(config.policy.at_limit, AtLimit::Rotate);
        assert_eq!(config.policy.max_active_wallets.get(), 2);

        std::fs::write(&path, "no_such_setting = 1\n").unwrap();
        let error = Settings::default().with_file(Some(&path)).unwrap_err().to_string();
        assert!(error.contains("no_such_setting"), "{error}");
    }
}
