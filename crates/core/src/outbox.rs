//! The outbox: chain work recorded in the same transaction as the change that causes it.
//!
//! ```text
//!            claim_outbox             mark_sent           mark_confirmed
//! pending ───────────────▶ claimed ─────────────▶ sent ─────────────────▶ confirmed
//!    ▲                        │  (lease expires:     │
//!    │      mark_retry        │   claimable again)   │ mark_retry (dropped / reverted)
//!    └────────────────────────┴──────────────────────┘
//!                    mark_failed ──▶ failed (needs an operator)
//! ```
//!
//! An item is claimed for a lease period; a writer that dies before `mark_sent` leaves items
//! that become claimable again when the lease runs out. Items already `sent` are never
//! re-claimed: on start the writer lists them with [`OutboxStore::outbox_in_flight`] and reconciles
//! them with chain state (receipt found → confirmed; nonce consumed by another tx or no
//! receipt → retry), so nothing is lost and nothing is sent twice.
//!
//! [`OutboxStore::outbox_in_flight`]: crate::OutboxStore::outbox_in_flight

use std::{fmt, str::FromStr};

use alloy_primitives::{Address, B256};
use time::OffsetDateTime;

use crate::{AttestationId, Claims, Error, Level, Result, RevocationReason, Scope};

/// An outbox item's id. Increasing in the order items were queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboxId(pub i64);

impl fmt::Display for OutboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What the chain writer must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxAction {
    /// Write the attestation to the registry (`attest`, or `attestScoped` in a scope).
    Attest {
        /// The attestation; it becomes active when the item is confirmed.
        attestation: AttestationId,
        /// The wallet.
        wallet: Address,
        /// Its level.
        level: Level,
        /// Its claims.
        claims: Claims,
        /// When it was issued.
        issued_at: OffsetDateTime,
        /// When it expires.
        expires_at: OffsetDateTime,
        /// The scope of the record; `None` for the global record.
        scope: Option<Scope>,
    },
    /// Revoke the wallet's attestation on the registry (`revoke`, or `revokeScoped`).
    Revoke {
        /// The revoked attestation.
        attestation: AttestationId,
        /// The wallet.
        wallet: Address,
        /// The reason, sent as the contract's code.
        reason: RevocationReason,
        /// The scope of the record; `None` for the global record.
        scope: Option<Scope>,
    },
}

impl OutboxAction {
    /// The action's name in the database: `attest` or `revoke`.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Attest { .. } => "attest",
            Self::Revoke { .. } => "revoke",
        }
    }

    /// The wallet the action is about.
    pub const fn wallet(&self) -> Address {
        match self {
            Self::Attest { wallet, .. } | Self::Revoke { wallet, .. } => *wallet,
        }
    }

    /// The scope of the record the action writes; `None` for the global record.
    pub const fn scope(&self) -> Option<Scope> {
        match self {
            Self::Attest { scope, .. } | Self::Revoke { scope, .. } => *scope,
        }
    }
}

/// Where an outbox item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Waiting to be claimed (possibly after a retry delay).
    Pending,
    /// Claimed by a writer until its lease runs out.
    Claimed,
    /// In a transaction sent to the chain; waiting for its receipt.
    Sent,
    /// Included in a block.
    Confirmed,
    /// Given up on; an operator must look.
    Failed,
    /// No longer needed (its attestation was revoked before it was ever sent).
    Cancelled,
}

impl OutboxState {
    /// The state's name in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Claimed => "claimed",
            Self::Sent => "sent",
            Self::Confirmed => "confirmed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for OutboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutboxState {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => Self::Pending,
            "claimed" => Self::Claimed,
            "sent" => Self::Sent,
            "confirmed" => Self::Confirmed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return Err(Error::InvalidOutbox { what: "state" }),
        })
    }
}

/// One unit of chain work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Its id (queue order).
    pub id: OutboxId,
    /// What to do.
    pub action: OutboxAction,
    /// Where it is.
    pub state: OutboxState,
    /// How many times it was claimed.
    pub attempts: u32,
    /// The transaction it was sent in, once sent.
    pub tx_hash: Option<B256>,
    /// When it was queued.
    pub created_at: OffsetDateTime,
}
