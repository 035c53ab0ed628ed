//! The audit log's rows (the hash chain itself is [`crate::audit`]).

use alloy_primitives::B256;
use async_trait::async_trait;

use crate::{AuditQuery, AuditRecord, NewAuditEvent, StoreError};

/// Appending to the audit log and reading it back.
#[async_trait]
pub trait AuditStore: Send + Sync + std::fmt::Debug {
    /// Appends events to the audit log in one transaction, chaining each to the previous row
    /// ([`crate::audit::chain_hash`]). The head (last `seq` and hash) is a row of its own,
    /// locked for the transaction (Postgres `FOR UPDATE`, SQLite `BEGIN IMMEDIATE`), so the
    /// chain stays linear across instances. Times are stored with microsecond precision.
    /// Services append through [`crate::AuditLog`], which batches concurrent callers.
    async fn append_audit(&self, events: &[NewAuditEvent]) -> Result<(), StoreError>;

    /// A page of the audit log in `seq` order (see [`AuditQuery`]).
    async fn audit_page(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;

    /// The stored head of the audit log: the last `seq` and its hash; `None` when empty.
    async fn audit_head(&self) -> Result<Option<(u64, B256)>, StoreError>;
}
