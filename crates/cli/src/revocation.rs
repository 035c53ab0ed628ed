//! `honnin revocation sync`: the revocation sync by hand.
//!
//! With `--once`, one cycle (renewal links, every CRL, and the OCSP re-check of live
//! certificates when `revocation = "ocsp:…"`), printing each step as it goes and a progress
//! line per batch, then a summary; exit 1 when any stage failed. Without `--once`, the same loop
//! `honnin serve` runs, in the foreground, until SIGINT/SIGTERM (for deployments that run the
//! sync as its own process). The `revoke`s it queues are sent by the chain writer of a running
//! `honnin serve`.

#![allow(clippy::print_stdout)]

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::Context as _;
use honnin_core::audit::AuditLog;
use honnin_jpki::TrustAnchors;
use honnin_lifecycle::Progress;

use crate::{
    config::{Settings, SyncConfig},
    runtime::{self, step},
};

/// The `revocation` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RevocationCommand {
    /// Follow the revocation source: renewal links, CRLs, OCSP re-checks → revoke attestations.
    Sync(Box<SyncArgs>),
}

/// `honnin revocation sync` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct SyncArgs {
    /// Run one cycle, print what it did and exit (1 when a stage failed).
    #[arg(long)]
    once: bool,
    /// A TOML file of settings; flags and environment win over it.
    #[arg(long, env = "HONNIN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: Settings,
}

/// Runs a `revocation` subcommand.
pub(crate) fn run(command: RevocationCommand) -> ExitCode {
    let RevocationCommand::Sync(args) = command;
    let config = match args
        .settings
        .with_file(args.config.as_deref())
        .and_then(|s| SyncConfig::from_settings(&s))
    {
        Ok(config) => config,
        Err(error) => return runtime::fail(&error),
    };
    let once = args.once;
    runtime::run(&config.log.clone(), async move {
        match sync(config, once).await {
            Ok(code) => code,
            Err(error) => {
                println!("FAILED: {error:#}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn sync(config: SyncConfig, once: bool) -> anyhow::Result<ExitCode> {
    let anchors = Arc::new(
        TrustAnchors::from_path(&config.trust_anchors)
            .context("cannot load trust anchors (setting `trust_anchors`)")?,
    );
    let store = honnin_service::open_store(&config.database).await?;
    let (audit, audit_task) = AuditLog::new(store.clone());
    let audit_task = tokio::spawn(audit_task);
    let sync = honnin_service::jobs::revocation_sync(
        store,
        Arc::new(config.pepper),
        anchors,
        audit,
        &config.revocation,
        config.jobs.renewal_links.as_ref(),
    );
    if !sync.has_work() {
        anyhow::bail!("nothing to sync: `revocation` is `none` and no `renewal_links` is set");
    }
    if !once {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            runtime::shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        step(format!(
            "revocation sync every {}s (re-check every {}s); Ctrl-C stops it",
            config.jobs.sync_interval.as_secs(),
            config.jobs.recheck_interval.as_secs()
        ));
        sync.run(config.jobs.sync_interval, config.jobs.recheck_interval, stop_rx).await;
        finish_audit(audit_task).await;
        return Ok(ExitCode::SUCCESS);
    }

    let started = std::time::Instant::now();
    // Batches and pages print the first, the last and then at most one line a second, so a
    // CRL of a million entries shows progress without a thousand lines.
    let mut last_line: Option<std::time::Instant> = None;
    let mut print = |progress: Progress| {
        let throttled = match &progress {
            Progress::CrlBatch { done, total, .. } => done != total,
            Progress::RecheckPage { .. } => true,
            _ => false,
        };
        if throttled && last_line.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1)) {
            return;
        }
        last_line = throttled.then(std::time::Instant::now);
        step(progress);
    };
    let report = sync.cycle(true, &mut print).await;
    drop(sync);
    finish_audit(audit_task).await;
    let report = report?;
    let verdict = if report.is_success() { "done" } else { "done with failures" };
    step(format!("{verdict} in {:.1?}: {report}", started.elapsed()));
    if let Some(recheck) = &report.recheck {
        step(format!(
            "re-check: {} good, {} revoked, {} unknown, {} errors, {} without a readable serial",
            recheck.good, recheck.revoked, recheck.unknown, recheck.errors, recheck.unreadable
        ));
    }
    for crl in report.crls.iter().filter(|c| c.deferred > 0) {
        step(format!(
            "crl {}: {} superseded entries deferred (the renewal link feed could not be read)",
            crl.origin, crl.deferred
        ));
    }
    Ok(if report.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Lets the audit writer commit what is queued and stop (its handles are gone).
async fn finish_audit(task: tokio::task::JoinHandle<()>) {
    if tokio::time::timeout(std::time::Duration::from_secs(10), task).await.is_err() {
        tracing::warn!(target: "honnin::revocation", "the audit log writer did not stop in time");
    }
}
