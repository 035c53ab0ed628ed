//! # honnin-e2e
//!
//! honnin end to end, with nothing stubbed: a real anvil (the pinned one, one per test, on a free
//! port) with `KycRegistry` deployed by `honnin_chain::deploy`, a real Postgres (the store's
//! throwaway-cluster harness, or `HONNIN_TEST_DATABASE_URL`), and one or more instances of the
//! whole service started by `honnin_service::Service::launch` exactly as `honnin serve` starts
//! it: the API on a real socket, the chain writer on its own connections (the instances compete
//! for its lease), the audit writer and the background jobs (revocation sync over a CRL signed
//! by a simulated J-LIS root and a renewal link feed, expiry sweep, challenge purge), with
//! simulated cards.
//!
//! - [`Deployment`] starts all of it; [`Client`] talks to an instance over HTTP.
//! - [`Person`] is one simulated resident: a card certificate with its own serial and subject id,
//!   and a fresh EOA.
//! - [`privacy`] scans a `pg_dump`, captured logs and the chain for personal data.
//! - [`receiver`] is a dApp's webhook endpoint: a real HTTP server on 127.0.0.1 that records
//!   what it is sent and answers as told (or not at all).
//!
//! The tests are in `tests/it`; `src/bin/loadbench.rs` is the on-demand load benchmark.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::Duration,
};

use alloy::{
    network::EthereumWallet,
    node_bindings::AnvilInstance,
    primitives::{Address, B256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use anyhow::{Context as _, Result, ensure};
use honnin_chain::{DeployOptions, bindings::KycRegistry, metrics::WriterMetrics};
use honnin_core::{AuditLog, ChallengeSettings, Pepper, Policy, ServiceDomain, Store};
use honnin_jpki::{
    CrlSource,
    test_utils::{CrlEntry, CrlSpec},
};
use honnin_lifecycle::{LinkOrigin, RevocationSync};
use honnin_service::{
    AccessConfig, CardConfig, ChainConfig, DatabaseConfig, HttpConfig, JobsConfig,
    RevocationConfig, Secret, Service, ServiceConfig, SigningConfig, WebhookConfig, WriterTuning,
};
use serde_json::Value;
use tempfile::TempDir;

mod client;
pub mod logs;
mod person;
pub mod privacy;
pub mod receiver;

/// The service domain every e2e challenge names.
pub const DOMAIN: &str = "honnin.e2e";

pub use client::{Client, Reply};
pub use person::{Person, b64, personal_sign, request, root, sign_root};

/// A local chain: anvil on a free port with `KycRegistry` deployed by `honnin_chain::deploy`
/// (admin = anvil account 0, attester and revoker = account 1, the writer's key).
pub struct Chain {
    /// The node; killed on drop.
    pub anvil: AnvilInstance,
    /// A provider that signs for every anvil account.
    pub provider: DynProvider,
    /// The registry's address.
    pub registry: Address,
    /// The chain writer's key (anvil account 1), as hex.
    pub attester_key: String,
}

impl Chain {
    /// Starts anvil and deploys the registry.
    pub async fn start() -> Result<Self> {
        let anvil = tokio::task::spawn_blocking(honnin_chain::test_utils::spawn_anvil)
            .await?
            .context("start anvil (run scripts/install-tools for the pinned one)")?;
        let wallet = anvil.wallet().context("anvil has keys")?;
        let provider =
            ProviderBuilder::new().wallet(wallet).connect_http(anvil.endpoint_url()).erased();
        let deployer = anvil.addresses()[0];
        let attester = anvil.addresses()[1];
        let deployed = honnin_chain::deploy(
            &provider,
            deployer,
            &DeployOptions { attester: Some(attester), ..DeployOptions::default() },
        )
        .await
        .context("deploy the registry")?;
        let attester_key = format!("0x{}", hex::encode(anvil.keys()[1].to_bytes()));
        Ok(Self { anvil, provider, registry: deployed.registry, attester_key })
    }

    /// The JSON-RPC URL.
    pub fn rpc_url(&self) -> String {
        self.anvil.endpoint()
    }

    /// `isVerified(wallet)` on the registry.
    pub async fn is_verified(&self, wallet: Address) -> Result<bool> {
        Ok(KycRegistry::new(self.registry, &self.provider).isVerified_1(wallet).call().await?)
    }

    /// `hasClaims(wallet, bits)` on the registry: verified with every claim bit of `bits`.
    pub async fn has_claims(&self, wallet: Address, bits: u32) -> Result<bool> {
        Ok(KycRegistry::new(self.registry, &self.provider).hasClaims_0(wallet, bits).call().await?)
    }

    /// `isVerified(wallet, scope)` on the registry: the wallet's record in `scope`.
    pub async fn is_verified_in(
        &self,
        wallet: Address,
        scope: &honnin_core::Scope,
    ) -> Result<bool> {
        let registry = KycRegistry::new(self.registry, &self.provider);
        Ok(registry.isVerified_2(wallet, *scope.as_b256()).call().await?)
    }

    /// `attestationOf(wallet, scope)` on the registry.
    pub async fn attestation_in(
        &self,
        wallet: Address,
        scope: &honnin_core::Scope,
    ) -> Result<honnin_chain::bindings::IKycRegistry::Attestation> {
        let registry = KycRegistry::new(self.registry, &self.provider);
        Ok(registry.attestationOf_0(wallet, *scope.as_b256()).call().await?)
    }

    /// `attestationOf(wallet)` on the registry.
    pub async fn attestation_of(
        &self,
        wallet: Address,
    ) -> Result<honnin_chain::bindings::IKycRegistry::Attestation> {
        Ok(KycRegistry::new(self.registry, &self.provider).attestationOf_1(wallet).call().await?)
    }

    /// Moves the chain's clock forward by `seconds` and mines a block.
    pub async fn advance_time(&self, seconds: u64) -> Result<()> {
        let _: Value = self.provider.raw_request("evm_increaseTime".into(), (seconds,)).await?;
        let _: Value = self.provider.raw_request("evm_mine".into(), ()).await?;
        Ok(())
    }
}

/// How to start a [`Deployment`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Service instances sharing the database, each with its own chain writer. Default 1.
    pub instances: usize,
    /// Wallets per person and behaviour at the limit. Default: one wallet, refuse.
    pub policy: Policy,
    /// Serials the CRL lists as revoked (key compromise).
    pub revoked_serials: Vec<Vec<u8>>,
    /// Signing-certificate serials the signature root's CRL lists as revoked (age claims).
    pub revoked_signing_serials: Vec<Vec<u8>>,
    /// Verifications at once per instance. Default: the number of CPUs.
    pub verify_concurrency: Option<usize>,
    /// Database pool size per instance. Default 32.
    pub db_max_connections: Option<u32>,
    /// Writer batch size. Default: the writer's default (200).
    pub max_batch: Option<u32>,
    /// The background jobs' intervals (revocation sync, expiry sweep, challenge purge).
    /// Default: `honnin serve`'s.
    pub jobs: JobIntervals,
    /// Webhook settings (the worker's timeouts and retries, private addresses, configured
    /// endpoints). Default: `honnin serve`'s.
    pub webhooks: WebhookConfig,
    /// Dev mode (what `honnin dev` sets: `http://` webhook endpoints allowed). Default off.
    pub dev: bool,
    /// An admin bearer token the instances accept (id `ops`). Default: none.
    pub admin_token: Option<String>,
    /// Run on a SQLite file instead of the shared throwaway Postgres (one instance only).
    /// Default: Postgres.
    pub sqlite: bool,
    /// Scopes registered at start-up (the `scopes` setting). Default: none.
    pub scopes: Vec<honnin_core::ScopeName>,
}

/// How often each background job runs; `None` keeps `honnin serve`'s default.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobIntervals {
    /// The revocation sync (renewal links, then the CRL).
    pub sync: Option<Duration>,
    /// The expiry sweep.
    pub sweep: Option<Duration>,
    /// The challenge purge.
    pub purge: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            instances: 1,
            policy: Policy::default(),
            revoked_serials: Vec::new(),
            revoked_signing_serials: Vec::new(),
            verify_concurrency: None,
            db_max_connections: None,
            max_batch: None,
            jobs: JobIntervals::default(),
            webhooks: WebhookConfig::default(),
            dev: false,
            admin_token: None,
            sqlite: false,
            scopes: Vec::new(),
        }
    }
}

/// One instance of the whole service, started by [`Service::launch`], its API on a real socket.
pub struct Instance {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// Its store (its own pool on the shared database).
    pub store: Arc<dyn Store>,
    /// Its chain writer's metrics (`is_leader`).
    pub writer_metrics: WriterMetrics,
    /// Its audit log (the group-commit writer the service runs).
    pub audit: AuditLog,
    /// The CRL source its API checks certificates against.
    pub crl: Arc<CrlSource>,
    /// Wakes its chain writer.
    pub wake_writer: Arc<dyn Fn() + Send + Sync>,
    service: Service,
}

impl Instance {
    /// A client for this instance.
    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }

    /// The running service.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Stops the service gracefully, in reverse start order (server, jobs, chain writer with
    /// its lease released and nothing half-sent, audit writer).
    pub async fn stop(self) -> Result<()> {
        let Self { service, audit, .. } = self;
        drop(audit);
        Ok(service.stop().await?)
    }
}

/// Everything an end-to-end test needs, started: chain, database, API instances and writers.
pub struct Deployment {
    /// The chain.
    pub chain: Chain,
    /// The Postgres URL of this deployment's fresh database.
    pub database_url: String,
    /// The API instances.
    pub instances: Vec<Instance>,
    /// The operator's pepper (to compute expected keyed hashes in checks).
    pub pepper: Arc<Pepper>,
    /// The challenge settings every instance uses.
    pub settings: ChallengeSettings,
    /// The CRL every instance follows (rewrite it with [`Deployment::publish_crl`]).
    pub crl_path: PathBuf,
    /// The renewal link feed (JSON lines; rewrite it with [`Deployment::publish_links`]).
    pub links_path: PathBuf,
    /// The folder of trusted roots (the simulated root's PEM).
    roots: PathBuf,
    /// The signature roots (age claims: the simulated signature root's PEM) and its CRL.
    signing_roots: PathBuf,
    signing_crl_path: PathBuf,
    pepper_hex: String,
    _dir: TempDir,
}

/// The throwaway Postgres (or `HONNIN_TEST_DATABASE_URL`'s server), one per process.
fn pg_server() -> Result<&'static honnin_store::test_utils::TestServer> {
    static SERVER: OnceLock<honnin_store::test_utils::TestServer> = OnceLock::new();
    if let Some(server) = SERVER.get() {
        return Ok(server);
    }
    let server = honnin_store::test_utils::test_server().context("start postgres")?;
    Ok(SERVER.get_or_init(|| server))
}

/// A fresh database on the shared throwaway Postgres.
pub async fn fresh_database() -> Result<String> {
    tokio::task::spawn_blocking(|| -> Result<String> {
        pg_server()?.create_database().context("create database")
    })
    .await?
}

impl Deployment {
    /// Starts a deployment per `options`.
    pub async fn start(options: Options) -> Result<Self> {
        let chain = Chain::start().await?;
        let dir = tempfile::tempdir()?;
        let database_url = if options.sqlite {
            format!("sqlite://{}/db/honnin.db?mode=rwc", dir.path().display())
        } else {
            fresh_database().await?
        };

        let crl_path = dir.path().join("crl.der");
        let now = time::OffsetDateTime::now_utc();
        let crl = root().crl(&CrlSpec {
            entries: options
                .revoked_serials
                .iter()
                .map(|serial| CrlEntry {
                    serial: serial.clone(),
                    reason: Some(honnin_jpki::RevocationReason::KeyCompromise),
                    time: now - time::Duration::hours(2),
                })
                .collect(),
            ..CrlSpec::default()
        });
        std::fs::write(&crl_path, crl)?;
        let links_path = dir.path().join("links.jsonl");
        std::fs::write(&links_path, "")?;
        let roots = dir.path().join("roots");
        std::fs::create_dir_all(&roots)?;
        std::fs::write(roots.join("root.pem"), root().pem())?;
        let signing_roots = dir.path().join("signing-roots");
        std::fs::create_dir_all(&signing_roots)?;
        std::fs::write(signing_roots.join("root.pem"), sign_root().pem())?;
        let signing_crl_path = dir.path().join("signing.crl");
        let signing_crl = sign_root().crl(&CrlSpec {
            entries: options
                .revoked_signing_serials
                .iter()
                .map(|serial| CrlEntry {
                    serial: serial.clone(),
                    reason: Some(honnin_jpki::RevocationReason::AffiliationChanged),
                    time: now - time::Duration::hours(2),
                })
                .collect(),
            ..CrlSpec::default()
        });
        std::fs::write(&signing_crl_path, signing_crl)?;

        // Every instance gets the same pepper (a service's pepper is its own: given as hex).
        let pepper_hex = hex::encode(PrivateKeySigner::random().to_bytes());
        let pepper = Arc::new(Pepper::from_hex(&pepper_hex)?);
        let settings = ChallengeSettings::new(ServiceDomain::new(DOMAIN)?, 31337, chain.registry);
        let mut deployment = Self {
            chain,
            database_url,
            instances: Vec::new(),
            pepper,
            settings,
            crl_path,
            links_path,
            roots,
            signing_roots,
            signing_crl_path,
            pepper_hex,
            _dir: dir,
        };
        for _ in 0..options.instances.max(1) {
            let instance = deployment.start_instance(&options).await?;
            deployment.instances.push(instance);
        }
        Ok(deployment)
    }

    /// The configuration of one instance: `honnin serve`'s defaults but for a free port,
    /// generous pool and request limits (a burst of a thousand clients queues for connections
    /// far longer than the default 5 s: the tests measure correctness under that load, not the
    /// default's back-pressure), rate limits off (a thousand flows from one address are the
    /// point) and a chain writer tuned to answer quickly.
    fn instance_config(&self, options: &Options) -> Result<ServiceConfig> {
        let mut database = DatabaseConfig::new(&self.database_url);
        database.options.postgres.max_connections = options.db_max_connections.unwrap_or(32);
        database.options.postgres.acquire_timeout = Duration::from_secs(60);
        let mut limits =
            honnin_api::Limits { request_timeout: Duration::from_secs(60), ..Default::default() };
        if let Some(n) = options.verify_concurrency {
            limits.verify_concurrency = n;
        }
        let defaults = JobsConfig::default();
        Ok(ServiceConfig {
            dev: options.dev,
            http: HttpConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                ..HttpConfig::default()
            },
            limits,
            database,
            card: CardConfig {
                trust_anchors: self.roots.clone(),
                revocation: RevocationConfig::Crl(vec![self.crl_path.display().to_string()]),
                // Uncached: a CRL the sync applies is what the next card is checked against.
                revocation_cache: Duration::ZERO,
                revocation_allow_unknown: false,
                signing: Some(SigningConfig {
                    trust_anchors: self.signing_roots.clone(),
                    revocation: RevocationConfig::Crl(vec![
                        self.signing_crl_path.display().to_string(),
                    ]),
                }),
            },
            pepper: Some(Pepper::from_hex(&self.pepper_hex)?),
            policy: options.policy,
            challenges: self.settings.clone(),
            chain: ChainConfig {
                chain_id: 31337,
                registry: self.chain.registry,
                rpc_url: Some(self.chain.rpc_url()),
                attester_key: Some(Secret::new(self.chain.attester_key.clone())),
                writer: WriterTuning {
                    max_batch: options.max_batch,
                    linger: Some(Duration::from_millis(20)),
                    confirmations: None,
                    idle_poll: Some(Duration::from_millis(20)),
                    lease_retry: Some(Duration::from_millis(200)),
                    retry_base: Some(Duration::from_millis(100)),
                    receipt_poll: Some(Duration::from_millis(20)),
                },
            },
            access: AccessConfig {
                auth: honnin_api::Auth {
                    admin_tokens: options
                        .admin_token
                        .iter()
                        .map(|token| honnin_api::AdminToken {
                            id: "ops".into(),
                            sha256: honnin_api::TokenDigest::of(token),
                        })
                        .collect(),
                    api_keys: Vec::new(),
                },
                rate_limits: honnin_api::RateLimits::off(),
            },
            jobs: JobsConfig {
                renewal_links: Some(LinkOrigin::parse(&self.links_path.display().to_string())?),
                sync_interval: options.jobs.sync.unwrap_or(defaults.sync_interval),
                sweep_interval: options.jobs.sweep.unwrap_or(defaults.sweep_interval),
                purge_interval: options.jobs.purge.unwrap_or(defaults.purge_interval),
                ..defaults
            },
            webhooks: options.webhooks.clone(),
            page: honnin_service::PageConfig::default(),
            scopes: options.scopes.clone(),
        })
    }

    async fn start_instance(&self, options: &Options) -> Result<Instance> {
        let service = Service::launch(self.instance_config(options)?).await?;
        Ok(Instance {
            url: format!("http://{}", service.local_addr()),
            store: service.store().clone(),
            writer_metrics: service.writer_metrics().context("a chain writer runs")?.clone(),
            audit: service.audit().clone(),
            crl: service.crl_source().context("the CRL source")?.clone(),
            wake_writer: service.wake_writer().context("a chain writer runs")?.clone(),
            service,
        })
    }

    /// Publishes a new CRL (issued now) revoking `entries` (serial, reason, when), for the
    /// instances' API checks and the revocation sync alike.
    pub fn publish_crl(&self, entries: &[(Vec<u8>, honnin_jpki::RevocationReason)]) -> Result<()> {
        let now = time::OffsetDateTime::now_utc();
        let crl = root().crl(&CrlSpec {
            this_update: now - time::Duration::seconds(5),
            entries: entries
                .iter()
                .map(|(serial, reason)| CrlEntry {
                    serial: serial.clone(),
                    reason: Some(*reason),
                    time: now - time::Duration::seconds(10),
                })
                .collect(),
            ..CrlSpec::default()
        });
        std::fs::write(&self.crl_path, crl)?;
        Ok(())
    }

    /// Publishes the renewal link feed: each pair is (old serial, new serial) under the
    /// simulated root, in the documented JSON-lines format.
    pub fn publish_links(&self, links: &[(&[u8], &[u8])]) -> Result<()> {
        let mut text = String::new();
        for (old, new) in links {
            text.push_str(&serde_json::to_string(&serde_json::json!({
                "issuer_key_id": hex::encode(root().key_id()),
                "old_serial": hex::encode(old),
                "new_serial": hex::encode(new),
            }))?);
            text.push('\n');
        }
        std::fs::write(&self.links_path, text)?;
        Ok(())
    }

    /// The revocation sync of the first instance, built by honnin-service exactly as its
    /// background job: the CRL, the renewal link feed, the instance's CRL source kept current,
    /// its writer woken. For tests that run a cycle by hand.
    pub fn revocation_sync(&self) -> Result<RevocationSync> {
        Ok(self.instance().service().revocation_sync())
    }

    /// Starts one more instance with `options` (after [`Deployment::stop`]: a restart).
    pub async fn start_again(&mut self, options: &Options) -> Result<()> {
        let instance = self.start_instance(options).await?;
        self.instances.push(instance);
        Ok(())
    }

    /// The first instance.
    pub fn instance(&self) -> &Instance {
        &self.instances[0]
    }

    /// A client for the first instance.
    pub fn client(&self) -> Client {
        self.instance().client()
    }

    /// Stops every instance gracefully (its server, jobs, chain writer with the lease released
    /// and nothing half-sent, audit writer); the chain and the database stay up.
    pub async fn stop(&mut self) -> Result<()> {
        for instance in self.instances.drain(..) {
            instance.stop().await?;
        }
        Ok(())
    }

    /// The pg_dump binary: `$HONNIN_PG_BIN/pg_dump`, else PostgreSQL 15's.
    pub fn pg_dump_path() -> PathBuf {
        let bin = std::env::var_os("HONNIN_PG_BIN")
            .map_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"), PathBuf::from);
        bin.join("pg_dump")
    }

    /// A plain-SQL `pg_dump` of this deployment's database (schema and every row).
    pub async fn pg_dump(&self) -> Result<String> {
        let output = tokio::process::Command::new(Self::pg_dump_path())
            .arg("--no-owner")
            .arg("--inserts")
            .arg(format!("--dbname={}", self.database_url))
            .output()
            .await
            .context("run pg_dump")?;
        ensure!(
            output.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?)
    }

    /// A connection pool for direct checks of the rows.
    pub async fn pool(&self) -> Result<sqlx::PgPool> {
        Ok(sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.database_url)
            .await?)
    }
}

/// A transaction hash as the API prints it.
pub fn tx_hash_text(hash: B256) -> String {
    format!("{hash:#x}")
}

/// Anvil's funded account `index` as a signer (for contract-wallet owners).
pub fn anvil_signer(anvil: &AnvilInstance, index: usize) -> PrivateKeySigner {
    PrivateKeySigner::from(anvil.keys()[index].clone())
}

/// A provider signing as `signer` on `chain`.
pub fn provider_for(chain: &Chain, signer: PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(chain.anvil.endpoint_url())
        .erased()
}
