//! Building the service's parts from their settings: the revocation source, the store, the
//! chain writer.

use std::{str::FromStr, sync::Arc, time::Duration};

use honnin_api::{Metrics, Revocation, SigningEvidence};
use honnin_chain::{
    metrics::WriterMetrics,
    writer::{AttesterKey, ChainWriter, WriterConfig, WriterHandle},
};
use honnin_core::{ScopeName, Store, audit::AuditLog};
use honnin_jpki::{
    CachedSource, CrlOrigin, CrlSource, OcspSource, RevocationSource, SigningVerifier, TrustAnchors,
};

use crate::{
    Error, Result,
    config::{CardConfig, ChainConfig, DatabaseConfig, RevocationConfig, WebhookConfig},
};

const TARGET: &str = "honnin::service";

/// The revocation source the configuration names, cached when configured; for CRLs also the
/// source itself, which the revocation sync keeps up to date. CRLs are loaded and verified
/// here: a service whose CRLs are unusable does not start.
pub(crate) async fn revocation(
    card: &CardConfig,
    anchors: Arc<TrustAnchors>,
) -> Result<(Revocation, Option<Arc<CrlSource>>)> {
    let mut crl_source = None;
    let source: Arc<dyn RevocationSource> = match &card.revocation {
        RevocationConfig::None => {
            tracing::warn!(
                target: TARGET,
                "DEV MODE: REVOCATION CHECKING IS OFF (revocation = none): revoked cards are accepted"
            );
            return Ok((Revocation::Disabled, None));
        }
        RevocationConfig::Crl(origins) => {
            let source = Arc::new(CrlSource::new(
                anchors,
                origins.iter().map(|o| CrlOrigin::parse(o)).collect(),
            ));
            source.refresh().await.map_err(Error::Crl)?;
            tracing::info!(target: TARGET, crls = origins.len(), "revocation: CRL");
            crl_source = Some(source.clone());
            cached(source, card.revocation_cache)
        }
        RevocationConfig::Ocsp(url) => {
            tracing::info!(target: TARGET, "revocation: OCSP");
            cached(OcspSource::new(anchors, url.clone()), card.revocation_cache)
        }
    };
    if card.revocation_allow_unknown {
        tracing::warn!(target: TARGET, "DEV MODE: unknown revocation status is accepted");
    }
    Ok((Revocation::Check { source, allow_unknown: card.revocation_allow_unknown }, crl_source))
}

/// Age claims from the signing certificate when configured: its roots loaded and its revocation
/// source built (CRLs loaded and verified) like the user-authentication ones.
pub(crate) async fn signing(card: &CardConfig) -> Result<Option<SigningEvidence>> {
    let Some(signing) = &card.signing else {
        tracing::info!(target: TARGET, "age claims: not offered (no signing_trust_anchors)");
        return Ok(None);
    };
    let anchors = Arc::new(
        TrustAnchors::from_path(&signing.trust_anchors).map_err(Error::SigningTrustAnchors)?,
    );
    let config = CardConfig {
        trust_anchors: signing.trust_anchors.clone(),
        revocation: signing.revocation.clone(),
        signing: None,
        ..card.clone()
    };
    let (revocation, _) = revocation(&config, anchors.clone()).await?;
    tracing::info!(target: TARGET, roots = anchors.len(), "age claims: offered");
    Ok(Some(SigningEvidence { verifier: SigningVerifier::new(anchors), revocation }))
}

fn cached<S: RevocationSource + 'static>(source: S, ttl: Duration) -> Arc<dyn RevocationSource> {
    if ttl.is_zero() {
        Arc::new(source)
    } else {
        let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::MAX);
        Arc::new(CachedSource::new(source, ttl))
    }
}

/// Connects to the database (creating a SQLite file's folder) and applies migrations.
pub async fn open_store(database: &DatabaseConfig) -> Result<Arc<dyn Store>> {
    if let Some(dir) = database.sqlite_dir() {
        std::fs::create_dir_all(&dir).map_err(Error::DatabaseFolder)?;
    }
    honnin_store::migrate(database.url.expose(), &database.options).await.map_err(Error::Store)
}

/// The JSON-RPC URL, parsed (into whichever URL type its user takes).
pub(crate) fn rpc_url<U: FromStr>(url: &str) -> Result<U> {
    url.parse().map_err(|_| Error::Invalid { key: "rpc_url", reason: "not a URL" })
}

/// The chain writer's settings when `rpc_url` and `attester_key` are both set: the defaults of
/// `WriterConfig::new` with the configured tuning.
pub(crate) fn writer_config(chain: &ChainConfig) -> Result<Option<WriterConfig>> {
    let (Some(url), Some(key)) = (&chain.rpc_url, &chain.attester_key) else {
        tracing::warn!(
            target: TARGET,
            "no chain writer (needs rpc_url and attester_key): attestations stay pending"
        );
        return Ok(None);
    };
    let key: AttesterKey = key
        .expose()
        .parse()
        .map_err(|_| Error::Invalid { key: "attester_key", reason: "not 32 bytes of hex" })?;
    let mut config = WriterConfig::new(rpc_url(url)?, chain.registry, key);
    let tuning = &chain.writer;
    if let Some(n) = tuning.max_batch {
        config.max_batch = n;
    }
    if let Some(linger) = tuning.linger {
        config.linger = linger;
    }
    if let Some(n) = tuning.confirmations {
        config.confirmations = n;
    }
    if let Some(poll) = tuning.idle_poll {
        config.idle_poll = poll;
    }
    if let Some(retry) = tuning.lease_retry {
        config.lease_retry = retry;
    }
    if let Some(retry) = tuning.retry_base {
        config.retry_base = retry;
    }
    if let Some(poll) = tuning.receipt_poll {
        config.receipt_poll = poll;
    }
    Ok(Some(config))
}

/// Starts the chain writer on its own connections (it must not queue behind a burst of API
/// requests), its metrics registered next to the API's. One instance at a time writes: the
/// others wait for the lease.
pub(crate) async fn start_writer(
    config: WriterConfig,
    database: &DatabaseConfig,
    store: &Arc<dyn Store>,
    metrics: &Metrics,
    audit: AuditLog,
) -> Result<(WriterHandle, WriterMetrics)> {
    let writer_metrics = WriterMetrics::default();
    for (name, help, metric) in writer_metrics.metrics() {
        metrics.register(name, help, metric);
    }
    let store = honnin_store::connect_worker(
        database.url.expose(),
        &database.options,
        database.writer_connections,
        store,
    )
    .await
    .map_err(Error::WriterStore)?;
    let writer = ChainWriter::new(config, store)
        .map_err(Error::Writer)?
        .with_metrics(writer_metrics.clone())
        .with_audit(audit);
    tracing::info!(target: TARGET, "chain writer started");
    Ok((writer.spawn(), writer_metrics))
}

/// Registers the scopes the configuration names (idempotent; none is ever removed).
pub(crate) async fn register_scopes(store: &Arc<dyn Store>, scopes: &[ScopeName]) -> Result<()> {
    let now = honnin_core::time::now();
    let mut new = 0;
    for scope in scopes {
        new += usize::from(store.register_scope(scope, now).await.map_err(Error::Scopes)?);
    }
    tracing::info!(target: TARGET, configured = scopes.len(), new, "scopes registered");
    Ok(())
}

/// Makes the endpoints declared in the configuration exactly `config.endpoints` (each URL
/// checked as a registration is; a refused one stops start-up).
pub(crate) async fn sync_webhooks(
    store: &Arc<dyn Store>,
    config: &WebhookConfig,
    policy: honnin_core::webhook::AddressPolicy,
) -> Result<()> {
    use honnin_core::webhook::{
        EndpointSource, NewWebhookEndpoint, WebhookEndpointId, WebhookSecret,
    };
    let invalid = |name: &str, reason: String| Error::Webhook { name: name.to_owned(), reason };
    let mut endpoints = Vec::with_capacity(config.endpoints.len());
    for endpoint in &config.endpoints {
        let url = policy
            .check_url(&endpoint.url)
            .map_err(|refusal| invalid(&endpoint.name, refusal.to_string()))?;
        let secret = WebhookSecret::parse(endpoint.secret.expose())
            .map_err(|error| invalid(&endpoint.name, error.to_string()))?;
        if endpoint.events.is_empty() {
            return Err(invalid(&endpoint.name, "no events".to_owned()));
        }
        endpoints.push(NewWebhookEndpoint {
            id: WebhookEndpointId::configured(&endpoint.name),
            url,
            events: endpoint.events,
            secret,
            source: EndpointSource::Config,
        });
    }
    store
        .sync_configured_webhooks(&endpoints, honnin_core::time::now())
        .await
        .map_err(Error::WebhookSync)?;
    tracing::info!(target: TARGET, endpoints = endpoints.len(), "configured webhook endpoints");
    Ok(())
}
