//! The batching chain writer: outbox items → `attest` / `revoke` transactions → confirmed.
//!
//! ## How the service runs it
//!
//! ```no_run
//! # async fn f(store: std::sync::Arc<dyn honnin_core::Store>) -> honnin_chain::Result<()> {
//! use honnin_chain::writer::{AttesterKey, ChainWriter, WriterConfig};
//!
//! let key: AttesterKey = std::env::var("HONNIN_ATTESTER_KEY").unwrap_or_default().parse()?;
//! let config = WriterConfig::new("http://127.0.0.1:8545".parse()?, "0x5FbDB2315678afecb367f032d93F642f64180aa3".parse()?, key);
//! let writer = ChainWriter::new(config, store)?;
//! let waker = writer.waker(); // the API calls waker.wake() after queueing work
//! let handle = writer.spawn();
//! // … on shutdown:
//! handle.stop().await?;
//! # let _ = waker; Ok(()) }
//! ```
//!
//! ## What it does
//!
//! 1. **Lease.** Takes `LeaseName::CHAIN_WRITER` with [`LeaseStore::try_lease`](honnin_core::LeaseStore::try_lease) (a Postgres session
//!    advisory lock, or SQLite's timed lease row): one writer sends at a time across every
//!    instance sharing the database. Without it, it tries again every
//!    [`WriterConfig::lease_retry`]. Before each transaction it asks [`Lease::is_held`]; when
//!    the lease is gone it puts its unsent items back and goes back to waiting.
//! 2. **Reconcile.** On taking the lease (and after any error that made it back off) it lists
//!    [`OutboxStore::outbox_in_flight`] and asks the node about each transaction hash: mined →
//!    `mark_confirmed` with the receipt's block; reverted or unknown to the node →
//!    `mark_retry` (resending is safe: `attest` skips records not newer than the stored one, and
//!    `revoke` sets the same state again); still pending → waits for it.
//! 3. **Batch.** Claims up to [`WriterConfig::max_batch`] items; when fewer were waiting it
//!    keeps claiming for at most [`WriterConfig::linger`] to fill the batch. Items are cut into
//!    consecutive groups so that no wallet appears with two different actions in one group
//!    (a revoke and a later re-attest of one wallet stay in queue order); each group becomes one
//!    `attest(Record[])` and one `revoke(address[], reason)` per reason, sent in that order
//!    from one account, so they are mined in nonce order.
//! 4. **Send.** Estimates gas (a revert here is decoded: a record the registry refuses —
//!    zero wallet, level 0, expired — is `mark_failed` alone and the rest of the batch goes on;
//!    a batch-level refusal — paused, missing role — is retried with backoff), signs locally,
//!    records `mark_sent` with the hash **before** broadcasting, then sends with
//!    `eth_sendRawTransactionSync` (the receipt comes back in the same call; no 250 ms
//!    polling) or, with [`WriterConfig::sync_send`] off or after a failed sync call, polls
//!    `eth_getTransactionReceipt` every [`WriterConfig::receipt_poll`].
//! 5. **Confirm.** Waits for [`WriterConfig::confirmations`] blocks, re-reads the receipt (a
//!    reorg that dropped it → retry), then `mark_confirmed(ids, tx_hash, block)`.
//!
//! Nonces are tracked locally from `eth_getTransactionCount(pending)` and refetched after any
//! failed send, which is how "nonce too low" (another process used the key, or a tx landed
//! that the writer thought lost) heals: the batch is retried with a fresh nonce. Transient
//! failures (RPC down, timeouts, a mined revert) put the items back with [`mark_retry`] due
//! after an exponential backoff ([`WriterConfig::retry_base`] … [`WriterConfig::retry_max`]),
//! and the writer itself waits that long before claiming again, so retried items keep their
//! place at the head of the queue.
//!
//! [`mark_retry`]: OutboxStore::mark_retry
//! [`Lease::is_held`]: honnin_core::Lease::is_held

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::consensus::TxEnvelope;
use alloy::eips::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::aliases::U40;
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use alloy::transports::RpcError;
use alloy::transports::http::reqwest::{self, Url};
use honnin_core::{
    AuditContext, AuditEventKind, AuditLog, Lease, LeaseName, NewAuditEvent, OutboxAction,
    OutboxId, OutboxItem, OutboxStore, StoreError,
};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::bindings::{IKycRegistry, KycRegistry};
use crate::metrics::WriterMetrics;
use crate::{Error, Result};

const TARGET: &str = "honnin::chain::writer";

/// The attester's private key. Its `Debug` shows only the address: the key is never logged.
#[derive(Clone)]
pub struct AttesterKey(PrivateKeySigner);

impl AttesterKey {
    /// The key's account.
    pub fn address(&self) -> Address {
        self.0.address()
    }

    /// The signer.
    pub fn signer(&self) -> &PrivateKeySigner {
        &self.0
    }
}

impl From<PrivateKeySigner> for AttesterKey {
    fn from(signer: PrivateKeySigner) -> Self {
        Self(signer)
    }
}

impl FromStr for AttesterKey {
    type Err = Error;

    /// Parses 32 bytes of hex, with or without `0x`. The error never repeats the input.
    fn from_str(s: &str) -> Result<Self> {
        PrivateKeySigner::from_str(s.trim()).map(Self).map_err(|_| Error::InvalidKey)
    }
}

impl fmt::Debug for AttesterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AttesterKey").field(&self.address()).finish()
    }
}

/// The chain writer's settings. [`WriterConfig::new`] fills in the defaults listed per field.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// JSON-RPC endpoint (HTTP).
    pub rpc_url: Url,
    /// The `KycRegistry` address.
    pub registry: Address,
    /// Signs the transactions. Its account needs `ATTESTER_ROLE`, and `REVOKER_ROLE` for
    /// revocations (`honnin deploy` grants both to the attester by default), and gas money.
    pub attester_key: AttesterKey,
    /// Most records in one transaction. Default 200 (about 5 M gas for `attest`).
    pub max_batch: u32,
    /// How long to keep filling a batch that is not full before sending it. Default 100 ms.
    pub linger: Duration,
    /// How often to look at an empty queue (a [`Waker`] cuts the wait short). Default 100 ms.
    pub idle_poll: Duration,
    /// How long claimed items stay reserved for this writer before another may claim them
    /// again. Default 5 min; must exceed [`Self::receipt_timeout`] plus [`Self::linger`].
    pub claim_lease: Duration,
    /// Blocks a transaction must have (its own included) before its items are confirmed.
    /// Default 1 (included in a block).
    pub confirmations: u64,
    /// Send with `eth_sendRawTransactionSync` (anvil, reth, op-geth and other nodes with
    /// EIP-7966) instead of `eth_sendRawTransaction` plus receipt polling. Default true.
    pub sync_send: bool,
    /// Interval between receipt and block-number polls. Default 50 ms.
    pub receipt_poll: Duration,
    /// How long to wait for a sent transaction's receipt before retrying its items (the old
    /// transaction may still land later: harmless, resends are no-ops). Default 2 min.
    pub receipt_timeout: Duration,
    /// Timeout of each HTTP request to the node. Default 30 s.
    pub rpc_timeout: Duration,
    /// First retry delay after a transient failure; doubles per attempt. Default 1 s.
    pub retry_base: Duration,
    /// Longest retry delay. Default 60 s.
    pub retry_max: Duration,
    /// How often to try for the lease while another instance holds it. Default 5 s.
    pub lease_retry: Duration,
    /// Gas limit = estimate × (100 + this) / 100, since stored state can change between
    /// estimate and inclusion. Default 25.
    pub gas_margin_percent: u64,
}

impl WriterConfig {
    /// Settings with the documented defaults.
    pub fn new(rpc_url: Url, registry: Address, attester_key: AttesterKey) -> Self {
        Self {
            rpc_url,
            registry,
            attester_key,
            max_batch: 200,
            linger: Duration::from_millis(100),
            idle_poll: Duration::from_millis(100),
            claim_lease: Duration::from_secs(300),
            confirmations: 1,
            sync_send: true,
            receipt_poll: Duration::from_millis(50),
            receipt_timeout: Duration::from_secs(120),
            rpc_timeout: Duration::from_secs(30),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            lease_retry: Duration::from_secs(5),
            gas_margin_percent: 25,
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}

/// Nudges a writer to look at the queue now (after the API queued work). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    /// Wakes the writer if it waits on an empty queue; otherwise it looks on its next turn.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// A running writer (from [`ChainWriter::spawn`]). Dropping it stops the writer as
/// [`WriterHandle::stop`] does, without waiting for it.
#[derive(Debug)]
pub struct WriterHandle {
    stop: watch::Sender<bool>,
    waker: Waker,
    task: JoinHandle<Result<()>>,
}

impl WriterHandle {
    /// A waker for this writer.
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Asks the writer to stop and waits until it did: a transaction already sent is waited
    /// for (up to [`WriterConfig::receipt_timeout`]) or left `sent` for the next writer to
    /// reconcile; claimed items not yet sent are put back; the lease is released.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.task.await.map_err(|_| Error::WriterPanicked)?
    }

    /// Stops the task at once without any of [`Self::stop`]'s care: what a crash looks like
    /// (for tests of recovery).
    pub fn abort(self) {
        self.task.abort();
    }
}

/// The chain writer. See the [module docs](self).
pub struct ChainWriter {
    config: WriterConfig,
    store: Arc<dyn OutboxStore>,
    provider: DynProvider,
    wallet: EthereumWallet,
    from: Address,
    chain_id: Option<u64>,
    nonce: Option<u64>,
    metrics: WriterMetrics,
    waker: Waker,
    audit: Option<AuditLog>,
}

impl fmt::Debug for ChainWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainWriter")
            .field("registry", &self.config.registry)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// What a step of the loop asks the loop to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Go on.
    Continue,
    /// Something transient failed: wait this long, reconcile, go on.
    Backoff(Duration),
    /// The lease is gone.
    LostLease,
    /// Asked to stop.
    Stop,
}

/// What the node says about a transaction.
enum Lookup {
    /// Mined, with its receipt.
    Mined(Box<TransactionReceipt>),
    /// Neither mined nor pending: it never reached the node, or was dropped.
    Unknown,
    /// Still pending (or the node was unreachable) when the wait ran out.
    TimedOut,
    /// Asked to stop while waiting.
    Stopped,
}

/// One transaction's worth of items.
struct Batch {
    kind: &'static str,
    reason: u8,
    items: Vec<OutboxItem>,
}

impl Batch {
    fn ids(&self) -> Vec<OutboxId> {
        self.items.iter().map(|i| i.id).collect()
    }

    fn calldata(&self) -> Bytes {
        match self.kind {
            "attest" => {
                let records = self.items.iter().filter_map(record).collect();
                KycRegistry::attestCall { records }.abi_encode().into()
            }
            _ => {
                let wallets = self.items.iter().map(|i| i.action.wallet()).collect();
                KycRegistry::revokeCall { wallets, reason: self.reason }.abi_encode().into()
            }
        }
    }
}

/// The registry record for an `attest` item; `None` for a revoke or out-of-range times.
fn record(item: &OutboxItem) -> Option<IKycRegistry::Record> {
    let OutboxAction::Attest { wallet, level, claims, issued_at, expires_at, .. } = &item.action
    else {
        return None;
    };
    let secs = |t: &time::OffsetDateTime| -> Option<U40> {
        let s = u64::try_from(t.unix_timestamp()).ok()?;
        (s < 1 << 40).then(|| U40::from(s))
    };
    Some(IKycRegistry::Record {
        wallet: *wallet,
        level: level.0,
        claims: claims.0,
        issuedAt: secs(issued_at)?,
        expiresAt: secs(expires_at)?,
    })
}

/// Which transaction an item goes into: `attest`, or `revoke` with its reason code.
fn tx_key(item: &OutboxItem) -> (&'static str, u8) {
    match &item.action {
        OutboxAction::Attest { .. } => ("attest", 0),
        OutboxAction::Revoke { reason, .. } => ("revoke", reason.code()),
    }
}

/// Cuts `items` (queue order) into consecutive groups in which every wallet has one action, and
/// each group into its transactions: one `revoke` per reason first, then the `attest`. Within a
/// group the wallets differ, so the order only matters across wallets: a rotation's old wallet
/// is revoked before its successor is attested, and a person never has more live wallets on
/// chain than the policy allows.
fn plan(items: Vec<OutboxItem>) -> Vec<Vec<Batch>> {
    let mut groups: Vec<Vec<OutboxItem>> = vec![Vec::new()];
    let mut seen: HashMap<Address, (&'static str, u8)> = HashMap::new();
    for item in items {
        let key = tx_key(&item);
        let wallet = item.action.wallet();
        if seen.get(&wallet).is_some_and(|k| *k != key) {
            groups.push(Vec::new());
            seen.clear();
        }
        seen.insert(wallet, key);
        if let Some(group) = groups.last_mut() {
            group.push(item);
        }
    }
    groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|group| {
            let mut batches: Vec<Batch> = Vec::new();
            for item in group {
                let (kind, reason) = tx_key(&item);
                match batches.iter_mut().find(|b| b.kind == kind && b.reason == reason) {
                    Some(batch) => batch.items.push(item),
                    None => batches.push(Batch { kind, reason, items: vec![item] }),
                }
            }
            batches.sort_by_key(|b| b.kind == "attest");
            batches
        })
        .collect()
}

fn now() -> time::OffsetDateTime {
    honnin_core::time::now()
}

fn to_offset(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

impl ChainWriter {
    /// A writer for `config` over `store`. Builds the HTTP client; connects lazily.
    pub fn new(config: WriterConfig, store: Arc<dyn OutboxStore>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.rpc_timeout)
            .build()
            .map_err(|e| Error::Http(Box::new(e)))?;
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_reqwest(http, config.rpc_url.clone())
            .erased();
        let from = config.attester_key.address();
        let wallet = EthereumWallet::from(config.attester_key.signer().clone());
        Ok(Self {
            config,
            store,
            provider,
            wallet,
            from,
            chain_id: None,
            nonce: None,
            metrics: WriterMetrics::default(),
            waker: Waker::default(),
            audit: None,
        })
    }

    /// Records `attestation_confirmed` and `revocation_confirmed` events in `audit` (one per
    /// item, with the transaction hash as the request id: nothing personal).
    pub fn with_audit(mut self, audit: AuditLog) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Uses `metrics` (register them with the service's registry) instead of private ones.
    pub fn with_metrics(mut self, metrics: WriterMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The writer's metrics.
    pub fn metrics(&self) -> &WriterMetrics {
        &self.metrics
    }

    /// A waker for this writer: call [`Waker::wake`] after queueing outbox work.
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Runs the writer on the tokio runtime until [`WriterHandle::stop`].
    pub fn spawn(self) -> WriterHandle {
        let (stop, stopped) = watch::channel(false);
        let waker = self.waker.clone();
        let task = tokio::spawn(self.run(stopped));
        WriterHandle { stop, waker, task }
    }

    /// Runs the writer until `stop` turns `true` (or its sender is dropped). Errors only when
    /// the store cannot even be asked for the lease at start; later failures are retried.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> Result<()> {
        tracing::info!(target: TARGET, registry = %self.config.registry, from = %self.from, "chain writer started");
        loop {
            let Some(mut lease) = self.acquire(&mut stop).await else { break };
            self.metrics.leader(true);
            tracing::info!(target: TARGET, "chain writer holds the lease");
            let flow = self.lead(lease.as_mut(), &mut stop).await;
            self.metrics.leader(false);
            if let Err(e) = lease.release().await {
                tracing::warn!(target: TARGET, error = %e, "could not release the lease");
            }
            if flow == Flow::Stop {
                break;
            }
            tracing::warn!(target: TARGET, "chain writer lost the lease");
        }
        tracing::info!(target: TARGET, "chain writer stopped");
        Ok(())
    }

    /// Waits for the lease; `None` when asked to stop first.
    async fn acquire(&self, stop: &mut watch::Receiver<bool>) -> Option<Box<dyn Lease>> {
        loop {
            if stopping(stop) {
                return None;
            }
            match self.store.try_lease(LeaseName::CHAIN_WRITER, now()).await {
                Ok(Some(lease)) => return Some(lease),
                Ok(None) => tracing::debug!(target: TARGET, "another instance holds the lease"),
                Err(e) => tracing::warn!(target: TARGET, error = %e, "could not ask for the lease"),
            }
            if !pause(stop, self.config.lease_retry).await {
                return None;
            }
        }
    }

    /// Works while holding the lease.
    async fn lead(&mut self, lease: &mut dyn Lease, stop: &mut watch::Receiver<bool>) -> Flow {
        self.nonce = None;
        let mut reconcile = true;
        loop {
            if stopping(stop) {
                return Flow::Stop;
            }
            if !held(lease).await {
                return Flow::LostLease;
            }
            let flow =
                if reconcile { self.reconcile(stop).await } else { self.step(lease, stop).await };
            reconcile = false;
            match flow {
                Flow::Continue => {}
                Flow::Backoff(delay) => {
                    tracing::debug!(target: TARGET, ?delay, "backing off");
                    if !pause(stop, delay).await {
                        return Flow::Stop;
                    }
                    reconcile = true;
                }
                Flow::LostLease | Flow::Stop => return flow,
            }
        }
    }

    /// Settles the items a previous writer (or this one, before an error) left `sent`.
    async fn reconcile(&mut self, stop: &mut watch::Receiver<bool>) -> Flow {
        let in_flight = match self.store.outbox_in_flight().await {
            Ok(items) => items,
            Err(e) => return self.store_failed(&e),
        };
        if in_flight.is_empty() {
            return Flow::Continue;
        }
        tracing::info!(target: TARGET, items = in_flight.len(), "reconciling sent items with the chain");
        let mut by_hash: Vec<(Option<B256>, Vec<OutboxItem>)> = Vec::new();
        for item in in_flight {
            match by_hash.iter_mut().find(|(h, _)| *h == item.tx_hash) {
                Some((_, items)) => items.push(item),
                None => by_hash.push((item.tx_hash, vec![item])),
            }
        }
        for (hash, items) in by_hash {
            let batch = Batch { kind: items[0].action.kind(), reason: 0, items };
            let Some(hash) = hash else {
                self.retry(&batch, "sent without a transaction hash", Duration::ZERO).await;
                continue;
            };
            let flow = match self.await_receipt(hash, stop).await {
                Lookup::Mined(receipt) => self.settle(&batch, hash, *receipt, None, stop).await,
                Lookup::Unknown => {
                    tracing::info!(target: TARGET, tx = %hash, "sent transaction unknown to the node: resending its items");
                    self.retry(&batch, "transaction unknown to the node", Duration::ZERO).await;
                    Flow::Continue
                }
                Lookup::TimedOut => {
                    let delay = self.config.backoff(1);
                    return Flow::Backoff(delay);
                }
                Lookup::Stopped => return Flow::Stop,
            };
            if flow != Flow::Continue {
                return flow;
            }
        }
        Flow::Continue
    }

    /// Claims a batch and sends it.
    async fn step(&mut self, lease: &mut dyn Lease, stop: &mut watch::Receiver<bool>) -> Flow {
        let items = match self.collect(stop).await {
            Ok(items) => items,
            Err(e) => return self.store_failed(&e),
        };
        if items.is_empty() {
            let idle = self.config.idle_poll;
            tokio::select! {
                () = tokio::time::sleep(idle) => {}
                () = self.waker.0.notified() => {}
                _ = stop.changed() => {}
            }
            return Flow::Continue;
        }
        let mut batches = plan(items).into_iter().flatten();
        while let Some(batch) = batches.next() {
            let flow = self.send(batch, lease, stop).await;
            if flow != Flow::Continue {
                // Put back what was claimed and not sent, in queue order, due now.
                let rest: Vec<OutboxItem> = batches.flat_map(|b| b.items).collect();
                if !rest.is_empty() {
                    let ids: Vec<OutboxId> = rest.iter().map(|i| i.id).collect();
                    let retry_at = match flow {
                        Flow::Backoff(delay) => now() + to_offset(delay),
                        _ => now(),
                    };
                    if let Err(e) = self
                        .store
                        .mark_retry(&ids, "not sent: writer interrupted", retry_at, now())
                        .await
                    {
                        tracing::warn!(target: TARGET, error = %e, "could not put back unsent items; they return when their claim runs out");
                    }
                }
                return flow;
            }
        }
        Flow::Continue
    }

    /// Claims up to `max_batch` items, lingering to fill the batch.
    async fn collect(
        &self,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let max = self.config.max_batch.max(1);
        let lease = to_offset(self.config.claim_lease);
        let mut items = self.store.claim_outbox(max, lease, now()).await?;
        if items.is_empty() || self.config.linger.is_zero() {
            return Ok(items);
        }
        let deadline = Instant::now() + self.config.linger;
        while (items.len() as u32) < max && Instant::now() < deadline && !stopping(stop) {
            let wait =
                self.config.idle_poll.min(deadline.saturating_duration_since(Instant::now()));
            // Wake-ups are not waited for here: under load every queued request wakes the
            // writer, and claiming after each would cost a query per request. The linger is
            // short; a wake-up left over is taken at the next idle wait.
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            let more = self.store.claim_outbox(max - items.len() as u32, lease, now()).await?;
            items.extend(more);
        }
        Ok(items)
    }

    /// Sends one batch and settles it.
    async fn send(
        &mut self,
        mut batch: Batch,
        lease: &mut dyn Lease,
        stop: &mut watch::Receiver<bool>,
    ) -> Flow {
        // Items whose times do not fit the contract can never be sent.
        if batch.kind == "attest" {
            let (good, bad): (Vec<_>, Vec<_>) =
                batch.items.into_iter().partition(|i| record(i).is_some());
            batch.items = good;
            self.fail(bad, "timestamps out of the registry's range").await;
        }
        loop {
            if batch.items.is_empty() {
                return Flow::Continue;
            }
            let tx = TransactionRequest::default()
                .from(self.from)
                .to(self.config.registry)
                .input(batch.calldata().into());
            let gas = match self.provider.estimate_gas(tx.clone()).await {
                Ok(gas) => gas,
                Err(e) => match self.refused(&mut batch, &e).await {
                    Some(flow) => return flow,
                    None => continue,
                },
            };
            if !held(lease).await {
                let ids = batch.ids();
                if let Err(e) =
                    self.store.mark_retry(&ids, "not sent: lease lost", now(), now()).await
                {
                    tracing::warn!(target: TARGET, error = %e, "could not put back unsent items");
                }
                return Flow::LostLease;
            }
            let envelope = match self.sign(tx, gas).await {
                Ok(envelope) => envelope,
                Err(e) => {
                    tracing::warn!(target: TARGET, error = %e, "could not prepare the transaction");
                    return self.retry_backoff(&batch, "rpc error while preparing").await;
                }
            };
            let hash = *envelope.tx_hash();
            let ids = batch.ids();
            // The hash is recorded before the transaction leaves: a crash from here on leaves
            // `sent` items that the next writer reconciles by this hash.
            if let Err(e) = self.store.mark_sent(&ids, hash, now()).await {
                tracing::warn!(target: TARGET, error = %e, "could not record the transaction; not sending it");
                return self.store_failed(&e);
            }
            self.metrics.sent(batch.kind, batch.items.len());
            tracing::debug!(target: TARGET, tx = %hash, kind = batch.kind, records = batch.items.len(), "sending");
            let started = Instant::now();
            let lookup = self.submit(&envelope.encoded_2718(), hash, stop).await;
            return match lookup {
                Lookup::Mined(receipt) => {
                    self.settle(&batch, hash, *receipt, Some(started), stop).await
                }
                Lookup::Unknown => {
                    let delay = self.delay_for(&batch);
                    self.retry(&batch, "transaction not accepted by the node", delay).await;
                    if delay.is_zero() { Flow::Continue } else { Flow::Backoff(delay) }
                }
                Lookup::TimedOut => {
                    self.retry_backoff(&batch, "no receipt before the timeout").await
                }
                // Left `sent`: the next writer reconciles it.
                Lookup::Stopped => Flow::Stop,
            };
        }
    }

    /// Handles a failed gas estimate: `None` to try again with what is left of the batch, or
    /// the flow to return.
    async fn refused(
        &mut self,
        batch: &mut Batch,
        e: &alloy::transports::TransportError,
    ) -> Option<Flow> {
        use KycRegistry::KycRegistryErrors as E;
        let Some(payload) = e.as_error_resp() else {
            tracing::warn!(target: TARGET, error = %e, "gas estimate failed");
            return Some(self.retry_backoff(batch, "rpc error while estimating gas").await);
        };
        let (wallet, times, why) = match payload.as_decoded_interface_error::<E>() {
            Some(E::KycRegistryInvalidWallet(x)) => {
                (x.wallet, None, "registry refused the record: zero wallet")
            }
            Some(E::KycRegistryInvalidLevel(x)) => {
                (x.wallet, None, "registry refused the record: level 0")
            }
            Some(E::KycRegistryInvalidExpiry(x)) => (
                x.wallet,
                Some((x.issuedAt, x.expiresAt)),
                "registry refused the record: expired, or expiry not after issue",
            ),
            Some(E::KycRegistryInvalidRevocationReason(_)) => {
                let items = std::mem::take(&mut batch.items);
                self.fail(items, "registry refused the revocation reason").await;
                return Some(Flow::Continue);
            }
            Some(other) => {
                // Batch-level: paused, missing role. An operator must act; keep retrying.
                tracing::error!(target: TARGET, error = ?other, from = %self.from, "registry refused the batch");
                return Some(
                    self.retry_backoff(
                        batch,
                        "registry refused the batch (paused or missing role)",
                    )
                    .await,
                );
            }
            None => {
                tracing::warn!(target: TARGET, code = payload.code, message = %payload.message, "gas estimate failed");
                return Some(self.retry_backoff(batch, "gas estimate failed").await);
            }
        };
        let (bad, good): (Vec<_>, Vec<_>) =
            std::mem::take(&mut batch.items).into_iter().partition(|i| {
                i.action.wallet() == wallet
                    && times
                        .is_none_or(|t| record(i).is_some_and(|r| (r.issuedAt, r.expiresAt) == t))
            });
        batch.items = good;
        if bad.is_empty() {
            // Not a record of this batch (cannot happen with an honest node): retry it all later.
            return Some(self.retry_backoff(batch, why).await);
        }
        self.fail(bad, why).await;
        None
    }

    /// Fills nonce, gas and fees, and signs.
    async fn sign(&mut self, tx: TransactionRequest, gas: u64) -> Result<TxEnvelope> {
        let chain_id = match self.chain_id {
            Some(id) => id,
            None => {
                let id = self.provider.get_chain_id().await?;
                self.chain_id = Some(id);
                id
            }
        };
        let nonce = match self.nonce {
            Some(n) => n,
            None => {
                let n = self.provider.get_transaction_count(self.from).pending().await?;
                self.nonce = Some(n);
                n
            }
        };
        let fees = self.provider.estimate_eip1559_fees().await?;
        let gas_limit = gas.saturating_mul(100 + self.config.gas_margin_percent) / 100;
        let tx = tx
            .with_chain_id(chain_id)
            .with_nonce(nonce)
            .with_gas_limit(gas_limit)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        tx.build(&self.wallet).await.map_err(|e| Error::Sign(Box::new(e)))
    }

    /// Broadcasts and waits for the receipt.
    async fn submit(&mut self, raw: &[u8], hash: B256, stop: &mut watch::Receiver<bool>) -> Lookup {
        let sent = if self.config.sync_send {
            self.provider.send_raw_transaction_sync(raw).await.map(Some)
        } else {
            self.provider.send_raw_transaction(raw).await.map(|_| None)
        };
        match sent {
            Ok(receipt) => {
                self.nonce = self.nonce.map(|n| n + 1);
                if let Some(receipt) = receipt {
                    return Lookup::Mined(Box::new(receipt));
                }
            }
            Err(e) => {
                // Nonce too low, underpriced, timeout …: refetch the nonce next time and ask the
                // node what became of this transaction.
                self.nonce = None;
                match &e {
                    RpcError::ErrorResp(p) => {
                        tracing::warn!(target: TARGET, tx = %hash, code = p.code, message = %p.message, "node refused the transaction")
                    }
                    _ => tracing::warn!(target: TARGET, tx = %hash, error = %e, "sending failed"),
                }
            }
        }
        self.await_receipt(hash, stop).await
    }

    /// Polls for `hash`'s receipt while the node knows the transaction.
    async fn await_receipt(&self, hash: B256, stop: &mut watch::Receiver<bool>) -> Lookup {
        let deadline = Instant::now() + self.config.receipt_timeout;
        loop {
            match self.provider.get_transaction_receipt(hash).await {
                Ok(Some(receipt)) => return Lookup::Mined(Box::new(receipt)),
                Ok(None) => match self.provider.get_transaction_by_hash(hash).await {
                    Ok(None) => return Lookup::Unknown,
                    Ok(Some(_)) => {}
                    Err(e) => {
                        tracing::debug!(target: TARGET, error = %e, "transaction lookup failed")
                    }
                },
                Err(e) => tracing::debug!(target: TARGET, error = %e, "receipt lookup failed"),
            }
            if Instant::now() >= deadline {
                return Lookup::TimedOut;
            }
            if !pause(stop, self.config.receipt_poll).await {
                return Lookup::Stopped;
            }
        }
    }

    /// A mined transaction: waits for the confirmations and records the outcome.
    async fn settle(
        &mut self,
        batch: &Batch,
        hash: B256,
        mut receipt: TransactionReceipt,
        started: Option<Instant>,
        stop: &mut watch::Receiver<bool>,
    ) -> Flow {
        if !receipt.status() {
            tracing::error!(target: TARGET, tx = %hash, "transaction reverted");
            return self.retry_backoff(batch, "transaction reverted").await;
        }
        if self.config.confirmations > 1 {
            let Some(block) = receipt.block_number else {
                return self.retry_backoff(batch, "receipt without a block").await;
            };
            let target = block + self.config.confirmations - 1;
            loop {
                match self.provider.get_block_number().await {
                    Ok(head) if head >= target => break,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(target: TARGET, error = %e, "block number lookup failed")
                    }
                }
                if !pause(stop, self.config.receipt_poll).await {
                    return Flow::Stop;
                }
            }
            // A reorg may have moved or dropped the transaction.
            match self.provider.get_transaction_receipt(hash).await {
                Ok(Some(again)) if again.status() => receipt = again,
                Ok(_) => {
                    self.retry(batch, "transaction dropped by a reorg", Duration::ZERO).await;
                    return Flow::Continue;
                }
                Err(e) => {
                    tracing::warn!(target: TARGET, error = %e, "receipt lookup failed");
                    return Flow::Backoff(self.config.backoff(1));
                }
            }
        }
        let Some(block) = receipt.block_number else {
            return self.retry_backoff(batch, "receipt without a block").await;
        };
        let ids = batch.ids();
        if let Err(e) = self.store.mark_confirmed(&ids, hash, block, now()).await {
            tracing::warn!(target: TARGET, tx = %hash, error = %e, "could not record the confirmation; will reconcile");
            return self.store_failed(&e);
        }
        let secs = started.map(|s| s.elapsed().as_secs_f64()).unwrap_or_default();
        self.metrics.confirmed(batch.kind, batch.items.len(), receipt.gas_used, secs);
        let now = now();
        for item in &batch.items {
            self.metrics.queued_to_confirmed(
                item.action.kind(),
                (now - item.created_at).as_seconds_f64().max(0.0),
            );
        }
        tracing::info!(target: TARGET, tx = %hash, block, kind = batch.kind, records = batch.items.len(), gas = receipt.gas_used, "confirmed");
        self.audit_confirmed(batch, hash, now).await;
        Flow::Continue
    }

    /// Audits a confirmed batch. The confirmation is recorded already: a failure here is
    /// logged, not retried (the transaction hash in the outbox keeps the fact).
    async fn audit_confirmed(&self, batch: &Batch, hash: B256, at: time::OffsetDateTime) {
        let Some(audit) = &self.audit else { return };
        let context =
            AuditContext { request_id: Some(format!("tx:{hash}")), ..AuditContext::default() };
        let events = batch
            .items
            .iter()
            .map(|item| {
                let event = match &item.action {
                    OutboxAction::Attest { attestation, .. } => {
                        NewAuditEvent::new(AuditEventKind::AttestationConfirmed, at)
                            .with_attestation(*attestation)
                    }
                    OutboxAction::Revoke { attestation, reason, .. } => {
                        NewAuditEvent::new(AuditEventKind::RevocationConfirmed, at)
                            .with_attestation(*attestation)
                            .with_code(reason.as_str())
                    }
                };
                event.with_context(context.clone())
            })
            .collect();
        if let Err(e) = audit.record(events).await {
            tracing::warn!(target: TARGET, tx = %hash, error = %e, "could not audit confirmed items");
        }
    }

    /// Puts the batch back due after `delay`.
    async fn retry(&self, batch: &Batch, why: &str, delay: Duration) {
        let ids = batch.ids();
        match self.store.mark_retry(&ids, why, now() + to_offset(delay), now()).await {
            Ok(()) => self.metrics.item_outcome(batch.kind, "retried", ids.len() as u64),
            Err(e) => {
                tracing::warn!(target: TARGET, error = %e, "could not put items back; they return when their claim runs out")
            }
        }
    }

    /// Puts the batch back with the backoff its attempts call for, and backs the writer off.
    async fn retry_backoff(&self, batch: &Batch, why: &str) -> Flow {
        let delay = self.config.backoff(batch.items.iter().map(|i| i.attempts).max().unwrap_or(1));
        self.retry(batch, why, delay).await;
        Flow::Backoff(delay)
    }

    /// No delay for a first attempt (a fresh nonce usually fixes it); backoff afterwards.
    fn delay_for(&self, batch: &Batch) -> Duration {
        let attempts = batch.items.iter().map(|i| i.attempts).max().unwrap_or(1);
        if attempts <= 1 { Duration::ZERO } else { self.config.backoff(attempts - 1) }
    }

    async fn fail(&self, items: Vec<OutboxItem>, why: &str) {
        if items.is_empty() {
            return;
        }
        let ids: Vec<OutboxId> = items.iter().map(|i| i.id).collect();
        tracing::error!(target: TARGET, ?ids, why, "giving up on outbox items");
        match self.store.mark_failed(&ids, why, now()).await {
            Ok(()) => {
                for item in &items {
                    self.metrics.item_outcome(item.action.kind(), "failed", 1);
                }
            }
            Err(e) => tracing::warn!(target: TARGET, error = %e, "could not mark items failed"),
        }
    }

    fn store_failed(&self, e: &StoreError) -> Flow {
        tracing::warn!(target: TARGET, error = %e, "store failed");
        Flow::Backoff(self.config.backoff(1))
    }
}

/// Whether the lease is still held; a failure to ask counts as lost.
async fn held(lease: &mut dyn Lease) -> bool {
    match lease.is_held(now()).await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(target: TARGET, error = %e, "could not check the lease");
            false
        }
    }
}

/// Whether the writer was asked to stop (or its stop sender is gone).
fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Sleeps `d` unless asked to stop first; `false` when asked to stop.
async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    if stopping(stop) {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep(d) => !*stop.borrow(),
        changed = stop.changed() => changed.is_ok() && !*stop.borrow(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use honnin_core::{AttestationId, Claims, Level, OutboxState, RevocationReason};

    fn item(id: i64, wallet: u8, revoke: Option<RevocationReason>) -> OutboxItem {
        let wallet = Address::repeat_byte(wallet);
        let t = now();
        let attestation = AttestationId::random();
        OutboxItem {
            id: OutboxId(id),
            action: match revoke {
                Some(reason) => OutboxAction::Revoke { attestation, wallet, reason },
                None => OutboxAction::Attest {
                    attestation,
                    wallet,
                    level: Level(1),
                    claims: Claims(1),
                    issued_at: t,
                    expires_at: t + time::Duration::days(1),
                },
            },
            state: OutboxState::Claimed,
            attempts: 1,
            tx_hash: None,
            created_at: t,
        }
    }

    fn shape(plan: &[Vec<Batch>]) -> Vec<Vec<(&'static str, u8, Vec<i64>)>> {
        plan.iter()
            .map(|g| {
                g.iter()
                    .map(|b| (b.kind, b.reason, b.items.iter().map(|i| i.id.0).collect()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn plan_keeps_one_action_per_wallet_per_group() {
        let holder = Some(RevocationReason::Holder);
        let items = vec![
            item(1, 1, None),
            item(2, 2, holder),
            item(3, 3, None),
            item(4, 2, None),
            item(5, 4, holder),
        ];
        assert_eq!(
            shape(&plan(items)),
            vec![
                vec![("revoke", 1, vec![2]), ("attest", 0, vec![1, 3])],
                vec![("revoke", 1, vec![5]), ("attest", 0, vec![4])],
            ]
        );
    }

    #[test]
    fn plan_splits_revocations_by_reason() {
        let items = vec![
            item(1, 1, Some(RevocationReason::Holder)),
            item(2, 2, Some(RevocationReason::Rotated)),
            item(3, 3, Some(RevocationReason::Holder)),
        ];
        let reasons = [RevocationReason::Holder.code(), RevocationReason::Rotated.code()];
        assert_eq!(
            shape(&plan(items)),
            vec![vec![("revoke", reasons[0], vec![1, 3]), ("revoke", reasons[1], vec![2])]]
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let key: AttesterKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
            .parse()
            .expect("key");
        let config =
            WriterConfig::new("http://127.0.0.1:1".parse().expect("url"), Address::ZERO, key);
        assert_eq!(config.backoff(1), Duration::from_secs(1));
        assert_eq!(config.backoff(3), Duration::from_secs(4));
        assert_eq!(config.backoff(40), Duration::from_secs(60));
    }

    #[test]
    fn key_debug_shows_no_secret() {
        let secret = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        let key: AttesterKey = secret.parse().expect("key");
        let shown = format!("{key:?}");
        assert!(!shown.to_lowercase().contains(&secret[..16]), "{shown}");
        assert!(shown.contains("AttesterKey"));
        assert!("not a key".parse::<AttesterKey>().is_err());
    }
}
