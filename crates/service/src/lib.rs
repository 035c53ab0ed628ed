#![doc = include_str!("../README.md")]

pub mod config;
mod error;
pub mod http;
pub mod jobs;
mod parts;
pub mod webhooks;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use honnin_api::{AppState, Metrics, OnQueued};
use honnin_chain::{metrics::WriterMetrics, wallets::RpcContractWallets, writer::WriterHandle};
use honnin_core::{ContractWallets, Pepper, Store, audit::AuditLog};
use honnin_jpki::{CrlSource, TrustAnchors};
use honnin_lifecycle::RevocationSync;
use tokio::{sync::watch, task::JoinHandle};

pub use config::{
    AccessConfig, CardConfig, ChainConfig, ConfiguredWebhook, DatabaseConfig, HttpConfig,
    JobsConfig, RevocationConfig, Secret, ServiceConfig, SigningConfig, WebhookConfig,
    WriterTuning,
};
pub use error::{Error, Result};
pub use honnin_web::PageConfig;
pub use parts::open_store;

const TARGET: &str = "honnin::service";

/// How long the audit log writer gets, at the very end, to commit what is queued.
const AUDIT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The running service. [`Service::launch`] starts it; [`Service::stop`] (or dropping it,
/// without waiting) stops it in reverse order.
pub struct Service {
    local_addr: SocketAddr,
    store: Arc<dyn Store>,
    metrics: Metrics,
    writer_metrics: Option<WriterMetrics>,
    shared: jobs::Shared,
    revocation: RevocationConfig,
    jobs: JobsConfig,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<()>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("local_addr", &self.local_addr)
            .field("chain_writer", &self.writer_metrics.is_some())
            .finish_non_exhaustive()
    }
}

/// What runs, in start order; stopped in reverse.
struct Running {
    audit_writer: JoinHandle<()>,
    writer: Option<WriterHandle>,
    jobs: Option<jobs::Jobs>,
    webhooks: Option<webhooks::WebhookWorker>,
    server: Option<http::ServerHandle>,
}

impl Running {
    /// HTTP server (in-flight requests get the shutdown timeout) → webhook worker (an attempt
    /// in flight is abandoned: the delivery stays queued) → background jobs → chain writer →
    /// audit log writer (commits what is queued once every other handle is gone).
    async fn stop(self) -> Result<()> {
        let mut result = Ok(());
        if let Some(server) = self.server {
            result = server.stop().await;
        }
        if let Some(webhooks) = self.webhooks {
            webhooks.stop().await;
        }
        if let Some(jobs) = self.jobs {
            jobs.stop().await;
        }
        if let Some(writer) = self.writer
            && let Err(error) = writer.stop().await
        {
            tracing::warn!(target: TARGET, %error, "the chain writer did not stop cleanly");
        }
        if tokio::time::timeout(AUDIT_DRAIN_TIMEOUT, self.audit_writer).await.is_err() {
            tracing::warn!(target: TARGET, "the audit log writer did not finish in time");
        }
        tracing::info!(target: TARGET, "stopped");
        result
    }
}

impl Service {
    /// Starts the whole service from `config`, in this order: trust anchors and revocation
    /// source (CRLs loaded and verified: nothing is migrated for a service whose card
    /// settings are unusable) → store, migrations and the configured scopes → audit log
    /// writer → chain writer on its own connections (when `rpc_url` and `attester_key` are
    /// set) → background jobs (revocation sync, expiry sweep, challenge purge) → the
    /// configured webhook endpoints and the webhook worker → HTTP server. A step that fails stops what was started before it.
    pub async fn launch(mut config: ServiceConfig) -> Result<Self> {
        if config.dev {
            tracing::warn!(target: TARGET, "DEV MODE: not for production");
        }
        let anchors = Arc::new(
            TrustAnchors::from_path(&config.card.trust_anchors).map_err(Error::TrustAnchors)?,
        );
        let (revocation, crl_source) = parts::revocation(&config.card, anchors.clone()).await?;
        let signing = parts::signing(&config.card).await?;
        let writer_config = parts::writer_config(&config.chain)?;
        let contract_wallets: Option<Arc<dyn ContractWallets>> = match &config.chain.rpc_url {
            Some(url) => Some(Arc::new(RpcContractWallets::connect_http(parts::rpc_url(url)?))),
            None => {
                tracing::warn!(target: TARGET, "no rpc_url: contract wallets (ERC-1271) cannot attest");
                None
            }
        };
        tracing::info!(
            target: TARGET,
            chain_id = config.chain.chain_id,
            registry = %config.chain.registry,
            attester_key = config.chain.attester_key.is_some(),
            "chain"
        );

        let store = parts::open_store(&config.database).await?;
        tracing::info!(target: TARGET, "database migrated");
        // Before the jobs start, so the first revocation cycle reaches every configured scope.
        parts::register_scopes(&store, &config.scopes).await?;
        let pepper = Arc::new(match config.pepper.take() {
            Some(pepper) => pepper,
            None => {
                tracing::warn!(
                    target: TARGET,
                    "DEV MODE: no pepper configured; using a throwaway one (pseudonyms will not match after a restart)"
                );
                Pepper::generate()
            }
        });
        let metrics = Metrics::new();

        // The audit log's group-commit writer: handlers wait for their events to be committed.
        let (audit, audit_writer) = AuditLog::new(store.clone());
        let mut running = Running {
            audit_writer: tokio::spawn(audit_writer),
            writer: None,
            jobs: None,
            webhooks: None,
            server: None,
        };

        let mut writer_metrics = None;
        if let Some(writer_config) = writer_config {
            match parts::start_writer(
                writer_config,
                &config.database,
                &store,
                &metrics,
                audit.clone(),
            )
            .await
            {
                Ok((writer, its_metrics)) => {
                    running.writer = Some(writer);
                    writer_metrics = Some(its_metrics);
                }
                Err(error) => {
                    drop(audit);
                    return Err(abort(running, error).await);
                }
            }
        }
        let on_queued: Option<OnQueued> = running.writer.as_ref().map(|writer| {
            let waker = writer.waker();
            Arc::new(move || waker.wake()) as OnQueued
        });

        let shared = jobs::Shared {
            store: store.clone(),
            pepper: pepper.clone(),
            anchors: anchors.clone(),
            audit: audit.clone(),
            crl_source,
            on_queued: on_queued.clone(),
        };
        running.jobs =
            Some(jobs::Jobs::spawn(&shared, &config.card.revocation, &config.jobs, &metrics));

        // Webhooks: the configured endpoints made exactly those, then the worker.
        let webhook_policy = honnin_core::webhook::AddressPolicy {
            allow_http: config.dev,
            allow_private: config.webhooks.allow_private_addresses,
        };
        if config.webhooks.allow_private_addresses {
            tracing::warn!(target: TARGET, "webhooks may call private and loopback addresses (dev only)");
        }
        let started = match parts::sync_webhooks(&store, &config.webhooks, webhook_policy).await {
            Ok(()) => webhooks::WebhookWorker::spawn(
                store.clone(),
                config.webhooks.clone(),
                webhook_policy,
                &metrics,
            ),
            Err(error) => Err(error),
        };
        match started {
            Ok(worker) => running.webhooks = Some(worker),
            Err(error) => {
                // Every audit handle gone, so the audit writer stops at once.
                drop((shared, audit));
                return Err(abort(running, error).await);
            }
        }

        tracing::info!(
            target: TARGET,
            admin_tokens = config.access.auth.admin_tokens.len(),
            api_keys = config.access.auth.api_keys.len(),
            rate_limits = config.access.rate_limits.enabled,
            trusted_proxies = config.access.rate_limits.trusted_proxies.len(),
            "access"
        );
        let state = AppState {
            store: store.clone(),
            verifier: honnin_jpki::Verifier::new(anchors, honnin_jpki::Policy::default()),
            revocation,
            signing,
            pepper,
            policy: config.policy,
            challenges: config.challenges,
            contract_wallets,
            metrics: metrics.clone(),
            limits: config.limits,
            auth: config.access.auth,
            rate_limits: config.access.rate_limits,
            on_queued,
            audit,
            webhook_policy,
        };
        let server = match http::bind(config.http.listen).await {
            Ok(listener) => http::spawn(
                listener,
                honnin_api::app(state).merge(honnin_web::router(&config.page)),
                config.http,
            ),
            Err(error) => {
                drop((state, shared));
                return Err(abort(running, error).await);
            }
        };
        let server = match server {
            Ok(server) => server,
            Err(error) => {
                drop(shared);
                return Err(abort(running, error).await);
            }
        };
        let local_addr = server.local_addr();
        running.server = Some(server);
        tracing::info!(target: TARGET, address = %local_addr, "listening");

        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            // A stop request, or the handle dropped.
            let _ = stopped.wait_for(|stop| *stop).await;
            tracing::info!(target: TARGET, "shutting down: finishing in-flight requests");
            running.stop().await
        });
        Ok(Self {
            local_addr,
            store,
            metrics,
            writer_metrics,
            shared,
            revocation: config.card.revocation,
            jobs: config.jobs,
            stop,
            task,
        })
    }

    /// The address the HTTP server listens on (the free port when `listen` named port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The API's store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The audit log every part records into.
    pub fn audit(&self) -> &AuditLog {
        &self.shared.audit
    }

    /// The metrics registry `/metrics` serves (API, chain writer, background jobs).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The chain writer's metrics, when a writer runs.
    pub fn writer_metrics(&self) -> Option<&WriterMetrics> {
        self.writer_metrics.as_ref()
    }

    /// Wakes the chain writer (what the API and the sync call after queueing), when one runs.
    pub fn wake_writer(&self) -> Option<&OnQueued> {
        self.shared.on_queued.as_ref()
    }

    /// The CRL source the API checks cards against (`revocation = "crl:…"`).
    pub fn crl_source(&self) -> Option<&Arc<CrlSource>> {
        self.shared.crl_source.as_ref()
    }

    /// The pepper every keyed hash of this service uses.
    pub fn pepper(&self) -> &Arc<Pepper> {
        &self.shared.pepper
    }

    /// A revocation sync built exactly as the background one (the API's CRL source kept
    /// current, the writer woken), to run a cycle by hand.
    pub fn revocation_sync(&self) -> RevocationSync {
        self.shared.sync(&self.revocation, &self.jobs)
    }

    /// Stops the service in reverse start order and waits for every part.
    pub async fn stop(self) -> Result<()> {
        let Self { stop, task, shared, .. } = self;
        // The audit writer ends once every handle is gone: this one too.
        drop(shared);
        let _ = stop.send(true);
        task.await.map_err(|_| Error::Panicked)?
    }
}

/// Stops what `running` started after a failed start-up step, and returns the step's error.
async fn abort(running: Running, error: Error) -> Error {
    tracing::error!(target: TARGET, %error, "start-up failed: stopping what was started");
    let _ = running.stop().await;
    error
}
