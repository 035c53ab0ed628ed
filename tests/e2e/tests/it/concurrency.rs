//! Concurrency over real sockets: one challenge raced by 200 cards; 1,000 distinct flows through
//! two service instances sharing one Postgres, with one chain writer holding the lease.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use futures::future::join_all;
use honnin_e2e::{Deployment, Options, Person, root};

use crate::support::CONFIRM;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_cards_race_for_one_challenge() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let wallet_owner = Person::new("race", 0);
    let owner = wallet_owner.address();
    let challenge = client.challenge(owner).await?;
    let requests = tokio::task::spawn_blocking(move || {
        (1..=200)
            .map(|n| {
                let mut person = Person::new("race", n);
                person.wallet = wallet_owner.wallet.clone();
                person.request(&challenge)
            })
            .collect::<Vec<_>>()
    })
    .await?;
    let replies = join_all(requests.iter().map(|r| client.submit(r))).await;
    let replies = replies.into_iter().collect::<Result<Vec<_>>>()?;
    let winners: Vec<_> = replies.iter().filter(|r| r.status == 202).collect();
    assert_eq!(winners.len(), 1, "exactly one submission wins");
    for reply in replies.iter().filter(|r| r.status != 202) {
        reply.assert_problem(409, "challenge_used");
    }
    let view = client.wait_for(owner, "active", CONFIRM).await?;
    assert_eq!(view.attestation_id, winners[0].body["attestation_id"]);
    assert!(d.chain.is_verified(owner).await?);
    let pool = d.pool().await?;
    let (rows,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM attestations").fetch_one(&pool).await?;
    assert_eq!(rows, 1, "one attestation row");
    Ok(())
}

/// 1,000 people, each with their own certificate and wallet, at once; each asks one instance for
/// the challenge and submits to the other. Every attestation must end up active, on chain, for
/// its own wallet, bound to its own certificate: checked in the rows, in both instances'
/// answers and on chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_flows_through_two_instances() -> Result<()> {
    const FLOWS: u32 = 1_000;
    let d = Deployment::start(Options { instances: 2, ..Options::default() }).await?;
    let started = Instant::now();
    let people = tokio::task::spawn_blocking(|| {
        std::thread::scope(|scope| {
            let halves: Vec<_> = (0..2u32)
                .map(|half| {
                    scope.spawn(move || {
                        (0..FLOWS)
                            .filter(|n| n % 2 == half)
                            .map(|n| (n, Person::new("thousand", n)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all: Vec<_> =
                halves.into_iter().flat_map(|h| h.join().expect("minting cards")).collect();
            all.sort_by_key(|(n, _)| *n);
            all.into_iter().map(|(_, p)| p).collect::<Vec<_>>()
        })
    })
    .await?;
    let minted = started.elapsed();

    let clients = [d.instances[0].client(), d.instances[1].client()];
    let flows = people.iter().enumerate().map(|(i, person)| {
        let asks = clients[i % 2].clone();
        let submits = clients[(i + 1) % 2].clone();
        let person = person.clone();
        tokio::spawn(async move {
            let challenge = asks.challenge(person.address()).await?;
            let request = tokio::task::spawn_blocking(move || person.request(&challenge)).await?;
            submits.attest(&request).await
        })
    });
    let accepted = join_all(flows).await;
    let submitted = started.elapsed();
    let mut ids = BTreeSet::new();
    let mut by_wallet = BTreeMap::new();
    for (person, result) in people.iter().zip(accepted) {
        let accepted = result?.context("a flow failed")?;
        assert_eq!(accepted.wallet, person.address().to_checksum(None), "crossed wallet");
        assert!(ids.insert(accepted.attestation_id.clone()), "duplicate attestation id");
        by_wallet.insert(person.address(), accepted.attestation_id);
    }
    assert_eq!(ids.len(), FLOWS as usize, "none lost");

    // Wait for the writer to confirm all of them.
    let pool = d.pool().await?;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (active,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM attestations WHERE status = 'active'")
                .fetch_one(&pool)
                .await?;
        if active == i64::from(FLOWS) {
            break;
        }
        ensure!(Instant::now() < deadline, "only {active} of {FLOWS} active after 5 minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let confirmed = started.elapsed();
    let leaders = d.instances.iter().filter(|i| i.writer_metrics.is_leader()).count();
    assert_eq!(leaders, 1, "exactly one chain writer holds the lease");

    // The rows: one per flow, each bound to its own wallet and its own certificate.
    let rows: Vec<(Vec<u8>, Vec<u8>, String)> = sqlx::query_as(
        "SELECT a.wallet, c.cert_hash, a.status FROM attestations a \
         JOIN certificates c ON c.id = a.certificate_id",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(rows.len(), FLOWS as usize);
    let expected: BTreeMap<Vec<u8>, Vec<u8>> = people
        .iter()
        .map(|p| {
            let hash = d.pepper.cert_hash(root().key_id(), p.card.serial());
            (p.address().to_vec(), hash.as_bytes().to_vec())
        })
        .collect();
    for (wallet, cert_hash, status) in &rows {
        assert_eq!(status, "active");
        assert_eq!(expected.get(wallet), Some(cert_hash), "a wallet bound to another certificate");
    }
    let (persons,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM persons").fetch_one(&pool).await?;
    assert_eq!(persons, i64::from(FLOWS), "one person per certificate");

    // Both instances' answers, and the chain.
    for (i, person) in people.iter().enumerate() {
        let wallet = person.address();
        let view = clients[i % 2].view(wallet).await?;
        let other = clients[(i + 1) % 2].view(wallet).await?;
        assert_eq!(view, other, "the instances agree");
        assert_eq!(Some(&view.attestation_id), by_wallet.get(&wallet));
        assert_eq!(view.status.as_str(), "active");
        assert!(view.tx_hash.is_some() && view.block_number.is_some());
        assert!(d.chain.is_verified(wallet).await?, "{wallet} verified on chain");
    }
    eprintln!(
        "1,000 flows: cards minted in {minted:?}, all submitted at {submitted:?}, all active at {confirmed:?}"
    );
    Ok(())
}
