//! `honnin audit verify` and `honnin audit export`: the hash-chained audit log, offline.
//!
//! `verify` reads the stored head (last sequence number and hash) first, then every row up to
//! it in sequence order, a page at a time, recomputing each row's hash and checking that it
//! links to the row before: exit 0 with the number of rows, or exit 1 naming the first bad row
//! and why (edited, missing, unlinked, truncated tail). Rows appended while it runs (a live
//! service) are after the head it read and are left for the next run.
//!
//! `export` writes rows as JSON lines (the API's field names: `seq`, `at`, `kind`, `code`,
//! `attestation_id`, `context`, `prev_hash`, `hash`), optionally limited to a time range.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{
    io::{BufWriter, Write as _},
    path::PathBuf,
    process::ExitCode,
};

use anyhow::Context as _;
use honnin_core::{AuditEventKind, AuditQuery, ChainVerifier};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    config::{LogConfig, Settings, database},
    runtime,
};

/// Rows per page read from the store.
const PAGE: u32 = 5_000;

/// The `audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the audit log's hash chain: exit 0 with the number of rows, or 1 naming the first
    /// bad row (edited, deleted, truncated).
    Verify(Box<DatabaseArgs>),
    /// Write audit rows as JSON lines (to stdout, or --out FILE).
    Export(Box<ExportArgs>),
}

/// The settings (only the database ones are used) and the config file.
#[derive(Debug, clap::Args)]
pub(crate) struct DatabaseArgs {
    /// A TOML file of settings; flags and environment win over it.
    #[arg(long, env = "HONNIN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: Settings,
}

/// `honnin audit export` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// Write to this file (created or truncated) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    from: Option<OffsetDateTime>,
    /// Only events before this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    to: Option<OffsetDateTime>,
    /// Only these event kinds (comma-separated, e.g. `attestation_revoked,erasure`).
    #[arg(long, value_name = "KIND", value_delimiter = ',', value_parser = parse_kind)]
    event: Vec<AuditEventKind>,
    #[command(flatten)]
    database: DatabaseArgs,
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| format!("expected an RFC 3339 time: {e}"))
}

fn parse_kind(text: &str) -> Result<AuditEventKind, String> {
    text.parse().map_err(|_| {
        let kinds: Vec<&str> = AuditEventKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown event kind; one of {}", kinds.join(", "))
    })
}

/// Runs an `audit` subcommand.
pub(crate) fn run(command: AuditCommand) -> ExitCode {
    let args = match &command {
        AuditCommand::Verify(args) => args.as_ref(),
        AuditCommand::Export(export) => &export.database,
    };
    let settings = match args.settings.clone().with_file(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => return runtime::fail(&error),
    };
    let database = match database(&settings) {
        Ok(database) => database,
        Err(error) => return runtime::fail(&error),
    };
    runtime::run(&LogConfig::from_settings(&settings), async move {
        let outcome = async {
            let store = honnin_service::open_store(&database).await?;
            match command {
                AuditCommand::Verify(_) => verify(store.as_ref()).await,
                AuditCommand::Export(export) => self::export(store.as_ref(), &export).await,
            }
        };
        match outcome.await {
            Ok(code) => code,
            Err(error) => runtime::fail(&format_args!("{error:#}")),
        }
    })
}

async fn verify(store: &dyn honnin_core::Store) -> anyhow::Result<ExitCode> {
    let head = store.audit_head().await.context("reading the audit head")?;
    let Some((head_seq, _)) = head else {
        // An empty log must really be empty: rows without a head mean the head was deleted.
        let first = store.audit_page(&AuditQuery::all_after(None, 1)).await?;
        if let Some(row) = first.first() {
            println!("audit log BROKEN: row {} exists but the head is missing", row.seq);
            return Ok(ExitCode::FAILURE);
        }
        println!("audit log intact: 0 rows");
        return Ok(ExitCode::SUCCESS);
    };
    let mut verifier = ChainVerifier::new();
    let mut after = None;
    'pages: loop {
        let page = store
            .audit_page(&AuditQuery::all_after(after, PAGE))
            .await
            .context("reading the audit log")?;
        let full = page.len() as u32 >= PAGE;
        for record in &page {
            if record.seq > head_seq {
                break 'pages;
            }
            if let Err(broken) = verifier.check(record) {
                println!("audit log BROKEN: {broken}");
                return Ok(ExitCode::FAILURE);
            }
            after = Some(record.seq);
        }
        if !full {
            break;
        }
        if after.is_some_and(|seq| seq % 100_000 < u64::from(PAGE)) {
            eprintln!("checked {} rows…", after.unwrap_or(0));
        }
    }
    match verifier.finish(head) {
        Ok(rows) => {
            println!("audit log intact: {rows} rows (head {head_seq})");
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            println!("audit log BROKEN: {broken}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn export(store: &dyn honnin_core::Store, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let sink: Box<dyn std::io::Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = BufWriter::new(sink);
    let mut after = None;
    let mut rows = 0u64;
    loop {
        let query = AuditQuery {
            from: args.from,
            to: args.to,
            kinds: args.event.clone(),
            after_seq: after,
            limit: PAGE,
        };
        let page = store.audit_page(&query).await.context("reading the audit log")?;
        for record in &page {
            serde_json::to_writer(&mut sink, record)?;
            sink.write_all(b"\n")?;
            after = Some(record.seq);
            rows += 1;
        }
        if (page.len() as u32) < PAGE {
            break;
        }
    }
    sink.flush()?;
    eprintln!("exported {rows} audit rows");
    Ok(ExitCode::SUCCESS)
}
