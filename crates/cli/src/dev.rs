//! `honnin dev`: everything on one machine with one command, for development and demos.
//!
//! Start-up: a data folder (`./honnin-data` by default) → the pinned anvil on a free port (the
//! one `scripts/install-tools` puts in `.tools/`) → `KycRegistry` deployed by
//! `honnin_chain::deploy` (admin anvil account 0, attester and revoker account 1) → a freshly
//! minted **simulated** J-LIS root written to `<data>/trust/root.pem` and trusted, with an empty
//! CRL it signed (`<data>/crl.der`) as the revocation source (`--no-revocation` turns checking
//! off, loudly) → the pepper from `<data>/pepper.hex` (generated on first start, mode 0600) →
//! a SQLite database `<data>/honnin.db`, **recreated at every start** because the chain is new
//! at every start (attestations of a chain that is gone would only confuse) → the whole
//! service, started by honnin-service exactly as `honnin serve` starts it: the audit log
//! writer, the chain writer (with its metrics), the revocation sync every 30 s (the dev CRL, and
//! `<data>/renewal-links.jsonl` when that file exists), the expiry sweep, the challenge purge
//! and the API, with a fresh admin token for this run printed in the banner. Ctrl-C or SIGTERM
//! stops the service gracefully, then anvil.
//!
//! `honnin dev --demo` then walks one simulated person (simulated card, fresh EOA) through the
//! whole flow over real HTTP, printing each step, and ends with the registry's `isVerified`
//! answer: exit 0 when it is `true`, 1 on any failure.
//!
//! Why the binary links honnin-jpki's `test-utils` feature: the simulated root, CRL and card
//! are minted at run time here (and by `honnin jpki mint`). They sign nothing a real verifier
//! trusts: only a service configured with the dev root accepts them.

#![allow(clippy::print_stdout)]

use std::{
    io::Read as _,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};

use alloy::{
    node_bindings::AnvilInstance,
    providers::{DynProvider, Provider as _, ProviderBuilder},
    signers::{SignerSync as _, local::PrivateKeySigner},
};
use anyhow::{Context as _, bail, ensure};
use base64::Engine as _;
use honnin_api::{AdminToken, Auth, TokenDigest};
use honnin_chain::{DeployOptions, bindings::KycRegistry};
use honnin_core::{ChallengeSettings, Pepper, Policy, ScopeName, ServiceDomain};
use honnin_jpki::test_utils::{CardSpec, CrlSpec, SimRoot};
use honnin_service::{
    AccessConfig, CardConfig, ChainConfig, DatabaseConfig, HttpConfig, JobsConfig,
    RevocationConfig, Secret, Service, ServiceConfig, WebhookConfig, WriterTuning,
};
use serde_json::{Value, json};

use crate::{
    config::{LogConfig, LogFormat},
    runtime,
};

const TARGET: &str = "honnin::dev";

/// Arguments of `honnin dev`.
#[derive(Debug, clap::Args)]
pub(crate) struct DevArgs {
    /// The data folder: SQLite database, simulated root and CRL, pepper.
    #[arg(long, env = "HONNIN_DEV_DATA", default_value = "honnin-data", value_name = "DIR")]
    data: PathBuf,
    /// Address and port to listen on. [default: 127.0.0.1:8080; with --demo a free port]
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Walk one simulated person through the whole flow over HTTP, print each step, and exit
    /// (0 when the registry answers `isVerified = true`).
    #[arg(long)]
    demo: bool,
    /// Do not check revocation (instead of the dev root's CRL). Said loudly.
    #[arg(long)]
    no_revocation: bool,
    /// Log filter (tracing `EnvFilter` syntax; logs go to stderr, apart from the steps on
    /// stdout). [default: info; with --demo warn, so the demo's steps read on their own]
    #[arg(long, env = "HONNIN_LOG", value_name = "FILTER")]
    log: Option<String>,
    /// What the person's page is told (the card bridge's URL, the explorer's transaction URL).
    #[command(flatten)]
    page: crate::config::PageSettings,
    /// Scopes (dApps whose records are kept apart) to register, by name; repeat the flag or
    /// separate names with commas. `kyc-drop` is the example dApp's.
    #[arg(long = "scope", value_name = "NAME", value_delimiter = ',', default_value = "kyc-drop")]
    scopes: Vec<ScopeName>,
}

/// The revocation sync's interval in dev (production: `revocation_sync_secs`).
const DEV_SYNC_INTERVAL: Duration = Duration::from_secs(30);
/// The OCSP re-check interval in dev (unused: dev follows its CRL).
const DEV_RECHECK_INTERVAL: Duration = Duration::from_secs(3600);
/// The chain writer's linger in dev: a demo's single attestation goes out at once.
const DEV_WRITER_LINGER: Duration = Duration::from_millis(50);

/// Runs `honnin dev`.
pub(crate) fn run(args: DevArgs) -> ExitCode {
    let filter = args.log.clone().unwrap_or_else(|| {
        if args.demo { "warn".to_owned() } else { "info,honnin=info".to_owned() }
    });
    let log = LogConfig { filter, format: LogFormat::Text };
    runtime::run(&log, async move {
        match dev(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                println!("\nFAILED: {error:#}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Prints a progress line.
fn step(text: impl std::fmt::Display) {
    runtime::step(text);
}

/// What `dev` started, for the demo and the banner.
struct Running {
    base_url: String,
    provider: DynProvider,
    registry: honnin_core::Address,
    root: SimRoot,
    /// The admin bearer token of this run (printed in the banner).
    admin_token: String,
}

async fn dev(args: DevArgs) -> anyhow::Result<()> {
    // Caught from here on: a signal during start-up stops the service and anvil once started.
    let mut signals = runtime::Signals::register();
    if !args.demo {
        let listen = args.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        if listen.port() != 0 {
            step(format!("honnin dev: the page will be at http://{listen}/ (starting)"));
        }
    }
    let data = args.data.clone();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot create the data folder {}", data.display()))?;
    step(format!("data folder {}", data.display()));

    tokio::task::spawn_blocking(ensure_anvil).await??;
    step("starting anvil (the pinned one) on a free port");
    let anvil = tokio::task::spawn_blocking(|| {
        honnin_chain::test_utils::spawn_anvil()
            .context("cannot start anvil: run scripts/install-tools (or set HONNIN_ANVIL)")
    })
    .await??;
    let outcome = with_anvil(&args, &data, &anvil, &mut signals).await;
    step("stopping anvil");
    drop(anvil);
    outcome
}

/// Makes sure the pinned anvil is there: on a first run from a fresh clone it is not, and then
/// `scripts/install-tools contracts` (found from the current folder up, else in the workspace
/// this binary was built from) installs it, its progress shown, before dev goes on. An anvil
/// named by `HONNIN_ANVIL` is never replaced.
fn ensure_anvil() -> anyhow::Result<()> {
    use honnin_chain::tools::{Tool, locate};
    let missing = match locate(Tool::Anvil) {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };
    if std::env::var_os(Tool::Anvil.env_var()).is_some() {
        bail!("{} names no file: {missing}", Tool::Anvil.env_var());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = std::env::current_dir()
        .into_iter()
        .chain([workspace])
        .flat_map(|start| start.ancestors().map(Path::to_path_buf).collect::<Vec<_>>())
        .map(|dir| dir.join("scripts/install-tools"))
        .find(|script| script.is_file())
        .context(
            "the pinned anvil is not installed and scripts/install-tools is not here: \
             run honnin dev from the honnin repository, or set HONNIN_ANVIL",
        )?;
    step(format!(
        "first run: the pinned anvil is missing; installing it with {} contracts",
        script.display()
    ));
    let started = Instant::now();
    let status = std::process::Command::new("bash")
        .arg(&script)
        .arg("contracts")
        .stdin(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", script.display()))?;
    ensure!(status.success(), "{} contracts failed ({status})", script.display());
    let anvil = locate(Tool::Anvil).context("the install finished but anvil is still missing")?;
    step(format!(
        "installed the pinned tools in {} s ({})",
        started.elapsed().as_secs(),
        anvil.display()
    ));
    Ok(())
}

async fn with_anvil(
    args: &DevArgs,
    data: &Path,
    anvil: &AnvilInstance,
    signals: &mut runtime::Signals,
) -> anyhow::Result<()> {
    let rpc_url = anvil.endpoint_url();
    let provider = ProviderBuilder::new()
        .wallet(anvil.wallet().context("anvil has no keys")?)
        .connect_http(rpc_url.clone())
        .erased();
    let chain_id = provider.get_chain_id().await?;
    let (deployer, attester) = (anvil.addresses()[0], anvil.addresses()[1]);
    let deployed = honnin_chain::deploy(
        &provider,
        deployer,
        &DeployOptions { attester: Some(attester), ..DeployOptions::default() },
    )
    .await
    .context("deploying the registry")?;
    step(format!(
        "anvil (pid {}) at {rpc_url} (chain id {chain_id}); KycRegistry at {}",
        anvil.child().id(),
        deployed.registry
    ));

    step("minting simulated J-LIS roots (user authentication, signature; RSA-2048) and their CRLs");
    let root = tokio::task::spawn_blocking(|| SimRoot::new(0)).await?;
    let trust = data.join("trust");
    std::fs::create_dir_all(&trust)?;
    std::fs::write(trust.join("root.pem"), root.pem())?;
    let crl_path = data.join("crl.der");
    std::fs::write(&crl_path, root.crl(&CrlSpec::default()))?;
    // Age claims: a simulated signature root (its own folder and CRL, as J-LIS's are apart).
    let sign_root = tokio::task::spawn_blocking(|| SimRoot::signing(5)).await?;
    let signing_trust = data.join("signing-trust");
    std::fs::create_dir_all(&signing_trust)?;
    std::fs::write(signing_trust.join("root.pem"), sign_root.pem())?;
    let signing_crl = data.join("signing-crl.der");
    std::fs::write(&signing_crl, sign_root.crl(&CrlSpec::default()))?;
    let (revocation, signing_revocation) = if args.no_revocation {
        tracing::warn!(
            target: TARGET,
            "DEV MODE: REVOCATION CHECKING IS OFF (--no-revocation): revoked cards are accepted"
        );
        (RevocationConfig::None, RevocationConfig::None)
    } else {
        (
            RevocationConfig::Crl(vec![crl_path.display().to_string()]),
            RevocationConfig::Crl(vec![signing_crl.display().to_string()]),
        )
    };

    let pepper = pepper(&data.join("pepper.hex"))?;
    let db_path = data.join("honnin.db");
    for suffix in ["", "-wal", "-shm"] {
        let mut file = db_path.clone().into_os_string();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error).context("cannot reset the dev database"),
        }
    }

    // A fresh admin token for this run: only its digest is configured.
    let admin_token = {
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        hex::encode(bytes)
    };
    let links_path = data.join("renewal-links.jsonl");
    let links = links_path.exists().then(|| honnin_lifecycle::LinkOrigin::File(links_path.clone()));
    let listen = args.listen.unwrap_or_else(|| {
        let port = if args.demo { 0 } else { 8080 };
        SocketAddr::from(([127, 0, 0, 1], port))
    });
    let config = ServiceConfig {
        dev: true,
        http: HttpConfig { listen, ..HttpConfig::default() },
        limits: honnin_api::Limits::default(),
        database: DatabaseConfig::new(format!("sqlite://{}?mode=rwc", db_path.display())),
        card: CardConfig {
            trust_anchors: trust,
            revocation,
            // Uncached: the sync's new CRL applies to the next card at once.
            revocation_cache: Duration::ZERO,
            revocation_allow_unknown: false,
            signing: Some(honnin_service::SigningConfig {
                trust_anchors: signing_trust,
                revocation: signing_revocation,
            }),
        },
        pepper: Some(pepper),
        policy: Policy::default(),
        challenges: ChallengeSettings::new(
            ServiceDomain::new("localhost")?,
            chain_id,
            deployed.registry,
        ),
        chain: ChainConfig {
            chain_id,
            registry: deployed.registry,
            rpc_url: Some(rpc_url.to_string()),
            attester_key: Some(Secret::new(format!(
                "0x{}",
                hex::encode(anvil.keys()[1].to_bytes())
            ))),
            writer: WriterTuning { linger: Some(DEV_WRITER_LINGER), ..WriterTuning::default() },
        },
        access: AccessConfig {
            auth: Auth {
                admin_tokens: vec![AdminToken {
                    id: "dev".into(),
                    sha256: TokenDigest::of(&admin_token),
                }],
                api_keys: Vec::new(),
            },
            rate_limits: honnin_api::RateLimits::default(),
        },
        jobs: JobsConfig {
            renewal_links: links.clone(),
            sync_interval: DEV_SYNC_INTERVAL,
            recheck_interval: DEV_RECHECK_INTERVAL,
            ..JobsConfig::default()
        },
        // A dApp's receiver on this machine (http://127.0.0.1:…) may be registered.
        webhooks: WebhookConfig { allow_private_addresses: true, ..WebhookConfig::default() },
        page: crate::config::page_config(&args.page)?,
        scopes: args.scopes.clone(),
    };
    let service = Service::launch(config).await.context("starting the service")?;
    step(format!("SQLite database {} (fresh: the chain is new at every start)", db_path.display()));
    step(format!(
        "revocation sync every {} s ({}; renewal links from {}{}), expiry sweep every minute",
        DEV_SYNC_INTERVAL.as_secs(),
        if args.no_revocation { "no CRL" } else { "the dev CRL" },
        links_path.display(),
        if links.is_some() { "" } else { " when it exists at start" },
    ));

    let base_url = format!("http://{}", service.local_addr());
    let running = Running { base_url, provider, registry: deployed.registry, root, admin_token };
    let outcome = if args.demo {
        step(format!("API at {}; chain writer running", running.base_url));
        tokio::select! {
            outcome = demo(&running) => outcome,
            () = signals.recv() => Err(anyhow::anyhow!("interrupted (SIGINT or SIGTERM)")),
        }
    } else {
        banner(&running, data);
        signals.recv().await;
        println!();
        step("Ctrl-C or SIGTERM: stopping");
        Ok(())
    };
    service.stop().await.context("stopping the service")?;
    outcome
}

/// The pepper in `path`, generated (32 random bytes, hex, mode 0600) when the file is missing.
fn pepper(path: &Path) -> anyhow::Result<Pepper> {
    if !path.exists() {
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        std::fs::write(path, hex::encode(bytes))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        step(format!("generated a pepper in {}", path.display()));
    }
    let text = std::fs::read_to_string(path)?;
    Pepper::from_hex(text.trim()).with_context(|| format!("invalid pepper in {}", path.display()))
}

fn banner(running: &Running, data: &Path) {
    let url = &running.base_url;
    println!(
        r#"
honnin dev is running (Ctrl-C or SIGTERM stops it and anvil).

  page       {url}/   (verify a wallet with a card; /status for a wallet's attestation)
  API        {url}   (OpenAPI: {url}/openapi.json, metrics: {url}/metrics)
  registry   {registry}
  trust      {trust} (a simulated root minted for this run: only test cards chain to it)
  admin      bearer token {token} (this run only, for /v1/admin/*)

Try it:

  curl -s {url}/health
  curl -s -X POST {url}/v1/challenges -H 'content-type: application/json' \
       -d '{{"wallet":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8"}}'
  curl -s {url}/v1/attestations/0x70997970C51812dc3A010C7d01b50e0d17dc79C8
  curl -s {url}/v1/admin/audit -H 'authorization: Bearer {token}'
  curl -s -X POST {url}/v1/admin/webhooks -H 'authorization: Bearer {token}' \
       -H 'content-type: application/json' -d '{{"url":"http://127.0.0.1:9000/hooks"}}'
       (signed webhooks for every status change; receivers on this machine are allowed)

A whole flow with a simulated card and a fresh wallet: honnin dev --demo
"#,
        registry = running.registry,
        trust = data.join("trust").display(),
        token = running.admin_token,
    );
}

/// The demo: one simulated person through the whole flow over real HTTP.
async fn demo(running: &Running) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let url = &running.base_url;

    step(
        "1. a simulated My Number card (RSA-2048 user-authentication certificate from the dev root)",
    );
    let root = running.root.clone();
    let card = tokio::task::spawn_blocking(move || {
        let mut serial = [0u8; 16];
        std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut serial))?;
        serial[0] = 0x40;
        std::io::Result::Ok(
            root.issue(&CardSpec { serial: serial.to_vec(), ..CardSpec::default() }),
        )
    })
    .await??;
    let wallet = PrivateKeySigner::random();
    step(format!("2. a fresh wallet (EOA) {}", wallet.address()));

    step(format!("3. POST {url}/v1/challenges"));
    let challenge =
        post(&http, &format!("{url}/v1/challenges"), &json!({ "wallet": wallet.address() }), 201)
            .await?;
    let id = challenge["id"].as_str().context("challenge id")?;
    let message = challenge["message"].as_str().context("challenge message")?;
    println!(
        "    challenge {id}, expires {}; the message both keys sign:",
        challenge["expires_at"]
    );
    for line in message.lines() {
        println!("    | {line}");
    }

    step("4. the card signs the message (PKCS#1 v1.5 over SHA-256); the wallet signs it (EIP-191)");
    let card_signature = card.sign(message.as_bytes());
    let wallet_signature = wallet.sign_message_sync(message.as_bytes())?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let request = json!({
        "challenge_id": id,
        "certificate": b64.encode(card.der()),
        "card_signature": b64.encode(card_signature),
        "wallet_signature": format!("0x{}", hex::encode(wallet_signature.as_bytes())),
    });

    step(format!("5. POST {url}/v1/attestations"));
    let accepted = post(&http, &format!("{url}/v1/attestations"), &request, 202).await?;
    println!("    202 {accepted}");

    step(format!(
        "6. GET {url}/v1/attestations/{} until the chain writer confirms it",
        wallet.address()
    ));
    let started = Instant::now();
    let view = loop {
        let response =
            http.get(format!("{url}/v1/attestations/{}", wallet.address())).send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        ensure!(status.is_success(), "status query answered {status}: {body}");
        match body["status"].as_str() {
            Some("active") => break body,
            Some("pending") => {}
            other => bail!("unexpected status {other:?}: {body}"),
        }
        ensure!(
            started.elapsed() < Duration::from_secs(60),
            "still pending after a minute: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "    active after {:.1?}: tx {} in block {}",
        started.elapsed(),
        view["tx_hash"].as_str().unwrap_or("?"),
        view["block_number"]
    );

    step(format!(
        "7. on chain: KycRegistry({}).isVerified({})",
        running.registry,
        wallet.address()
    ));
    let verified = KycRegistry::new(running.registry, &running.provider)
        .isVerified_1(wallet.address())
        .call()
        .await?;
    println!("    isVerified = {verified}");
    ensure!(verified, "the registry does not vouch for the wallet");
    step("demo complete");
    Ok(())
}

async fn post(http: &reqwest::Client, url: &str, body: &Value, want: u16) -> anyhow::Result<Value> {
    let response = http.post(url).json(body).send().await?;
    let status = response.status().as_u16();
    let body: Value = response.json().await?;
    ensure!(status == want, "{url} answered {status}: {body}");
    Ok(body)
}
