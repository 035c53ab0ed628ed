//! The webhook worker: delivers the queued webhook deliveries, one instance at a time.
//!
//! It holds the `webhooks` lease (as the chain writer holds its own) and, while it holds it,
//! reads the due deliveries every `poll`, sends each (up to [`CONCURRENCY`] at once) and
//! records the attempt: 2xx → delivered; anything else → retried after [`retry_delay`] until
//! the retry limit, then dead. Nothing is claimed: a delivery stays pending until its attempt
//! is recorded, so a crash or a stop in the middle of a delivery sends it again later (at
//! least once; receivers drop duplicates by `webhook-id`).
//!
//! Each request: `POST` with the JSON body, `content-type: application/json`, the Standard
//! Webhooks headers, a connect and a total timeout, no redirects followed, no proxy. The URL
//! is checked again with the address policy (a literal IP address), and a host name is
//! resolved by [`CheckedResolver`], which refuses the delivery when any address the name
//! resolves to is not allowed and hands the connector exactly the addresses it checked (so a
//! DNS rebind between the check and the connection changes nothing).

use std::{net::SocketAddr, sync::Arc, time::Instant};

use futures::StreamExt as _;
use honnin_core::{
    LeaseName, Store,
    webhook::{
        AddressPolicy, AttemptOutcome, DueDelivery, WebhookPayload, retry_delay, sign,
        signing::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER},
    },
};
use prometheus_client::metrics::{
    counter::Counter,
    family::Family,
    gauge::Gauge,
    histogram::{Histogram, exponential_buckets},
};
use tokio::{sync::watch, task::JoinHandle};

use crate::{Error, Result, config::WebhookConfig};

const TARGET: &str = "honnin::webhooks";

/// Deliveries sent at once.
pub const CONCURRENCY: usize = 8;
/// Deliveries read per round.
const BATCH: u32 = 64;

/// The worker's metrics (`honnin_webhook_*`), registered next to the API's.
#[derive(Clone, Debug)]
pub struct WebhookMetrics {
    attempts: Family<Vec<(&'static str, &'static str)>, Counter>,
    duration: Histogram,
    leader: Gauge,
}

impl Default for WebhookMetrics {
    fn default() -> Self {
        Self {
            attempts: Family::default(),
            // 5 ms … ~80 s.
            duration: Histogram::new(exponential_buckets(0.005, 2.0, 15)),
            leader: Gauge::default(),
        }
    }
}

impl WebhookMetrics {
    fn register(&self, metrics: &honnin_api::Metrics) {
        metrics.register(
            "honnin_webhook_attempts",
            "Webhook delivery attempts, by outcome (delivered, retry, dead)",
            self.attempts.clone(),
        );
        metrics.register(
            "honnin_webhook_attempt_duration_seconds",
            "How long one webhook delivery attempt took",
            self.duration.clone(),
        );
        metrics.register(
            "honnin_webhook_leader",
            "Whether this instance holds the webhooks lease (and so delivers): 1 or 0",
            self.leader.clone(),
        );
    }

    fn attempt(&self, outcome: &'static str) {
        self.attempts.get_or_create(&vec![("outcome", outcome)]).inc();
    }
}

/// Resolves host names for the webhook client: every address must be allowed, and the
/// connection goes to exactly the addresses checked.
#[derive(Debug, Clone, Copy)]
pub struct CheckedResolver {
    policy: AddressPolicy,
}

/// A host name resolved to an address the policy refuses.
#[derive(Debug, thiserror::Error)]
#[error("the host resolves to an address that is not allowed (loopback, private, link-local, …)")]
pub struct AddressRefused;

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addresses.is_empty() || addresses.iter().any(|a| !policy.allows(a.ip())) {
                return Err(Box::new(AddressRefused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client deliveries go through.
pub fn client(config: &WebhookConfig, policy: AddressPolicy) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(CheckedResolver { policy }))
        .user_agent(concat!("honnin-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(Error::WebhookClient)
}

/// The running worker.
pub(crate) struct WebhookWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WebhookWorker {
    /// Starts the worker; its metrics are registered with the API's.
    pub(crate) fn spawn(
        store: Arc<dyn Store>,
        config: WebhookConfig,
        policy: AddressPolicy,
        metrics: &honnin_api::Metrics,
    ) -> Result<Self> {
        let worker_metrics = WebhookMetrics::default();
        worker_metrics.register(metrics);
        let worker = Worker {
            client: client(&config, policy)?,
            store,
            config,
            policy,
            metrics: worker_metrics,
        };
        let (stop, stopped) = watch::channel(false);
        tracing::info!(target: TARGET, "webhook worker started");
        Ok(Self { stop, task: tokio::spawn(worker.run(stopped)) })
    }

    /// Stops the worker: an attempt in flight is abandoned (the delivery stays pending and is
    /// sent again by whoever holds the lease next), the lease released.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

struct Worker {
    client: reqwest::Client,
    store: Arc<dyn Store>,
    config: WebhookConfig,
    policy: AddressPolicy,
    metrics: WebhookMetrics,
}

/// Resolves once `stop` says `true` or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

impl Worker {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let lease = match self
                .store
                .try_lease(LeaseName::WEBHOOKS, honnin_core::time::now())
                .await
            {
                Ok(lease) => lease,
                Err(error) => {
                    tracing::warn!(target: TARGET, %error, "asking for the webhooks lease failed");
                    None
                }
            };
            let wait = if let Some(mut lease) = lease {
                self.metrics.leader.set(1);
                tokio::select! {
                    () = self.deliver_while_held(&mut *lease) => {}
                    () = stopped(&mut stop) => {}
                }
                self.metrics.leader.set(0);
                if let Err(error) = lease.release().await {
                    tracing::warn!(target: TARGET, %error, "releasing the webhooks lease failed");
                }
                self.config.poll
            } else {
                self.config.lease_retry
            };
            if *stop.borrow() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stopped(&mut stop) => return,
            }
        }
    }

    /// Delivers what is due, round after round, until the lease is lost.
    async fn deliver_while_held(&self, lease: &mut dyn honnin_core::Lease) {
        let mut next_purge = tokio::time::Instant::now();
        loop {
            match lease.is_held(honnin_core::time::now()).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(target: TARGET, "lost the webhooks lease");
                    return;
                }
                Err(error) => {
                    tracing::warn!(target: TARGET, %error, "checking the webhooks lease failed");
                    return;
                }
            }
            let due = match self.store.due_webhook_deliveries(BATCH, honnin_core::time::now()).await
            {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(target: TARGET, %error, "reading due webhook deliveries failed");
                    Vec::new()
                }
            };
            if tokio::time::Instant::now() >= next_purge {
                self.purge().await;
                next_purge = tokio::time::Instant::now() + self.config.purge_interval;
            }
            let full = due.len() == BATCH as usize;
            futures::stream::iter(due)
                .for_each_concurrent(CONCURRENCY, |delivery| self.deliver(delivery))
                .await;
            if !full {
                tokio::time::sleep(self.config.poll).await;
            }
        }
    }

    /// Deletes delivered deliveries older than the retention (the outbox would otherwise grow
    /// with every status change forever).
    async fn purge(&self) {
        let retention =
            time::Duration::try_from(self.config.retention).unwrap_or(time::Duration::MAX);
        let before = honnin_core::time::now()
            .checked_sub(retention)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        match self.store.purge_delivered_webhooks(before).await {
            Ok(purged) => {
                tracing::debug!(target: TARGET, purged, "purged delivered webhook deliveries")
            }
            Err(error) => {
                tracing::warn!(target: TARGET, %error, "purging delivered webhook deliveries failed")
            }
        }
    }

    /// One attempt of one delivery, recorded.
    async fn deliver(&self, due: DueDelivery) {
        let delivery = &due.delivery;
        let body = WebhookPayload::new(&delivery.change).to_body();
        let message_id = delivery.message_id.to_string();
        let started = Instant::now();
        let result = self.send(&due, &message_id, body).await;
        self.metrics.duration.observe(started.elapsed().as_secs_f64());
        let attempts = delivery.attempts + 1;
        let failed = |error: String, status: Option<u16>| {
            if attempts >= self.config.retry_limit {
                AttemptOutcome::Dead { error, status }
            } else {
                let delay = retry_delay(
                    attempts,
                    self.config.retry_base,
                    self.config.retry_max,
                    rand::random::<f64>(),
                );
                let delay = time::Duration::try_from(delay).unwrap_or(time::Duration::HOUR);
                AttemptOutcome::Retry { retry_at: whole_second_after(delay), error, status }
            }
        };
        let outcome = match result {
            Ok(status) if (200..300).contains(&status) => AttemptOutcome::Delivered { status },
            Ok(status) => failed(format!("the endpoint answered {status}"), Some(status)),
            Err(error) => failed(error, None),
        };
        let (label, error) = match &outcome {
            AttemptOutcome::Delivered { .. } => ("delivered", None),
            AttemptOutcome::Retry { error, .. } => ("retry", Some(error.as_str())),
            AttemptOutcome::Dead { error, .. } => ("dead", Some(error.as_str())),
        };
        self.metrics.attempt(label);
        tracing::info!(
            target: TARGET,
            delivery = delivery.id,
            endpoint = %delivery.endpoint_id,
            event = %delivery.change.event,
            attempts,
            outcome = label,
            error,
            "webhook attempt"
        );
        if let Err(error) =
            self.store.record_webhook_attempt(delivery.id, &outcome, honnin_core::time::now()).await
        {
            tracing::warn!(target: TARGET, delivery = delivery.id, %error, "recording a webhook attempt failed");
        }
    }

    /// Sends one attempt: the endpoint's status, or why there was none (nothing personal).
    async fn send(
        &self,
        due: &DueDelivery,
        message_id: &str,
        body: Vec<u8>,
    ) -> Result<u16, String> {
        let url = self.policy.check_url(&due.url).map_err(|refusal| refusal.to_string())?;
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = sign(&due.secret, message_id, timestamp, &body);
        let response = self
            .client
            .post(url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(ID_HEADER, message_id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|error| describe(&error))?;
        Ok(response.status().as_u16())
    }
}

/// Now plus `delay`, rounded up to a whole second: stored times are whole seconds and due
/// times are compared with whole-second clocks, so rounding down would shorten the delay.
fn whole_second_after(delay: time::Duration) -> time::OffsetDateTime {
    let at = time::OffsetDateTime::now_utc() + delay;
    let whole = honnin_core::time::truncate(at);
    if whole == at { whole } else { whole + time::Duration::SECOND }
}

/// A short description of a failed request.
fn describe(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.downcast_ref::<AddressRefused>().is_some() {
            return AddressRefused.to_string();
        }
        source = e.source();
    }
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use reqwest::dns::Resolve as _;

    use super::*;

    fn name(host: &str) -> reqwest::dns::Name {
        host.parse().expect("a host name")
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_with_any_private_address() {
        let production = CheckedResolver { policy: AddressPolicy::default() };
        let refused = production.resolve(name("localhost")).await.err().expect("refused");
        assert!(refused.downcast_ref::<AddressRefused>().is_some(), "{refused}");
        let dev =
            CheckedResolver { policy: AddressPolicy { allow_http: true, allow_private: true } };
        let addresses: Vec<SocketAddr> =
            dev.resolve(name("localhost")).await.expect("allowed").collect();
        assert!(!addresses.is_empty());
        assert!(addresses.iter().all(|a| a.ip().is_loopback()), "{addresses:?}");
    }
}
