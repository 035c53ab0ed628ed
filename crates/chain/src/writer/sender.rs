//! The sender: one account's view of the node. Chain id, the local nonce, fees, gas limit,
//! local signing, broadcasting and waiting for receipts and blocks.

use std::time::{Duration, Instant};

use alloy::consensus::TxEnvelope;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::transports::http::reqwest;
use alloy::transports::{RpcError, TransportError};
use tokio::sync::watch;

use super::{TARGET, WriterConfig, pause};
use crate::{Error, Result};

/// What the node says about a transaction.
pub(super) enum Lookup {
    /// Mined, with its receipt.
    Mined(Box<TransactionReceipt>),
    /// Neither mined nor pending: it never reached the node, or was dropped.
    Unknown,
    /// Still pending (or the node was unreachable) when the wait ran out.
    TimedOut,
    /// Asked to stop while waiting.
    Stopped,
}

/// Sends the registry calls from the attester's account.
///
/// Nonces are tracked locally from `eth_getTransactionCount(pending)` and forgotten after any
/// failed send (and whenever the writer takes the lease), so "nonce too low" heals with a
/// fresh nonce on the next attempt.
pub(super) struct Sender {
    provider: DynProvider,
    wallet: EthereumWallet,
    from: Address,
    registry: Address,
    chain_id: Option<u64>,
    nonce: Option<u64>,
    gas_margin_percent: u64,
    sync_send: bool,
    receipt_poll: Duration,
    receipt_timeout: Duration,
}

impl Sender {
    /// A sender for `config`. Builds the HTTP client; connects lazily.
    pub(super) fn new(config: &WriterConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.rpc_timeout)
            .build()
            .map_err(|e| Error::Http(Box::new(e)))?;
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_reqwest(http, config.rpc_url.clone())
            .erased();
        Ok(Self {
            provider,
            wallet: EthereumWallet::from(config.attester_key.signer().clone()),
            from: config.attester_key.address(),
            registry: config.registry,
            chain_id: None,
            nonce: None,
            gas_margin_percent: config.gas_margin_percent,
            sync_send: config.sync_send,
            receipt_poll: config.receipt_poll,
            receipt_timeout: config.receipt_timeout,
        })
    }

    /// The attester's account.
    pub(super) fn from(&self) -> Address {
        self.from
    }

    /// Forgets the local nonce: the next transaction asks the node again.
    pub(super) fn forget_nonce(&mut self) {
        self.nonce = None;
    }

    /// A call of the registry with `calldata`, from the attester.
    pub(super) fn request(&self, calldata: Bytes) -> TransactionRequest {
        TransactionRequest::default().from(self.from).to(self.registry).input(calldata.into())
    }

    /// The node's gas estimate; a revert comes back as the node's error response.
    pub(super) async fn estimate_gas(&self, tx: TransactionRequest) -> Result<u64, TransportError> {
        self.provider.estimate_gas(tx).await
    }

    /// Fills nonce, gas and fees, and signs.
    pub(super) async fn sign(&mut self, tx: TransactionRequest, gas: u64) -> Result<TxEnvelope> {
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
        let gas_limit = gas.saturating_mul(100 + self.gas_margin_percent) / 100;
        let tx = tx
            .with_chain_id(chain_id)
            .with_nonce(nonce)
            .with_gas_limit(gas_limit)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        tx.build(&self.wallet).await.map_err(|e| Error::Sign(Box::new(e)))
    }

    /// Broadcasts and waits for the receipt.
    pub(super) async fn submit(
        &mut self,
        raw: &[u8],
        hash: B256,
        stop: &mut watch::Receiver<bool>,
    ) -> Lookup {
        let sent = if self.sync_send {
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
                if let RpcError::ErrorResp(p) = &e {
                    tracing::warn!(target: TARGET, tx = %hash, code = p.code, message = %p.message, "node refused the transaction");
                } else {
                    tracing::warn!(target: TARGET, tx = %hash, error = %e, "sending failed");
                }
            }
        }
        self.await_receipt(hash, stop).await
    }

    /// Polls for `hash`'s receipt while the node knows the transaction.
    pub(super) async fn await_receipt(
        &self,
        hash: B256,
        stop: &mut watch::Receiver<bool>,
    ) -> Lookup {
        let deadline = Instant::now() + self.receipt_timeout;
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
            if !pause(stop, self.receipt_poll).await {
                return Lookup::Stopped;
            }
        }
    }

    /// Waits until the chain's head reaches block `target`; `false` when asked to stop first.
    pub(super) async fn await_block(&self, target: u64, stop: &mut watch::Receiver<bool>) -> bool {
        loop {
            match self.provider.get_block_number().await {
                Ok(head) if head >= target => return true,
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(target: TARGET, error = %e, "block number lookup failed")
                }
            }
            if !pause(stop, self.receipt_poll).await {
                return false;
            }
        }
    }

    /// `hash`'s receipt now (`None` when the node has none: not mined, or dropped by a reorg).
    pub(super) async fn receipt(
        &self,
        hash: B256,
    ) -> Result<Option<TransactionReceipt>, TransportError> {
        self.provider.get_transaction_receipt(hash).await
    }
}
