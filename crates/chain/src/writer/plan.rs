//! Batch planning, pure: claimed items (queue order) → groups → one transaction per kind
//! (`attest` / `revoke` for the global record, `attestScoped` / `revokeScoped` per scope).

use std::collections::HashMap;

use alloy::primitives::aliases::U40;
use alloy::primitives::{Address, Bytes};
use alloy::sol_types::SolCall;
use honnin_core::{OutboxAction, OutboxId, OutboxItem, RevocationReason, Scope};

use crate::bindings::{IKycRegistry, KycRegistry};

/// Which registry call a batch becomes: batches group by (kind, scope[, reason]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BatchKind {
    /// `attest(Record[])` for `None`, `attestScoped(scope, Record[])` in a scope.
    Attest(Option<Scope>),
    /// `revoke(address[], reason)` for `None`, `revokeScoped(scope, address[], reason)` in a
    /// scope: one transaction per scope and reason.
    Revoke(Option<Scope>, RevocationReason),
}

impl BatchKind {
    /// The call an outbox action goes into.
    pub(crate) const fn of(action: &OutboxAction) -> Self {
        match action {
            OutboxAction::Attest { scope, .. } => Self::Attest(*scope),
            OutboxAction::Revoke { scope, reason, .. } => Self::Revoke(*scope, *reason),
        }
    }

    /// The `kind` label of the metrics and logs: `attest` or `revoke`, in a scope or not (the
    /// scope is a field of the log lines, not a metric label).
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::Attest(_) => "attest",
            Self::Revoke(..) => "revoke",
        }
    }

    /// The scope the batch writes in; `None` for the global record.
    pub(crate) const fn scope(self) -> Option<Scope> {
        match self {
            Self::Attest(scope) | Self::Revoke(scope, _) => scope,
        }
    }

    /// Whether the batch is an attest (global or scoped).
    pub(crate) const fn is_attest(self) -> bool {
        matches!(self, Self::Attest(_))
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
            BatchKind::Attest(scope) => {
                let records = self.items.iter().filter_map(record).collect();
                match scope {
                    None => KycRegistry::attestCall { records }.abi_encode(),
                    Some(scope) => {
                        KycRegistry::attestScopedCall { scope: *scope.as_b256(), records }
                            .abi_encode()
                    }
                }
            }
            BatchKind::Revoke(scope, reason) => {
                let wallets = self.items.iter().map(|i| i.action.wallet()).collect();
                let reason = reason.code();
                match scope {
                    None => KycRegistry::revokeCall { wallets, reason }.abi_encode(),
                    Some(scope) => {
                        KycRegistry::revokeScopedCall { scope: *scope.as_b256(), wallets, reason }
                            .abi_encode()
                    }
                }
            }
        }
        .into()
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

/// Cuts `items` (queue order) into consecutive groups in which every record (a wallet in a scope,
/// or its global record) has one action, and each group into its transactions: one `revoke` per
/// (scope, reason) first, then one `attest` per scope, each kind in the order it first appears.
/// Within a group the records differ, so the order only matters across records: a rotation's
/// old wallet is revoked before its successor is attested (in the same scope), and a person
/// never has more live wallets in a scope on chain than the policy allows. One wallet's records
/// in different scopes are different records and share a group freely.
pub(super) fn plan(items: Vec<OutboxItem>) -> Vec<Vec<Batch>> {
    let mut groups: Vec<Vec<OutboxItem>> = vec![Vec::new()];
    let mut seen: HashMap<(Address, Option<Scope>), BatchKind> = HashMap::new();
    for item in items {
        let kind = BatchKind::of(&item.action);
        let key = (item.action.wallet(), kind.scope());
        if seen.get(&key).is_some_and(|k| *k != kind) {
            groups.push(Vec::new());
            seen.clear();
        }
        seen.insert(key, kind);
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
            batches.sort_by_key(|b| b.kind.is_attest());
            batches
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use honnin_core::{AttestationId, Claims, Level, OutboxState, ScopeName};

    fn item_in(
        id: i64,
        wallet: u8,
        scope: Option<Scope>,
        revoke: Option<RevocationReason>,
    ) -> OutboxItem {
        let wallet = Address::repeat_byte(wallet);
        let t = honnin_core::time::now();
        let attestation = AttestationId::random();
        OutboxItem {
            id: OutboxId(id),
            action: match revoke {
                Some(reason) => OutboxAction::Revoke { attestation, wallet, reason, scope },
                None => OutboxAction::Attest {
                    attestation,
                    wallet,
                    level: Level(1),
                    claims: Claims(1),
                    issued_at: t,
                    expires_at: t + time::Duration::days(1),
                    scope,
                },
            },
            state: OutboxState::Claimed,
            attempts: 1,
            tx_hash: None,
            created_at: t,
        }
    }

    fn item(id: i64, wallet: u8, revoke: Option<RevocationReason>) -> OutboxItem {
        item_in(id, wallet, None, revoke)
    }

    fn scope(name: &str) -> Scope {
        ScopeName::new(name).expect("scope name").id()
    }

    fn shape(plan: &[Vec<Batch>]) -> Vec<Vec<(BatchKind, Vec<i64>)>> {
        plan.iter()
            .map(|g| g.iter().map(|b| (b.kind, b.items.iter().map(|i| i.id.0).collect())).collect())
            .collect()
    }

    const ATTEST: BatchKind = BatchKind::Attest(None);

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
        let revoke = BatchKind::Revoke(None, RevocationReason::Holder);
        assert_eq!(
            shape(&plan(items)),
            vec![
                vec![(revoke, vec![2]), (ATTEST, vec![1, 3])],
                vec![(revoke, vec![5]), (ATTEST, vec![4])],
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
                (BatchKind::Revoke(None, RevocationReason::Holder), vec![1, 3]),
                (BatchKind::Revoke(None, RevocationReason::Rotated), vec![2])
            ]]
        );
    }

    /// Batches group by (kind, scope[, reason]); one wallet's records in different scopes are
    /// different records and stay in one group, revocations before attestations.
    #[test]
    fn plan_groups_by_kind_scope_and_reason() {
        let (a, b) = (Some(scope("kyc-drop")), Some(scope("app.example.com")));
        let holder = Some(RevocationReason::Holder);
        let items = vec![
            item_in(1, 1, None, None),
            item_in(2, 1, a, None),
            item_in(3, 2, b, None),
            item_in(4, 3, a, holder),
            item_in(5, 1, b, None),
            item_in(6, 4, None, holder),
            item_in(7, 5, a, Some(RevocationReason::Rotated)),
            item_in(8, 6, a, None),
        ];
        assert_eq!(
            shape(&plan(items)),
            vec![vec![
                (BatchKind::Revoke(a, RevocationReason::Holder), vec![4]),
                (BatchKind::Revoke(None, RevocationReason::Holder), vec![6]),
                (BatchKind::Revoke(a, RevocationReason::Rotated), vec![7]),
                (ATTEST, vec![1]),
                (BatchKind::Attest(a), vec![2, 8]),
                (BatchKind::Attest(b), vec![3, 5]),
            ]]
        );
    }

    /// A record's second action starts a new group (queue order kept), but only for the record
    /// it concerns: the same wallet in another scope does not.
    #[test]
    fn plan_cuts_a_group_per_record_not_per_wallet() {
        let a = Some(scope("kyc-drop"));
        let holder = Some(RevocationReason::Holder);
        let items = vec![
            item_in(1, 1, a, None),
            item_in(2, 1, None, holder),
            item_in(3, 1, a, holder),
            item_in(4, 2, None, None),
        ];
        assert_eq!(
            shape(&plan(items)),
            vec![
                vec![
                    (BatchKind::Revoke(None, RevocationReason::Holder), vec![2]),
                    (BatchKind::Attest(a), vec![1])
                ],
                vec![(BatchKind::Revoke(a, RevocationReason::Holder), vec![3]), (ATTEST, vec![4])],
            ]
        );
    }

    #[test]
    fn revoke_calldata_carries_the_reason_code() {
        let batch = Batch {
            kind: BatchKind::Revoke(None, RevocationReason::Rotated),
            items: vec![item(1, 1, Some(RevocationReason::Rotated))],
        };
        let call = KycRegistry::revokeCall::abi_decode(&batch.calldata()).expect("revoke call");
        assert_eq!(call.reason, RevocationReason::Rotated.code());
        assert_eq!(call.wallets, vec![Address::repeat_byte(1)]);
    }

    /// Scope `None` calls the global functions, `Some` the scoped ones with the scope's id.
    #[test]
    fn scoped_batches_call_the_scoped_functions() {
        let a = scope("kyc-drop");
        let attest =
            Batch { kind: BatchKind::Attest(Some(a)), items: vec![item_in(1, 1, Some(a), None)] };
        let data = attest.calldata();
        assert!(KycRegistry::attestCall::abi_decode(&data).is_err());
        let call = KycRegistry::attestScopedCall::abi_decode(&data).expect("attestScoped call");
        assert_eq!(call.scope, *a.as_b256());
        assert_eq!(call.records, vec![record(&attest.items[0]).expect("record")]);

        let revoke = Batch {
            kind: BatchKind::Revoke(Some(a), RevocationReason::Erasure),
            items: vec![item_in(2, 2, Some(a), Some(RevocationReason::Erasure))],
        };
        let data = revoke.calldata();
        assert!(KycRegistry::revokeCall::abi_decode(&data).is_err());
        let call = KycRegistry::revokeScopedCall::abi_decode(&data).expect("revokeScoped call");
        assert_eq!(
            (call.scope, call.wallets, call.reason),
            (*a.as_b256(), vec![Address::repeat_byte(2)], RevocationReason::Erasure.code())
        );

        let global = Batch { kind: ATTEST, items: vec![item(3, 3, None)] };
        assert!(KycRegistry::attestCall::abi_decode(&global.calldata()).is_ok());
    }
}
