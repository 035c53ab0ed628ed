//! The revocation sync against real stores: CRL revocation, renewal with and without a link,
//! OCSP re-check, failures that do not stop the cycle.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use honnin_core::{AttestationStatus, AuditEventKind, RevocationReason, ScopeName, StoreError};
use honnin_jpki::{
    CrlOrigin, RevocationReason as CardReason, RevocationStatus,
    test_utils::{FakeAnswer, FakeRevocation, SimRoot},
};
use honnin_lifecycle::{LinkFeed, LinkOrigin, Progress, RevocationSync};

use crate::harness::{TestDb, both_backends, now, policy, random_serial, random_wallet};

both_backends!(
    a_crl_entry_revokes_the_attestation_and_queues_its_revoke,
    superseded_with_a_link_the_attestation_follows_the_new_certificate,
    superseded_without_a_link_the_attestation_is_revoked,
    an_ocsp_recheck_that_says_revoked_revokes,
    failures_are_reported_and_the_cycle_goes_on,
    a_crl_entry_revokes_the_records_of_every_scope,
    a_renewal_link_carries_every_scope_over,
);

fn sync(db: &TestDb) -> RevocationSync {
    RevocationSync::new(db.store.clone(), db.pepper.clone(), db.anchors.clone(), db.audit.clone())
}

fn file(path: &std::path::Path) -> CrlOrigin {
    CrlOrigin::File(path.to_owned())
}

async fn a_crl_entry_revokes_the_attestation_and_queues_its_revoke(db: &TestDb) {
    let card = db.card().await;
    let (revoked_wallet, kept_wallet) = (random_wallet(), random_wallet());
    let revoked = db.attest_active(card.serial(), revoked_wallet).await;
    let kept_serial = random_serial();
    let kept = db.attest_active(&kept_serial, kept_wallet).await;
    // Entries for certificates never seen here are ignored (counted as unknown).
    let mut entries = vec![(card.serial().to_vec(), CardReason::KeyCompromise)];
    entries.extend((0..2_500).map(|_| (random_serial(), CardReason::CessationOfOperation)));
    let crl = db.crl_file("auth.crl", entries).await;

    let woken = Arc::new(AtomicUsize::new(0));
    let counter = woken.clone();
    let sync = sync(db).with_crls(vec![file(&crl)]).with_batch_size(1_000).on_queued(Arc::new(
        move || {
            counter.fetch_add(1, Ordering::SeqCst);
        },
    ));
    let mut progress = Vec::new();
    let report = sync.cycle(true, &mut |p| progress.push(p)).await.unwrap();

    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.crls.len(), 1);
    let crl_report = &report.crls[0];
    assert_eq!(crl_report.entries, 2_501);
    assert_eq!(crl_report.known, 1);
    assert_eq!(crl_report.newly_revoked, 1);
    assert_eq!(report.attestations_revoked(), 1);
    assert!(woken.load(Ordering::SeqCst) >= 1, "the chain writer was woken");
    // Progress: the CRL, then three batches.
    assert!(matches!(&progress[0], Progress::CrlFetched { entries: 2_501, stale: false, .. }));
    let batches: Vec<_> = progress
        .iter()
        .filter_map(|p| match p {
            Progress::CrlBatch { done, total, .. } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(batches, vec![(1_000, 2_501), (2_000, 2_501), (2_501, 2_501)]);

    assert_eq!(db.status(revoked).await, AttestationStatus::Revoked);
    assert_eq!(db.status(kept).await, AttestationStatus::Active);
    let attestation = db.store.attestation(&revoked).await.unwrap().unwrap();
    assert_eq!(attestation.revocation_reason, Some(RevocationReason::CertificateRevoked));
    assert_eq!(db.queued_revokes(revoked_wallet).await, vec![RevocationReason::CertificateRevoked]);
    assert!(db.queued_revokes(kept_wallet).await.is_empty());

    // Audited, with nothing but the kind, the reason code and the attestation.
    let rows = db.audit_rows().await;
    let revocations: Vec<_> =
        rows.iter().filter(|r| r.event.kind == AuditEventKind::AttestationRevoked).collect();
    assert_eq!(revocations.len(), 1);
    assert_eq!(revocations[0].event.attestation_id, Some(revoked));
    assert_eq!(revocations[0].event.code.as_deref(), Some("certificate_revoked"));
    assert!(revocations[0].event.context.client.is_none());

    // A second cycle finds nothing new: the revoke is queued once.
    let again = sync.cycle(true, &mut |_| {}).await.unwrap();
    assert_eq!(again.attestations_revoked(), 0);
    assert_eq!(again.crls[0].known, 1);
    assert_eq!(again.crls[0].newly_revoked, 0);
    assert!(db.queued_revokes(revoked_wallet).await.is_empty(), "no second revoke");
    // The card can no longer attest.
    let refused = db.attest_at(card.serial(), random_wallet(), &policy(), now()).await;
    assert!(matches!(refused, Err(StoreError::CertificateRevoked)), "{refused:?}");
}

/// Registers the scopes `dapp-a` and `dapp-b`; their names.
async fn two_scopes(db: &TestDb) -> [ScopeName; 2] {
    let scopes = [ScopeName::new("dapp-a").unwrap(), ScopeName::new("dapp-b").unwrap()];
    for scope in &scopes {
        db.store.register_scope(scope, now()).await.unwrap();
    }
    scopes
}

async fn a_crl_entry_revokes_the_records_of_every_scope(db: &TestDb) {
    let [a, b] = two_scopes(db).await;
    let card = db.card().await;
    let (wallet_a, wallet_b, wallet) = (random_wallet(), random_wallet(), random_wallet());
    let ids = [
        db.attest_active_in(Some(&a), card.serial(), wallet_a).await,
        db.attest_active_in(Some(&b), card.serial(), wallet_b).await,
        db.attest_active(card.serial(), wallet).await,
    ];
    // Another person in dapp-a keeps their record.
    let other = db.attest_active_in(Some(&a), &random_serial(), random_wallet()).await;
    let crl =
        db.crl_file("auth.crl", vec![(card.serial().to_vec(), CardReason::KeyCompromise)]).await;

    let report = sync(db).with_crls(vec![file(&crl)]).cycle(true, &mut |_| {}).await.unwrap();
    assert!(report.is_success(), "{report:?}");
    // One CRL entry, known under three hashes (global, dapp-a, dapp-b): three records revoked.
    assert_eq!(report.crls[0].known, 3);
    assert_eq!(report.attestations_revoked(), 3);
    for id in ids {
        assert_eq!(db.status(id).await, AttestationStatus::Revoked);
    }
    assert_eq!(db.status(other).await, AttestationStatus::Active);
    // Each revoke goes to the chain for its own scope (claimed once, all together).
    let mut queued = db.queued_scoped_revokes().await;
    queued.sort_by_key(|(wallet, ..)| *wallet);
    let reason = RevocationReason::CertificateRevoked;
    let mut expected = vec![
        (wallet_a, Some(a.id()), reason),
        (wallet_b, Some(b.id()), reason),
        (wallet, None, reason),
    ];
    expected.sort_by_key(|(wallet, ..)| *wallet);
    assert_eq!(queued, expected);
    // The card can attest in no scope any more.
    let refused = db.attest_in(Some(&b), card.serial(), random_wallet(), &policy(), now()).await;
    assert!(matches!(refused, Err(StoreError::CertificateRevoked)), "{refused:?}");
}

async fn a_renewal_link_carries_every_scope_over(db: &TestDb) {
    let [a, _] = two_scopes(db).await;
    let (old, new) = (db.card().await, db.card().await);
    let wallet = random_wallet();
    let id = db.attest_active_in(Some(&a), old.serial(), wallet).await;
    let links = db.links_file(&[(old.serial(), new.serial())]);
    let crl = db.crl_file("auth.crl", vec![(old.serial().to_vec(), CardReason::Superseded)]).await;

    let sync = sync(db)
        .with_crls(vec![file(&crl)])
        .with_links(LinkFeed::new(LinkOrigin::parse(links.to_str().unwrap()).unwrap()));
    let report = sync.cycle(true, &mut |_| {}).await.unwrap();
    assert!(report.is_success(), "{report:?}");
    // The feed's one line is a link globally and in each of the two scopes; only dapp-a
    // knows the old certificate.
    let outcome = &report.links.as_ref().unwrap().outcome;
    assert_eq!(
        (report.links.as_ref().unwrap().read, outcome.linked, outcome.unknown_old),
        (3, 1, 2)
    );
    assert_eq!(report.attestations_moved(), 1);
    assert_eq!(db.status(id).await, AttestationStatus::Active);
    assert!(db.queued_scoped_revokes().await.is_empty());
    // In dapp-a the renewed card is the same person (one wallet: another is refused); globally
    // and in dapp-b it is nobody yet.
    let again = db.attest_in(Some(&a), new.serial(), random_wallet(), &policy(), now()).await;
    assert!(matches!(again, Err(StoreError::WalletLimitReached { limit: 1 })), "{again:?}");
    db.attest_in(None, new.serial(), random_wallet(), &policy(), now()).await.unwrap();
}

async fn superseded_with_a_link_the_attestation_follows_the_new_certificate(db: &TestDb) {
    let old = db.card().await;
    let new = db.card().await;
    let wallet = random_wallet();
    let id = db.attest_active(old.serial(), wallet).await;
    let links = db.links_file(&[(old.serial(), new.serial())]);
    let crl = db.crl_file("auth.crl", vec![(old.serial().to_vec(), CardReason::Superseded)]).await;

    let sync = sync(db)
        .with_crls(vec![file(&crl)])
        .with_links(LinkFeed::new(LinkOrigin::parse(links.to_str().unwrap()).unwrap()));
    let report = sync.cycle(true, &mut |_| {}).await.unwrap();
    assert!(report.is_success(), "{report:?}");
    let links_report = report.links.as_ref().unwrap();
    assert_eq!((links_report.read, links_report.outcome.linked), (1, 1));
    assert_eq!(report.attestations_revoked(), 0);
    assert_eq!(report.attestations_moved(), 1);

    // The attestation survives, nothing goes to the chain.
    assert_eq!(db.status(id).await, AttestationStatus::Active);
    assert!(db.queued_revokes(wallet).await.is_empty());
    // The new certificate is the same person: under a one-wallet policy another wallet is
    // refused (the person already holds one), and the old certificate is refused outright.
    let again = db.attest_at(new.serial(), random_wallet(), &policy(), now()).await;
    assert!(matches!(again, Err(StoreError::WalletLimitReached { limit: 1 })), "{again:?}");
    let old_again = db.attest_at(old.serial(), random_wallet(), &policy(), now()).await;
    assert!(matches!(old_again, Err(StoreError::CertificateRevoked)), "{old_again:?}");

    let kinds: Vec<_> =
        db.audit_rows().await.iter().map(|r| (r.event.kind, r.event.code.clone())).collect();
    assert!(kinds.contains(&(AuditEventKind::RenewalLinked, Some("renewal_linked".into()))));
    assert!(kinds.contains(&(AuditEventKind::RenewalLinked, Some("attestation_moved".into()))));
    assert!(!kinds.iter().any(|(k, _)| *k == AuditEventKind::AttestationRevoked));

    // Re-reading the same feed records nothing new.
    let again = sync.cycle(true, &mut |_| {}).await.unwrap();
    assert_eq!(again.links.unwrap().outcome.linked, 0);
}

async fn superseded_without_a_link_the_attestation_is_revoked(db: &TestDb) {
    let old = db.card().await;
    let wallet = random_wallet();
    let id = db.attest_active(old.serial(), wallet).await;
    let crl = db.crl_file("auth.crl", vec![(old.serial().to_vec(), CardReason::Superseded)]).await;

    let report = sync(db).with_crls(vec![file(&crl)]).cycle(true, &mut |_| {}).await.unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.attestations_revoked(), 1);
    assert_eq!(report.attestations_moved(), 0);
    assert_eq!(db.status(id).await, AttestationStatus::Revoked);
    assert_eq!(db.queued_revokes(wallet).await, vec![RevocationReason::Superseded]);
    let rows = db.audit_rows().await;
    assert!(rows.iter().any(|r| r.event.kind == AuditEventKind::AttestationRevoked
        && r.event.code.as_deref() == Some("superseded")
        && r.event.attestation_id == Some(id)));
}

async fn an_ocsp_recheck_that_says_revoked_revokes(db: &TestDb) {
    let (good, revoked) = (db.card().await, db.card().await);
    let (good_wallet, revoked_wallet) = (random_wallet(), random_wallet());
    let good_id = db.attest_active(good.serial(), good_wallet).await;
    let revoked_id = db.attest_active(revoked.serial(), revoked_wallet).await;
    let source = Arc::new(FakeRevocation::new(FakeAnswer::Status(RevocationStatus::Good)));
    source.set(
        revoked.serial(),
        FakeAnswer::Status(RevocationStatus::Revoked {
            reason: CardReason::KeyCompromise,
            time: now() - time::Duration::hours(2),
        }),
    );

    // Pages of one certificate: the cursor walks every live certificate.
    let sync = sync(db).with_recheck(source.clone()).with_recheck_paging(1, 4);
    let mut pages = 0;
    let report = sync
        .cycle(true, &mut |p| {
            if matches!(p, Progress::RecheckPage { .. }) {
                pages += 1;
            }
        })
        .await
        .unwrap();
    assert!(report.is_success(), "{report:?}");
    let recheck = report.recheck.as_ref().unwrap();
    assert_eq!((recheck.checked, recheck.good, recheck.revoked), (2, 1, 1));
    assert_eq!(recheck.attestations_revoked, 1);
    assert_eq!(source.calls(), 2, "each live certificate asked once");
    assert!(pages >= 2);
    assert_eq!(db.status(revoked_id).await, AttestationStatus::Revoked);
    assert_eq!(db.status(good_id).await, AttestationStatus::Active);
    assert_eq!(db.queued_revokes(revoked_wallet).await, vec![RevocationReason::CertificateRevoked]);

    // The next re-check asks only about the certificate still live; `recheck = false` skips it.
    let again = sync.cycle(true, &mut |_| {}).await.unwrap();
    assert_eq!(again.recheck.unwrap().checked, 1);
    let skipped = sync.cycle(false, &mut |_| {}).await.unwrap();
    assert!(skipped.recheck.is_none());
    // A source that cannot answer is a failed cycle, and nothing is revoked.
    let down = Arc::new(FakeRevocation::new(FakeAnswer::Unreachable));
    let failed = self::sync(db).with_recheck(down).cycle(true, &mut |_| {}).await.unwrap();
    assert!(!failed.is_success());
    assert_eq!(failed.recheck.unwrap().errors, 1);
    assert_eq!(db.status(good_id).await, AttestationStatus::Active);
}

async fn failures_are_reported_and_the_cycle_goes_on(db: &TestDb) {
    let (plain, renewed, stranger) = (db.card().await, db.card().await, db.card().await);
    let (plain_wallet, renewed_wallet) = (random_wallet(), random_wallet());
    let plain_id = db.attest_active(plain.serial(), plain_wallet).await;
    let renewed_id = db.attest_active(renewed.serial(), renewed_wallet).await;
    let good_crl = db
        .crl_file(
            "auth.crl",
            vec![
                (plain.serial().to_vec(), CardReason::KeyCompromise),
                (renewed.serial().to_vec(), CardReason::Superseded),
            ],
        )
        .await;
    // A CRL signed by a root nobody trusts, and a CRL file that does not exist.
    let other_root = tokio::task::spawn_blocking(|| SimRoot::new(2)).await.unwrap();
    let untrusted = db.dir.path().join("untrusted.crl");
    let stranger_serial = stranger.serial().to_vec();
    let der = tokio::task::spawn_blocking(move || {
        other_root.crl(&honnin_jpki::test_utils::CrlSpec {
            entries: vec![honnin_jpki::test_utils::CrlEntry {
                serial: stranger_serial,
                reason: Some(CardReason::KeyCompromise),
                time: now(),
            }],
            ..Default::default()
        })
    })
    .await
    .unwrap();
    std::fs::write(&untrusted, der).unwrap();
    let missing = db.dir.path().join("missing.crl");
    // The link feed is unreadable: superseded entries wait for the next cycle.
    let missing_links = db.dir.path().join("missing-links.jsonl");

    let sync = sync(db)
        .with_crls(vec![file(&untrusted), file(&missing), file(&good_crl)])
        .with_links(LinkFeed::new(LinkOrigin::File(missing_links.clone())));
    let mut failed_stages = Vec::new();
    let report = sync
        .cycle(true, &mut |p| {
            if let Progress::Failed { stage, .. } = p {
                failed_stages.push(stage);
            }
        })
        .await
        .unwrap();
    assert!(!report.is_success());
    assert_eq!(failed_stages, vec!["links", "crl", "crl"]);
    assert_eq!(report.failures.len(), 3);
    assert!(report.failures[1].contains("untrusted.crl"), "{:?}", report.failures);
    assert!(report.failures[2].contains("missing.crl"), "{:?}", report.failures);
    // The good CRL was applied, except its superseded entry.
    assert_eq!(report.crls.len(), 1);
    assert_eq!(report.crls[0].deferred, 1);
    assert_eq!(db.status(plain_id).await, AttestationStatus::Revoked);
    assert_eq!(db.status(renewed_id).await, AttestationStatus::Active);

    // The feed comes back (without a link for it): the next cycle revokes it.
    std::fs::write(&missing_links, "").unwrap();
    let sync = self::sync(db)
        .with_crls(vec![file(&good_crl)])
        .with_links(LinkFeed::new(LinkOrigin::File(missing_links)));
    let report = sync.cycle(true, &mut |_| {}).await.unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.attestations_revoked(), 1);
    assert_eq!(db.status(renewed_id).await, AttestationStatus::Revoked);
}

both_backends!(the_loop_revokes_within_an_interval_and_stops_on_request);

async fn the_loop_revokes_within_an_interval_and_stops_on_request(db: &TestDb) {
    let card = db.card().await;
    let wallet = random_wallet();
    let id = db.attest_active(card.serial(), wallet).await;
    let crl =
        db.crl_file("auth.crl", vec![(card.serial().to_vec(), CardReason::KeyCompromise)]).await;
    let metrics = honnin_lifecycle::LifecycleMetrics::default();
    let sync = sync(db).with_crls(vec![file(&crl)]).with_metrics(metrics.clone());
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    // Spawned like `honnin serve` does (the loop must be `Send`).
    let task = tokio::spawn(sync.run(
        std::time::Duration::from_millis(200),
        std::time::Duration::from_secs(3600),
        stop_rx,
    ));
    let started = std::time::Instant::now();
    while db.status(id).await != AttestationStatus::Revoked {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "not revoked in time");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), task).await.unwrap().unwrap();

    // The metrics saw it: one revoked attestation, a lag of about the CRL's age (an hour).
    let mut registry = prometheus_client::registry::Registry::default();
    for (name, help, metric) in metrics.metrics() {
        registry.register(name, help, metric);
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("honnin_revocation_attestations_revoked_total{source=\"crl\"} 1"),
        "{text}"
    );
    assert!(text.contains("honnin_revocation_crl_entries_total"), "{text}");
    let lag: f64 = text
        .lines()
        .find(|l| l.starts_with("honnin_revocation_lag_seconds "))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert!((3_500.0..3_700.0).contains(&lag), "{lag}");
    assert!(!text.contains("honnin_revocation_last_success_timestamp_seconds 0\n"), "{text}");

    // Asked to stop before it starts: nothing is applied, the report says so.
    let (_stop, stopped) = tokio::sync::watch::channel(true);
    let report = self::sync(db)
        .with_crls(vec![file(&crl)])
        .cycle_until(true, &mut |_| {}, Some(&stopped))
        .await
        .unwrap();
    assert!(report.interrupted && !report.is_success(), "{report:?}");
    assert!(report.crls.is_empty());
}

both_backends!(verified_crls_reach_the_api_source_and_links_come_over_http,);

/// Serves `body` to every GET on a loopback port; returns the URL.
async fn serve_once_per_request(body: String) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/links.jsonl", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

async fn verified_crls_reach_the_api_source_and_links_come_over_http(db: &TestDb) {
    let (old, new) = (db.card().await, db.card().await);
    let wallet = random_wallet();
    let id = db.attest_active(old.serial(), wallet).await;
    // The API's source holds yesterday's CRL, which does not list the card yet.
    let before = db.crl_file("before.crl", vec![]).await;
    let api_source = Arc::new(honnin_jpki::CrlSource::from_crls(
        db.anchors.clone(),
        [CrlOrigin::File(before).fetch(&db.anchors).await.unwrap()],
    ));
    let cert = db.root.cert_ref(old.serial());
    use honnin_jpki::RevocationSource as _;
    assert_eq!(api_source.status(&cert, now()).await.unwrap(), RevocationStatus::Good);

    let feed = format!(
        "{{\"issuer_key_id\": \"{}\", \"old_serial\": \"{}\", \"new_serial\": \"{}\"}}\n",
        hex::encode(db.root.key_id()),
        hex::encode(old.serial()),
        hex::encode(new.serial()),
    );
    let url = serve_once_per_request(feed).await;
    let crl = db.crl_file("auth.crl", vec![(old.serial().to_vec(), CardReason::Superseded)]).await;
    let report = sync(db)
        .with_crls(vec![file(&crl)])
        .with_links(LinkFeed::new(LinkOrigin::parse(&url).unwrap()))
        .offer_crls_to(api_source.clone())
        .cycle(true, &mut |_| {})
        .await
        .unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.links.as_ref().unwrap().outcome.linked, 1);
    assert_eq!(report.attestations_moved(), 1);
    assert_eq!(db.status(id).await, AttestationStatus::Active);
    // The API now refuses the old card at once, without waiting for its own reload.
    assert!(matches!(
        api_source.status(&cert, now()).await.unwrap(),
        RevocationStatus::Revoked { reason: CardReason::Superseded, .. }
    ));
}
