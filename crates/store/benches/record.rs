//! Store throughput: recording attestations (the attestation transaction: person lock, policy,
//! attestation and outbox rows) and consuming challenges, 64 at a time, on Postgres and SQLite.
//!
//! Run: `cargo bench -p honnin-store --all-features --bench record`. Postgres is a throwaway
//! cluster (or the server `HONNIN_TEST_DATABASE_URL` names), SQLite a temp file. Each iteration
//! is one batch of 64 concurrent operations; Criterion reports time per batch and elements/s.

// A benchmark's setup failing is a bug to see, not to handle.
#![allow(clippy::unwrap_used)]

use std::{num::NonZeroU32, sync::Arc, time::Duration as StdDuration};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use honnin_core::{
    Address, AtLimit, ChallengeId, ChallengeSettings, NewAttestation, Pepper, Policy, Purpose,
    ServiceDomain, Store, VerifiedRequest, WalletProof,
};
use honnin_store::{StoreOptions, migrate, test_utils};
use time::Duration;

const BATCH: usize = 64;

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    b
}

fn settings() -> ChallengeSettings {
    ChallengeSettings::new(ServiceDomain::new("bench.honnin").unwrap(), 1, Address::ZERO)
}

async fn prepared(store: &dyn Store, pepper: &Pepper, policy: &Policy) -> Vec<NewAttestation> {
    let mut out = Vec::with_capacity(BATCH);
    for _ in 0..BATCH {
        let wallet = Address::from(random::<20>());
        let challenge = settings().issue(Purpose::Attest, wallet, None, honnin_core::time::now());
        store.insert_challenge(&challenge).await.unwrap();
        store
            .consume_challenge(&challenge.id, Purpose::Attest, honnin_core::time::now())
            .await
            .unwrap();
        let serial = random::<16>();
        let request = VerifiedRequest {
            challenge_id: challenge.id,
            request_digest: pepper.request_digest(&challenge.id, &serial, b"card", b"wallet"),
            wallet,
            wallet_proof: WalletProof::Eoa,
            scope: None,
            person: pepper.pseudonym(b"root", &serial),
            cert: pepper.cert_hash(b"root", &serial),
            cert_not_after: honnin_core::time::now() + Duration::days(1000),
            sealed: pepper.seal_cert(b"root", &serial),
        };
        out.push(NewAttestation::new(request, policy, honnin_core::time::now()));
    }
    out
}

fn bench_store(c: &mut Criterion, name: &str, rt: &tokio::runtime::Runtime, store: Arc<dyn Store>) {
    let pepper = Pepper::from_bytes(vec![1; 32]).unwrap();
    let policy = Policy::new(NonZeroU32::MIN, AtLimit::Refuse, Duration::days(365)).unwrap();
    let mut group = c.benchmark_group(format!("store/{name}"));
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20).measurement_time(StdDuration::from_secs(10));

    group.bench_function("record_attestation x64", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = StdDuration::ZERO;
                for _ in 0..iters {
                    let batch = prepared(&*store, &pepper, &policy).await;
                    let start = std::time::Instant::now();
                    let tasks: Vec<_> = batch
                        .into_iter()
                        .map(|new| {
                            let store = Arc::clone(&store);
                            tokio::spawn(async move {
                                store
                                    .record_attestation(&new, &policy, honnin_core::time::now())
                                    .await
                                    .unwrap()
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                    total += start.elapsed();
                }
                total
            })
        })
    });

    group.bench_function("consume_challenge x64", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = StdDuration::ZERO;
                for _ in 0..iters {
                    let mut ids: Vec<ChallengeId> = Vec::with_capacity(BATCH);
                    for _ in 0..BATCH {
                        let c = settings().issue(
                            Purpose::Attest,
                            Address::ZERO,
                            None,
                            honnin_core::time::now(),
                        );
                        store.insert_challenge(&c).await.unwrap();
                        ids.push(c.id);
                    }
                    let start = std::time::Instant::now();
                    let tasks: Vec<_> = ids
                        .into_iter()
                        .map(|id| {
                            let store = Arc::clone(&store);
                            tokio::spawn(async move {
                                store
                                    .consume_challenge(
                                        &id,
                                        Purpose::Attest,
                                        honnin_core::time::now(),
                                    )
                                    .await
                                    .unwrap()
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                    total += start.elapsed();
                }
                total
            })
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let server = test_utils::test_server().unwrap();
    let pg_url = server.create_database().unwrap();
    let mut options = StoreOptions::default();
    options.postgres.max_connections = 32;
    let pg = rt.block_on(migrate(&pg_url, &options)).unwrap();
    bench_store(c, "postgres", &rt, pg);

    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sqlite = rt.block_on(migrate(&sqlite_url, &options)).unwrap();
    bench_store(c, "sqlite", &rt, sqlite);
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
