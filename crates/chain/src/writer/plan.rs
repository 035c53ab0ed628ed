//! Batch planning, pure: claimed items (queue order) → groups → one transaction per kind.

use std::collections::HashMap;

use alloy::primitives::aliases::U40;
use alloy::primitives::{Address, Bytes};
use alloy::sol_types::SolCall;
use honnin_core::{OutboxAction, OutboxId, OutboxItem, RevocationReason};

use crate::bindings::{IKycRegistry, KycRegistry};

/// Which registry call a batch becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BatchKind {
    /// `attest(Record[])`.
    Attest,
    /// `revoke(address[], reason)`: one transaction per reason.
    Revoke(RevocationReason),
}

impl BatchKind {
    /// The call an outbox action goes into.
    pub(crate) const fn of(action: &OutboxAction) -> Self {
        match action {
            OutboxAction::Attest { .. } => Self::Attest,
            OutboxAction::Revoke { reason, .. } => Self::Revoke(*reason),
        }
    }

    /// The `kind` label of the metrics and logs: `attest` or `revoke`.
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::Attest => "attest",
            Self::Revoke(_) => "revoke",
        }
    }
}

/// One transaction's worth of items.
#[derive(Debug)]
pub(super) struct Batch {
    /// The call the items go into; every item's action is of this kind.
    pub(super) kind: BatchKind,
    /// The items, in queue order.
    pub(super) items: Vec<OutboxItem>,
}

impl Batch {
    /// A batch of `items` already known to share one kind (one sent transaction's items), or
    /// `None` when there are none.
    pub(super) fn of_sent(items: Vec<OutboxItem>) -> Option<Self> {
        let kind = BatchKind::of(&items.first()?.action);
        Some(Self { kind, items })
    }

    /// The items' ids.
    pub(super) fn ids(&self) -> Vec<OutboxId> {
        self.items.iter().map(|i| i.id).collect()
    }

    /// The registry call.
    pub(super) fn calldata(&self) -> Bytes {
        match self.kind {
            BatchKind::Attest => {
                let records = self.items.iter().filter_map(record).collect();
                KycRegistry::attestCall { records }.abi_encode().into()
            }
            BatchKind::Revoke(reason) => {
                let wallets = self.items.iter().map(|i| i.action.wallet()).collect();
                KycRegistry::revokeCall { wallets, reason: reason.code() }.abi_encode().into()
            }
        }
    }
}

/// The registry record for an `attest` item; `None` for a revoke or out-of-range times.
pub(super) fn record(item: &OutboxItem) -> Option<IKycRegistry::Record> {
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

/// Cuts `items` (queue order) into consecutive groups in which every wallet has one action, and
/// each group into its transactions: one `revoke` per reason first, then the `attest`. Within a
/// group the wallets differ, so the order only matters across wallets: a rotation's old wallet
/// is revoked before its successor is attested, and a person never has more live wallets on
/// chain than the policy allows.
pub(super) fn plan(items: Vec<OutboxItem>) -> Vec<Vec<Batch>> {
    let mut groups: Vec<Vec<OutboxItem>> = vec![Vec::new()];
    let mut seen: HashMap<Address, BatchKind> = HashMap::new();
    for item in items {
        let kind = BatchKind::of(&item.action);
        let wallet = item.action.wallet();
        if seen.get(&wallet).is_some_and(|k| *k != kind) {
            groups.push(Vec::new());
            seen.clear();
        }
        seen.insert(wallet, kind);
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
                let kind = BatchKind::of(&item.action);
                match batches.iter_mut().find(|b| b.kind == kind) {
                    Some(batch) => batch.items.push(item),
                    None => batches.push(Batch { kind, items: vec![item] }),
                }
            }
            batches.sort_by_key(|b| b.kind == BatchKind::Attest);
            batches
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use honnin_core::{AttestationId, Claims, Level, OutboxState};

    fn item(id: i64, wallet: u8, revoke: Option<RevocationReason>) -> OutboxItem {
        let wallet = Address::repeat_byte(wallet);
        let t = honnin_core::time::now();
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

    fn shape(plan: &[Vec<Batch>]) -> Vec<Vec<(BatchKind, Vec<i64>)>> {
        plan.iter()
            .map(|g| g.iter().map(|b| (b.kind, b.items.iter().map(|i| i.id.0).collect())).collect())
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
        let revoke = BatchKind::Revoke(RevocationReason::Holder);
        assert_eq!(
            shape(&plan(items)),
            vec![
                vec![(revoke, vec![2]), (BatchKind::Attest, vec![1, 3])],
                vec![(revoke, vec![5]), (BatchKind::Attest, vec![4])],
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
        assert_eq!(
            shape(&plan(items)),
            vec![vec![
                (BatchKind::Revoke(RevocationReason::Holder), vec![1, 3]),
                (BatchKind::Revoke(RevocationReason::Rotated), vec![2])
            ]]
        );
    }

    #[test]
    fn revoke_calldata_carries_the_reason_code() {
        let batch = Batch {
            kind: BatchKind::Revoke(RevocationReason::Rotated),
            items: vec![item(1, 1, Some(RevocationReason::Rotated))],
        };
        let call = KycRegistry::revokeCall::abi_decode(&batch.calldata()).expect("revoke call");
        assert_eq!(call.reason, RevocationReason::Rotated.code());
        assert_eq!(call.wallets, vec![Address::repeat_byte(1)]);
    }
}
