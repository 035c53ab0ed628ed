//! `honnin serve`: the HTTP API.
//!
//! Start-up order: typed configuration (fail fast, naming the setting) → tracing → trust
//! anchors and revocation source (CRLs loaded and verified) → database pool → migrations →
//! chain writer → serve, until SIGINT or SIGTERM; then in-flight requests get
//! `shutdown_timeout_secs` to finish and the chain writer stops.

use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context as _;
use honnin_api::{AppState, Auth, Metrics, OnQueued, RateLimits, Revocation};
use honnin_chain::{
    metrics::WriterMetrics,
    wallets::RpcContractWallets,
    writer::{AttesterKey, ChainWriter, WriterConfig, WriterHandle},
};
use honnin_jpki::{CachedSource, CrlOrigin, CrlSource, OcspSource, RevocationSource, TrustAnchors};

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
    let revocation = revocation(&config, anchors.clone()).await?;
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
    let writer = chain_writer(&config, store.clone(), &metrics)?;
    // The audit log's group-commit writer: handlers wait for their events to be committed.
    let (audit, audit_writer) = honnin_core::AuditLog::new(store.clone());
    let audit_writer = tokio::spawn(audit_writer);
    let state = AppState {
        store: store.clone(),
        verifier: honnin_jpki::Verifier::new(anchors, honnin_jpki::Policy::default()),
        revocation,
        pepper: Arc::new(pepper),
        policy: config.policy,
        challenges: config.challenges,
        contract_wallets,
        metrics,
        limits: config.limits,
        auth: Auth::default(),
        rate_limits: RateLimits::default(),
        on_queued: writer.as_ref().map(|writer| {
            let waker = writer.waker();
            Arc::new(move || waker.wake()) as OnQueued
        }),
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
    // The server (and its audit handles) is gone: the writer commits what was queued and ends.
    let _ = tokio::time::timeout(Duration::from_secs(5), audit_writer).await;
    if let Some(writer) = writer
        && let Err(error) = writer.stop().await
    {
        tracing::warn!(target: "honnin::serve", %error, "the chain writer did not stop cleanly");
    }
    tracing::info!(target: "honnin::serve", "stopped");
    result
}

/// Starts the chain writer when `rpc_url` and `attester_key` are set (one instance at a time
/// writes: the others wait for the lease), its metrics registered next to the API's.
///
/// Writer tuning (batch size, linger, confirmations, …) uses `WriterConfig::new`'s defaults;
/// settings for them belong in `config.rs` under "chain writer".
fn chain_writer(
    config: &ServeConfig,
    store: Arc<dyn honnin_core::Store>,
    metrics: &Metrics,
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
    let writer_config = WriterConfig::new(
        url.parse().context("invalid setting `rpc_url`: not a URL")?,
        config.chain.registry,
        key,
    );
    let writer_metrics = WriterMetrics::default();
    for (name, help, metric) in writer_metrics.metrics() {
        metrics.register(name, help, metric);
    }
    let writer = ChainWriter::new(writer_config, store)
        .context("cannot start the chain writer")?
        .with_metrics(writer_metrics);
    tracing::info!(target: "honnin::serve", "chain writer started");
    Ok(Some(writer.spawn()))
}

/// The revocation source the configuration names, cached when configured.
async fn revocation(
    config: &ServeConfig,
    anchors: Arc<TrustAnchors>,
) -> anyhow::Result<Revocation> {
    let source: Arc<dyn RevocationSource> = match &config.revocation {
        RevocationConfig::None => {
            tracing::warn!(
                target: "honnin::serve",
                "DEV MODE: REVOCATION CHECKING IS OFF (revocation = none): revoked cards are accepted"
            );
            return Ok(Revocation::Disabled);
        }
        RevocationConfig::Crl(origins) => {
            let source =
                CrlSource::new(anchors, origins.iter().map(|o| CrlOrigin::parse(o)).collect());
            source.refresh().await.context("cannot load the CRLs (setting `revocation`)")?;
            tracing::info!(target: "honnin::serve", crls = origins.len(), "revocation: CRL");
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
    Ok(Revocation::Check { source, allow_unknown: config.revocation_allow_unknown })
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
async fn shutdown_signal() {
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
