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
//! - `settings`: the flags / variables / file keys and how they merge; `error`: why a
//!   configuration is refused; `log`, `database`, `card`: the parts several commands share;
//! - `service`: `honnin serve`'s [`ServiceConfig`](honnin_service::ServiceConfig);
//! - `access`: admin tokens, API keys and rate limits;
//! - `jobs`: the background jobs and `honnin revocation sync`'s [`SyncConfig`];
//! - `webhooks`: the `[webhooks]` table (delivery timeout, retry limit, private addresses) and
//!   the endpoints it declares.

mod access;
mod card;
mod database;
mod error;
mod jobs;
mod log;
mod service;
mod settings;
#[cfg(test)]
mod tests;
mod webhooks;

pub(crate) use database::database;
pub(crate) use jobs::SyncConfig;
pub(crate) use log::LogConfig;
pub(crate) use service::ServeConfig;
pub(crate) use settings::{LogFormat, Settings};
