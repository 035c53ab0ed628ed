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
//! | 5 | not a My Number card (no JPKI AP, or a certificate honnin cannot use) |
//! | 6 | wrong PIN (the tries left are printed) |
//! | 7 | PIN locked (only the city office unlocks it) |
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
use honnin_core::Address;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::config::{LogConfig, LogFormat};

/// The card commands.
#[derive(Debug, Subcommand)]
pub(crate) enum CardCommand {
    /// Readers, whether a card is present, plastic card or smartphone, PIN tries left (no PIN).
    Status(StatusArgs),
    /// Read the user-authentication certificate and print its profile summary.
    Certificate(CertificateArgs),
    /// Sign a file's exact bytes with the card (asks for the PIN).
    Sign(SignArgs),
    /// Ask the API for a challenge and print its id and message (for scripts).
    Challenge(ChallengeArgs),
    /// Attest a wallet: challenge → card signature (PIN) → wallet signature → submit →
    /// follow to `active`.
    Attest(AttestArgs),
    /// Revoke the wallet's attestation: challenge → wallet signature → submit.
    Revoke(RevokeArgs),
    /// Erase what honnin keeps about the card: challenge → card signature (PIN) → submit.
    Erase(EraseArgs),
}

/// Which reader and how long to wait for a card.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReaderArgs {
    /// The reader to use (default: the first with a card).
    #[arg(long, value_name = "NAME")]
    reader: Option<String>,
    /// Seconds to wait for a card on the reader.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    wait: u64,
    /// Log filter (tracing `EnvFilter` syntax); logs go to stderr and never hold the PIN.
    #[arg(long, env = "HONNIN_LOG", default_value = "warn", value_name = "FILTER")]
    log: String,
    /// One JSON object on stdout instead of readable lines.
    #[arg(long)]
    json: bool,
}

/// How the PIN is entered.
#[derive(Debug, Clone, Args)]
pub(crate) struct PinArgs {
    /// Read the PIN from the first line of standard input instead of the terminal (scripts).
    #[arg(long)]
    pin_stdin: bool,
    /// With `--pin-stdin`: spend the last PIN try when only one is left (the terminal asks).
    #[arg(long, requires = "pin_stdin")]
    confirm_last_try: bool,
}

/// Where the service is and which wallet.
#[derive(Debug, Clone, Args)]
pub(crate) struct ApiArgs {
    /// The honnin API's base URL (e.g. http://127.0.0.1:8080).
    #[arg(long, value_name = "URL")]
    api: String,
    /// The wallet: 0x and 40 hex digits.
    #[arg(long, value_name = "0x…", value_parser = parse_address)]
    wallet: Address,
    /// Who the attestation is for (shown in the message).
    #[arg(long)]
    audience: Option<String>,
    /// Use a challenge fetched before (`honnin card challenge`) instead of asking a new one.
    #[arg(long, value_name = "ID", requires = "message")]
    challenge: Option<String>,
    /// With `--challenge`: the file holding that challenge's exact message.
    #[arg(long, value_name = "FILE", requires = "challenge")]
    message: Option<PathBuf>,
}

/// Where the wallet's EIP-191 signature comes from (default: pasted on standard input).
#[derive(Debug, Clone, Args)]
pub(crate) struct WalletSignatureArgs {
    /// The wallet's signature of the message (0x hex), e.g. from `cast wallet sign`.
    #[arg(long, value_name = "0x…", conflicts_with = "wallet_signature_file")]
    wallet_signature: Option<String>,
    /// A file holding the wallet's signature, read once the message is shown.
    #[arg(long, value_name = "FILE")]
    wallet_signature_file: Option<PathBuf>,
    /// Also write the message to this file when it is shown (to sign it with a wallet tool).
    #[arg(long, value_name = "FILE")]
    message_out: Option<PathBuf>,
}

/// Asking the chain directly for the final answer.
#[derive(Debug, Clone, Args)]
pub(crate) struct ChainArgs {
    /// An RPC URL: also ask the registry's `isVerified(wallet)` at the end.
    #[arg(long, value_name = "URL", requires = "registry")]
    rpc_url: Option<String>,
    /// The KycRegistry address (with `--rpc-url`).
    #[arg(long, value_name = "0x…", value_parser = parse_address, requires = "rpc_url")]
    registry: Option<Address>,
    /// Seconds to follow the attestation before giving up.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    timeout: u64,
}

/// `honnin card status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    reader: ReaderArgs,
}

/// `honnin card certificate`.
#[derive(Debug, Args)]
pub(crate) struct CertificateArgs {
    #[command(flatten)]
    reader: ReaderArgs,
    /// Write the certificate (DER) to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also print the subject id and serial number (personal data).
    #[arg(long)]
    show_subject: bool,
}

/// `honnin card sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    reader: ReaderArgs,
    #[command(flatten)]
    pin: PinArgs,
    /// The file whose exact bytes the card signs.
    #[arg(long, value_name = "FILE")]
    message: PathBuf,
    /// Where to write the signature (raw bytes).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// A challenge's purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Purpose {
    /// Attest the wallet.
    Attest,
    /// Revoke the wallet's attestation.
    Revoke,
    /// Erase the person.
    Erase,
}

impl Purpose {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Attest => "attest",
            Self::Revoke => "revoke",
            Self::Erase => "erase",
        }
    }
}

/// `honnin card challenge`.
#[derive(Debug, Args)]
pub(crate) struct ChallengeArgs {
    /// The honnin API's base URL.
    #[arg(long, value_name = "URL")]
    api: String,
    /// The wallet: 0x and 40 hex digits.
    #[arg(long, value_name = "0x…", value_parser = parse_address)]
    wallet: Address,
    /// What the challenge is for.
    #[arg(long, value_enum, default_value = "attest")]
    purpose: Purpose,
    /// Who the attestation is for.
    #[arg(long)]
    audience: Option<String>,
    /// Write the message to this file (for `--message`).
    #[arg(long, value_name = "FILE")]
    message_out: Option<PathBuf>,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// `honnin card attest`.
#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    #[command(flatten)]
    reader: ReaderArgs,
    #[command(flatten)]
    pin: PinArgs,
    #[command(flatten)]
    api: ApiArgs,
    #[command(flatten)]
    wallet_signature: WalletSignatureArgs,
    #[command(flatten)]
    chain: ChainArgs,
}

/// `honnin card revoke`.
#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    #[command(flatten)]
    api: ApiArgs,
    #[command(flatten)]
    wallet_signature: WalletSignatureArgs,
    #[command(flatten)]
    chain: ChainArgs,
    /// One JSON object on stdout instead of readable lines.
    #[arg(long)]
    json: bool,
}

/// `honnin card erase`.
#[derive(Debug, Args)]
pub(crate) struct EraseArgs {
    #[command(flatten)]
    reader: ReaderArgs,
    #[command(flatten)]
    pin: PinArgs,
    #[command(flatten)]
    api: ApiArgs,
    #[command(flatten)]
    chain: ChainArgs,
}

fn parse_address(text: &str) -> Result<Address, String> {
    let digits = text.strip_prefix("0x").unwrap_or("");
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("must be 0x and 40 hex digits".into());
    }
    digits.parse().map_err(|e| format!("{e}"))
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
        CardError::PinFormat | CardError::LastTryNotConfirmed => 2,
        CardError::NoService | CardError::NoReader | CardError::ReaderNotFound { .. } => 3,
        CardError::NoCard { .. } => 4,
        CardError::NotJpki | CardError::Certificate(_) => 5,
        CardError::WrongPin { .. } => 6,
        CardError::PinLocked => 7,
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

/// Standard input read in lines we own: the PIN line never sits in a buffer we cannot wipe.
///
/// Reads go straight to the file descriptor: `Stdin`'s own 8 KiB buffer is bypassed because
/// it is empty and each read asks for more than its capacity.
#[derive(Default)]
struct Input {
    pending: Zeroizing<Vec<u8>>,
}

const INPUT_CAPACITY: usize = 64 * 1024;

impl Input {
    fn line(&mut self) -> Outcome<Zeroizing<String>> {
        if self.pending.capacity() < INPUT_CAPACITY {
            // Reserved once, so the buffer never moves (a move would leave a copy behind).
            self.pending.reserve_exact(INPUT_CAPACITY);
        }
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line = Zeroizing::new(self.pending[..end].to_vec());
                self.pending.drain(..=end);
                return utf8_line(line);
            }
            let mut chunk = Zeroizing::new(vec![0u8; 16 * 1024]);
            let n = std::io::stdin().lock().read(&mut chunk).map_err(usage)?;
            if n == 0 {
                if self.pending.is_empty() {
                    return Err(usage(anyhow!("standard input ended before the expected line")));
                }
                let line = Zeroizing::new(std::mem::take(&mut *self.pending));
                return utf8_line(line);
            }
            if self.pending.len() + n > INPUT_CAPACITY {
                return Err(usage(anyhow!("standard input line too long")));
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }
}

fn utf8_line(mut bytes: Zeroizing<Vec<u8>>) -> Outcome<Zeroizing<String>> {
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(usage(anyhow!("standard input is not UTF-8"))),
    }
}

/// Output for people or scripts, and the one standard-input reader.
struct Ui {
    json: bool,
    input: Input,
}

impl Ui {
    /// A narration line (stderr, so stdout stays the result).
    fn say(&self, text: impl std::fmt::Display) {
        eprintln!("{text}");
    }

    /// A result line for people (stdout; nothing in `--json` mode).
    fn result(&self, text: impl std::fmt::Display) {
        if !self.json {
            println!("{text}");
        }
    }

    fn show_message(&self, message: &str) {
        self.say("The message to sign / 署名するメッセージ:");
        for line in message.lines() {
            self.say(format!("    | {line}"));
        }
    }

    fn failed(&self, failure: &Failure) -> ExitCode {
        let (code, value) = match failure {
            Failure::Card(error) => (card_exit(error), error_json(error)),
            Failure::Printed(value, code) => (*code, value.clone()),
            Failure::Usage(error) => {
                (2, json!({ "ok": false, "error": "usage", "message": format!("{error:#}") }))
            }
            Failure::Service(error) => {
                (1, json!({ "ok": false, "error": "service", "message": format!("{error:#}") }))
            }
        };
        if self.json {
            println!("{value}");
        } else {
            eprintln!("error: {}", value["message"].as_str().unwrap_or_default());
            if let Some(ja) = value["message_ja"].as_str() {
                eprintln!("エラー: {ja}");
            }
        }
        ExitCode::from(code)
    }
}

/// A card error as JSON: stable code, English and Japanese sentences, tries left.
fn error_json(error: &CardError) -> Value {
    let mut value = json!({
        "ok": false,
        "error": error.code(),
        "message": error.to_string(),
        "message_ja": error.message_ja(),
    });
    if let CardError::WrongPin { tries_left } = error {
        value["pin_tries_left"] = json!(tries_left);
    }
    value
}

/// Waits for a card and opens its JPKI AP.
fn open(args: &ReaderArgs, ui: &Ui) -> Outcome<JpkiCard<PcscTransport>> {
    let readers = Readers::establish()?;
    let wait = Duration::from_secs(args.wait);
    if args.wait > 0 && !readers.list()?.iter().any(|r| r.card_present) {
        ui.say(format!(
            "Put your My Number card on the reader (waiting {} s) / マイナンバーカードをリーダーに置いてください",
            args.wait
        ));
    }
    let reader = readers.wait_for_card(args.reader.as_deref(), wait)?;
    tracing::debug!(target: "honnin::card", reader, "card present");
    Ok(JpkiCard::open(readers.connect(&reader)?)?)
}

/// Closes the card with a reset (also on drop; this reports a failure to reset).
fn close(card: JpkiCard<PcscTransport>) -> Outcome<()> {
    Ok(card.into_transport().close()?)
}

fn status(args: &StatusArgs, ui: &Ui) -> Outcome {
    let readers = Readers::establish()?;
    let list = readers.list()?;
    let list_json: Vec<Value> =
        list.iter().map(|r| json!({ "name": r.name, "card_present": r.card_present })).collect();
    for reader in &list {
        ui.result(format!(
            "reader   {} ({})",
            reader.name,
            if reader.card_present {
                "card present / カードあり"
            } else {
                "no card / カードなし"
            }
        ));
    }
    // No waiting: status tells what is there now.
    let reader = match readers.wait_for_card(args.reader.reader.as_deref(), Duration::ZERO) {
        Ok(reader) => reader,
        Err(error @ CardError::NoCard { .. }) => {
            ui.result("card     none / カードなし");
            let mut value = error_json(&error);
            value["readers"] = json!(list_json);
            value["card_present"] = json!(false);
            return Err(Failure::Printed(value, card_exit(&error)));
        }
        Err(other) => return Err(other.into()),
    };
    let mut card = JpkiCard::open(readers.connect(&reader)?)?;
    let kind = card.kind();
    let state = card.pin_state(Key::Authentication);
    close(card)?;
    let (tries, locked) = match state {
        Ok(PinState::TriesLeft(n)) => (Some(n), false),
        Ok(PinState::Verified) => (None, false),
        Err(CardError::PinLocked) => (Some(0), true),
        Err(other) => return Err(other.into()),
    };
    ui.result(format!("card     My Number card ({}) / マイナンバーカード", kind.as_str()));
    ui.result(match (tries, locked) {
        (_, true) => {
            "PIN      locked: only your city office can unlock it / ロック中 (市区町村の窓口で解除)"
                .to_owned()
        }
        (Some(n), false) => {
            format!("PIN      {n} of {} tries left / 残り {n} 回", Key::Authentication.max_tries())
        }
        (None, false) => {
            "PIN      verified by another program / 他のプログラムで照合済み".to_owned()
        }
    });
    Ok(json!({
        "ok": true,
        "readers": list_json,
        "reader": reader,
        "card_present": true,
        "jpki": true,
        "kind": kind.as_str(),
        "pin_tries_left": tries,
        "pin_locked": locked,
    }))
}

fn certificate(args: &CertificateArgs, ui: &Ui) -> Outcome {
    let mut card = open(&args.reader, ui)?;
    let der = card.certificate(Key::Authentication)?;
    close(card)?;
    if let Some(out) = &args.out {
        std::fs::write(out, &der)
            .with_context(|| format!("cannot write {}", out.display()))
            .map_err(usage)?;
        ui.say(format!("certificate written to {}", out.display()));
    }
    let summary = honnin_jpki::inspect(&der).map_err(CardError::Certificate)?;
    let mut value = crate::jpki::summary_json(&summary, args.show_subject);
    if !ui.json {
        ui.result(serde_json::to_string_pretty(&value).unwrap_or_default());
    }
    if let Some(out) = &args.out {
        value["out"] = json!(out.display().to_string());
    }
    Ok(value)
}

/// Asks the tries left, confirms the last one, reads the PIN and signs `message`.
fn card_signature(
    card: &mut JpkiCard<PcscTransport>,
    pin: &PinArgs,
    message: &[u8],
    ui: &mut Ui,
) -> Outcome<Vec<u8>> {
    let tries = match card.pin_state(Key::Authentication)? {
        PinState::TriesLeft(n) => n,
        PinState::Verified => Key::Authentication.max_tries(),
    };
    ui.say(format!("PIN: {tries} tries left / 暗証番号: 残り {tries} 回"));
    let last_try = if tries > 1 {
        LastTry::Refuse
    } else if pin.pin_stdin {
        if pin.confirm_last_try {
            LastTry::Confirmed
        } else {
            return Err(CardError::LastTryNotConfirmed.into());
        }
    } else {
        confirm_on_terminal()?
    };
    let pin = if pin.pin_stdin {
        Pin::from_line(&ui.input.line()?)?
    } else {
        let line = rpassword::prompt_password(
            "User-authentication PIN (4 digits) / 利用者証明用暗証番号 (4桁): ",
        )
        .map(Zeroizing::new)
        .map_err(|e| {
            usage(anyhow!("cannot read the PIN from the terminal ({e}): use --pin-stdin"))
        })?;
        Pin::from_line(&line)?
    };
    ui.say("Signing with the card… / カードで署名しています…");
    let signature = card.sign(Key::Authentication, &pin, message, last_try)?;
    drop(pin);
    Ok(signature)
}

/// At one try left: the person types `yes` on the terminal, or nothing is sent.
fn confirm_on_terminal() -> Outcome<LastTry> {
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|e| usage(anyhow!("no terminal to confirm the last PIN try ({e})")))?;
    write!(
        tty,
        "Only ONE PIN try is left: a wrong PIN locks the card until your city office unlocks it.\n\
         残り 1 回です。間違えるとカードがロックされ、市区町村の窓口でしか解除できません。\n\
         Type yes to continue / 続けるには yes と入力: "
    )
    .map_err(usage)?;
    let mut answer = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(tty), &mut answer).map_err(usage)?;
    if answer.trim() == "yes" {
        Ok(LastTry::Confirmed)
    } else {
        Err(CardError::LastTryNotConfirmed.into())
    }
}

fn read_file(path: &Path, what: &str) -> Outcome<Vec<u8>> {
    std::fs::read(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))
        .map_err(usage)
}

fn sign(args: &SignArgs, ui: &mut Ui) -> Outcome {
    let message = read_file(&args.message, "message")?;
    let mut card = open(&args.reader, ui)?;
    let certificate = card.certificate(Key::Authentication)?;
    let signature = card_signature(&mut card, &args.pin, &message, ui)?;
    close(card)?;
    std::fs::write(&args.out, &signature)
        .with_context(|| format!("cannot write {}", args.out.display()))
        .map_err(usage)?;
    ui.result(format!(
        "signed {} bytes; signature ({} bytes) written to {}",
        message.len(),
        signature.len(),
        args.out.display()
    ));
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(json!({
        "ok": true,
        "certificate": b64.encode(&certificate),
        "signature": b64.encode(&signature),
        "out": args.out.display().to_string(),
    }))
}

/// The honnin API over HTTP, blocking (one request at a time; the card is the slow part).
struct Api {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Outcome<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Service(e.into()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Failure::Service(e.into()))?;
        Ok(Self { runtime, http, base: base.trim_end_matches('/').to_owned() })
    }

    fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Outcome<T> {
        self.runtime
            .block_on(async {
                let response =
                    request.send().await.with_context(|| format!("{what}: no answer"))?;
                let status = response.status();
                let body: Value =
                    response.json().await.with_context(|| format!("{what}: not JSON"))?;
                if !status.is_success() {
                    match serde_json::from_value::<Problem>(body) {
                        Ok(problem) => bail!(
                            "{what}: the service answered {status} {}: {}",
                            problem.code,
                            problem.detail
                        ),
                        Err(_) => bail!("{what}: the service answered {status}"),
                    }
                }
                serde_json::from_value(body).with_context(|| format!("{what}: unexpected answer"))
            })
            .map_err(Failure::Service)
    }

    /// The polling interval of `follow` and `chain_answer`.
    fn pause(&self) {
        self.runtime.block_on(async { tokio::time::sleep(Duration::from_millis(250)).await });
    }

    fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Outcome<T> {
        let url = format!("{}{path}", self.base);
        self.send(self.http.post(&url).json(body), &format!("POST {path}"))
    }

    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Outcome<T> {
        let url = format!("{}{path}", self.base);
        self.send(self.http.get(&url), &format!("GET {path}"))
    }

    fn challenge(
        &self,
        wallet: Address,
        purpose: Purpose,
        audience: Option<String>,
    ) -> Outcome<ChallengeResponse> {
        self.post(
            "/v1/challenges",
            &ChallengeRequest {
                wallet: wallet.to_checksum(None),
                audience,
                purpose: Some(purpose.as_str().to_owned()),
            },
        )
    }
}

/// A fresh challenge, or the one named by `--challenge` and `--message`.
fn challenge_for(
    api: &Api,
    args: &ApiArgs,
    purpose: Purpose,
    ui: &Ui,
) -> Outcome<(String, String)> {
    let (id, message) = match (&args.challenge, &args.message) {
        (Some(id), Some(path)) => {
            let bytes = read_file(path, "message")?;
            let text =
                String::from_utf8(bytes).map_err(|_| usage(anyhow!("the message is not UTF-8")))?;
            (id.clone(), text)
        }
        _ => {
            ui.say(format!(
                "Asking {} for a challenge ({}) / チャレンジを取得",
                api.base,
                purpose.as_str()
            ));
            let challenge = api.challenge(args.wallet, purpose, args.audience.clone())?;
            ui.say(format!("challenge {}, expires {}", challenge.id, challenge.expires_at));
            (challenge.id, challenge.message)
        }
    };
    ui.show_message(&message);
    Ok((id, message))
}

/// The wallet's EIP-191 signature of the message shown: flag, file, or pasted.
fn wallet_signature(args: &WalletSignatureArgs, message: &str, ui: &mut Ui) -> Outcome<String> {
    if let Some(out) = &args.message_out {
        std::fs::write(out, message)
            .with_context(|| format!("cannot write {}", out.display()))
            .map_err(usage)?;
        ui.say(format!("message written to {}", out.display()));
    }
    let text = match (&args.wallet_signature, &args.wallet_signature_file) {
        (Some(signature), _) => signature.clone(),
        (None, Some(path)) => String::from_utf8(read_file(path, "wallet signature")?)
            .map_err(|_| usage(anyhow!("the wallet signature file is not text")))?,
        (None, None) => {
            ui.say(
                "Sign the message above with your wallet (EIP-191 personal_sign, e.g. `cast wallet sign`) \
                 and paste the signature (0x…) / ウォレットで上のメッセージに署名し、署名を貼り付けてください:",
            );
            ui.input.line()?.trim().to_owned()
        }
    };
    let text = text.trim().to_owned();
    let hex_ok = text.strip_prefix("0x").is_some_and(|h| {
        !h.is_empty() && h.len() % 2 == 0 && h.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if !hex_ok {
        return Err(usage(anyhow!("the wallet signature must be 0x and hex digits")));
    }
    Ok(text)
}

/// Follows the wallet's attestation until `want` (a progress line on stderr).
fn follow(api: &Api, wallet: Address, want: &str, chain: &ChainArgs) -> Outcome<AttestationView> {
    let started = Instant::now();
    let path = format!("/v1/attestations/{}", wallet.to_checksum(None));
    loop {
        let view: AttestationView = api.get(&path)?;
        let status = view.status.as_str();
        eprint!("\r  {status} after {:.1} s / 状態 {status}   ", started.elapsed().as_secs_f64());
        if status == want {
            eprintln!();
            return Ok(view);
        }
        if status != "pending" {
            eprintln!();
            return Err(Failure::Service(anyhow!("the attestation is {status}, not {want}")));
        }
        if started.elapsed() > Duration::from_secs(chain.timeout) {
            eprintln!();
            return Err(Failure::Service(anyhow!("still {status} after {} s", chain.timeout)));
        }
        api.pause();
    }
}

/// With `--rpc-url`: asks the registry's `isVerified(wallet)` until it answers `want` (the
/// writer sends queued transactions in batches), and returns the last answer.
fn chain_answer(
    api: &Api,
    wallet: Address,
    want: bool,
    chain: &ChainArgs,
    ui: &Ui,
) -> Outcome<Option<bool>> {
    let (Some(url), Some(registry)) = (&chain.rpc_url, chain.registry) else { return Ok(None) };
    let url: reqwest::Url = url.parse().map_err(|e| usage(anyhow!("--rpc-url: {e}")))?;
    let provider = ProviderBuilder::new().connect_http(url);
    let contract = honnin_chain::bindings::KycRegistry::new(registry, &provider);
    let started = Instant::now();
    let verified = loop {
        let verified = api
            .runtime
            .block_on(async { contract.isVerified_1(wallet).call().await })
            .map_err(|e| Failure::Service(anyhow!("isVerified: {e}")))?;
        if verified == want || started.elapsed() > Duration::from_secs(chain.timeout) {
            break verified;
        }
        api.pause();
    };
    ui.say(format!("on chain: KycRegistry({registry}).isVerified({wallet}) = {verified}"));
    Ok(Some(verified))
}

fn challenge_cmd(args: &ChallengeArgs, ui: &Ui) -> Outcome {
    let api = Api::new(&args.api)?;
    let challenge = api.challenge(args.wallet, args.purpose, args.audience.clone())?;
    if let Some(out) = &args.message_out {
        std::fs::write(out, &challenge.message)
            .with_context(|| format!("cannot write {}", out.display()))
            .map_err(usage)?;
    }
    ui.result(format!("challenge {} (expires {})", challenge.id, challenge.expires_at));
    if !ui.json {
        ui.show_message(&challenge.message);
    }
    Ok(
        json!({ "ok": true, "id": challenge.id, "message": challenge.message, "expires_at": challenge.expires_at }),
    )
}

fn attest(args: &AttestArgs, ui: &mut Ui) -> Outcome {
    let api = Api::new(&args.api.api)?;
    let (challenge_id, message) = challenge_for(&api, &args.api, Purpose::Attest, ui)?;
    let mut card = open(&args.reader, ui)?;
    let certificate = card.certificate(Key::Authentication)?;
    let card_sig = card_signature(&mut card, &args.pin, message.as_bytes(), ui)?;
    close(card)?;
    ui.say("The card signed the message / カードで署名しました");
    let wallet_sig = wallet_signature(&args.wallet_signature, &message, ui)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let accepted: AttestationAccepted = api.post(
        "/v1/attestations",
        &AttestationRequest {
            challenge_id,
            certificate: b64.encode(&certificate),
            card_signature: b64.encode(&card_sig),
            wallet_signature: wallet_sig,
        },
    )?;
    ui.say(format!("accepted: attestation {} ({})", accepted.attestation_id, accepted.status));
    let view = follow(&api, args.api.wallet, "active", &args.chain)?;
    let verified = chain_answer(&api, args.api.wallet, true, &args.chain, ui)?;
    ui.result(format!(
        "active: attestation {} for {} on chain in tx {} (block {}), expires {}",
        view.attestation_id,
        view.wallet,
        view.tx_hash.as_deref().unwrap_or("?"),
        view.block_number.map_or_else(|| "?".into(), |b| b.to_string()),
        view.expires_at
    ));
    Ok(json!({
        "ok": true,
        "attestation_id": view.attestation_id,
        "wallet": view.wallet,
        "status": view.status.as_str(),
        "tx_hash": view.tx_hash,
        "block_number": view.block_number,
        "expires_at": view.expires_at,
        "is_verified": verified,
    }))
}

fn revoke(args: &RevokeArgs, ui: &mut Ui) -> Outcome {
    let api = Api::new(&args.api.api)?;
    let (challenge_id, message) = challenge_for(&api, &args.api, Purpose::Revoke, ui)?;
    let wallet_sig = wallet_signature(&args.wallet_signature, &message, ui)?;
    let revoked: RevocationAccepted = api.post(
        "/v1/revocations",
        &RevocationRequest { challenge_id, wallet_signature: wallet_sig },
    )?;
    let view = follow(&api, args.api.wallet, "revoked", &args.chain)?;
    let verified = chain_answer(&api, args.api.wallet, false, &args.chain, ui)?;
    ui.result(format!(
        "revoked: attestation {} for {} ({}); the on-chain revoke is queued",
        revoked.attestation_id,
        revoked.wallet,
        revoked.reason.as_str()
    ));
    Ok(json!({
        "ok": true,
        "attestation_id": view.attestation_id,
        "wallet": view.wallet,
        "status": view.status.as_str(),
        "reason": revoked.reason.as_str(),
        "is_verified": verified,
    }))
}

fn erase(args: &EraseArgs, ui: &mut Ui) -> Outcome {
    let api = Api::new(&args.api.api)?;
    let (challenge_id, message) = challenge_for(&api, &args.api, Purpose::Erase, ui)?;
    let mut card = open(&args.reader, ui)?;
    let certificate = card.certificate(Key::Authentication)?;
    let card_sig = card_signature(&mut card, &args.pin, message.as_bytes(), ui)?;
    close(card)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let erased: ErasureAccepted = api.post(
        "/v1/erasures",
        &ErasureRequest {
            challenge_id,
            certificate: b64.encode(&certificate),
            card_signature: b64.encode(&card_sig),
        },
    )?;
    ui.result(format!(
        "erased: honnin forgot the card; {} attestation(s) revoked (on-chain revokes queued)",
        erased.revoked
    ));
    let verified = chain_answer(&api, args.api.wallet, false, &args.chain, ui)?;
    Ok(
        json!({ "ok": true, "erased": erased.erased, "revoked": erased.revoked, "is_verified": verified }),
    )
}
