//! The `honnin` binary. Each subcommand lives in its own module; `main` only parses arguments
//! and dispatches. User-facing output (JSON results) goes to stdout; diagnostics to stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod jpki;

/// honnin: a My Number card (JPKI) → privacy-preserving KYC attestation on an EVM chain.
#[derive(Debug, Parser)]
#[command(name = "honnin", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. Add new ones (serve, migrate, deploy, dev, audit, revocation) as variants
/// with their own module.
#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect and verify JPKI certificates and card signatures offline.
    #[command(subcommand)]
    Jpki(jpki::JpkiCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Jpki(command) => jpki::run(command),
    }
}
