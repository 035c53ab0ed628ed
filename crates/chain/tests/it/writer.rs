//! The chain writer against a real anvil and a real store (SQLite and Postgres).

use std::collections::BTreeSet;

use alloy::consensus::Transaction as _;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use anyhow::{Context, Result, ensure};
use honnin_chain::bindings::KycRegistry;
use honnin_chain::metrics::WriterMetrics;
use honnin_core::attestation::RevocationReason;
use honnin_core::{AtLimit, AttestationStatus, OutboxAction, Scope, ScopeName};

use crate::rig::{Rig, now, with_level_zero};
use crate::util::{record, wallet};

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() -> anyhow::Result<()> {
                    super::$name(crate::rig::Rig::sqlite().await?).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() -> anyhow::Result<()> {
                    super::$name(crate::rig::Rig::postgres().await?).await
                }
            }
        )*
    };
}

both_backends!(
    pending_items_end_confirmed_on_chain_in_batches_of_at_most_max_batch,
    restart_reconciles_sent_items_without_double_effect,
    restart_reconciles_sent_scoped_items_without_double_effect,
    a_record_the_registry_refuses_fails_alone,
    rotation_revokes_on_chain_in_queue_order,
    a_scoped_batch_is_written_and_read_back_in_its_scope,
    one_round_writes_the_global_record_and_two_scopes,
    a_scoped_revocation_reaches_its_scope_only,
    a_scoped_rotation_revokes_in_its_scope,
);

async fn queue(rig: &Rig, wallets: &[Address]) -> Result<()> {
    queue_in(rig, None, wallets, 1).await
}

async fn queue_from(rig: &Rig, wallets: &[Address], person0: u64) -> Result<()> {
    queue_in(rig, None, wallets, person0).await
}

/// Queues attestations of `wallets` in `scope` (`None`: global), person `person0 + i` each.
async fn queue_in(
    rig: &Rig,
    scope: Option<&ScopeName>,
    wallets: &[Address],
    person0: u64,
) -> Result<()> {
    for (i, w) in wallets.iter().enumerate() {
        rig.attest_in(scope, person0 + i as u64, *w, AtLimit::Refuse).await?;
    }
    Ok(())
}

async fn pending_items_end_confirmed_on_chain_in_batches_of_at_most_max_batch(
    rig: Rig,
) -> Result<()> {
    let wallets: Vec<Address> = (0..25).map(wallet).collect();
    queue(&rig, &wallets).await?;
    let mut config = rig.config();
    config.max_batch = 10;
    let metrics = WriterMetrics::default();
    let writer = rig.writer(config)?.with_metrics(metrics.clone());
    let handle = writer.spawn();
    rig.wait_for(&wallets, AttestationStatus::Active).await?;
    handle.stop().await?;

    let mut txs = BTreeSet::new();
    for w in &wallets {
        assert!(rig.is_verified(*w).await?, "{w} not verified on chain");
        let a = rig.attestation(*w).await?;
        let (tx, block) = (a.tx_hash.expect("tx hash"), a.block_number.expect("block"));
        let receipt = rig.provider.get_transaction_receipt(tx).await?.expect("receipt");
        assert_eq!(receipt.block_number, Some(block));
        assert!(receipt.status());
        txs.insert(tx);
    }
    // 25 records, at most 10 per transaction: at least 3 transactions, each within the limit.
    ensure!(txs.len() >= 3, "{} transactions", txs.len());
    for tx in &txs {
        let n = records_in(&rig, wallets.as_slice(), *tx).await?;
        ensure!(n <= 10, "a transaction carried {n} records");
    }
    assert_eq!(metrics.items("attest", "confirmed"), 25);
    assert_eq!(rig.nonce().await?, txs.len() as u64, "one transaction per batch, none repeated");
    Ok(())
}

async fn records_in(rig: &Rig, wallets: &[Address], tx: alloy::primitives::B256) -> Result<usize> {
    let mut n = 0;
    for w in wallets {
        if rig.attestation(*w).await?.tx_hash == Some(tx) {
            n += 1;
        }
    }
    Ok(n)
}

/// A writer claims and sends a batch, records the hash, and dies before confirming; another
/// claimed batch was recorded as sent but never left the process. The next writer confirms
/// the first by its receipt without sending it again, and resends the second.
async fn restart_reconciles_sent_items_without_double_effect(rig: Rig) -> Result<()> {
    restart_reconciles(rig, None).await
}

/// [`restart_reconciles_sent_items_without_double_effect`] with the items in a scope (sent as
/// `attestScoped`).
async fn restart_reconciles_sent_scoped_items_without_double_effect(rig: Rig) -> Result<()> {
    let name = rig.scope("kyc-drop").await?;
    restart_reconciles(rig, Some(name)).await
}

async fn restart_reconciles(rig: Rig, name: Option<ScopeName>) -> Result<()> {
    let scope = name.as_ref().map(ScopeName::id);
    let mined: Vec<Address> = (0..5).map(wallet).collect();
    let lost: Vec<Address> = (5..8).map(wallet).collect();
    queue_in(&rig, name.as_ref(), &mined, 1).await?;
    let store = &rig.store;
    let signer = EthereumWallet::from(rig.key.signer().clone());

    // The first writer's batch: claimed, recorded as sent, mined, never confirmed.
    let claimed = store.claim_outbox(5, time::Duration::minutes(5), now()).await?;
    ensure!(claimed.len() == 5);
    ensure!(claimed.iter().all(|i| i.action.scope() == scope));
    let records = claimed
        .iter()
        .map(|i| match &i.action {
            OutboxAction::Attest { wallet, issued_at, expires_at, .. } => {
                let mut r = record(*wallet, 1);
                r.issuedAt =
                    alloy::primitives::aliases::U40::from(issued_at.unix_timestamp() as u64);
                r.expiresAt =
                    alloy::primitives::aliases::U40::from(expires_at.unix_timestamp() as u64);
                r
            }
            OutboxAction::Revoke { .. } => unreachable!("only attests queued"),
        })
        .collect::<Vec<_>>();
    let fees = rig.provider.estimate_eip1559_fees().await?;
    let envelope = attest_tx(&rig, scope.as_ref(), records)
        .with_chain_id(rig.anvil.chain_id())
        .with_nonce(0)
        .with_gas_limit(2_000_000)
        .with_max_fee_per_gas(fees.max_fee_per_gas)
        .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
        .build(&signer)
        .await?;
    let mined_hash = *envelope.tx_hash();
    let ids: Vec<_> = claimed.iter().map(|i| i.id).collect();
    store.mark_sent(&ids, mined_hash, now()).await?;
    let receipt = rig
        .provider
        .send_raw_transaction_sync(&alloy::eips::Encodable2718::encoded_2718(&envelope))
        .await?;
    ensure!(receipt.status());

    // The second batch: recorded as sent with a hash the node never saw.
    queue_in(&rig, name.as_ref(), &lost, 100).await?;
    let claimed = store.claim_outbox(10, time::Duration::minutes(5), now()).await?;
    ensure!(claimed.len() == 3);
    let ghost = attest_tx(&rig, scope.as_ref(), vec![record(lost[0], 1)])
        .with_chain_id(rig.anvil.chain_id())
        .with_nonce(1)
        .with_gas_limit(200_000)
        .with_max_fee_per_gas(fees.max_fee_per_gas)
        .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
        .build(&signer)
        .await?;
    let ids: Vec<_> = claimed.iter().map(|i| i.id).collect();
    store.mark_sent(&ids, *ghost.tx_hash(), now()).await?;
    ensure!(store.outbox_in_flight().await?.len() == 8);
    for w in mined.iter().chain(&lost) {
        assert_eq!(
            rig.attestation_in(*w, scope.as_ref()).await?.status,
            AttestationStatus::Pending
        );
    }
    assert_eq!(rig.nonce().await?, 1);

    // The new writer.
    let handle = rig.writer(rig.config())?.spawn();
    let all: Vec<Address> = mined.iter().chain(&lost).copied().collect();
    rig.wait_for_in(scope.as_ref(), &all, AttestationStatus::Active).await?;
    handle.stop().await?;

    for w in &mined {
        let a = rig.attestation_in(*w, scope.as_ref()).await?;
        assert_eq!(a.tx_hash, Some(mined_hash), "confirmed by the original transaction");
        assert_eq!(a.block_number, receipt.block_number);
    }
    for w in &all {
        match &scope {
            None => assert!(rig.is_verified(*w).await?),
            Some(scope) => {
                assert!(rig.is_verified_in(*w, scope).await?);
                assert!(!rig.is_verified(*w).await?);
            }
        }
    }
    assert_eq!(rig.nonce().await?, 2, "only the lost batch was sent again");
    assert!(store.outbox_in_flight().await?.is_empty());
    Ok(())
}

/// The registry call the writer makes for `records` in `scope`, from the attester.
fn attest_tx(
    rig: &Rig,
    scope: Option<&Scope>,
    records: Vec<honnin_chain::bindings::IKycRegistry::Record>,
) -> alloy::rpc::types::TransactionRequest {
    let from = rig.key.address();
    match scope {
        None => rig.registry.attest(records).from(from).into_transaction_request(),
        Some(scope) => rig
            .registry
            .attestScoped(*scope.as_b256(), records)
            .from(from)
            .into_transaction_request(),
    }
}

async fn a_record_the_registry_refuses_fails_alone(rig: Rig) -> Result<()> {
    let good: Vec<Address> = (0..3).map(wallet).collect();
    rig.attest(1, good[0], AtLimit::Refuse).await?;
    let bad = wallet(99);
    let new = with_level_zero(rig.new_attestation(50, bad).await?);
    rig.store.record_attestation(&new, &crate::rig::policy(AtLimit::Refuse), now()).await?;
    rig.attest(2, good[1], AtLimit::Refuse).await?;
    rig.attest(3, good[2], AtLimit::Refuse).await?;

    let metrics = WriterMetrics::default();
    let handle = rig.writer(rig.config())?.with_metrics(metrics.clone()).spawn();
    rig.wait_for(&good, AttestationStatus::Active).await?;
    handle.stop().await?;

    assert_eq!(metrics.items("attest", "failed"), 1);
    assert_eq!(metrics.items("attest", "confirmed"), 3);
    assert_eq!(rig.attestation(bad).await?.status, AttestationStatus::Pending);
    assert!(!rig.is_verified(bad).await?);
    let mut txs = BTreeSet::new();
    for w in &good {
        txs.insert(rig.attestation(*w).await?.tx_hash);
    }
    assert_eq!(txs.len(), 1, "the good records went out together");
    Ok(())
}

/// A person at the limit under the rotate policy attests a second wallet: the first wallet's
/// revoke and the second's attest are queued together; the chain ends with the first revoked
/// (reason 6, rotated) and the second verified.
async fn rotation_revokes_on_chain_in_queue_order(rig: Rig) -> Result<()> {
    let (first, second) = (wallet(1), wallet(2));
    rig.attest(7, first, AtLimit::Rotate).await?;
    let handle = rig.writer(rig.config())?.spawn();
    rig.wait_for(&[first], AttestationStatus::Active).await?;
    ensure!(rig.is_verified(first).await?);

    let recorded = rig.attest(7, second, AtLimit::Rotate).await?;
    ensure!(recorded.rotated.len() == 1 && recorded.rotated[0].wallet == first);
    rig.wait_for(&[second], AttestationStatus::Active).await?;
    handle.stop().await?;

    let on_chain = rig.registry.attestationOf_1(first).call().await?;
    assert!(on_chain.revoked);
    assert_eq!(on_chain.revocationReason, RevocationReason::Rotated.code());
    assert!(!rig.is_verified(first).await?);
    assert!(rig.is_verified(second).await?);
    assert_eq!(rig.attestation(first).await?.status, AttestationStatus::Revoked);
    Ok(())
}

/// Two service instances on one Postgres, each with a writer: one holds the lease and sends
/// everything; when it stops the other takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_on_one_postgres_only_one_sends() -> Result<()> {
    let rig = Rig::postgres().await?;
    let first: Vec<Address> = (0..20).map(wallet).collect();
    queue(&rig, &first).await?;

    let (m1, m2) = (WriterMetrics::default(), WriterMetrics::default());
    let w1 = rig.writer(rig.config())?.with_metrics(m1.clone()).spawn();
    let other = honnin_chain::writer::ChainWriter::new(rig.config(), rig.another_store().await?)?;
    let w2 = other.with_metrics(m2.clone()).spawn();
    rig.wait_for(&first, AttestationStatus::Active).await?;

    let (leader, follower, leader_metrics, follower_metrics) =
        if m1.is_leader() { (w1, w2, m1, m2) } else { (w2, w1, m2, m1) };
    assert!(leader_metrics.is_leader());
    assert!(!follower_metrics.is_leader());
    assert_eq!(leader_metrics.items("attest", "confirmed"), 20);
    assert_eq!(follower_metrics.items("attest", "confirmed"), 0, "the follower sent nothing");

    // The leader stops; the follower takes the lease and sends what comes next.
    leader.stop().await?;
    let second: Vec<Address> = (20..25).map(wallet).collect();
    queue_from(&rig, &second, 100).await?;
    rig.wait_for(&second, AttestationStatus::Active).await?;
    assert!(follower_metrics.is_leader());
    assert_eq!(follower_metrics.items("attest", "confirmed"), 5);
    follower.stop().await?;
    assert_eq!(leader_metrics.items("attest", "confirmed"), 20);
    Ok(())
}

/// Without `eth_sendRawTransactionSync` (nodes that lack it), on a node that mines a block a
/// second, waiting for two confirmations: the writer polls for the receipt and the block count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_with_confirmations_on_a_block_time_node() -> Result<()> {
    let anvil = honnin_chain::test_utils::anvil()?.block_time(1).try_spawn()?;
    let rig = Rig::sqlite_on(anvil).await?;
    let wallets: Vec<Address> = (0..3).map(wallet).collect();
    queue(&rig, &wallets).await?;
    let mut config = rig.config();
    config.sync_send = false;
    config.confirmations = 2;
    let handle = rig.writer(config)?.spawn();
    rig.wait_for(&wallets, AttestationStatus::Active).await?;
    let head = rig.provider.get_block_number().await?;
    handle.stop().await?;
    for w in &wallets {
        ensure!(rig.is_verified(*w).await?);
        let block = rig.attestation(*w).await?.block_number.expect("block");
        ensure!(head > block, "confirmed at block {block} with head {head}: fewer than 2 blocks");
    }
    Ok(())
}

/// Dropping the handle stops the writer and releases the lease for the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_handle_stops_the_writer() -> Result<()> {
    let rig = Rig::postgres().await?;
    let metrics = WriterMetrics::default();
    let handle = rig.writer(rig.config())?.with_metrics(metrics.clone()).spawn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !metrics.is_leader() {
        ensure!(std::time::Instant::now() < deadline, "never took the lease");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    drop(handle);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(lease) =
            rig.store.try_lease(honnin_core::LeaseName::CHAIN_WRITER, now()).await?
        {
            lease.release().await?;
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "the lease was never released");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    ensure!(!metrics.is_leader());
    Ok(())
}

/// The receipt of the transaction that confirmed `wallet`'s record in `scope`.
async fn receipt_of(
    rig: &Rig,
    wallet: Address,
    scope: Option<&Scope>,
) -> Result<TransactionReceipt> {
    let tx = rig.attestation_in(wallet, scope).await?.tx_hash.context("no tx hash")?;
    rig.provider.get_transaction_receipt(tx).await?.context("no receipt")
}

/// The (scope, wallet) of every `ScopedAttested` event in `receipt`; fails on any other log.
fn scoped_attested(receipt: &TransactionReceipt) -> Result<Vec<(B256, Address)>> {
    receipt
        .inner
        .logs()
        .iter()
        .map(|l| {
            let e = l.log_decode::<KycRegistry::ScopedAttested>()?.inner.data;
            Ok((e.scope, e.wallet))
        })
        .collect()
}

/// Attestations queued in a scope go out as one `attestScoped` in that scope: each record is
/// verified there, in no other scope and not globally, and the receipt's events carry the scope.
async fn a_scoped_batch_is_written_and_read_back_in_its_scope(rig: Rig) -> Result<()> {
    let (name, other) = (rig.scope("kyc-drop").await?, rig.scope("app.example.com").await?);
    let (scope, other) = (name.id(), other.id());
    let wallets: Vec<Address> = (0..12).map(wallet).collect();
    queue_in(&rig, Some(&name), &wallets, 1).await?;
    let metrics = WriterMetrics::default();
    let handle = rig.writer(rig.config())?.with_metrics(metrics.clone()).spawn();
    rig.wait_for_in(Some(&scope), &wallets, AttestationStatus::Active).await?;
    handle.stop().await?;

    for w in &wallets {
        ensure!(rig.is_verified_in(*w, &scope).await?, "{w} not verified in its scope");
        ensure!(!rig.is_verified_in(*w, &other).await?, "{w} verified in another scope");
        ensure!(!rig.is_verified(*w).await?, "{w} verified globally");
    }
    let receipt = receipt_of(&rig, wallets[0], Some(&scope)).await?;
    let expected: Vec<(B256, Address)> = wallets.iter().map(|w| (*scope.as_b256(), *w)).collect();
    assert_eq!(scoped_attested(&receipt)?, expected, "one attestScoped with every record");
    assert_eq!(rig.nonce().await?, 1);
    assert_eq!(metrics.items("attest", "confirmed"), 12);
    Ok(())
}

/// One claim holding global attestations and attestations in two scopes, interleaved in the
/// queue, becomes one transaction per table in one writer round: each scope's items, wherever
/// they stood in the queue, share one transaction, in the order the tables first appear, and
/// each transaction writes only its own table. (The wallets differ: the store hands out a
/// wallet's items one at a time across its scopes, so one wallet's records in two tables would
/// take two rounds.)
async fn one_round_writes_the_global_record_and_two_scopes(rig: Rig) -> Result<()> {
    let (a, b) = (rig.scope("kyc-drop").await?, rig.scope("app.example.com").await?);
    let w: Vec<Address> = (0..7).map(wallet).collect();
    let queued: [(Option<&ScopeName>, Address); 7] = [
        (Some(&a), w[0]),
        (None, w[2]),
        (Some(&b), w[4]),
        (Some(&a), w[1]),
        (None, w[3]),
        (Some(&a), w[5]),
        (None, w[6]),
    ];
    for (i, (scope, wallet)) in queued.iter().enumerate() {
        rig.attest_in(*scope, i as u64 + 1, *wallet, AtLimit::Refuse).await?;
    }
    let (in_a, global, in_b) = ([w[0], w[1], w[5]], [w[2], w[3], w[6]], [w[4]]);
    let (a, b) = (a.id(), b.id());

    let handle = rig.writer(rig.config())?.spawn();
    rig.wait_for_in(Some(&a), &in_a, AttestationStatus::Active).await?;
    rig.wait_for(&global, AttestationStatus::Active).await?;
    rig.wait_for_in(Some(&b), &in_b, AttestationStatus::Active).await?;
    handle.stop().await?;

    assert_eq!(rig.nonce().await?, 3, "one transaction per table");
    let tx_a = receipt_of(&rig, in_a[0], Some(&a)).await?;
    let tx_global = receipt_of(&rig, global[0], None).await?;
    let tx_b = receipt_of(&rig, in_b[0], Some(&b)).await?;
    let scoped = |scope: &Scope, ws: &[Address]| -> Vec<(B256, Address)> {
        ws.iter().map(|w| (*scope.as_b256(), *w)).collect()
    };
    assert_eq!(scoped_attested(&tx_a)?, scoped(&a, &in_a), "scope a's items in one transaction");
    assert_eq!(scoped_attested(&tx_b)?, scoped(&b, &in_b));
    let attested: Vec<Address> = tx_global
        .inner
        .logs()
        .iter()
        .map(|l| Ok(l.log_decode::<KycRegistry::Attested>()?.inner.data.wallet))
        .collect::<Result<_>>()?;
    assert_eq!(attested, global, "the global transaction emits Attested for its records");
    let mut nonces = Vec::new();
    for receipt in [&tx_a, &tx_global, &tx_b] {
        let tx = rig.provider.get_transaction_by_hash(receipt.transaction_hash).await?;
        nonces.push(tx.context("no transaction")?.nonce());
    }
    assert_eq!(nonces, [0, 1, 2], "sent in the order the tables first appear in the claim");

    for w in &in_a {
        ensure!(rig.is_verified_in(*w, &a).await?);
        ensure!(!rig.is_verified(*w).await? && !rig.is_verified_in(*w, &b).await?);
    }
    for w in &global {
        ensure!(rig.is_verified(*w).await?);
        ensure!(!rig.is_verified_in(*w, &a).await? && !rig.is_verified_in(*w, &b).await?);
    }
    ensure!(rig.is_verified_in(in_b[0], &b).await? && !rig.is_verified(in_b[0]).await?);
    Ok(())
}

/// A holder's revocation in one scope goes out as `revokeScoped` there: that record is revoked
/// on chain with the holder's code, the wallet's records elsewhere stay verified.
async fn a_scoped_revocation_reaches_its_scope_only(rig: Rig) -> Result<()> {
    let (a, b) = (rig.scope("kyc-drop").await?, rig.scope("app.example.com").await?);
    let w = wallet(1);
    queue_in(&rig, None, &[w], 1).await?;
    queue_in(&rig, Some(&a), &[w], 1).await?;
    queue_in(&rig, Some(&b), &[w], 1).await?;
    let (a, b) = (a.id(), b.id());
    let handle = rig.writer(rig.config())?.spawn();
    rig.wait_for_in(Some(&a), &[w], AttestationStatus::Active).await?;
    rig.wait_for_in(Some(&b), &[w], AttestationStatus::Active).await?;
    rig.wait_for(&[w], AttestationStatus::Active).await?;

    let revoked = rig.store.revoke_wallet(w, Some(&a), RevocationReason::Holder, now()).await?;
    ensure!(revoked.is_some(), "no live attestation in the scope");
    handle.waker().wake();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while rig.registry.attestationOf_0(w, *a.as_b256()).call().await?.revocationReason == 0 {
        ensure!(std::time::Instant::now() < deadline, "the revocation never reached the chain");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    handle.stop().await?;

    let on_chain = rig.registry.attestationOf_0(w, *a.as_b256()).call().await?;
    assert!(on_chain.revoked);
    assert_eq!(on_chain.revocationReason, RevocationReason::Holder.code());
    ensure!(!rig.is_verified_in(w, &a).await?);
    ensure!(rig.is_verified_in(w, &b).await?, "the other scope's record stays");
    ensure!(rig.is_verified(w).await?, "the global record stays");
    ensure!(!rig.registry.attestationOf_1(w).call().await?.revoked);
    assert_eq!(rig.attestation_in(w, Some(&a)).await?.status, AttestationStatus::Revoked);
    assert_eq!(rig.attestation_in(w, Some(&b)).await?.status, AttestationStatus::Active);
    assert_eq!(rig.nonce().await?, 4, "three attests, one revokeScoped");
    Ok(())
}

/// The rotate policy in a scope: the person's first wallet there is revoked (rotated) by
/// `revokeScoped` before the second is attested, both in that scope; the person's global record
/// of the first wallet is untouched.
async fn a_scoped_rotation_revokes_in_its_scope(rig: Rig) -> Result<()> {
    let name = rig.scope("kyc-drop").await?;
    let scope = name.id();
    let (first, second) = (wallet(1), wallet(2));
    rig.attest_in(None, 7, first, AtLimit::Rotate).await?;
    rig.attest_in(Some(&name), 7, first, AtLimit::Rotate).await?;
    let handle = rig.writer(rig.config())?.spawn();
    rig.wait_for_in(Some(&scope), &[first], AttestationStatus::Active).await?;
    rig.wait_for(&[first], AttestationStatus::Active).await?;

    let recorded = rig.attest_in(Some(&name), 7, second, AtLimit::Rotate).await?;
    ensure!(recorded.rotated.len() == 1 && recorded.rotated[0].wallet == first);
    rig.wait_for_in(Some(&scope), &[second], AttestationStatus::Active).await?;
    handle.stop().await?;

    let on_chain = rig.registry.attestationOf_0(first, *scope.as_b256()).call().await?;
    assert_eq!(on_chain.revocationReason, RevocationReason::Rotated.code());
    ensure!(rig.is_verified_in(second, &scope).await?);
    ensure!(!rig.is_verified_in(first, &scope).await?);
    ensure!(rig.is_verified(first).await?, "the global record is another record");
    assert_eq!(rig.attestation_in(first, Some(&scope)).await?.status, AttestationStatus::Revoked);
    assert_eq!(rig.attestation(first).await?.status, AttestationStatus::Active);
    Ok(())
}
