//! The writer's settings and their defaults.

use std::time::Duration;

use alloy::primitives::Address;
use alloy::transports::http::reqwest::Url;

use super::AttesterKey;

/// The chain writer's settings. [`WriterConfig::new`] fills in the defaults, the `DEFAULT_*`
/// constants each field's doc names.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// JSON-RPC endpoint (HTTP).
    pub rpc_url: Url,
    /// The `KycRegistry` address.
    pub registry: Address,
    /// Signs the transactions. Its account needs `ATTESTER_ROLE`, and `REVOKER_ROLE` for
    /// revocations (`honnin deploy` grants both to the attester by default), and gas money.
    pub attester_key: AttesterKey,
    /// Most records in one transaction. Default [`Self::DEFAULT_MAX_BATCH`].
    pub max_batch: u32,
    /// How long to keep filling a batch that is not full before sending it. Default
    /// [`Self::DEFAULT_LINGER`].
    pub linger: Duration,
    /// How often to look at an empty queue (a [`Waker`](super::Waker) cuts the wait short).
    /// Default [`Self::DEFAULT_IDLE_POLL`].
    pub idle_poll: Duration,
    /// How long claimed items stay reserved for this writer before another may claim them
    /// again. Default [`Self::DEFAULT_CLAIM_LEASE`]; must exceed [`Self::receipt_timeout`] plus
    /// [`Self::linger`].
    pub claim_lease: Duration,
    /// Blocks a transaction must have (its own included) before its items are confirmed.
    /// Default [`Self::DEFAULT_CONFIRMATIONS`].
    pub confirmations: u64,
    /// Send with `eth_sendRawTransactionSync` (anvil, reth, op-geth and other nodes with
    /// EIP-7966) instead of `eth_sendRawTransaction` plus receipt polling. Default
    /// [`Self::DEFAULT_SYNC_SEND`].
    pub sync_send: bool,
    /// Interval between receipt and block-number polls. Default [`Self::DEFAULT_RECEIPT_POLL`].
    pub receipt_poll: Duration,
    /// How long to wait for a sent transaction's receipt before retrying its items (the old
    /// transaction may still land later: harmless, resends are no-ops). Default
    /// [`Self::DEFAULT_RECEIPT_TIMEOUT`].
    pub receipt_timeout: Duration,
    /// Timeout of each HTTP request to the node. Default [`Self::DEFAULT_RPC_TIMEOUT`].
    pub rpc_timeout: Duration,
    /// First retry delay after a transient failure; doubles per attempt. Default
    /// [`Self::DEFAULT_RETRY_BASE`].
    pub retry_base: Duration,
    /// Longest retry delay. Default [`Self::DEFAULT_RETRY_MAX`].
    pub retry_max: Duration,
    /// How often to try for the lease while another instance holds it. Default
    /// [`Self::DEFAULT_LEASE_RETRY`].
    pub lease_retry: Duration,
    /// Gas limit = estimate × (100 + this) / 100, since stored state can change between
    /// estimate and inclusion. Default [`Self::DEFAULT_GAS_MARGIN_PERCENT`].
    pub gas_margin_percent: u64,
}

impl WriterConfig {
    /// Default of [`Self::max_batch`]: 200 records, about 5 M gas for `attest`.
    pub const DEFAULT_MAX_BATCH: u32 = 200;
    /// Default of [`Self::linger`]: 100 ms.
    pub const DEFAULT_LINGER: Duration = Duration::from_millis(100);
    /// Default of [`Self::idle_poll`]: 100 ms.
    pub const DEFAULT_IDLE_POLL: Duration = Duration::from_millis(100);
    /// Default of [`Self::claim_lease`]: 5 min.
    pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(300);
    /// Default of [`Self::confirmations`]: 1 (included in a block).
    pub const DEFAULT_CONFIRMATIONS: u64 = 1;
    /// Default of [`Self::sync_send`]: on.
    pub const DEFAULT_SYNC_SEND: bool = true;
    /// Default of [`Self::receipt_poll`]: 50 ms.
    pub const DEFAULT_RECEIPT_POLL: Duration = Duration::from_millis(50);
    /// Default of [`Self::receipt_timeout`]: 2 min.
    pub const DEFAULT_RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);
    /// Default of [`Self::rpc_timeout`]: 30 s.
    pub const DEFAULT_RPC_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default of [`Self::retry_base`]: 1 s.
    pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(1);
    /// Default of [`Self::retry_max`]: 60 s.
    pub const DEFAULT_RETRY_MAX: Duration = Duration::from_secs(60);
    /// Default of [`Self::lease_retry`]: 5 s.
    pub const DEFAULT_LEASE_RETRY: Duration = Duration::from_secs(5);
    /// Default of [`Self::gas_margin_percent`]: 25 %.
    pub const DEFAULT_GAS_MARGIN_PERCENT: u64 = 25;

    /// Settings with the documented defaults.
    pub fn new(rpc_url: Url, registry: Address, attester_key: AttesterKey) -> Self {
        Self {
            rpc_url,
            registry,
            attester_key,
            max_batch: Self::DEFAULT_MAX_BATCH,
            linger: Self::DEFAULT_LINGER,
            idle_poll: Self::DEFAULT_IDLE_POLL,
            claim_lease: Self::DEFAULT_CLAIM_LEASE,
            confirmations: Self::DEFAULT_CONFIRMATIONS,
            sync_send: Self::DEFAULT_SYNC_SEND,
            receipt_poll: Self::DEFAULT_RECEIPT_POLL,
            receipt_timeout: Self::DEFAULT_RECEIPT_TIMEOUT,
            rpc_timeout: Self::DEFAULT_RPC_TIMEOUT,
            retry_base: Self::DEFAULT_RETRY_BASE,
            retry_max: Self::DEFAULT_RETRY_MAX,
            lease_retry: Self::DEFAULT_LEASE_RETRY,
            gas_margin_percent: Self::DEFAULT_GAS_MARGIN_PERCENT,
        }
    }

    /// The delay before attempt `attempts + 1`: [`Self::retry_base`] doubled per attempt after
    /// the first, capped at [`Self::retry_max`].
    pub(super) fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
