//! `honnin migrate`: applies pending database migrations and exits.

use std::{path::PathBuf, process::ExitCode};

use crate::config::{DatabaseConfig, LogConfig, Settings};

/// `honnin migrate` arguments: the same settings as `serve` (only the database ones are used).
#[derive(Debug, clap::Args)]
pub(crate) struct MigrateArgs {
    /// A TOML file of settings; flags and environment win over it.
    #[arg(long, env = "HONNIN_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) settings: Settings,
}

/// Runs `honnin migrate`.
pub(crate) fn run(args: MigrateArgs) -> ExitCode {
    let settings = match args.settings.with_file(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => return crate::fail(&error),
    };
    let database = match DatabaseConfig::from_settings(&settings) {
        Ok(database) => database,
        Err(error) => return crate::fail(&error),
    };
    if let Err(error) = crate::serve::init_tracing(&LogConfig::from_settings(&settings)) {
        return crate::fail(&*error);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return crate::fail(&error),
    };
    match runtime.block_on(crate::serve::open_store(&database)) {
        Ok(_) => {
            tracing::info!(target: "honnin::migrate", "database migrated");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(target: "honnin::migrate", error = format!("{error:#}"), "honnin migrate failed");
            ExitCode::FAILURE
        }
    }
}
