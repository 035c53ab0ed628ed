//! The webhook settings (`[webhooks]` in the file, `--webhooks-*` flags, `HONNIN_WEBHOOKS_*`
//! variables) and the endpoints the file declares (`[[webhooks.endpoints]]`).

use honnin_core::webhook::{EventSet, WebhookEvent};
use honnin_service::{ConfiguredWebhook, Secret, WebhookConfig, config as defaults};
use serde::Deserialize;

use super::error::{ConfigError, invalid, positive_secs};

/// The `[webhooks]` table as given.
#[derive(Debug, Default, Clone, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookSettings {
    /// Allow webhook endpoints on loopback, private, link-local and other non-public addresses
    /// (`honnin dev` allows them). [default: false]
    #[arg(
        long = "webhooks-allow-private-addresses",
        env = "HONNIN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES",
        value_name = "BOOL"
    )]
    pub(crate) allow_private_addresses: Option<bool>,
    #[arg(long = "webhooks-timeout-secs", env = "HONNIN_WEBHOOKS_TIMEOUT_SECS", value_name = "SECS",
        help = format!("Longest one webhook delivery may take, in seconds (connecting: at most {} s of it). [default: {}]",
            defaults::DEFAULT_WEBHOOK_CONNECT_TIMEOUT.as_secs(), defaults::DEFAULT_WEBHOOK_TIMEOUT.as_secs()))]
    pub(crate) timeout_secs: Option<u64>,
    #[arg(long = "webhooks-retry-limit", env = "HONNIN_WEBHOOKS_RETRY_LIMIT", value_name = "N",
        help = format!("Attempts of one webhook delivery before it is dead (retried after 5 s, 10 s, 20 s, … at most an hour, with jitter). [default: {}]",
            defaults::DEFAULT_WEBHOOK_RETRY_LIMIT))]
    pub(crate) retry_limit: Option<u32>,
    #[arg(long = "webhooks-retention-days", env = "HONNIN_WEBHOOKS_RETENTION_DAYS", value_name = "DAYS",
        help = format!("Days a delivered webhook delivery is kept before it is deleted (pending and dead ones stay until settled or redelivered). [default: {}]",
            defaults::DEFAULT_WEBHOOK_RETENTION.as_secs() / 86_400))]
    pub(crate) retention_days: Option<u64>,
    /// Webhook endpoints declared in the file (`[[webhooks.endpoints]]`: `name`, `url`,
    /// `secret`, `events`); made exactly these at each start-up.
    #[arg(skip)]
    #[serde(default)]
    pub(crate) endpoints: Vec<EndpointSettings>,
}

/// One `[[webhooks.endpoints]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointSettings {
    /// Its name (its id is derived from it).
    pub(crate) name: String,
    /// Where deliveries go.
    pub(crate) url: String,
    /// `whsec_` + base64 of 24 to 64 random bytes (`printf whsec_; openssl rand -base64 32`).
    pub(crate) secret: Secret,
    /// The events it wants. [default: all four]
    pub(crate) events: Option<Vec<String>>,
}

impl WebhookSettings {
    /// These settings, with gaps filled from `file` (endpoints come from the file only).
    pub(crate) fn or(self, file: Self) -> Self {
        Self {
            allow_private_addresses: self.allow_private_addresses.or(file.allow_private_addresses),
            timeout_secs: self.timeout_secs.or(file.timeout_secs),
            retry_limit: self.retry_limit.or(file.retry_limit),
            retention_days: self.retention_days.or(file.retention_days),
            endpoints: if self.endpoints.is_empty() { file.endpoints } else { self.endpoints },
        }
    }
}

/// The worker's settings and the declared endpoints.
pub(super) fn from_settings(s: &WebhookSettings) -> Result<WebhookConfig, ConfigError> {
    let timeout =
        positive_secs("webhooks.timeout_secs", s.timeout_secs, defaults::DEFAULT_WEBHOOK_TIMEOUT)?;
    let retry_limit = match s.retry_limit {
        Some(0) => return Err(invalid("webhooks.retry_limit", "must be at least 1")),
        n => n.unwrap_or(defaults::DEFAULT_WEBHOOK_RETRY_LIMIT),
    };
    let retention = match s.retention_days {
        Some(0) => return Err(invalid("webhooks.retention_days", "must be at least 1")),
        Some(days) => std::time::Duration::from_secs(days.saturating_mul(86_400)),
        None => defaults::DEFAULT_WEBHOOK_RETENTION,
    };
    let mut endpoints = Vec::with_capacity(s.endpoints.len());
    for endpoint in &s.endpoints {
        if endpoint.name.trim().is_empty() {
            return Err(invalid("webhooks.endpoints", "every endpoint needs a `name`"));
        }
        if endpoints.iter().any(|e: &ConfiguredWebhook| e.name == endpoint.name) {
            return Err(invalid(
                "webhooks.endpoints",
                format!("two endpoints named `{}`", endpoint.name),
            ));
        }
        let events = match &endpoint.events {
            None => EventSet::ALL,
            Some(names) => EventSet::of(
                names
                    .iter()
                    .map(|name| name.parse::<WebhookEvent>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|error| {
                        invalid("webhooks.endpoints", format!("`{}`: {error}", endpoint.name))
                    })?,
            ),
        };
        if events.is_empty() {
            return Err(invalid("webhooks.endpoints", format!("`{}`: no events", endpoint.name)));
        }
        endpoints.push(ConfiguredWebhook {
            name: endpoint.name.clone(),
            url: endpoint.url.clone(),
            events,
            secret: endpoint.secret.clone(),
        });
    }
    Ok(WebhookConfig {
        allow_private_addresses: s.allow_private_addresses.unwrap_or(false),
        timeout,
        connect_timeout: timeout.min(defaults::DEFAULT_WEBHOOK_CONNECT_TIMEOUT),
        retry_limit,
        retention,
        endpoints,
        ..WebhookConfig::default()
    })
}
