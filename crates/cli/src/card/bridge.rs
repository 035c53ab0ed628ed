//! `honnin card bridge`: the loopback helper the person's page asks for card signatures
//! (protocol: `honnin_card::bridge`). The card through PC/SC, the person at this terminal: the
//! asking site and the exact message are shown here, `y` and the PIN (and, for age evidence,
//! the signing password) are read here as lines of standard input, the secrets with echo off
//! when standard input is a terminal (they never pass through the page).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{io::IsTerminal as _, net::SocketAddr};

use honnin_card::bridge::{
    Bridge, CardTransport, Cards, Config, DEFAULT_LISTEN, DEFAULT_ORIGINS, Presence, Terminal,
};

use super::*;

/// `honnin card bridge`.
#[derive(Debug, Args)]
pub(crate) struct BridgeArgs {
    /// Where to listen: a loopback address only (port 0: any free port, printed on start).
    #[arg(long, value_name = "IP:PORT", default_value = DEFAULT_LISTEN)]
    pub(super) listen: SocketAddr,
    /// An origin whose page may ask for signatures (repeatable; replaces the defaults
    /// http://127.0.0.1:8080 and http://localhost:8080).
    #[arg(long = "trust-origin", value_name = "ORIGIN")]
    pub(super) trust_origin: Vec<String>,
    /// The reader to use (default: the first with a card).
    #[arg(long, value_name = "NAME")]
    pub(super) reader: Option<String>,
    /// Log filter (tracing `EnvFilter` syntax); logs go to stderr and never hold the PIN or
    /// the message.
    #[arg(long, env = "HONNIN_LOG", default_value = "warn", value_name = "FILTER")]
    pub(super) log: String,
}

/// The card through PC/SC: a fresh context per request, no waiting.
struct PcscCards {
    reader: Option<String>,
}

impl Cards for PcscCards {
    fn presence(&self) -> Presence {
        let Ok(list) = Readers::establish().and_then(|readers| readers.list()) else {
            return Presence { reader: None, card: false };
        };
        let wanted = list.iter().filter(|r| self.reader.as_ref().is_none_or(|n| *n == r.name));
        let chosen = wanted.clone().find(|r| r.card_present).or_else(|| wanted.clone().next());
        Presence {
            reader: chosen.map(|r| r.name.clone()),
            card: chosen.is_some_and(|r| r.card_present),
        }
    }

    fn open(&self) -> honnin_card::Result<JpkiCard<CardTransport>> {
        let readers = Readers::establish()?;
        let reader = readers.wait_for_card(self.reader.as_deref(), Duration::ZERO)?;
        tracing::debug!(target: "honnin::card", reader, "card present");
        let transport: CardTransport = Box::new(readers.connect(&reader)?);
        JpkiCard::open(transport)
    }
}

/// This terminal: narration on stderr, answers as lines of standard input (the same zeroizing
/// reader as `honnin card sign --pin-stdin`); a secret typed on a terminal is not echoed.
struct StdinTerminal {
    input: Input,
}

impl Terminal for StdinTerminal {
    fn show(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
        let _ = err.flush();
    }

    fn read_line(&mut self) -> std::io::Result<Zeroizing<String>> {
        self.input.line().map_err(|failure| match failure {
            Failure::Usage(error) => std::io::Error::other(format!("{error:#}")),
            _ => std::io::Error::other("standard input failed"),
        })
    }

    fn read_secret(&mut self) -> std::io::Result<Zeroizing<String>> {
        // Typed at a terminal: echo off (rpassword reads the controlling terminal, which is
        // standard input here). Piped, or typed ahead: the next line, as any other answer.
        if std::io::stdin().is_terminal() && self.input.pending.is_empty() {
            rpassword::read_password().map(Zeroizing::new)
        } else {
            self.read_line()
        }
    }
}

/// Runs the bridge until SIGINT or SIGTERM.
pub(super) fn bridge(args: BridgeArgs) -> Outcome<()> {
    let origins = if args.trust_origin.is_empty() {
        DEFAULT_ORIGINS.iter().map(|&o| o.to_owned()).collect()
    } else {
        args.trust_origin.clone()
    };
    let config = Config { listen: args.listen, trusted_origins: origins };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Service(e.into()))?;
    let cards = PcscCards { reader: args.reader.clone() };
    let terminal = StdinTerminal { input: Input::default() };
    let outcome = runtime.block_on(async {
        let signals = crate::runtime::shutdown_signal();
        let bridge = Bridge::bind(&config, cards, terminal).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidInput {
                usage(anyhow!("{e}"))
            } else {
                Failure::Service(anyhow!("cannot listen on {}: {e}", config.listen))
            }
        })?;
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "bridge: listening on {}, trusting {}",
                bridge.url(),
                bridge.trusted_origins().join(", ")
            );
            let _ = out.flush();
        }
        eprintln!(
            "Leave this terminal open: a page's signature request shows here, and the PIN (for age evidence also the signing password) is typed here. \
             Ctrl-C stops the bridge.\n\
             このターミナルを開いたままにしてください。署名の依頼はここに表示され、暗証番号 (年齢の確認では署名用パスワードも) はここで入力します。Ctrl-C で終了します。"
        );
        bridge.serve(signals).await.map_err(|e| Failure::Service(e.into()))
    });
    // A request may still wait on standard input: do not wait for its thread.
    runtime.shutdown_background();
    if outcome.is_ok() {
        eprintln!("bridge: stopped / ブリッジを終了しました");
    }
    outcome
}
