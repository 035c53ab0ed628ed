//! `honnin card …`: the person's side. Reads the My Number card through a PC/SC reader
//! (honnin-card) and walks the attestation, revocation and erasure flows against the API.
//!
//! The PIN is read from the terminal with echo off, or with `--pin-stdin` from the first line
//! of standard input — never from a flag or the environment. It must be exactly 4 digits
//! before anything is sent; the tries left are asked (and shown) first; a locked card is
//! refused before any VERIFY; at one try left the person confirms (on the terminal, or
//! `--confirm-last-try` with `--pin-stdin`); a wrong PIN is never retried automatically.
//!
//! Output: readable lines on stdout (narration and prompts on stderr), or with `--json` one
//! JSON object on stdout. Exit codes:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | the service refused or failed (its problem code is printed) |
//! | 2 | usage: bad arguments or files, PIN not 4 digits, last try not confirmed |
//! | 3 | no reader, reader not found, or pcscd not running |
//! | 4 | no card on the reader in time |
//! | 5 | not a My Number card (no JPKI AP, or a certificate honnin cannot use), or no signing certificate |
//! | 6 | wrong PIN or signing password (the tries left are printed) |
//! | 7 | PIN or signing password locked (only the city office unlocks it) |
//! | 8 | card removed, busy, or another card or reader failure |

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{
    io::{Read as _, Write as _},
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};

use alloy::providers::ProviderBuilder;
use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use clap::{Args, Subcommand, ValueEnum};
use honnin_api::{
    AttestationAccepted, AttestationRequest, AttestationView, ChallengeRequest, ChallengeResponse,
    ErasureAccepted, ErasureRequest, Problem, RevocationAccepted, RevocationRequest,
};
use honnin_card::{
    Error as CardError, JpkiCard, Key, LastTry, Pin, PinState,
    pcsc::{PcscTransport, Readers},
};
use honnin_core::{Address, ScopeName};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::config::{LogConfig, LogFormat};

mod args;
mod bridge;
mod flows;
mod reader;
mod terminal;

pub(crate) use args::*;
pub(crate) use bridge::BridgeArgs;
use flows::*;
use reader::*;
use terminal::*;

/// The card commands.
#[derive(Debug, Subcommand)]
pub(crate) enum CardCommand {
    /// Readers, whether a card is present, plastic card or smartphone, PIN tries left (no PIN).
    Status(StatusArgs),
    /// Read the user-authentication certificate and print its profile summary.
    Certificate(CertificateArgs),
    /// Sign a file's exact bytes with the card (asks for the PIN; `--key signing`: the signing
    /// password).
    Sign(SignArgs),
    /// Ask the API for a challenge and print its id and message (for scripts).
    Challenge(ChallengeArgs),
    /// Attest a wallet: challenge → card signature (PIN) → wallet signature → submit →
    /// follow to `active`.
    Attest(Box<AttestArgs>),
    /// Revoke the wallet's attestation: challenge → wallet signature → submit.
    Revoke(RevokeArgs),
    /// Erase what honnin keeps about the card: challenge → card signature (PIN) → submit.
    Erase(EraseArgs),
    /// The card for the person's page: a loopback helper that shows which site asks and the
    /// exact message, reads `y` and the PIN on this terminal, and answers the signature.
    Bridge(BridgeArgs),
}

/// Why a card command failed: decides the exit code.
#[derive(Debug)]
enum Failure {
    /// The card or the reader.
    Card(CardError),
    /// Bad arguments, files or input.
    Usage(anyhow::Error),
    /// The service refused or failed.
    Service(anyhow::Error),
    /// A failure whose JSON is already built, with its exit code.
    Printed(Value, u8),
}

impl From<CardError> for Failure {
    fn from(error: CardError) -> Self {
        Self::Card(error)
    }
}

type Outcome<T = Value> = Result<T, Failure>;

fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure::Usage(error.into())
}

/// The exit code of a card error (the table in the module docs).
const fn card_exit(error: &CardError) -> u8 {
    match error {
        CardError::PinFormat | CardError::PasswordFormat | CardError::LastTryNotConfirmed => 2,
        CardError::NoService | CardError::NoReader | CardError::ReaderNotFound { .. } => 3,
        CardError::NoCard { .. } => 4,
        CardError::NotJpki | CardError::Certificate(_) | CardError::NoSigningCertificate => 5,
        CardError::WrongPin { .. } | CardError::WrongPassword { .. } => 6,
        CardError::PinLocked | CardError::PasswordLocked => 7,
        CardError::CardRemoved
        | CardError::CardBusy
        | CardError::NotVerified
        | CardError::FileNotFound { .. }
        | CardError::UnexpectedStatus { .. }
        | CardError::MalformedResponse { .. }
        | CardError::Reader { .. } => 8,
    }
}

/// Runs a `card` subcommand and maps the outcome to the exit code.
pub(crate) fn run(command: CardCommand) -> ExitCode {
    let (log, json) = match &command {
        CardCommand::Status(a) => (a.reader.log.clone(), a.reader.json),
        CardCommand::Certificate(a) => (a.reader.log.clone(), a.reader.json),
        CardCommand::Sign(a) => (a.reader.log.clone(), a.reader.json),
        CardCommand::Attest(a) => (a.reader.log.clone(), a.reader.json),
        CardCommand::Erase(a) => (a.reader.log.clone(), a.reader.json),
        CardCommand::Challenge(a) => (default_log(), a.json),
        CardCommand::Revoke(a) => (default_log(), a.json),
        CardCommand::Bridge(a) => (a.log.clone(), false),
    };
    if let Err(error) =
        crate::runtime::init_tracing(&LogConfig { filter: log, format: LogFormat::Text })
    {
        return crate::runtime::fail(&*error);
    }
    let mut ui = Ui { json, input: Input::default() };
    let outcome = match command {
        CardCommand::Status(args) => status(&args, &ui),
        CardCommand::Certificate(args) => certificate(&args, &ui),
        CardCommand::Sign(args) => sign(&args, &mut ui),
        CardCommand::Challenge(args) => challenge_cmd(&args, &ui),
        CardCommand::Attest(args) => attest(&args, &mut ui),
        CardCommand::Revoke(args) => revoke(&args, &mut ui),
        CardCommand::Erase(args) => erase(&args, &mut ui),
        CardCommand::Bridge(args) => bridge::bridge(args).map(|()| Value::Null),
    };
    match outcome {
        Ok(value) => {
            if json {
                println!("{value}");
            }
            ExitCode::SUCCESS
        }
        Err(failure) => ui.failed(&failure),
    }
}

fn default_log() -> String {
    std::env::var("HONNIN_LOG").unwrap_or_else(|_| "warn".into())
}
