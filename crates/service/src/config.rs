//! The typed configuration [`Service::launch`](crate::Service::launch) takes: every part's
//! settings, validated and with defaults applied. `honnin serve` resolves it from flags,
//! environment and a TOML file; `honnin dev` and the end-to-end harness build it in code.
//!
//! Defaults are the `DEFAULT_*` constants here; the CLI's `--help` lines and the README show
//! the same values.

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use honnin_core::{Address, ChallengeSettings, Pepper, Policy};
use honnin_lifecycle::LinkOrigin;

/// Default listen address.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 8080));
/// Default grace for in-flight requests at shutdown.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Default longest a client may take to send a request's headers (from the connection's start,
/// or from the request's first byte on a kept-alive connection).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest a kept-alive connection may sit idle between two requests.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default most client connections open at once; further ones wait in the listen backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default database: SQLite in `./honnin-data`, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./honnin-data/honnin.db?mode=rwc";
/// Connections of the chain writer's own pool (Postgres): it must not queue behind a burst of
/// API requests.
pub const DEFAULT_WRITER_CONNECTIONS: u32 = 2;
/// Default revocation answer cache lifetime.
pub const DEFAULT_REVOCATION_CACHE: Duration = Duration::from_secs(300);
/// Default interval of the revocation sync.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(900);
/// Default interval of the OCSP re-check of live certificates.
pub const DEFAULT_RECHECK_INTERVAL: Duration = Duration::from_secs(86_400);
/// Interval of the expiry sweep.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// Interval of the challenge purge.
pub const DEFAULT_PURGE_INTERVAL: Duration = Duration::from_secs(600);
/// How long after its expiry a challenge is kept before the purge deletes it.
pub const DEFAULT_PURGE_AFTER: Duration = Duration::from_secs(86_400);
/// Default longest one webhook delivery may take (connecting, sending, the answer's headers).
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest connecting to a webhook endpoint may take.
pub const DEFAULT_WEBHOOK_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default attempts of one delivery before it is dead.
pub const DEFAULT_WEBHOOK_RETRY_LIMIT: u32 = 10;
/// Default delay before a delivery's second attempt; it doubles with each failure.
pub const DEFAULT_WEBHOOK_RETRY_BASE: Duration = Duration::from_secs(5);
/// Default longest delay between two attempts of one delivery.
pub const DEFAULT_WEBHOOK_RETRY_MAX: Duration = Duration::from_secs(3600);
/// Default interval at which the webhook worker looks for due deliveries.
pub const DEFAULT_WEBHOOK_POLL: Duration = Duration::from_secs(1);
/// Default interval at which an instance without the webhooks lease asks for it again.
pub const DEFAULT_WEBHOOK_LEASE_RETRY: Duration = Duration::from_secs(5);
/// Default time a delivered webhook delivery is kept (then the lease holder deletes it).
pub const DEFAULT_WEBHOOK_RETENTION: Duration = Duration::from_secs(30 * 86_400);
/// Default interval at which the lease holder deletes delivered deliveries past retention.
pub const DEFAULT_WEBHOOK_PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// A secret setting: never shown in `Debug` output or logs.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself (to hand it to what needs it; never to a log).
    pub fn expose(&self) -> &str {
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

/// Everything the service needs, validated.
#[derive(Debug)]
pub struct ServiceConfig {
    /// Dev mode: logged loudly; a throwaway pepper when none is set.
    pub dev: bool,
    /// The HTTP server.
    pub http: HttpConfig,
    /// Per-request limits of the API.
    pub limits: honnin_api::Limits,
    /// The database.
    pub database: DatabaseConfig,
    /// Trust anchors and revocation source for card evidence.
    pub card: CardConfig,
    /// `None` only in dev mode: a throwaway pepper is generated.
    pub pepper: Option<Pepper>,
    /// Wallets per person, behaviour at the limit, longest attestation life.
    pub policy: Policy,
    /// What every challenge names (domain, chain id, registry) and its lifetime.
    pub challenges: ChallengeSettings,
    /// The chain: ERC-1271 checks and the chain writer.
    pub chain: ChainConfig,
    /// Admin tokens, API keys, rate limits.
    pub access: AccessConfig,
    /// The background jobs.
    pub jobs: JobsConfig,
    /// Webhook deliveries and the endpoints the configuration declares.
    pub webhooks: WebhookConfig,
    /// What the person's page is told: the card bridge's URL, the explorer's transaction URL.
    pub page: honnin_web::PageConfig,
    /// Scopes (dApps whose records are kept apart) registered at each start-up, besides those
    /// registered through the admin API. Registering is idempotent; a scope is never removed,
    /// so dropping one here leaves it registered.
    pub scopes: Vec<honnin_core::ScopeName>,
}

/// The HTTP server's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// Address and port to listen on (port 0: a free one; see
    /// [`ServiceHandle::local_addr`](crate::ServiceHandle::local_addr)).
    pub listen: SocketAddr,
    /// Longest a client may take to send a request's headers: from the connection's start for
    /// its first request, from the request's first byte on a kept-alive connection. Then the
    /// connection is closed.
    pub header_read_timeout: Duration,
    /// Longest a kept-alive connection may wait idle for its next request before it is closed.
    pub keep_alive_timeout: Duration,
    /// Most client connections open at once; at the cap new ones wait in the listen backlog
    /// until one closes.
    pub max_connections: usize,
    /// Grace for in-flight requests at shutdown; then their connections are dropped.
    pub shutdown_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// The database settings.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `postgres://…` or `sqlite://…` (may hold a password: a secret).
    pub url: Secret,
    /// Pool limits.
    pub options: honnin_store::StoreOptions,
    /// Connections of the chain writer's own pool on Postgres (SQLite shares the API's).
    pub writer_connections: u32,
}

impl DatabaseConfig {
    /// `url` with default pool limits.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: Secret::new(url),
            options: honnin_store::StoreOptions::default(),
            writer_connections: DEFAULT_WRITER_CONNECTIONS,
        }
    }

    /// For a SQLite file URL, the folder the file lives in (created before connecting).
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        let rest = self.url.expose().strip_prefix("sqlite:")?;
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or("");
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        std::path::Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(std::path::Path::to_path_buf)
    }
}

/// Where card evidence is checked against.
#[derive(Debug, Clone)]
pub struct CardConfig {
    /// A folder of PEM/DER roots or a PEM bundle.
    pub trust_anchors: PathBuf,
    /// The revocation source.
    pub revocation: RevocationConfig,
    /// How long good/revoked answers are cached; zero disables the cache.
    pub revocation_cache: Duration,
    /// Accept an `unknown` answer (dev only).
    pub revocation_allow_unknown: bool,
    /// Age claims from the signing certificate: its roots and revocation source (`None`: not
    /// offered). The cache and `revocation_allow_unknown` above apply to it too.
    pub signing: Option<SigningConfig>,
}

/// Where signing certificates (署名用, for age claims) are checked against: the J-LIS
/// signature roots (`sign_ca_2015`, `sign_ca_2023`), never the user-authentication ones.
#[derive(Debug, Clone)]
pub struct SigningConfig {
    /// A folder of PEM/DER signature roots or a PEM bundle.
    pub trust_anchors: PathBuf,
    /// Their revocation source (CRLs of the signature roots, or their OCSP responder).
    pub revocation: RevocationConfig,
}

/// Where revocation status comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationConfig {
    /// CRLs from files or URLs.
    Crl(Vec<String>),
    /// An OCSP responder.
    Ocsp(String),
    /// No revocation checking (dev mode only).
    None,
}

/// Why a revocation source setting does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevocationConfigError {
    /// `crl:` with nothing after it.
    #[error("`crl:` needs at least one file or URL")]
    NoCrl,
    /// `ocsp:` without an http(s) URL.
    #[error("`ocsp:` needs an http:// or https:// URL")]
    OcspUrl,
    /// Neither `crl:`, `ocsp:` nor `none`.
    #[error("expected `crl:<file-or-url>[,…]`, `ocsp:<url>` or `none`")]
    Unknown,
}

impl FromStr for RevocationConfig {
    type Err = RevocationConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
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
                return Err(RevocationConfigError::NoCrl);
            }
            return Ok(Self::Crl(origins));
        }
        if let Some(url) = s.strip_prefix("ocsp:") {
            let url = url.trim();
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return Err(RevocationConfigError::OcspUrl);
            }
            return Ok(Self::Ocsp(url.to_owned()));
        }
        Err(RevocationConfigError::Unknown)
    }
}

/// The chain settings.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// Chain of the registry (in every message).
    pub chain_id: u64,
    /// The `KycRegistry` address.
    pub registry: Address,
    /// JSON-RPC endpoint: ERC-1271 checks and the chain writer.
    pub rpc_url: Option<String>,
    /// The attester's key; with `rpc_url` it starts the chain writer.
    pub attester_key: Option<Secret>,
    /// Writer tuning.
    pub writer: WriterTuning,
}

/// Chain writer tuning; `None` keeps `WriterConfig::new`'s default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterTuning {
    /// Most records in one transaction.
    pub max_batch: Option<u32>,
    /// How long a batch that is not full keeps filling.
    pub linger: Option<Duration>,
    /// Blocks a transaction needs before its records are confirmed.
    pub confirmations: Option<u64>,
    /// How often an empty queue is looked at.
    pub idle_poll: Option<Duration>,
    /// How often a writer without the lease tries for it.
    pub lease_retry: Option<Duration>,
    /// First retry delay after a transient failure.
    pub retry_base: Option<Duration>,
    /// Interval of receipt polls.
    pub receipt_poll: Option<Duration>,
}

/// Admin tokens, API keys and rate limits, validated.
#[derive(Debug, Clone, Default)]
pub struct AccessConfig {
    /// Admin tokens and API keys.
    pub auth: honnin_api::Auth,
    /// Rate limits.
    pub rate_limits: honnin_api::RateLimits,
}

/// The background jobs' settings.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// The renewal link feed.
    pub renewal_links: Option<LinkOrigin>,
    /// Interval of the revocation sync.
    pub sync_interval: Duration,
    /// Interval of the OCSP re-check.
    pub recheck_interval: Duration,
    /// Interval of the expiry sweep.
    pub sweep_interval: Duration,
    /// Interval of the challenge purge.
    pub purge_interval: Duration,
    /// Challenges expired longer ago than this are purged.
    pub purge_after: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            renewal_links: None,
            sync_interval: DEFAULT_SYNC_INTERVAL,
            recheck_interval: DEFAULT_RECHECK_INTERVAL,
            sweep_interval: DEFAULT_SWEEP_INTERVAL,
            purge_interval: DEFAULT_PURGE_INTERVAL,
            purge_after: DEFAULT_PURGE_AFTER,
        }
    }
}

/// The webhook worker's settings and the endpoints declared in the configuration.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Allow endpoints on loopback, private, link-local and other non-public addresses
    /// (`honnin dev` sets it; tests need it for a receiver on 127.0.0.1).
    pub allow_private_addresses: bool,
    /// Longest one delivery may take.
    pub timeout: Duration,
    /// Longest connecting may take.
    pub connect_timeout: Duration,
    /// Attempts of one delivery before it is dead (at least 1).
    pub retry_limit: u32,
    /// Delay before the second attempt; doubled for each further failure, with jitter.
    pub retry_base: Duration,
    /// Longest delay between two attempts.
    pub retry_max: Duration,
    /// How often due deliveries are looked for.
    pub poll: Duration,
    /// How often an instance without the lease asks for it again.
    pub lease_retry: Duration,
    /// How long a delivered delivery is kept; pending and dead ones are kept until settled or
    /// redelivered.
    pub retention: Duration,
    /// How often the lease holder deletes delivered deliveries older than `retention`.
    pub purge_interval: Duration,
    /// Endpoints declared in the configuration (made exactly these at each start-up).
    pub endpoints: Vec<ConfiguredWebhook>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_private_addresses: false,
            timeout: DEFAULT_WEBHOOK_TIMEOUT,
            connect_timeout: DEFAULT_WEBHOOK_CONNECT_TIMEOUT,
            retry_limit: DEFAULT_WEBHOOK_RETRY_LIMIT,
            retry_base: DEFAULT_WEBHOOK_RETRY_BASE,
            retry_max: DEFAULT_WEBHOOK_RETRY_MAX,
            poll: DEFAULT_WEBHOOK_POLL,
            lease_retry: DEFAULT_WEBHOOK_LEASE_RETRY,
            retention: DEFAULT_WEBHOOK_RETENTION,
            purge_interval: DEFAULT_WEBHOOK_PURGE_INTERVAL,
            endpoints: Vec::new(),
        }
    }
}

/// An endpoint declared in the configuration.
#[derive(Debug, Clone)]
pub struct ConfiguredWebhook {
    /// Its name (its id is derived from it, so it survives restarts).
    pub name: String,
    /// Where deliveries go (checked as an API registration is).
    pub url: String,
    /// The events it wants.
    pub events: honnin_core::webhook::EventSet,
    /// Its signing secret (`whsec_…`).
    pub secret: Secret,
}
