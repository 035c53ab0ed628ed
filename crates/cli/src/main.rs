//! The `honnin` binary. Each subcommand lives in its own module; `main` only parses arguments
//! and dispatches. What the subcommands share (logging set-up, the runtime, signals) is in
//! `runtime`, the settings and their resolution in `config`; the service itself is
//! honnin-service. User-facing output (JSON results) goes to stdout; diagnostics to stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod audit;
#[cfg(feature = "card")]
mod card;
mod config;
mod deploy;
mod dev;
mod jpki;
mod migrate;
mod openapi;
mod revocation;
mod runtime;
mod serve;

/// honnin: a My Number card (JPKI) → privacy-preserving KYC attestation on an EVM chain.
#[derive(Debug, Parser)]
#[command(name = "honnin", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands, each in its own module.
#[derive(Debug, Subcommand)]
enum Command {
    /// The My Number card through a PC/SC reader: status, certificate, sign, and the attest,
    /// revoke and erase flows against the API.
    #[cfg(feature = "card")]
    #[command(subcommand)]
    Card(card::CardCommand),
    /// Inspect and verify JPKI certificates and card signatures offline.
    #[command(subcommand)]
    Jpki(jpki::JpkiCommand),
    /// Serve the HTTP API (configured by HONNIN_* variables, flags and an optional TOML file).
    Serve(Box<serve::ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(Box<migrate::MigrateArgs>),
    /// Deploy the KycRegistry contract, grant its roles and print its address.
    Deploy(Box<deploy::DeployArgs>),
    /// Run everything locally: anvil, registry, simulated JPKI root, SQLite, API, chain writer
    /// (`--demo`: walk one simulated person through the whole flow and exit).
    Dev(Box<dev::DevArgs>),
    /// The revocation sync: `honnin revocation sync --once` runs one cycle by hand.
    #[command(subcommand)]
    Revocation(revocation::RevocationCommand),
    /// The audit log: `verify` its hash chain, `export` it as JSON lines.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Print the API's OpenAPI document (as served at /openapi.json), without a server.
    Openapi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        #[cfg(feature = "card")]
        Command::Card(command) => card::run(command),
        Command::Jpki(command) => jpki::run(command),
        Command::Serve(args) => serve::run(*args),
        Command::Migrate(args) => migrate::run(*args),
        Command::Deploy(args) => deploy::run(*args),
        Command::Dev(args) => dev::run(*args),
        Command::Revocation(command) => revocation::run(command),
        Command::Audit(command) => audit::run(command),
        Command::Openapi => openapi::run(),
    }
}
