//! `honnin migrate`: applies pending database migrations and exits.

use std::{path::PathBuf, process::ExitCode};

use crate::{
    config::{LogConfig, Settings, database},
    runtime,
};

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
        Err(error) => return runtime::fail(&error),
    };
    let database = match database(&settings) {
        Ok(database) => database,
        Err(error) => return runtime::fail(&error),
    };
    runtime::run(&LogConfig::from_settings(&settings), async move {
        match honnin_service::open_store(&database).await {
            Ok(_) => {
                tracing::info!(target: "honnin::migrate", "database migrated");
                ExitCode::SUCCESS
            }
            Err(error) => {
                let error = runtime::error_chain(&error);
                tracing::error!(target: "honnin::migrate", error, "honnin migrate failed");
                ExitCode::FAILURE
            }
        }
    })
}
