//! The load benchmark (on demand, not in CI): many distinct flows against the whole service
//! (started by honnin-service as `honnin serve` starts it: the API on a real socket, the chain
//! writer, the background jobs), a real Postgres and anvil.
//!
//! ```text
//! cargo run --release -p honnin-e2e --bin loadbench -- --flows 5000 --concurrency 32 --runs 5
//! ```
//!
//! Phases: mint the simulated cards and wallets (not timed, once); then, for each run, a fresh
//! deployment (anvil, database, the service): ask for every challenge and sign it with card and
//! wallet (not timed: that is the client's work); then **submit** every request with
//! `--concurrency` in flight, timing each `POST /v1/attestations` (submit → verified and stored,
//! answered 202); then wait until the writer has confirmed all of them on chain (submit →
//! `active`). Gas per attestation comes from the receipts of the writer's transactions. With
//! several runs, the last lines are the medians across them (the machine is noisy).

#![allow(clippy::print_stdout)]

use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::providers::Provider as _;
use anyhow::{Context as _, Result, ensure};
use clap::Parser;
use futures::{StreamExt as _, stream};
use honnin_e2e::{Client, Deployment, Options, Person};

/// Load benchmark arguments.
#[derive(Debug, Parser)]
struct Args {
    /// Distinct flows (people, each with their own certificate and wallet).
    #[arg(long, default_value_t = 5000)]
    flows: u32,
    /// Submissions in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// API instances sharing the database (each runs a writer; one holds the lease).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Database connections per instance (default: twice the CPUs: Postgres shares these cores
    /// with everything else here, and more connections than it can run only take turns).
    #[arg(long)]
    db_connections: Option<u32>,
    /// Records per `attest` transaction.
    #[arg(long, default_value_t = 200)]
    batch: u32,
    /// Runs, each on a fresh deployment with the same cards; medians are printed at the end.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let db_connections = args.db_connections.unwrap_or(2 * u32::try_from(cpus)?);
    // Logs only when asked for (RUST_LOG=honnin=info shows the writer's batches): stderr.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    println!(
        "loadbench: {} flows, concurrency {}, {} instance(s), {db_connections} database connections \
         each, {cpus} CPUs, {} run(s)",
        args.flows, args.concurrency, args.instances, args.runs,
    );
    let t = Instant::now();
    let people = Arc::new(mint(args.flows).await?);
    println!("minted {} cards in {:.1?}", people.len(), t.elapsed());

    let mut runs = Vec::new();
    for run in 1..=args.runs {
        println!("run {run}/{}", args.runs);
        let result = run_once(&args, db_connections, &people).await?;
        result.print();
        runs.push(result);
    }
    if runs.len() > 1 {
        println!("medians of {} runs:", runs.len());
        Outcome::median(&runs).print();
    }
    Ok(())
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    flows: u32,
    /// Submit → stored (every 202 answered).
    stored: Duration,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
    /// Machine CPU per attestation while submitting, in ms, and the busy fraction.
    cpu_ms: f64,
    busy: f64,
    cpus: usize,
    /// Submit → every attestation `active`.
    active: Duration,
    gas_per_attestation: f64,
    transactions: usize,
    blocks: usize,
}

impl Outcome {
    fn print(&self) {
        let flows = f64::from(self.flows);
        println!(
            "  submit → stored (202): {:.0} attestations/s ({} in {:.2?})",
            flows / self.stored.as_secs_f64(),
            self.flows,
            self.stored
        );
        println!(
            "  submit latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.p50, self.p95, self.p99, self.max
        );
        println!(
            "  machine CPU while submitting: {:.2} ms per attestation ({:.0}% of {} CPUs busy; \
             every process: client, API, Postgres, writer, anvil)",
            self.cpu_ms,
            self.busy * 100.0,
            self.cpus,
        );
        println!(
            "  submit → active (on chain): {:.0} attestations/s (all active after {:.2?})",
            flows / self.active.as_secs_f64(),
            self.active
        );
        println!(
            "  gas: {:.0} per attestation ({} attest transactions in {} blocks)",
            self.gas_per_attestation, self.transactions, self.blocks
        );
    }

    /// Each figure's median across `runs` (not one run's figures).
    fn median(runs: &[Self]) -> Self {
        fn mid<T: Copy + PartialOrd>(mut values: Vec<T>) -> T {
            values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            values[values.len() / 2]
        }
        Self {
            flows: runs[0].flows,
            stored: mid(runs.iter().map(|r| r.stored).collect()),
            p50: mid(runs.iter().map(|r| r.p50).collect()),
            p95: mid(runs.iter().map(|r| r.p95).collect()),
            p99: mid(runs.iter().map(|r| r.p99).collect()),
            max: mid(runs.iter().map(|r| r.max).collect()),
            cpu_ms: mid(runs.iter().map(|r| r.cpu_ms).collect()),
            busy: mid(runs.iter().map(|r| r.busy).collect()),
            cpus: runs[0].cpus,
            active: mid(runs.iter().map(|r| r.active).collect()),
            gas_per_attestation: mid(runs.iter().map(|r| r.gas_per_attestation).collect()),
            transactions: mid(runs.iter().map(|r| r.transactions).collect()),
            blocks: mid(runs.iter().map(|r| r.blocks).collect()),
        }
    }
}

/// One run on a fresh deployment.
async fn run_once(args: &Args, db_connections: u32, people: &Arc<Vec<Person>>) -> Result<Outcome> {
    let d = Deployment::start(Options {
        instances: args.instances,
        db_max_connections: Some(db_connections),
        max_batch: Some(args.batch),
        ..Options::default()
    })
    .await?;

    let clients: Vec<Client> = d.instances.iter().map(|i| i.client()).collect();
    let t = Instant::now();
    let requests: Vec<_> = stream::iter(0..people.len())
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            let people = people.clone();
            async move {
                let challenge = client.challenge(people[i].address()).await?;
                tokio::task::spawn_blocking(move || people[i].request(&challenge))
                    .await
                    .context("signing")
            }
        })
        .buffered(args.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    println!("  challenges issued and signed in {:.1?} (not timed)", t.elapsed());

    let cpu = MachineCpu::now()?;
    let start = Instant::now();
    let mut latencies: Vec<Duration> = stream::iter(requests.iter().enumerate())
        .map(|(i, request)| {
            let client = clients[i % clients.len()].clone();
            async move {
                let sent = Instant::now();
                client.attest(request).await.map(|_| sent.elapsed())
            }
        })
        .buffer_unordered(args.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let stored = start.elapsed();
    let cpu = MachineCpu::now()?.since(&cpu);
    println!("  submitted in {stored:.2?}; waiting until the writer has confirmed all on chain");

    let pool = d.pool().await?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (active,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM attestations WHERE status = 'active'")
                .fetch_one(&pool)
                .await?;
        if active == i64::from(args.flows) {
            break;
        }
        ensure!(Instant::now() < deadline, "only {active} active after 10 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let active = start.elapsed();

    let hashes: Vec<(Vec<u8>,)> =
        sqlx::query_as("SELECT DISTINCT tx_hash FROM attestations").fetch_all(&pool).await?;
    let mut gas = 0u64;
    let mut blocks = BTreeSet::new();
    for (hash,) in &hashes {
        let hash = alloy::primitives::B256::try_from(hash.as_slice())?;
        let receipt = d
            .chain
            .provider
            .get_transaction_receipt(hash)
            .await?
            .context("receipt of a writer transaction")?;
        gas += receipt.gas_used;
        blocks.insert(receipt.block_number);
    }
    pool.close().await;

    latencies.sort();
    let pct = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    let flows = f64::from(args.flows);
    Ok(Outcome {
        flows: args.flows,
        stored,
        p50: pct(0.50),
        p95: pct(0.95),
        p99: pct(0.99),
        max: pct(1.0),
        cpu_ms: cpu.busy.as_secs_f64() * 1000.0 / flows,
        busy: cpu.busy_fraction(),
        cpus: cpu.cpus,
        active,
        gas_per_attestation: gas as f64 / flows,
        transactions: hashes.len(),
        blocks: blocks.len(),
    })
}

/// Mints `flows` people on every core.
async fn mint(flows: u32) -> Result<Vec<Person>> {
    let threads = u32::try_from(std::thread::available_parallelism().map_or(2, |n| n.get()))?;
    tokio::task::spawn_blocking(move || {
        std::thread::scope(|scope| {
            let parts: Vec<_> = (0..threads)
                .map(|part| {
                    scope.spawn(move || {
                        (0..flows)
                            .filter(|n| n % threads == part)
                            .map(|n| (n, Person::new("loadbench", n)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all: Vec<_> =
                parts.into_iter().flat_map(|p| p.join().expect("minting")).collect();
            all.sort_by_key(|(n, _)| *n);
            all.into_iter().map(|(_, p)| p).collect()
        })
    })
    .await
    .context("minting")
}

/// Busy and total CPU time of the whole machine, from `/proc/stat` (Linux).
struct MachineCpu {
    busy: Duration,
    total: Duration,
    cpus: usize,
}

impl MachineCpu {
    fn now() -> Result<Self> {
        let stat = std::fs::read_to_string("/proc/stat").context("read /proc/stat")?;
        let line = stat.lines().next().context("empty /proc/stat")?;
        let ticks: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(str::parse)
            .collect::<Result<_, _>>()
            .context("parse /proc/stat")?;
        ensure!(ticks.len() >= 5, "short /proc/stat cpu line");
        // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
        let total: u64 = ticks.iter().take(8).sum();
        let idle = ticks[3] + ticks[4];
        // USER_HZ is 100 on every Linux this runs on.
        let tick = Duration::from_millis(10);
        Ok(Self {
            busy: tick * u32::try_from(total - idle)?,
            total: tick * u32::try_from(total)?,
            cpus: stat.lines().filter(|l| l.starts_with("cpu") && !l.starts_with("cpu ")).count(),
        })
    }

    fn since(&self, earlier: &Self) -> Self {
        Self {
            busy: self.busy.saturating_sub(earlier.busy),
            total: self.total.saturating_sub(earlier.total),
            cpus: self.cpus,
        }
    }

    fn busy_fraction(&self) -> f64 {
        if self.total.is_zero() { 0.0 } else { self.busy.as_secs_f64() / self.total.as_secs_f64() }
    }
}
