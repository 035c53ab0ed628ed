//! Chain writer throughput and gas, on demand (ignored in the test run):
//!
//! ```text
//! cargo test -p honnin-chain --release --test it -- --ignored --nocapture writer_throughput
//! ```
//!
//! For batch sizes 1, 10 and 100: queues attestations in the store (Postgres by default;
//! `HONNIN_BENCH_DB=sqlite` for SQLite), starts a writer with that `max_batch`, and measures
//! records/s from start to the last `mark_confirmed`, then gas per record from the receipts.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use alloy::providers::Provider;
use anyhow::{Result, ensure};
use honnin_chain::metrics::WriterMetrics;
use honnin_core::AtLimit;

use crate::rig::Rig;
use crate::util::wallet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run on demand"]
async fn writer_throughput() -> Result<()> {
    let sqlite = std::env::var("HONNIN_BENCH_DB").is_ok_and(|v| v == "sqlite");
    println!("backend: {}", if sqlite { "sqlite" } else { "postgres" });
    println!(
        "| batch | records | txs | seconds | records/s | gas/tx (median) | gas/record (total/records) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (batch, records) in [(1u32, 200u64), (10, 1_000), (100, 4_000)] {
        let rig = if sqlite { Rig::sqlite().await? } else { Rig::postgres().await? };
        let wallets: Vec<_> = (0..records).map(|i| wallet(1_000_000 + i)).collect();
        for (i, w) in wallets.iter().enumerate() {
            rig.attest(i as u64 + 1, *w, AtLimit::Refuse).await?;
        }
        let mut config = rig.config();
        config.max_batch = batch;
        config.linger = Duration::ZERO;
        let metrics = WriterMetrics::default();
        let started = Instant::now();
        let handle = rig.writer(config)?.with_metrics(metrics.clone()).spawn();
        while metrics.items("attest", "confirmed") < records {
            ensure!(started.elapsed() < Duration::from_secs(600), "too slow");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let secs = started.elapsed().as_secs_f64();
        handle.stop().await?;

        let mut txs = BTreeSet::new();
        for w in &wallets {
            txs.insert(rig.attestation(*w).await?.tx_hash.expect("tx hash"));
        }
        let mut gas = Vec::new();
        for tx in &txs {
            gas.push(rig.provider.get_transaction_receipt(*tx).await?.expect("receipt").gas_used);
        }
        gas.sort_unstable();
        let total: u64 = gas.iter().sum();
        println!(
            "| {batch} | {records} | {} | {secs:.2} | {:.0} | {} | {:.0} |",
            txs.len(),
            records as f64 / secs,
            gas[gas.len() / 2],
            total as f64 / records as f64,
        );
    }
    Ok(())
}
