//! The test harness: the real app over a real store (SQLite file or throwaway Postgres), a
//! simulated JPKI root and cards, real EOA keys, and a log capture.

use std::{
    collections::HashMap,
    io::Write,
    net::SocketAddr,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use alloy_primitives::{B256, Signature};
use async_trait::async_trait;
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderMap, Request, StatusCode, header},
};
use base64::Engine as _;
use honnin_api::{
    AppState, AttestationRequest, Auth, ChallengeResponse, Limits, Metrics, RateLimits, Revocation,
    SigningEvidence, app,
};
use honnin_core::{
    Address, AuditQuery, AuditRecord, Challenge, ChallengeSettings, ContractWalletError,
    ContractWallets, Pepper, Policy, Purpose, ServiceDomain, Store, audit::AuditLog,
    wallet::eip191_hash,
};
use honnin_jpki::{
    SigningVerifier, Verifier,
    test_utils::{CardSpec, FakeAnswer, FakeRevocation, SimCard, SimRoot},
};
use honnin_store::{StoreOptions, test_utils::TestServer};
use http_body_util::BodyExt as _;
use k256::ecdsa::SigningKey;
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt as _;

/// Which database a harness runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    Sqlite,
    Postgres,
}

/// The simulated J-LIS root every harness trusts (RSA key generation is slow: one per process).
pub(crate) fn root() -> &'static SimRoot {
    static ROOT: OnceLock<SimRoot> = OnceLock::new();
    ROOT.get_or_init(|| SimRoot::new(0))
}

/// The simulated J-LIS signature root (age claims), with its own key.
pub(crate) fn sign_root() -> &'static SimRoot {
    static ROOT: OnceLock<SimRoot> = OnceLock::new();
    ROOT.get_or_init(|| SimRoot::signing(5))
}

/// One throwaway Postgres server per test process; each harness gets a fresh database on it.
fn pg_server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| honnin_store::test_utils::test_server().expect("start postgres"))
}

/// The app over a fresh database, with a fake revocation source answering `Good`.
pub(crate) struct Harness {
    pub(crate) app: Router,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) revocation: Arc<FakeRevocation>,
    /// The revocation source for signing certificates (its own fake).
    pub(crate) signing_revocation: Arc<FakeRevocation>,
    pub(crate) settings: ChallengeSettings,
    pub(crate) metrics: Metrics,
    /// How many times the app called `on_queued` (the chain writer's wake-up).
    pub(crate) wakes: Arc<AtomicUsize>,
    url: String,
    pepper: Arc<Pepper>,
    policy: Policy,
    limits: Limits,
    store_options: StoreOptions,
    audit: AuditLog,
    _dir: Option<TempDir>,
}

/// Options for [`Harness::with`].
pub(crate) struct Options {
    pub(crate) db: Db,
    pub(crate) policy: Policy,
    pub(crate) contract_wallets: Option<Arc<dyn honnin_core::ContractWallets>>,
    pub(crate) limits: Limits,
    pub(crate) store: StoreOptions,
    pub(crate) auth: Auth,
    /// Off unless a test sets them: in-process requests share one client.
    pub(crate) rate_limits: RateLimits,
    /// Whether the audit log's writer runs (default); without it every audit write fails.
    pub(crate) audit_writer: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            db: Db::Sqlite,
            policy: Policy::default(),
            contract_wallets: None,
            limits: Limits::default(),
            store: StoreOptions::default(),
            auth: Auth::default(),
            rate_limits: RateLimits::off(),
            audit_writer: true,
        }
    }
}

impl Harness {
    pub(crate) async fn new() -> Self {
        Self::with(Options::default()).await
    }

    pub(crate) async fn with(options: Options) -> Self {
        let (url, dir) = match options.db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}/honnin.db?mode=rwc", dir.path().display());
                (url, Some(dir))
            }
            Db::Postgres => {
                let url = tokio::task::spawn_blocking(|| pg_server().create_database())
                    .await
                    .expect("join")
                    .expect("create database");
                (url, None)
            }
        };
        let store = honnin_store::migrate(&url, &options.store).await.expect("store");
        let revocation =
            Arc::new(FakeRevocation::new(FakeAnswer::Status(honnin_jpki::RevocationStatus::Good)));
        let signing_revocation =
            Arc::new(FakeRevocation::new(FakeAnswer::Status(honnin_jpki::RevocationStatus::Good)));
        let settings = ChallengeSettings::new(
            ServiceDomain::new("honnin.test").expect("domain"),
            31337,
            Address::repeat_byte(0x42),
        );
        let metrics = Metrics::new();
        let pepper = Arc::new(Pepper::generate());
        let (audit, audit_writer) = AuditLog::new(store.clone());
        if options.audit_writer {
            tokio::spawn(audit_writer);
        }
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = wakes.clone();
        let state = AppState {
            store: store.clone(),
            verifier: Verifier::new(root().anchors(), honnin_jpki::Policy::default()),
            revocation: Revocation::Check { source: revocation.clone(), allow_unknown: false },
            signing: Some(signing_evidence(&signing_revocation)),
            pepper: pepper.clone(),
            policy: options.policy,
            challenges: settings.clone(),
            contract_wallets: options.contract_wallets,
            metrics: metrics.clone(),
            limits: options.limits,
            auth: options.auth,
            rate_limits: options.rate_limits,
            on_queued: Some(Arc::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            })),
            audit: audit.clone(),
            webhook_policy: Default::default(),
        };
        Self {
            app: app(state),
            store,
            revocation,
            signing_revocation,
            settings,
            metrics,
            wakes,
            url,
            pepper,
            policy: options.policy,
            limits: options.limits,
            store_options: options.store,
            audit,
            _dir: dir,
        }
    }

    /// A second service instance on the same database (its own pool), with the same operator
    /// settings (pepper, policy, trust anchors, revocation source).
    pub(crate) async fn second_instance(&self) -> Router {
        let store = honnin_store::connect(&self.url, &self.store_options).await.expect("store");
        app(AppState {
            store,
            verifier: Verifier::new(root().anchors(), honnin_jpki::Policy::default()),
            revocation: Revocation::Check { source: self.revocation.clone(), allow_unknown: false },
            signing: Some(signing_evidence(&self.signing_revocation)),
            pepper: self.pepper.clone(),
            policy: self.policy,
            challenges: self.settings.clone(),
            contract_wallets: None,
            metrics: Metrics::new(),
            limits: self.limits,
            auth: Auth::default(),
            rate_limits: RateLimits::off(),
            on_queued: None,
            audit: self.audit.clone(),
            webhook_policy: Default::default(),
        })
    }

    /// The database as bytes, to scan for what must never be stored: for SQLite the database
    /// file and its write-ahead log as they are on disk (text is stored as UTF-8 verbatim), for
    /// Postgres a plain `pg_dump`.
    pub(crate) async fn dump(&self) -> Vec<u8> {
        match &self._dir {
            Some(dir) => {
                let mut bytes = Vec::new();
                for name in ["honnin.db", "honnin.db-wal"] {
                    if let Ok(file) = std::fs::read(dir.path().join(name)) {
                        bytes.extend_from_slice(&file);
                    }
                }
                bytes
            }
            None => {
                let bin = std::env::var("HONNIN_PG_BIN")
                    .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
                let url = self.url.clone();
                let out = tokio::task::spawn_blocking(move || {
                    std::process::Command::new(format!("{bin}/pg_dump")).arg(&url).output()
                })
                .await
                .unwrap()
                .expect("pg_dump");
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                out.stdout
            }
        }
    }

    /// Every audit row, in sequence order.
    pub(crate) async fn audit_rows(&self) -> Vec<AuditRecord> {
        self.store.audit_page(&AuditQuery::all_after(None, AuditQuery::MAX_LIMIT)).await.unwrap()
    }

    /// Sends a request as if from `peer` (what `into_make_service_with_connect_info` provides).
    pub(crate) async fn send_from(&self, peer: SocketAddr, mut request: Request<Body>) -> Reply {
        request.extensions_mut().insert(ConnectInfo(peer));
        self.send(request).await
    }

    /// Sends a request to another router (a second instance), parsing the reply like [`send`].
    pub(crate) async fn send_to(router: &Router, request: Request<Body>) -> Reply {
        let response = router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body, raw: bytes.to_vec() }
    }

    /// Sends a request through the app in-process.
    pub(crate) async fn send(&self, request: Request<Body>) -> Reply {
        Self::send_to(&self.app, request).await
    }

    /// POSTs a raw body as JSON.
    pub(crate) async fn post_raw(&self, path: &str, body: impl Into<Body>) -> Reply {
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.into())
                .expect("request"),
        )
        .await
    }

    /// POSTs a JSON value.
    pub(crate) async fn post(&self, path: &str, body: &impl serde::Serialize) -> Reply {
        self.post_raw(path, serde_json::to_vec(body).expect("json")).await
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).expect("request")).await
    }

    /// Asks the API for a challenge for `wallet`.
    pub(crate) async fn challenge(&self, wallet: Address) -> ChallengeResponse {
        let reply =
            self.post("/v1/challenges", &serde_json::json!({ "wallet": wallet.to_string() })).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        serde_json::from_value(reply.body).expect("challenge response")
    }

    /// The operator's pepper (to compute the keyed hashes a test looks for in a dump).
    pub(crate) fn pepper(&self) -> &Pepper {
        &self.pepper
    }

    /// Asks the API for a challenge of `purpose` for `wallet` in the scope named `scope`.
    pub(crate) async fn scoped_challenge(
        &self,
        wallet: Address,
        purpose: &str,
        scope: &str,
    ) -> ChallengeResponse {
        let body =
            serde_json::json!({ "wallet": wallet.to_string(), "purpose": purpose, "scope": scope });
        let reply = self.post("/v1/challenges", &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        serde_json::from_value(reply.body).expect("challenge response")
    }

    /// Asks the API for a challenge of `purpose` (`attest`, `revoke`, `erase`) for `wallet`.
    pub(crate) async fn challenge_for(&self, wallet: Address, purpose: &str) -> ChallengeResponse {
        let body = serde_json::json!({ "wallet": wallet.to_string(), "purpose": purpose });
        let reply = self.post("/v1/challenges", &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        serde_json::from_value(reply.body).expect("challenge response")
    }

    /// Attests `wallet` with `card` through the API (challenge, then submission); returns the
    /// attestation id.
    pub(crate) async fn attest(&self, card: &SimCard, wallet: &SigningKey) -> String {
        let challenge = self.challenge(address(wallet)).await;
        let reply =
            self.post("/v1/attestations", &attestation_request(&challenge, card, wallet)).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        reply.body["attestation_id"].as_str().expect("id").to_owned()
    }

    /// Stores a challenge issued at `issued_at` directly (expired or other-purpose challenges).
    pub(crate) async fn stored_challenge(
        &self,
        purpose: Purpose,
        wallet: Address,
        issued_at: time::OffsetDateTime,
    ) -> Challenge {
        let challenge = self.settings.issue(purpose, wallet, None, issued_at);
        self.store.insert_challenge(&challenge).await.expect("insert challenge");
        challenge
    }
}

/// Age claims trusting [`sign_root`], revocation from `source`.
fn signing_evidence(source: &Arc<FakeRevocation>) -> SigningEvidence {
    SigningEvidence {
        verifier: SigningVerifier::new(sign_root().anchors()),
        revocation: Revocation::Check { source: source.clone(), allow_unknown: false },
    }
}

/// A response, its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
    pub(crate) raw: Vec<u8>,
}

impl Reply {
    /// Asserts a problem+json answer with `status` and `code`; returns the body.
    #[track_caller]
    pub(crate) fn assert_problem(&self, status: StatusCode, code: &str) -> &Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
        );
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status.as_u16());
        assert_eq!(self.body["type"], format!("https://honnin.dev/problems/{code}"));
        assert!(self.body["title"].as_str().is_some_and(|t| !t.is_empty()));
        &self.body
    }
}

/// A JSON POST request.
pub(crate) fn json_request(path: &str, body: &impl serde::Serialize) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("request")
}

/// A distinct wallet key for each `n`.
pub(crate) fn wallet_key_n(n: u32) -> SigningKey {
    let mut bytes = [0x5a; 32];
    bytes[28..].copy_from_slice(&n.to_be_bytes());
    SigningKey::from_bytes(&bytes.into()).expect("key")
}

/// A wallet key from a seed byte.
pub(crate) fn wallet_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32].into()).expect("key")
}

/// The wallet address of a key.
pub(crate) fn address(key: &SigningKey) -> Address {
    Address::from_private_key(key)
}

/// EIP-191 `personal_sign`: 65 bytes r ‖ s ‖ v (27/28), as `0x` hex.
pub(crate) fn personal_sign(key: &SigningKey, message: &str) -> String {
    let (sig, recid) = key.sign_prehash_recoverable(eip191_hash(message).as_slice()).expect("sign");
    let sig = Signature::from_signature_and_parity(sig, recid.is_y_odd());
    format!("0x{}", hex::encode(sig.as_bytes()))
}

/// A card from the shared root with `serial` (the default profile otherwise).
pub(crate) fn card(serial: &[u8]) -> SimCard {
    root().issue(&CardSpec { serial: serial.to_vec(), ..CardSpec::default() })
}

/// A card with a random 16-byte serial (positive, no leading zero): distinctive enough that
/// finding its hex anywhere cannot be a coincidence.
pub(crate) fn fresh_card() -> SimCard {
    let mut serial = honnin_core::ChallengeId::random().as_bytes().to_vec();
    serial[0] = (serial[0] & 0x7f) | 0x10;
    card(&serial)
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The attestation request a client sends: card and wallet both sign the message.
pub(crate) fn attestation_request(
    challenge: &ChallengeResponse,
    card: &SimCard,
    wallet: &SigningKey,
) -> AttestationRequest {
    AttestationRequest {
        challenge_id: challenge.id.clone(),
        certificate: b64(card.der()),
        card_signature: b64(&card.sign(challenge.message.as_bytes())),
        wallet_signature: personal_sign(wallet, &challenge.message),
        signing_certificate: None,
        signing_signature: None,
    }
}

/// A signing certificate (the real profile) from [`sign_root`] for a person born on
/// `birth_date`, with a random serial.
pub(crate) fn signing_card(birth_date: time::Date) -> SimCard {
    let mut serial = honnin_core::ChallengeId::random().as_bytes().to_vec();
    serial[0] = (serial[0] & 0x7f) | 0x10;
    sign_root().issue(&CardSpec { serial, ..CardSpec::signing(birth_date) })
}

/// `request` with `signing`'s certificate and its signature over `message`.
pub(crate) fn with_signing(
    mut request: AttestationRequest,
    signing: &SimCard,
    message: &str,
) -> AttestationRequest {
    request.signing_certificate = Some(b64(signing.der()));
    request.signing_signature = Some(b64(&signing.sign(message.as_bytes())));
    request
}

/// Today in Japan (UTC+9): the calendar day ages are counted on.
pub(crate) fn today_in_japan() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).expect("offset"))
        .date()
}

/// The same for a challenge read from the store.
pub(crate) fn request_for(
    challenge: &Challenge,
    card: &SimCard,
    wallet: &SigningKey,
) -> AttestationRequest {
    let response = ChallengeResponse {
        id: challenge.id.to_string(),
        message: challenge.message(),
        expires_at: honnin_core::time::rfc3339(challenge.expires_at),
        scope_id: challenge.scope.as_ref().map(|name| name.id().to_string()),
    };
    attestation_request(&response, card, wallet)
}

/// A contract wallet modelled in Rust exactly as the repository's `OwnedWallet` contract
/// behaves: it accepts a signature when ECDSA recovery over the hash gives its owner.
#[derive(Debug, Default)]
pub(crate) struct OwnedWallets {
    pub(crate) owners: HashMap<Address, Address>,
    pub(crate) unreachable: bool,
}

#[async_trait]
impl ContractWallets for OwnedWallets {
    async fn is_valid_signature(
        &self,
        wallet: Address,
        hash: B256,
        signature: &[u8],
    ) -> Result<bool, ContractWalletError> {
        if self.unreachable {
            return Err(ContractWalletError("connection refused".into()));
        }
        let Some(owner) = self.owners.get(&wallet) else { return Ok(false) };
        Ok(Signature::from_raw(signature)
            .ok()
            .and_then(|s| s.recover_address_from_prehash(&hash).ok())
            .is_some_and(|recovered| recovered == *owner))
    }
}

/// Captures every event and span field at TRACE level (all crates: honnin, sqlx, hyper,
/// tower-http; every thread) while the returned guard lives. Formatting everything is slow, so
/// it is on only for the test that scans the logs; events of tests running meanwhile are
/// captured too, which only widens the scan.
pub(crate) fn capture_logs() -> Capturing {
    init_log_capture();
    buffer().clear();
    CAPTURING.store(true, Ordering::SeqCst);
    Capturing
}

/// Stops the capture when dropped; [`Capturing::logs`] reads what was captured.
pub(crate) struct Capturing;

impl Capturing {
    pub(crate) fn logs(&self) -> String {
        String::from_utf8_lossy(&buffer()).into_owned()
    }
}

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURING.store(false, Ordering::SeqCst);
    }
}

static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
static CAPTURING: AtomicBool = AtomicBool::new(false);

fn buffer() -> std::sync::MutexGuard<'static, Vec<u8>> {
    LOGS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Copy)]
struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        buffer().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs, once per process, the global subscriber behind [`capture_logs`].
fn init_log_capture() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        use tracing_subscriber::{Layer as _, layer::SubscriberExt as _};
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_writer(|| Capture)
            .with_filter(tracing_subscriber::filter::filter_fn(|_| {
                CAPTURING.load(Ordering::Relaxed)
            }));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
    });
}

/// The app on a real socket (port 0), served by the server `honnin serve` runs
/// (`honnin_service::http`: its connection handling, `ConnectInfo` for the rate limiter);
/// stopped when dropped.
pub(crate) struct Served {
    /// The bound address.
    pub(crate) addr: SocketAddr,
    server: honnin_service::http::ServerHandle,
}

impl Served {
    /// Serves `app` on a free port with the default HTTP settings.
    pub(crate) async fn start(app: &Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = honnin_service::http::spawn(
            listener,
            app.clone(),
            honnin_service::config::HttpConfig::default(),
        )
        .unwrap();
        Self { addr: server.local_addr(), server }
    }

    /// Stops the server and waits until every connection is closed.
    pub(crate) async fn stop(self) {
        self.server.stop().await.unwrap();
    }
}
