//! Logging settings (resolved first: tracing starts right after the configuration).

use super::settings::{DEFAULT_LOG_FILTER, LogFormat, Settings};

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
