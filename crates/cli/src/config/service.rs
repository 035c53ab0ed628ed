//! `honnin serve`'s configuration: [`Settings`] resolved into honnin-service's typed
//! [`ServiceConfig`], defaults applied, every value checked.

use std::{num::NonZeroU32, time::Duration};

use honnin_core::Address;
use honnin_service::{
    CardConfig, ChainConfig, HttpConfig, RevocationConfig, ServiceConfig, WriterTuning,
    config as defaults,
};

use super::{
    access,
    card::{revocation, signing, trust_anchors},
    database::database,
    error::{ConfigError, invalid, missing, positive_secs},
    jobs,
    log::LogConfig,
    settings::Settings,
    webhooks,
};

/// `honnin serve`'s configuration, validated, with defaults applied.
#[derive(Debug)]
pub(crate) struct ServeConfig {
    /// What the service takes.
    pub(crate) service: ServiceConfig,
    /// Logging.
    pub(crate) log: LogConfig,
}

fn http(s: &Settings) -> Result<HttpConfig, ConfigError> {
    let max_connections = match s.max_connections {
        Some(0) => return Err(invalid("max_connections", "must be at least 1")),
        n => n.unwrap_or(defaults::DEFAULT_MAX_CONNECTIONS),
    };
    Ok(HttpConfig {
        listen: s.listen.unwrap_or(defaults::DEFAULT_LISTEN),
        header_read_timeout: positive_secs(
            "header_read_timeout_secs",
            s.header_read_timeout_secs,
            defaults::DEFAULT_HEADER_READ_TIMEOUT,
        )?,
        keep_alive_timeout: positive_secs(
            "keep_alive_timeout_secs",
            s.keep_alive_timeout_secs,
            defaults::DEFAULT_KEEP_ALIVE_TIMEOUT,
        )?,
        max_connections,
        shutdown_timeout: s
            .shutdown_timeout_secs
            .map_or(defaults::DEFAULT_SHUTDOWN_TIMEOUT, Duration::from_secs),
    })
}

fn limits(s: &Settings) -> Result<honnin_api::Limits, ConfigError> {
    let mut limits = honnin_api::Limits::default();
    if let Some(bytes) = s.body_limit_bytes {
        if bytes < 1024 {
            return Err(invalid("body_limit_bytes", "must be at least 1024"));
        }
        limits.body_bytes = bytes;
    }
    limits.request_timeout =
        positive_secs("request_timeout_secs", s.request_timeout_secs, limits.request_timeout)?;
    if let Some(n) = s.verify_concurrency {
        if n == 0 {
            return Err(invalid("verify_concurrency", "must be at least 1"));
        }
        limits.verify_concurrency = n;
    }
    Ok(limits)
}

fn writer(s: &Settings) -> Result<WriterTuning, ConfigError> {
    Ok(WriterTuning {
        max_batch: match s.writer_batch_size {
            Some(0) => return Err(invalid("writer_batch_size", "must be at least 1")),
            n => n,
        },
        linger: s.writer_linger_ms.map(Duration::from_millis),
        confirmations: match s.writer_confirmations {
            Some(0) => return Err(invalid("writer_confirmations", "must be at least 1")),
            n => n,
        },
        ..WriterTuning::default()
    })
}

impl ServeConfig {
    /// Applies defaults and validates; the first problem names its setting.
    pub(crate) fn from_settings(s: Settings) -> Result<Self, ConfigError> {
        let dev = s.dev.unwrap_or(false);
        let database = database(&s)?;
        let http = http(&s)?;
        let limits = limits(&s)?;

        let trust_anchors = trust_anchors(&s)?;
        let revocation = revocation(&s)?;
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

        let max_age = match s.attestation_max_age_days {
            Some(days) => time::Duration::days(i64::from(days)),
            None => honnin_core::Policy::DEFAULT_MAX_AGE,
        };
        let policy = honnin_core::Policy::new(
            s.wallets_per_person.unwrap_or(NonZeroU32::MIN),
            s.at_limit.unwrap_or_default(),
            max_age,
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
        let lifetime = match s.challenge_lifetime_secs {
            Some(secs) => time::Duration::seconds(
                i64::try_from(secs).map_err(|error| invalid("challenge_lifetime_secs", error))?,
            ),
            None => honnin_core::ChallengeSettings::DEFAULT_LIFETIME,
        };
        let challenges = honnin_core::ChallengeSettings::new(domain, chain_id, registry)
            .with_lifetime(lifetime)
            .map_err(|error| invalid("challenge_lifetime_secs", error))?;
        if let Some(key) = &s.attester_key {
            let digits = key.expose().trim().trim_start_matches("0x");
            if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid("attester_key", "must be 32 bytes of hex"));
            }
        }

        let service = ServiceConfig {
            dev,
            http,
            limits,
            database,
            card: CardConfig {
                trust_anchors,
                revocation,
                revocation_cache: s
                    .revocation_cache_secs
                    .map_or(defaults::DEFAULT_REVOCATION_CACHE, Duration::from_secs),
                revocation_allow_unknown,
                signing: signing(&s, dev)?,
            },
            pepper,
            policy,
            challenges,
            chain: ChainConfig {
                chain_id,
                registry,
                rpc_url: s.rpc_url.clone(),
                attester_key: s.attester_key.clone(),
                writer: writer(&s)?,
            },
            access: access::from_settings(&s)?,
            jobs: jobs::from_settings(&s)?,
            webhooks: webhooks::from_settings(&s.webhooks)?,
            page: super::page::from_settings(&s.page)?,
            scopes: scopes(&s)?,
        };
        Ok(Self { service, log: LogConfig::from_settings(&s) })
    }
}

/// The scopes to register at start-up, each name checked.
fn scopes(s: &Settings) -> Result<Vec<honnin_core::ScopeName>, ConfigError> {
    let mut scopes = Vec::new();
    for name in s.scopes.iter().flatten() {
        let name = honnin_core::ScopeName::new(name.trim()).map_err(|e| invalid("scopes", e))?;
        if !scopes.contains(&name) {
            scopes.push(name);
        }
    }
    Ok(scopes)
}
