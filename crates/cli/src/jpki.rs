//! `honnin jpki …`: offline tools over honnin-jpki.
//!
//! Exit codes: 0 accepted (or done), 1 refused, 2 usage error (bad arguments, unreadable files,
//! unusable trust anchors or CRL). Results are one JSON object on stdout.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use honnin_jpki::{
    CertificateSummary, Crl, CrlSource, Policy, Refusal, RevocationStatus, TrustAnchors, Verifier,
    certificate_der, check_revocation, inspect, revocation::crl::crl_der,
};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// JPKI tools.
#[derive(Debug, Subcommand)]
pub(crate) enum JpkiCommand {
    /// Verify a card signature: certificate chain and profile, card signature, optional CRL.
    Verify(VerifyArgs),
    /// Print a certificate's profile summary (no trust decision).
    Inspect(InspectArgs),
    /// Development only: mint a simulated root, card certificate, signature and CRL.
    Mint(MintArgs),
}

/// Arguments of `honnin jpki verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Trust anchors: a folder of PEM/DER roots or a PEM bundle.
    #[arg(long)]
    anchors: PathBuf,
    /// The card's user-authentication certificate (DER or PEM).
    #[arg(long)]
    cert: PathBuf,
    /// The exact message the card signed.
    #[arg(long)]
    message: PathBuf,
    /// The card's signature, raw bytes.
    #[arg(long)]
    signature: PathBuf,
    /// A CRL (DER or PEM) to check revocation against; without it revocation is not checked.
    #[arg(long)]
    crl: Option<PathBuf>,
    /// The instant to verify at (RFC 3339); default now.
    #[arg(long, value_parser = parse_rfc3339)]
    at: Option<OffsetDateTime>,
}

/// Arguments of `honnin jpki inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The certificate (DER or PEM).
    #[arg(long)]
    cert: PathBuf,
    /// Also print the subject id and serial number (personal data).
    #[arg(long)]
    show_subject: bool,
}

/// The simulated card's key type.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum MintKey {
    /// RSA-2048 (physical cards).
    Rsa2048,
    /// ECDSA P-256.
    P256,
    /// ECDSA P-384.
    P384,
}

/// Arguments of `honnin jpki mint`.
#[derive(Debug, Args)]
pub(crate) struct MintArgs {
    /// Folder to write root.pem, card.pem, message.txt, signature.bin and crl.der into.
    #[arg(long)]
    out: PathBuf,
    /// The card key.
    #[arg(long, value_enum, default_value = "rsa2048")]
    key: MintKey,
    /// The message to sign (default: a sample challenge).
    #[arg(long)]
    message: Option<String>,
}

fn parse_rfc3339(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("not an RFC 3339 time: {e}"))
}

/// Runs a `jpki` subcommand and maps the outcome to the exit code.
pub(crate) fn run(command: JpkiCommand) -> ExitCode {
    let outcome = match command {
        JpkiCommand::Verify(args) => verify(args),
        JpkiCommand::Inspect(args) => inspect_cmd(args),
        JpkiCommand::Mint(args) => mint(args),
    };
    match outcome {
        Ok((value, accepted)) => {
            println!("{value}");
            if accepted { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

fn refused(refusal: &Refusal) -> (Value, bool) {
    (json!({ "ok": false, "refusal": refusal.code(), "message": refusal.to_string() }), false)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn verify(args: VerifyArgs) -> anyhow::Result<(Value, bool)> {
    let anchors =
        Arc::new(TrustAnchors::from_path(&args.anchors).with_context(|| {
            format!("cannot load trust anchors from {}", args.anchors.display())
        })?);
    let cert = read(&args.cert, "certificate")?;
    let message = read(&args.message, "message")?;
    let signature = read(&args.signature, "signature")?;
    let crl = match &args.crl {
        Some(path) => {
            let der = crl_der(&read(path, "crl")?)?;
            Some(
                Crl::from_der(&der, &anchors)
                    .with_context(|| format!("unusable crl {}", path.display()))?,
            )
        }
        None => None,
    };
    let at = args.at.unwrap_or_else(OffsetDateTime::now_utc);
    let Ok(cert) = certificate_der(&cert) else {
        return Ok(refused(&Refusal::MalformedCertificate));
    };
    let verifier = Verifier::new(anchors.clone(), Policy::default());
    let card = match verifier.verify_card(&cert, &message, &signature, at) {
        Ok(card) => card,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    let revocation = match crl {
        Some(crl) => {
            let source = CrlSource::from_crls(anchors, [crl]);
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            match runtime.block_on(check_revocation(&card, &source, at, false)) {
                Ok(RevocationStatus::Good) => "good",
                Ok(_) => bail!("unexpected revocation status"),
                Err(refusal) => return Ok(refused(&refusal)),
            }
        }
        None => "not_checked",
    };
    Ok((
        json!({
            "ok": true,
            "issuer": card.issuer(),
            "root_key_id": hex::encode(card.root_key_id()),
            "key_algorithm": card.key_algorithm().to_string(),
            "not_before": rfc3339(card.not_before()),
            "not_after": rfc3339(card.not_after()),
            "revocation": revocation,
            "at": rfc3339(at),
        }),
        true,
    ))
}

fn inspect_cmd(args: InspectArgs) -> anyhow::Result<(Value, bool)> {
    let bytes = read(&args.cert, "certificate")?;
    let summary = match certificate_der(&bytes).and_then(|der| inspect(&der)) {
        Ok(summary) => summary,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    Ok((summary_json(&summary, args.show_subject), true))
}

/// A certificate's profile summary as `honnin jpki inspect` prints it (also `honnin card
/// certificate`); the subject id and serial only when `show_subject`.
pub(crate) fn summary_json(summary: &CertificateSummary, show_subject: bool) -> Value {
    let mut value = json!({
        "ok": true,
        "issuer": summary.issuer,
        "not_before": rfc3339(summary.not_before),
        "not_after": rfc3339(summary.not_after),
        "key_algorithm": summary.key_algorithm.map_or_else(|| "unsupported".to_owned(), |k| k.to_string()),
        "signature_algorithm": summary.signature_algorithm,
        "policies": summary.policies,
        "key_usage_digital_signature": summary.digital_signature,
        "extended_key_usage_client_auth": summary.client_auth,
        "authority_key_id": summary.authority_key_id.as_deref().map(hex::encode),
        "ocsp_urls": summary.ocsp_urls,
    });
    if show_subject {
        value["subject_id"] = json!(summary.subject_id);
        value["serial"] = json!(hex::encode(&summary.serial));
    }
    value
}

fn mint(args: MintArgs) -> anyhow::Result<(Value, bool)> {
    use honnin_jpki::test_utils::{CardKeyKind, CardSpec, CrlSpec, SimRoot};
    let key = match args.key {
        MintKey::Rsa2048 => CardKeyKind::Rsa2048(1),
        MintKey::P256 => CardKeyKind::P256,
        MintKey::P384 => CardKeyKind::P384,
    };
    let message = args.message.unwrap_or_else(|| {
        "honnin.localhost wants you to prove you hold your My Number card.\nNonce: 00\n".into()
    });
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let root = SimRoot::new(0);
    let card = root.issue(&CardSpec { key, ..CardSpec::default() });
    let files = [
        ("root.pem", root.pem().into_bytes()),
        ("card.pem", card.pem().into_bytes()),
        ("message.txt", message.as_bytes().to_vec()),
        ("signature.bin", card.sign(message.as_bytes())),
        ("crl.der", root.crl(&CrlSpec::default())),
    ];
    for (name, bytes) in &files {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok((
        json!({
            "ok": true,
            "simulated": true,
            "out": args.out.display().to_string(),
            "files": files.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        }),
        true,
    ))
}
