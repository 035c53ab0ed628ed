//! What the subcommands share: reporting an early failure, logging set-up, the tokio runtime,
//! waiting for SIGINT/SIGTERM, progress lines.

use std::{io::Write as _, process::ExitCode};

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::config::{LogConfig, LogFormat};

/// Reports an error that stops the command before logging is set up (configuration, runtime).
#[allow(clippy::print_stderr)]
pub(crate) fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

/// Installs the global tracing subscriber (stderr, text or JSON, filtered).
pub(crate) fn init_tracing(
    log: &LogConfig,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let filter = tracing_subscriber::EnvFilter::try_new(&log.filter)
        .map_err(|error| format!("invalid setting `log`: {error}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    match log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    }
}

/// Sets up logging, then runs `main` on a multi-threaded runtime; an error before `main` runs
/// is reported with [`fail`].
pub(crate) fn run<F>(log: &LogConfig, main: F) -> ExitCode
where
    F: Future<Output = ExitCode>,
{
    if let Err(error) = init_tracing(log) {
        return fail(&*error);
    }
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(main),
        Err(error) => fail(&error),
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment of [`Signals::register`]: from then
/// on neither kills the process, and one that arrives before [`Signals::recv`] is not lost.
pub(crate) struct Signals {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
}

impl Signals {
    /// Starts catching both signals (call it on the runtime).
    pub(crate) fn register() -> Self {
        Self {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Resolves on the next SIGINT or SIGTERM.
    pub(crate) async fn recv(&mut self) {
        async fn next(signal: Option<&mut Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(self.interrupt.as_mut()) => {},
            () = next(self.terminate.as_mut()) => {},
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    Signals::register().recv().await;
}

/// Prints one progress line (`==> …`) on stdout at once.
pub(crate) fn step(text: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "==> {text}");
    let _ = out.flush();
}

/// An error with its causes, `: `-separated (the causes name no secret).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
