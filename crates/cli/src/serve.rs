//! `honnin serve`: the HTTP API.
//!
//! Start-up order: typed configuration (fail fast, naming the setting) → tracing → trust
//! anchors and revocation source (CRLs loaded and verified) → database pool → migrations →
//! chain writer → audit log writer → background jobs (revocation sync when a source is
//! configured, expiry sweep every minute) → serve, until SIGINT or SIGTERM; then in-flight
//! requests get `shutdown_timeout_secs` to finish, the background jobs and the chain writer
//! stop, and the audit log writer commits what is queued.

use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context as _;
use honnin_api::{AppState, Metrics, OnQueued, Revocation};
use honnin_chain::{
    metrics::WriterMetrics,
    wallets::RpcContractWallets,
    writer::{AttesterKey, ChainWriter, WriterConfig, WriterHandle},
};
use honnin_core::audit::AuditLog;
use honnin_jpki::{CachedSource, CrlOrigin, CrlSource, OcspSource, RevocationSource, TrustAnchors};
use honnin_lifecycle::{ExpirySweep, LifecycleMetrics};

use crate::config::{
    DatabaseConfig, LogConfig, LogFormat, RevocationConfig, ServeConfig, Settings,
};

/// `honnin serve` arguments: every setting, and the optional config file.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// A TOML file of settings (keys as the setting names); flags and environment win over it.
    #[arg(long, env = "HONNIN_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) settings: Settings,
}

/// Runs `honnin serve`.
pub(crate) fn run(args: ServeArgs) -> ExitCode {
    let config = match args
        .settings
        .with_file(args.config.as_deref())
        .and_then(ServeConfig::from_settings)
    {
        Ok(config) => config,
        Err(error) => return crate::fail(&error),
    };
    if let Err(error) = init_tracing(&config.log) {
        return crate::fail(&*error);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return crate::fail(&error),
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(target: "honnin::serve", error = format!("{error:#}"), "honnin serve failed");
            ExitCode::FAILURE
        }
    }
}

/// Installs the global tracing subscriber (stderr, text or JSON, filtered).
pub(crate) fn init_tracing(
    log: &LogConfig,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let filter = tracing_subscriber::EnvFilter::try_new(&log.filter)
        .map_err(|error| format!("invalid setting `log`: {error}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    match log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    }
}

/// Connects to the database (creating a SQLite file's folder) and applies migrations.
pub(crate) async fn open_store(
    database: &DatabaseConfig,
) -> anyhow::Result<Arc<dyn honnin_core::Store>> {
    if let Some(dir) = database.sqlite_dir() {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
    }
    let store = honnin_store::connect(database.url.expose(), &database.options)
        .await
        .context("cannot open the database (setting `database_url`)")?;
    store.migrate().await.context("cannot migrate the database")?;
    Ok(store)
}

async fn serve(mut config: ServeConfig) -> anyhow::Result<()> {
    if config.dev {
        tracing::warn!(target: "honnin::serve", "DEV MODE: not for production");
    }
    let anchors = Arc::new(
        TrustAnchors::from_path(&config.trust_anchors)
            .context("cannot load trust anchors (setting `trust_anchors`)")?,
    );
    let (revocation, crl_source) = revocation(&config, anchors.clone()).await?;
    // The database last: nothing is migrated for a service whose card settings are unusable.
    let store = open_store(&config.database).await?;
    tracing::info!(target: "honnin::serve", "database migrated");
    let pepper = match config.pepper.take() {
        Some(pepper) => pepper,
        None => {
            tracing::warn!(
                target: "honnin::serve",
                "DEV MODE: no pepper configured; using a throwaway one (pseudonyms will not match after a restart)"
            );
            honnin_core::Pepper::generate()
        }
    };
    tracing::info!(
        target: "honnin::serve",
        chain_id = config.chain.chain_id,
        registry = %config.chain.registry,
        attester_key = config.chain.attester_key.is_some(),
        "chain"
    );
    let metrics = Metrics::new();
    let contract_wallets: Option<Arc<dyn honnin_core::ContractWallets>> = match &config
        .chain
        .rpc_url
    {
        Some(url) => Some(Arc::new(RpcContractWallets::connect_http(
            url.parse().context("invalid setting `rpc_url`: not a URL")?,
        ))),
        None => {
            tracing::warn!(target: "honnin::serve", "no rpc_url: contract wallets (ERC-1271) cannot attest");
            None
        }
    };
    // The audit log's group-commit writer: handlers wait for their events to be committed.
    let (audit, audit_writer) = AuditLog::new(store.clone());
    let audit_writer = tokio::spawn(audit_writer);
    let writer = chain_writer(&config, &store, &metrics, audit.clone()).await?;
    let on_queued: Option<OnQueued> = writer.as_ref().map(|writer| {
        let waker = writer.waker();
        Arc::new(move || waker.wake()) as OnQueued
    });
    let pepper = Arc::new(pepper);
    let (jobs_stop, jobs_stop_rx) = tokio::sync::watch::channel(false);
    let jobs = spawn_jobs(
        BackgroundJobs {
            store: store.clone(),
            pepper: pepper.clone(),
            anchors: anchors.clone(),
            audit: audit.clone(),
            crl_source,
            on_queued: on_queued.clone(),
            metrics: &metrics,
            stop: jobs_stop_rx,
        },
        &config.revocation,
        config.lifecycle.renewal_links.as_ref(),
        config.lifecycle.sync_interval,
        config.lifecycle.recheck_interval,
    );
    tracing::info!(
        target: "honnin::serve",
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
        pepper,
        policy: config.policy,
        challenges: config.challenges,
        contract_wallets,
        metrics,
        limits: config.limits,
        auth: config.access.auth.clone(),
        rate_limits: config.access.rate_limits.clone(),
        on_queued,
        audit,
    };
    let app = honnin_api::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (setting `listen`)", config.listen))?;
    let local = listener.local_addr().context("listener address")?;
    tracing::info!(target: "honnin::serve", address = %local, "listening");

    let purger = tokio::spawn(purge_challenges(store));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!(target: "honnin::serve", "shutting down: finishing in-flight requests");
        let _ = stop_tx.send(true);
    });
    let mut graceful = stop_rx.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|stop| *stop).await;
    });
    let mut deadline = stop_rx;
    let shutdown_timeout = config.shutdown_timeout;
    let result = tokio::select! {
        result = std::future::IntoFuture::into_future(server) => result.context("server failed"),
        () = async move {
            let _ = deadline.wait_for(|stop| *stop).await;
            tokio::time::sleep(shutdown_timeout).await;
        } => {
            tracing::warn!(target: "honnin::serve", "shutdown timeout: dropping requests still in flight");
            Ok(())
        }
    };
    purger.abort();
    let _ = jobs_stop.send(true);
    for job in jobs {
        let _ = job.await;
    }
    if let Some(writer) = writer
        && let Err(error) = writer.stop().await
    {
        tracing::warn!(target: "honnin::serve", %error, "the chain writer did not stop cleanly");
    }
    // The server, the jobs and the chain writer (and their audit handles) are gone: the audit
    // writer commits what was queued and ends.
    if tokio::time::timeout(Duration::from_secs(10), audit_writer).await.is_err() {
        tracing::warn!(target: "honnin::serve", "the audit log writer did not finish in time");
    }
    tracing::info!(target: "honnin::serve", "stopped");
    result
}

/// What the background jobs share with the API.
pub(crate) struct BackgroundJobs<'a> {
    pub(crate) store: Arc<dyn honnin_core::Store>,
    pub(crate) pepper: Arc<honnin_core::Pepper>,
    pub(crate) anchors: Arc<TrustAnchors>,
    pub(crate) audit: AuditLog,
    /// The API's CRL source: the sync offers it every CRL it verified.
    pub(crate) crl_source: Option<Arc<CrlSource>>,
    pub(crate) on_queued: Option<OnQueued>,
    pub(crate) metrics: &'a Metrics,
    pub(crate) stop: tokio::sync::watch::Receiver<bool>,
}

/// Spawns the revocation sync (when a revocation source or a renewal link feed is configured)
/// and the expiry sweep (every minute), their metrics registered next to the API's. `serve`
/// and `dev` both run them.
pub(crate) fn spawn_jobs(
    jobs: BackgroundJobs<'_>,
    revocation: &RevocationConfig,
    links: Option<&honnin_lifecycle::LinkOrigin>,
    sync_interval: Duration,
    recheck_interval: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    let metrics = LifecycleMetrics::default();
    for (name, help, metric) in metrics.metrics() {
        jobs.metrics.register(name, help, metric);
    }
    let mut handles = Vec::new();
    let mut sync = crate::revocation::build_sync(
        jobs.store.clone(),
        jobs.pepper,
        jobs.anchors,
        jobs.audit.clone(),
        revocation,
        links,
    )
    .with_metrics(metrics.clone());
    if let Some(source) = jobs.crl_source {
        sync = sync.offer_crls_to(source);
    }
    if let Some(wake) = jobs.on_queued {
        sync = sync.on_queued(wake);
    }
    if sync.has_work() {
        tracing::info!(
            target: "honnin::serve",
            every_secs = sync_interval.as_secs(),
            recheck_every_secs = recheck_interval.as_secs(),
            renewal_links = links.is_some(),
            "revocation sync started"
        );
        handles.push(tokio::spawn(sync.run(sync_interval, recheck_interval, jobs.stop.clone())));
    } else {
        tracing::warn!(
            target: "honnin::serve",
            "no revocation sync: no revocation source and no renewal link feed"
        );
    }
    let sweep = ExpirySweep::new(jobs.store, jobs.audit).with_metrics(metrics);
    handles.push(tokio::spawn(sweep.run(Duration::from_secs(60), jobs.stop)));
    handles
}

/// Starts the chain writer when `rpc_url` and `attester_key` are set (one instance at a time
/// writes: the others wait for the lease), its metrics registered next to the API's.
///
/// Writer tuning: `writer_batch_size`, `writer_linger_ms`, `writer_confirmations`; the rest
/// keeps `WriterConfig::new`'s defaults.
async fn chain_writer(
    config: &ServeConfig,
    store: &Arc<dyn honnin_core::Store>,
    metrics: &Metrics,
    audit: AuditLog,
) -> anyhow::Result<Option<WriterHandle>> {
    let (Some(url), Some(key)) = (&config.chain.rpc_url, &config.chain.attester_key) else {
        tracing::warn!(
            target: "honnin::serve",
            "no chain writer (needs rpc_url and attester_key): attestations stay pending"
        );
        return Ok(None);
    };
    let key: AttesterKey =
        key.expose().parse().context("invalid setting `attester_key`: not 32 bytes of hex")?;
    let mut writer_config = WriterConfig::new(
        url.parse().context("invalid setting `rpc_url`: not a URL")?,
        config.chain.registry,
        key,
    );
    let tuning = &config.chain.writer;
    if let Some(n) = tuning.max_batch {
        writer_config.max_batch = n;
    }
    if let Some(linger) = tuning.linger {
        writer_config.linger = linger;
    }
    if let Some(n) = tuning.confirmations {
        writer_config.confirmations = n;
    }
    let writer_metrics = WriterMetrics::default();
    for (name, help, metric) in writer_metrics.metrics() {
        metrics.register(name, help, metric);
    }
    // The writer's own connections: it must not queue behind a burst of API requests.
    let store = honnin_store::connect_worker(
        config.database.url.expose(),
        &config.database.options,
        2,
        store,
    )
    .await
    .context("cannot open the chain writer's database connections")?;
    let writer = ChainWriter::new(writer_config, store)
        .context("cannot start the chain writer")?
        .with_metrics(writer_metrics)
        .with_audit(audit);
    tracing::info!(target: "honnin::serve", "chain writer started");
    Ok(Some(writer.spawn()))
}

/// The revocation source the configuration names, cached when configured; for CRLs also the
/// source itself, which the revocation sync keeps up to date.
async fn revocation(
    config: &ServeConfig,
    anchors: Arc<TrustAnchors>,
) -> anyhow::Result<(Revocation, Option<Arc<CrlSource>>)> {
    let mut crl_source = None;
    let source: Arc<dyn RevocationSource> = match &config.revocation {
        RevocationConfig::None => {
            tracing::warn!(
                target: "honnin::serve",
                "DEV MODE: REVOCATION CHECKING IS OFF (revocation = none): revoked cards are accepted"
            );
            return Ok((Revocation::Disabled, None));
        }
        RevocationConfig::Crl(origins) => {
            let source = Arc::new(CrlSource::new(
                anchors,
                origins.iter().map(|o| CrlOrigin::parse(o)).collect(),
            ));
            source.refresh().await.context("cannot load the CRLs (setting `revocation`)")?;
            tracing::info!(target: "honnin::serve", crls = origins.len(), "revocation: CRL");
            crl_source = Some(source.clone());
            cached(source, config.revocation_cache)
        }
        RevocationConfig::Ocsp(url) => {
            tracing::info!(target: "honnin::serve", "revocation: OCSP");
            cached(OcspSource::new(anchors, url.clone()), config.revocation_cache)
        }
    };
    if config.revocation_allow_unknown {
        tracing::warn!(target: "honnin::serve", "DEV MODE: unknown revocation status is accepted");
    }
    Ok((Revocation::Check { source, allow_unknown: config.revocation_allow_unknown }, crl_source))
}

fn cached<S: RevocationSource + 'static>(source: S, ttl: Duration) -> Arc<dyn RevocationSource> {
    if ttl.is_zero() {
        Arc::new(source)
    } else {
        let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::MAX);
        Arc::new(CachedSource::new(source, ttl))
    }
}

/// Deletes challenges that expired more than a day ago, every ten minutes.
async fn purge_challenges(store: Arc<dyn honnin_core::Store>) {
    let mut interval = tokio::time::interval(Duration::from_secs(600));
    loop {
        interval.tick().await;
        let before = honnin_core::time::now() - time::Duration::days(1);
        match store.purge_challenges(before).await {
            Ok(purged) => {
                tracing::debug!(target: "honnin::serve", purged, "purged expired challenges")
            }
            Err(error) => {
                tracing::warn!(target: "honnin::serve", %error, "purging challenges failed")
            }
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
