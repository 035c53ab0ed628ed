//! The database settings.

use std::time::Duration;

use honnin_service::{DatabaseConfig, Secret, config::DEFAULT_DATABASE_URL};

use super::{
    error::{ConfigError, invalid},
    settings::Settings,
};

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
