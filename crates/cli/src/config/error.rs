//! Why a configuration is refused: each error names the setting.

use std::{fmt, path::PathBuf, time::Duration};

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

pub(super) fn missing(key: &'static str, env: &'static str, flag: &'static str) -> ConfigError {
    ConfigError::Missing { key, env, flag }
}

pub(super) fn invalid(key: &'static str, reason: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.to_string() }
}

/// A duration setting in seconds that must be at least 1, or `default`.
pub(super) fn positive_secs(
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
