//! `honnin serve`: the whole service (`honnin-service`) from the configuration, until SIGINT or
//! SIGTERM.
//!
//! Start-up: typed configuration (fail fast, naming the setting) → tracing →
//! [`Service::launch`] (card evidence, store and migrations, audit writer, chain writer,
//! background jobs, HTTP server; see honnin-service) → wait for a signal →
//! [`Service::stop`] (in-flight requests get `shutdown_timeout_secs`, then the jobs, the chain
//! writer and the audit writer stop in that order).

use std::{path::PathBuf, process::ExitCode};

use honnin_service::Service;

use crate::{
    config::{ServeConfig, Settings},
    runtime,
};

const TARGET: &str = "honnin::serve";

/// `honnin serve` arguments: every setting, and the optional config file.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// A TOML file of settings (keys as the setting names); flags and environment win over it.
    #[arg(long, env = "HONNIN_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) settings: Settings,
}

/// Runs `honnin serve`.
pub(crate) fn run(args: ServeArgs) -> ExitCode {
    let config = match args
        .settings
        .with_file(args.config.as_deref())
        .and_then(ServeConfig::from_settings)
    {
        Ok(config) => config,
        Err(error) => return runtime::fail(&error),
    };
    runtime::run(&config.log.clone(), async move {
        match serve(config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(target: TARGET, error = %runtime::error_chain(&error), "honnin serve failed");
                ExitCode::FAILURE
            }
        }
    })
}

async fn serve(config: ServeConfig) -> Result<(), honnin_service::Error> {
    // Caught from here on: a signal during start-up stops the service once it is up.
    let mut signals = runtime::Signals::register();
    let service = Service::launch(config.service).await?;
    signals.recv().await;
    service.stop().await
}
