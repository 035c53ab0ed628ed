//! The background jobs' settings, and what `honnin revocation sync` needs.

use std::path::PathBuf;

use honnin_service::{DatabaseConfig, JobsConfig, RevocationConfig, config as defaults};

use super::{
    card::{revocation, trust_anchors},
    database::database,
    error::{ConfigError, invalid, missing, positive_secs},
    log::LogConfig,
    settings::Settings,
};

/// The background jobs' settings (renewal link feed, sync and re-check intervals); the sweep
/// and purge run at honnin-service's fixed intervals.
pub(super) fn from_settings(s: &Settings) -> Result<JobsConfig, ConfigError> {
    let renewal_links = s
        .renewal_links
        .as_deref()
        .filter(|l| !l.trim().is_empty())
        .map(honnin_lifecycle::LinkOrigin::parse)
        .transpose()
        .map_err(|error| invalid("renewal_links", error))?;
    Ok(JobsConfig {
        renewal_links,
        sync_interval: positive_secs(
            "revocation_sync_secs",
            s.revocation_sync_secs,
            defaults::DEFAULT_SYNC_INTERVAL,
        )?,
        recheck_interval: positive_secs(
            "revocation_recheck_secs",
            s.revocation_recheck_secs,
            defaults::DEFAULT_RECHECK_INTERVAL,
        )?,
        ..JobsConfig::default()
    })
}

/// What `honnin revocation sync` needs: the database, the trust anchors, the revocation source,
/// the pepper (never a throwaway one: it would match nothing) and the link feed.
#[derive(Debug)]
pub(crate) struct SyncConfig {
    pub(crate) database: DatabaseConfig,
    pub(crate) trust_anchors: PathBuf,
    pub(crate) revocation: RevocationConfig,
    pub(crate) pepper: honnin_core::Pepper,
    pub(crate) jobs: JobsConfig,
    pub(crate) log: LogConfig,
}

impl SyncConfig {
    pub(crate) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let database = database(s)?;
        let trust_anchors = trust_anchors(s)?;
        let revocation = revocation(s)?;
        let pepper =
            s.pepper.as_ref().ok_or_else(|| missing("pepper", "HONNIN_PEPPER", "pepper"))?;
        let pepper = honnin_core::Pepper::from_hex(pepper.expose())
            .map_err(|error| invalid("pepper", error))?;
        Ok(Self {
            database,
            trust_anchors,
            revocation,
            pepper,
            jobs: from_settings(s)?,
            log: LogConfig::from_settings(s),
        })
    }
}
