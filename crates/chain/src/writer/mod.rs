//! The batching chain writer: outbox items → `attest` / `revoke` transactions (`attestScoped` /
//! `revokeScoped` for records in a scope) → confirmed.
//!
//! ## How the service runs it
//!
//! ```no_run
//! # async fn f(store: std::sync::Arc<dyn honnin_core::Store>) -> Result<(), Box<dyn std::error::Error>> {
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
//! ## Where each part lives
//!
//! | file | concern |
//! |---|---|
//! | `writer/mod.rs` | [`ChainWriter`] (building it), [`Waker`], [`WriterHandle`], the stop signal |
//! | `writer/config.rs` | [`WriterConfig`] and its `DEFAULT_*` constants, the retry backoff |
//! | `writer/key.rs` | [`AttesterKey`], which never shows the key |
//! | `writer/leader.rs` | the loop: taking and keeping the lease, claiming and lingering, handing batches on |
//! | `writer/reconcile.rs` | settling what a previous writer left `sent` |
//! | `writer/plan.rs` | pure batch planning: items → groups → one transaction per `BatchKind` (`Attest(scope)`, `Revoke(scope, reason)`) |
//! | `writer/send.rs` | one batch from gas estimate to broadcast: refusals decoded, hash recorded before sending |
//! | `writer/sender.rs` | the node side: chain id, local nonce, fees, signing, receipts, blocks |
//! | `writer/settle.rs` | what lands: confirmations, outbox marks (confirmed, retry, failed), metrics, audit |
//!
//! ## What it does
//!
//! 1. **Lease.** Takes `LeaseName::CHAIN_WRITER` with [`LeaseStore::try_lease`] (a Postgres session
//!    advisory lock, or SQLite's timed lease row): one writer sends at a time across every
//!    instance sharing the database. Without it, it tries again every
//!    [`WriterConfig::lease_retry`]. Before each transaction it asks [`Lease::is_held`]; when
//!    the lease is gone it puts its unsent items back and goes back to waiting.
//! 2. **Reconcile.** On taking the lease (and after any error that made it back off) it lists
//!    [`OutboxStore::outbox_in_flight`] and asks the node about each transaction hash: mined →
//!    `mark_confirmed` with the receipt's block; reverted or unknown to the node →
//!    `mark_retry` (resending is safe: `attest` and `attestScoped` skip records not newer than the
//!    stored one in their scope, and `revoke` / `revokeScoped` set the same state again); still
//!    pending → waits for it. One transaction hash is one batch, so its items share one kind,
//!    scope and reason.
//! 3. **Batch.** Claims up to [`WriterConfig::max_batch`] items; when fewer were waiting it
//!    keeps claiming for at most [`WriterConfig::linger`] to fill the batch. Items are cut into
//!    consecutive groups so that no record (a wallet's global record, or its record in one
//!    scope) appears with two different actions in one group (a revoke and a later re-attest
//!    of one record stay in queue order); batches group by (kind, scope[, reason]): each group
//!    becomes one `revoke(address[], reason)` per reason and one
//!    `revokeScoped(scope, address[], reason)` per scope and reason, then one `attest(Record[])`
//!    and one `attestScoped(scope, Record[])` per scope, sent in that order from one account,
//!    so they are mined in nonce order.
//! 4. **Send.** Estimates gas (a revert here is decoded: a record the registry refuses —
//!    zero wallet, level 0, expired — is `mark_failed` alone and the rest of the batch goes on
//!    (a refused reason or scope fails the batch: it can never be sent);
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
//! [`LeaseStore::try_lease`]: honnin_core::LeaseStore::try_lease
//! [`Lease::is_held`]: honnin_core::Lease::is_held

mod config;
mod key;
mod leader;
mod plan;
mod reconcile;
mod send;
mod sender;
mod settle;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use honnin_core::{AuditLog, OutboxStore};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use config::WriterConfig;
pub use key::AttesterKey;
pub(crate) use plan::BatchKind;

use crate::metrics::WriterMetrics;
use crate::{Error, Result};
use sender::Sender;

const TARGET: &str = "honnin::chain::writer";

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
    sender: Sender,
    metrics: WriterMetrics,
    waker: Waker,
    audit: Option<AuditLog>,
}

impl fmt::Debug for ChainWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainWriter")
            .field("registry", &self.config.registry)
            .field("from", &self.sender.from())
            .finish_non_exhaustive()
    }
}

impl ChainWriter {
    /// A writer for `config` over `store`. Builds the HTTP client; connects lazily.
    pub fn new(config: WriterConfig, store: Arc<dyn OutboxStore>) -> Result<Self> {
        let sender = Sender::new(&config)?;
        Ok(Self {
            config,
            store,
            sender,
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
}

/// Now, from the one clock honnin reads.
fn now() -> time::OffsetDateTime {
    honnin_core::time::now()
}

/// A `std` duration as a `time` one (saturating).
fn to_offset(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
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
