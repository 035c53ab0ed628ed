//! Configuration of `honnin serve`, `honnin migrate`, `honnin revocation sync` and the audit
//! tools: [`Settings`] as given, resolved into the typed configuration each command takes.
//!
//! Every setting comes from, in order of precedence: a command-line flag, a `HONNIN_*`
//! environment variable, the TOML file named by `--config` / `HONNIN_CONFIG` (keys are the
//! field names of [`Settings`], e.g. `trust_anchors = "/etc/honnin/roots"`), then the default
//! (the `DEFAULT_*` constants of `honnin_service::config`, or the default of the crate the
//! setting belongs to). Missing or invalid settings fail start-up with a message naming the
//! setting, its variable and its flag.
//!
//! Secrets (`pepper`, `attester_key`, `database_url`, which may hold a password) are never
//! printed: their `Debug` is redacted and clap hides their environment values.
//!
//! - `settings`: the flags / variables / file keys and how they merge;
//! - `service`: `honnin serve`'s [`ServiceConfig`](honnin_service::ServiceConfig);
//! - `access`: admin tokens, API keys and rate limits;
//! - `jobs`: the background jobs and `honnin revocation sync`'s [`SyncConfig`].

use std::{fmt, path::PathBuf, time::Duration};

use honnin_service::{DatabaseConfig, Secret, config::DEFAULT_DATABASE_URL};
use serde::Deserialize;

mod access;
mod jobs;
mod service;
mod settings;
#[cfg(test)]
mod tests;

pub(crate) use jobs::SyncConfig;
pub(crate) use service::ServeConfig;
pub(crate) use settings::Settings;

/// The log filter when none is set.
pub(crate) const DEFAULT_LOG_FILTER: &str = "info";

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

/// A duration setting in seconds that must be at least 1, or `default`.
fn positive_secs(
    key: &'static str,
    value: Option<u64>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match value {
        Some(0) => Err(invalid(key, "must be at least 1")),
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => Ok(default),
    }
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

/// Logging settings (resolved first: tracing starts right after the configuration).
#[derive(Debug, Clone)]
pub(crate) struct LogConfig {
    pub(crate) filter: String,
    pub(crate) format: LogFormat,
}

impl LogConfig {
    pub(crate) fn from_settings(s: &Settings) -> Self {
        Self {
            filter: s.log.clone().unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned()),
            format: s.log_format.unwrap_or_default(),
        }
    }
}

/// The database settings (`honnin migrate` needs only these).
pub(crate) fn database(s: &Settings) -> Result<DatabaseConfig, ConfigError> {
    let url = s.database_url.clone().unwrap_or_else(|| Secret::new(DEFAULT_DATABASE_URL));
    honnin_store::Backend::of_url(url.expose()).map_err(|error| invalid("database_url", error))?;
    let mut database = DatabaseConfig::new(url.expose());
    if let Some(n) = s.db_max_connections {
        if n == 0 {
            return Err(invalid("db_max_connections", "must be at least 1"));
        }
        database.options.postgres.max_connections = n;
        database.options.sqlite.max_connections = n;
    }
    if let Some(secs) = s.db_acquire_timeout_secs {
        database.options.postgres.acquire_timeout = Duration::from_secs(secs);
        database.options.sqlite.acquire_timeout = Duration::from_secs(secs);
    }
    Ok(database)
}
