//! The `honnin card` arguments (clap).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::*;

/// Which reader and how long to wait for a card.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReaderArgs {
    /// The reader to use (default: the first with a card).
    #[arg(long, value_name = "NAME")]
    pub(super) reader: Option<String>,
    /// Seconds to wait for a card on the reader.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(super) wait: u64,
    /// Log filter (tracing `EnvFilter` syntax); logs go to stderr and never hold the PIN.
    #[arg(long, env = "HONNIN_LOG", default_value = "warn", value_name = "FILTER")]
    pub(super) log: String,
    /// One JSON object on stdout instead of readable lines.
    #[arg(long)]
    pub(super) json: bool,
}

/// How the PIN is entered.
#[derive(Debug, Clone, Args)]
pub(crate) struct PinArgs {
    /// Read the PIN from the first line of standard input instead of the terminal (scripts).
    #[arg(long)]
    pub(super) pin_stdin: bool,
    /// With `--pin-stdin`: spend the last PIN try when only one is left (the terminal asks).
    #[arg(long, requires = "pin_stdin")]
    pub(super) confirm_last_try: bool,
}

/// Where the service is and which wallet.
#[derive(Debug, Clone, Args)]
pub(crate) struct ApiArgs {
    /// The honnin API's base URL (e.g. http://127.0.0.1:8080).
    #[arg(long, value_name = "URL")]
    pub(super) api: String,
    /// The wallet: 0x and 40 hex digits.
    #[arg(long, value_name = "0x…", value_parser = parse_address)]
    pub(super) wallet: Address,
    /// Who the attestation is for (shown in the message).
    #[arg(long)]
    pub(super) audience: Option<String>,
    /// Use a challenge fetched before (`honnin card challenge`) instead of asking a new one.
    #[arg(long, value_name = "ID", requires = "message")]
    pub(super) challenge: Option<String>,
    /// With `--challenge`: the file holding that challenge's exact message.
    #[arg(long, value_name = "FILE", requires = "challenge")]
    pub(super) message: Option<PathBuf>,
}

/// Which record: the wallet's global one, or its record in a scope.
#[derive(Debug, Clone, Args)]
pub(crate) struct ScopeArgs {
    /// The scope (a dApp the operator registered, by name, e.g. `kyc-drop`) whose record to
    /// attest or revoke: named in the message both keys sign, followed with `?scope=`, and
    /// asked on chain with `isVerified(wallet, scope)`. Default: the global record.
    #[arg(long, value_name = "NAME", value_parser = parse_scope)]
    pub(super) scope: Option<ScopeName>,
}

/// Where the wallet's EIP-191 signature comes from (default: pasted on standard input).
#[derive(Debug, Clone, Args)]
pub(crate) struct WalletSignatureArgs {
    /// The wallet's signature of the message (0x hex), e.g. from `cast wallet sign`.
    #[arg(long, value_name = "0x…", conflicts_with = "wallet_signature_file")]
    pub(super) wallet_signature: Option<String>,
    /// A file holding the wallet's signature, read once the message is shown.
    #[arg(long, value_name = "FILE")]
    pub(super) wallet_signature_file: Option<PathBuf>,
    /// Also write the message to this file when it is shown (to sign it with a wallet tool).
    #[arg(long, value_name = "FILE")]
    pub(super) message_out: Option<PathBuf>,
}

/// Asking the chain directly for the final answer.
#[derive(Debug, Clone, Args)]
pub(crate) struct ChainArgs {
    /// An RPC URL: also ask the registry's `isVerified(wallet)` at the end.
    #[arg(long, value_name = "URL", requires = "registry")]
    pub(super) rpc_url: Option<String>,
    /// The KycRegistry address (with `--rpc-url`).
    #[arg(long, value_name = "0x…", value_parser = parse_address, requires = "rpc_url")]
    pub(super) registry: Option<Address>,
    /// Seconds to follow the attestation before giving up.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub(super) timeout: u64,
}

/// `honnin card status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(super) reader: ReaderArgs,
}

/// `honnin card certificate`.
#[derive(Debug, Args)]
pub(crate) struct CertificateArgs {
    #[command(flatten)]
    pub(super) reader: ReaderArgs,
    /// Write the certificate (DER) to this file.
    #[arg(long, value_name = "FILE")]
    pub(super) out: Option<PathBuf>,
    /// Also print the subject id and serial number (personal data).
    #[arg(long)]
    pub(super) show_subject: bool,
}

/// Which key of the card signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyArg {
    /// The user-authentication key (利用者証明用): its certificate, the 4-digit PIN.
    Auth,
    /// The signing key (署名用), for age claims: its certificate (which holds the name,
    /// address, birth date and sex), the signing password of 6–16 characters.
    Signing,
}

impl KeyArg {
    pub(super) const fn key(self) -> Key {
        match self {
            Self::Auth => Key::Authentication,
            Self::Signing => Key::Signing,
        }
    }

    pub(super) const fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Signing => "signing",
        }
    }
}

/// `honnin card sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    pub(super) reader: ReaderArgs,
    #[command(flatten)]
    pub(super) pin: PinArgs,
    /// The key that signs: `auth` (the PIN) or `signing` (the signing password; for age
    /// claims, the page's second command). The JSON output names it (`"key"`).
    #[arg(long, value_enum, default_value = "auth")]
    pub(super) key: KeyArg,
    /// The file whose exact bytes the card signs.
    #[arg(long, value_name = "FILE")]
    pub(super) message: PathBuf,
    /// Where to write the signature (raw bytes).
    #[arg(long, value_name = "FILE")]
    pub(super) out: PathBuf,
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
    pub(super) const fn as_str(self) -> &'static str {
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
    pub(super) api: String,
    /// The wallet: 0x and 40 hex digits.
    #[arg(long, value_name = "0x…", value_parser = parse_address)]
    pub(super) wallet: Address,
    /// What the challenge is for.
    #[arg(long, value_enum, default_value = "attest")]
    pub(super) purpose: Purpose,
    /// Who the attestation is for.
    #[arg(long)]
    pub(super) audience: Option<String>,
    #[command(flatten)]
    pub(super) scope: ScopeArgs,
    /// Write the message to this file (for `--message`).
    #[arg(long, value_name = "FILE")]
    pub(super) message_out: Option<PathBuf>,
    /// One JSON object on stdout.
    #[arg(long)]
    pub(super) json: bool,
}

/// `honnin card attest`.
#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    #[command(flatten)]
    pub(super) reader: ReaderArgs,
    #[command(flatten)]
    pub(super) pin: PinArgs,
    /// Also prove age claims (over 18, over 20): the card's signing certificate is read and
    /// signs the same message with the signing password (6–16 characters, 5 tries), asked
    /// after the PIN (with `--pin-stdin`: the second line). Its birth date is read by the
    /// service to compute the claims and dropped: never stored.
    #[arg(long)]
    pub(super) age: bool,
    #[command(flatten)]
    pub(super) api: ApiArgs,
    #[command(flatten)]
    pub(super) scope: ScopeArgs,
    #[command(flatten)]
    pub(super) wallet_signature: WalletSignatureArgs,
    #[command(flatten)]
    pub(super) chain: ChainArgs,
}

/// `honnin card revoke`.
#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    #[command(flatten)]
    pub(super) api: ApiArgs,
    #[command(flatten)]
    pub(super) scope: ScopeArgs,
    #[command(flatten)]
    pub(super) wallet_signature: WalletSignatureArgs,
    #[command(flatten)]
    pub(super) chain: ChainArgs,
    /// One JSON object on stdout instead of readable lines.
    #[arg(long)]
    pub(super) json: bool,
}

/// `honnin card erase`.
#[derive(Debug, Args)]
pub(crate) struct EraseArgs {
    #[command(flatten)]
    pub(super) reader: ReaderArgs,
    #[command(flatten)]
    pub(super) pin: PinArgs,
    #[command(flatten)]
    pub(super) api: ApiArgs,
    #[command(flatten)]
    pub(super) chain: ChainArgs,
}

pub(super) fn parse_address(text: &str) -> Result<Address, String> {
    let digits = text.strip_prefix("0x").unwrap_or("");
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("must be 0x and 40 hex digits".into());
    }
    digits.parse().map_err(|e| format!("{e}"))
}

pub(super) fn parse_scope(text: &str) -> Result<ScopeName, String> {
    ScopeName::new(text).map_err(|e| format!("{e}"))
}
