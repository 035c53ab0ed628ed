//! Attestations follow the card: certificate revocation, renewal links, expiry, wallet
//! revocation, erasure, live certificates for OCSP re-checks, and the outbox's per-wallet order.

use std::collections::{BTreeSet, HashSet};

use honnin_core::{
    AtLimit, AttestationId, AttestationStatus, B256, CertHash, OutboxAction, OutboxItem,
    RenewalLink, RevocationReason, RevokedCertificate, Store, StoreError,
};
use time::Duration;

use crate::harness::{
    Person, TestDb, attest, both_backends, count, now, pepper, policy, random_wallet,
};

both_backends!(
    revoked_certificates_revoke_their_attestations,
    superseded_without_a_link_dies_with_the_certificate,
    a_renewal_link_keeps_the_person,
    renewal_links_count_unknown_and_conflicting,
    lapsed_attestations_expire_in_batches,
    a_wallet_revokes_its_own_attestation,
    erasure_leaves_nothing_linking_chain_records_to_a_certificate,
    live_certificates_page_with_sealed_serials,
    a_revoke_waits_for_the_attest_of_its_wallet,
    a_new_attest_waits_for_the_revoke_of_its_wallet,
);

fn cert_of(person: &Person) -> CertHash {
    pepper().cert_hash(&person.root_key_id, &person.serial)
}

fn revoked(person: &Person, reason: RevocationReason) -> RevokedCertificate {
    RevokedCertificate { cert: cert_of(person), reason, revoked_at: now() - Duration::hours(1) }
}

/// Claims everything claimable now and confirms it on chain.
async fn confirm_all(store: &dyn Store) -> Vec<OutboxItem> {
    let items = store.claim_outbox(1000, Duration::minutes(5), now()).await.unwrap();
    if !items.is_empty() {
        let ids: Vec<_> = items.iter().map(|i| i.id).collect();
        store.mark_confirmed(&ids, B256::repeat_byte(3), 7, now()).await.unwrap();
    }
    items
}

async fn claimable(store: &dyn Store) -> Vec<OutboxItem> {
    store.claim_outbox(1000, Duration::minutes(5), now()).await.unwrap()
}

async fn status(
    store: &dyn Store,
    id: AttestationId,
) -> (AttestationStatus, Option<RevocationReason>) {
    let a = store.attestation(&id).await.unwrap().unwrap();
    (a.status, a.revocation_reason)
}

fn revoke_of(item: &OutboxItem) -> Option<(AttestationId, RevocationReason)> {
    match item.action {
        OutboxAction::Revoke { attestation, reason, .. } => Some((attestation, reason)),
        OutboxAction::Attest { .. } => None,
    }
}

async fn revoked_certificates_revoke_their_attestations(db: &TestDb) {
    let store = &*db.store;
    let refuse = policy(1, AtLimit::Refuse);
    let (active, pending, bystander) = (Person::random(), Person::random(), Person::random());
    let a = attest(store, &active, random_wallet(), &refuse).await.unwrap().receipt;
    confirm_all(store).await;
    let p = attest(store, &pending, random_wallet(), &refuse).await.unwrap().receipt;
    let b = attest(store, &bystander, random_wallet(), &refuse).await.unwrap().receipt;

    let report = [
        revoked(&active, RevocationReason::CertificateRevoked),
        revoked(&pending, RevocationReason::CertificateRevoked),
        revoked(&Person::random(), RevocationReason::CertificateRevoked),
    ];
    let outcome = store.revoke_certificates(&report, now()).await.unwrap();
    assert_eq!((outcome.known, outcome.unknown, outcome.newly_revoked), (2, 1, 2));
    let ids: BTreeSet<_> = outcome.revoked.iter().map(|r| r.attestation_id).collect();
    assert_eq!(ids, BTreeSet::from([a.attestation_id, p.attestation_id]));
    assert!(outcome.moved.is_empty());
    for id in [a.attestation_id, p.attestation_id] {
        assert_eq!(
            status(store, id).await,
            (AttestationStatus::Revoked, Some(RevocationReason::CertificateRevoked))
        );
    }
    assert_eq!(status(store, b.attestation_id).await.0, AttestationStatus::Pending);

    // The active one gets an on-chain revoke; the never-sent one's attest is cancelled.
    let items = claimable(store).await;
    let revokes: Vec<_> = items.iter().filter_map(revoke_of).collect();
    assert_eq!(revokes, [(a.attestation_id, RevocationReason::CertificateRevoked)]);
    assert!(items.iter().all(|i| i.action.wallet() != p.wallet), "cancelled attest sent");

    // Idempotent: reported again, nothing more happens.
    let again = store.revoke_certificates(&report, now()).await.unwrap();
    assert_eq!((again.known, again.unknown, again.newly_revoked), (2, 1, 0));
    assert!(again.revoked.is_empty());
    assert!(claimable(store).await.is_empty());
    assert!(store.revoke_certificates(&[], now()).await.unwrap().revoked.is_empty());

    // The revoked certificate cannot attest again.
    assert!(matches!(
        attest(store, &active, random_wallet(), &refuse).await,
        Err(StoreError::CertificateRevoked)
    ));
}

async fn superseded_without_a_link_dies_with_the_certificate(db: &TestDb) {
    let store = &*db.store;
    let person = Person::random();
    let a = attest(store, &person, random_wallet(), &policy(1, AtLimit::Refuse)).await.unwrap();
    confirm_all(store).await;
    let outcome = store
        .revoke_certificates(&[revoked(&person, RevocationReason::Superseded)], now())
        .await
        .unwrap();
    assert!(outcome.moved.is_empty());
    assert_eq!(outcome.revoked.len(), 1);
    assert_eq!(
        status(store, a.receipt.attestation_id).await,
        (AttestationStatus::Revoked, Some(RevocationReason::Superseded))
    );
    let revokes: Vec<_> = claimable(store).await.iter().filter_map(revoke_of).collect();
    assert_eq!(revokes, [(a.receipt.attestation_id, RevocationReason::Superseded)]);
}

async fn a_renewal_link_keeps_the_person(db: &TestDb) {
    let store = &*db.store;
    let refuse = policy(1, AtLimit::Refuse);
    let old = Person::random();
    // The renewed card: a new serial, so a new pseudonym and certificate hash.
    let new = Person { serial: Person::random().serial, ..old.clone() };
    let first = attest(store, &old, random_wallet(), &refuse).await.unwrap().receipt;
    confirm_all(store).await;

    let link = RenewalLink { old: cert_of(&old), new: cert_of(&new) };
    let outcome = store.link_renewals(&[link], now()).await.unwrap();
    assert_eq!((outcome.linked, outcome.already), (1, 0));
    let outcome = store.link_renewals(&[link], now()).await.unwrap();
    assert_eq!((outcome.linked, outcome.already), (0, 1));

    // The new certificate is the same person: at the limit of one, a second wallet is refused.
    assert!(matches!(
        attest(store, &new, random_wallet(), &refuse).await,
        Err(StoreError::WalletLimitReached { limit: 1 })
    ));

    // The old certificate is superseded: its attestation moves to the new one and lives on,
    // with nothing for the chain.
    let outcome = store
        .revoke_certificates(&[revoked(&old, RevocationReason::Superseded)], now())
        .await
        .unwrap();
    assert_eq!(outcome.moved, [first.attestation_id]);
    assert!(outcome.revoked.is_empty());
    assert_eq!(status(store, first.attestation_id).await, (AttestationStatus::Active, None));
    assert!(claimable(store).await.is_empty());
    // It is now the new certificate's: revoking that one revokes it.
    let live = store.live_certificates(None, 10).await.unwrap();
    assert_eq!(live.iter().map(|c| c.cert).collect::<Vec<_>>(), [cert_of(&new)]);

    // Still one person: with rotation, the new card's wallet replaces the old wallet.
    let second = attest(store, &new, random_wallet(), &policy(1, AtLimit::Rotate)).await.unwrap();
    assert_eq!(second.rotated.len(), 1);
    assert_eq!(second.rotated[0].attestation_id, first.attestation_id);
    // Presenting the renewed certificate recorded its sealed serial for OCSP.
    let live = store.live_certificates(None, 10).await.unwrap();
    let sealed = live[0].sealed.as_ref().expect("sealed once presented");
    assert_eq!(pepper().open_cert(sealed), Some((new.root_key_id.clone(), new.serial.clone())));

    let outcome = store
        .revoke_certificates(&[revoked(&new, RevocationReason::CertificateRevoked)], now())
        .await
        .unwrap();
    assert_eq!(outcome.revoked.len(), 1);
    assert_eq!(outcome.revoked[0].attestation_id, second.receipt.attestation_id);
}

async fn renewal_links_count_unknown_and_conflicting(db: &TestDb) {
    let store = &*db.store;
    let refuse = policy(1, AtLimit::Refuse);
    let (one, other) = (Person::random(), Person::random());
    attest(store, &one, random_wallet(), &refuse).await.unwrap();
    attest(store, &other, random_wallet(), &refuse).await.unwrap();
    let links = [
        // old unknown
        RenewalLink { old: cert_of(&Person::random()), new: cert_of(&Person::random()) },
        // new already another person's
        RenewalLink { old: cert_of(&one), new: cert_of(&other) },
    ];
    let outcome = store.link_renewals(&links, now()).await.unwrap();
    assert_eq!(
        (outcome.linked, outcome.already, outcome.unknown_old, outcome.conflicts),
        (0, 0, 1, 1)
    );
    // The conflict changed nothing: `other` is still its own person.
    attest(store, &other, random_wallet(), &policy(2, AtLimit::Refuse)).await.unwrap();
    assert_eq!(count(db, "SELECT count(*) FROM certificates").await, 2);
}

async fn lapsed_attestations_expire_in_batches(db: &TestDb) {
    let store = &*db.store;
    let refuse = policy(1, AtLimit::Refuse);
    let confirmed = attest(store, &Person::random(), random_wallet(), &refuse).await.unwrap();
    confirm_all(store).await;
    let pending = attest(store, &Person::random(), random_wallet(), &refuse).await.unwrap();

    assert!(store.expire_attestations(now(), 10).await.unwrap().is_empty());
    let later = now() + Duration::days(366);
    let first = store.expire_attestations(later, 1).await.unwrap();
    let second = store.expire_attestations(later, 10).await.unwrap();
    assert_eq!((first.len(), second.len()), (1, 1));
    let ids: BTreeSet<_> = first.iter().chain(&second).map(|r| r.attestation_id).collect();
    let expected =
        BTreeSet::from([confirmed.receipt.attestation_id, pending.receipt.attestation_id]);
    assert_eq!(ids, expected);
    for id in expected {
        assert_eq!(status(store, id).await, (AttestationStatus::Expired, None));
    }
    // The unsent attest is cancelled: the chain would refuse an expired record.
    assert!(claimable(store).await.is_empty());
    assert!(store.expire_attestations(later, 10).await.unwrap().is_empty());
}

async fn a_wallet_revokes_its_own_attestation(db: &TestDb) {
    let store = &*db.store;
    let refuse = policy(1, AtLimit::Refuse);
    let (active_wallet, pending_wallet) = (random_wallet(), random_wallet());
    let active = attest(store, &Person::random(), active_wallet, &refuse).await.unwrap().receipt;
    confirm_all(store).await;
    let pending = attest(store, &Person::random(), pending_wallet, &refuse).await.unwrap().receipt;

    let holder = RevocationReason::Holder;
    assert_eq!(
        store.revoke_wallet(active_wallet, None, holder, now()).await.unwrap(),
        Some(active.attestation_id)
    );
    assert_eq!(
        store.revoke_wallet(pending_wallet, None, RevocationReason::Operator, now()).await.unwrap(),
        Some(pending.attestation_id)
    );
    assert_eq!(store.revoke_wallet(active_wallet, None, holder, now()).await.unwrap(), None);
    assert_eq!(store.revoke_wallet(random_wallet(), None, holder, now()).await.unwrap(), None);
    assert_eq!(
        status(store, active.attestation_id).await,
        (AttestationStatus::Revoked, Some(holder))
    );
    assert_eq!(
        status(store, pending.attestation_id).await,
        (AttestationStatus::Revoked, Some(RevocationReason::Operator))
    );
    // The active one is revoked on chain; the pending one's attest never goes out.
    let items = claimable(store).await;
    assert_eq!(items.len(), 1);
    assert_eq!(revoke_of(&items[0]), Some((active.attestation_id, holder)));
    // The wallet is free again.
    attest(store, &Person::random(), active_wallet, &refuse).await.unwrap();
}

async fn erasure_leaves_nothing_linking_chain_records_to_a_certificate(db: &TestDb) {
    let store = &*db.store;
    let two = policy(2, AtLimit::Refuse);
    let (person, bystander) = (Person::random(), Person::random());
    let renewed = Person { serial: Person::random().serial, ..person.clone() };
    let active = attest(store, &person, random_wallet(), &two).await.unwrap().receipt;
    confirm_all(store).await;
    let pending = attest(store, &person, random_wallet(), &two).await.unwrap().receipt;
    store
        .link_renewals(&[RenewalLink { old: cert_of(&person), new: cert_of(&renewed) }], now())
        .await
        .unwrap();
    attest(store, &bystander, random_wallet(), &two).await.unwrap();

    // Found through the renewed certificate's hash (the card the person holds now).
    let pseudonym = pepper().pseudonym(&renewed.root_key_id, &renewed.serial);
    let revoked = store.erase_person(&[(cert_of(&renewed), pseudonym)], now()).await.unwrap();
    let ids: BTreeSet<_> = revoked.iter().map(|r| r.attestation_id).collect();
    assert_eq!(ids, BTreeSet::from([active.attestation_id, pending.attestation_id]));
    for id in [active.attestation_id, pending.attestation_id] {
        assert_eq!(
            status(store, id).await,
            (AttestationStatus::Revoked, Some(RevocationReason::Erasure))
        );
    }
    let revokes: Vec<_> = claimable(store).await.iter().filter_map(revoke_of).collect();
    assert_eq!(revokes, [(active.attestation_id, RevocationReason::Erasure)]);

    // Nothing links the person's attestation rows (the chain's records) to a person, a
    // certificate or a request any more; the only certificate and person left are the
    // bystander's.
    let ids = [active.attestation_id, pending.attestation_id]
        .map(|id| format!("'{}'", hex::encode(id.as_bytes())));
    let hex_list = ids.join(", ");
    let linked = match db.backend {
        honnin_store::Backend::Postgres => format!(
            "SELECT count(*) FROM attestations WHERE encode(id, 'hex') IN ({hex_list}) \
             AND (person_id IS NOT NULL OR certificate_id IS NOT NULL \
                  OR request_digest IS NOT NULL)"
        ),
        honnin_store::Backend::Sqlite => format!(
            "SELECT count(*) FROM attestations WHERE lower(hex(id)) IN ({hex_list}) \
             AND (person_id IS NOT NULL OR certificate_id IS NOT NULL \
                  OR request_digest IS NOT NULL)"
        ),
    };
    assert_eq!(count(db, &linked).await, 0);
    // (The same scan finds the rows themselves: it looks at the right ones.)
    let rows = linked.split(" AND (").next().unwrap();
    assert_eq!(count(db, rows).await, 2);
    assert_eq!(count(db, "SELECT count(*) FROM attestations").await, 3, "rows kept");
    assert_eq!(count(db, "SELECT count(*) FROM persons").await, 1);
    assert_eq!(count(db, "SELECT count(*) FROM certificates").await, 1);
    assert_eq!(
        count(db, "SELECT count(*) FROM certificates WHERE renewed_from IS NOT NULL").await,
        0
    );
    assert_eq!(
        count(db, "SELECT count(*) FROM attestations WHERE person_id IS NOT NULL").await,
        1,
        "the bystander keeps theirs"
    );

    // Nobody left to erase, by certificate or pseudonym.
    assert!(matches!(
        store.erase_person(&[(cert_of(&person), pseudonym)], now()).await,
        Err(StoreError::PersonNotFound)
    ));
    // Erasure by pseudonym alone (a certificate hash the store does not know).
    let by_pseudonym = pepper().pseudonym(&bystander.root_key_id, &bystander.serial);
    let revoked = store.erase_person(&[(cert_of(&Person::random()), by_pseudonym)], now()).await;
    assert_eq!(revoked.unwrap().len(), 1);
    assert_eq!(count(db, "SELECT count(*) FROM persons").await, 0);
}

async fn live_certificates_page_with_sealed_serials(db: &TestDb) {
    let store = &*db.store;
    let refuse = policy(1, AtLimit::Refuse);
    let persons: Vec<Person> = (0..6).map(|_| Person::random()).collect();
    for person in &persons {
        attest(store, person, random_wallet(), &refuse).await.unwrap();
    }
    // A revoked certificate is not re-checked.
    store
        .revoke_certificates(&[revoked(&persons[1], RevocationReason::CertificateRevoked)], now())
        .await
        .unwrap();
    assert_eq!(store.live_certificates(None, 100).await.unwrap().len(), 5);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.live_certificates(after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 2);
        after = Some(last.id);
        seen.extend(page);
    }
    assert!(seen.windows(2).all(|w| w[0].id < w[1].id), "id order");
    let expected: HashSet<_> =
        persons.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, p)| cert_of(p)).collect();
    assert_eq!(seen.iter().map(|c| c.cert).collect::<HashSet<_>>(), expected);
    for c in &seen {
        let person = persons.iter().find(|p| cert_of(p) == c.cert).unwrap();
        let sealed = c.sealed.as_ref().expect("sealed");
        assert_eq!(
            pepper().open_cert(sealed),
            Some((person.root_key_id.clone(), person.serial.clone()))
        );
    }
}

async fn a_revoke_waits_for_the_attest_of_its_wallet(db: &TestDb) {
    let store = &*db.store;
    let refuse = policy(1, AtLimit::Refuse);
    let wallet = random_wallet();
    let a = attest(store, &Person::random(), wallet, &refuse).await.unwrap().receipt;
    // A writer claims the attest and has not confirmed it yet.
    let claimed = claimable(store).await;
    assert_eq!(claimed.len(), 1);
    store.revoke_wallet(wallet, None, RevocationReason::Holder, now()).await.unwrap();
    // The revoke is queued but is not handed out (to this or another writer) meanwhile.
    let other = db.another_instance().await;
    assert!(claimable(&*other).await.is_empty());
    store.mark_sent(&[claimed[0].id], B256::repeat_byte(1), now()).await.unwrap();
    assert!(claimable(store).await.is_empty());
    store.mark_confirmed(&[claimed[0].id], B256::repeat_byte(1), 9, now()).await.unwrap();
    let next = claimable(&*other).await;
    assert_eq!(
        next.iter().filter_map(revoke_of).collect::<Vec<_>>(),
        [(a.attestation_id, RevocationReason::Holder)]
    );

    // A failed attest releases its wallet's queue too.
    let wallet = random_wallet();
    attest(store, &Person::random(), wallet, &refuse).await.unwrap();
    let claimed = claimable(store).await;
    store.revoke_wallet(wallet, None, RevocationReason::Holder, now()).await.unwrap();
    assert!(claimable(store).await.is_empty());
    store.mark_failed(&[claimed[0].id], "reverted", now()).await.unwrap();
    assert_eq!(claimable(store).await.len(), 1);
}

async fn a_new_attest_waits_for_the_revoke_of_its_wallet(db: &TestDb) {
    let store = &*db.store;
    let refuse = policy(1, AtLimit::Refuse);
    let wallet = random_wallet();
    let first = attest(store, &Person::random(), wallet, &refuse).await.unwrap().receipt;
    let attest_item = claimable(store).await;
    store.revoke_wallet(wallet, None, RevocationReason::Holder, now()).await.unwrap();
    // The wallet is free: someone attests it again (another attestation, same wallet).
    let second = attest(store, &Person::random(), wallet, &refuse).await.unwrap().receipt;
    assert_ne!(second.attestation_id, first.attestation_id);
    assert!(claimable(store).await.is_empty(), "both wait for the first attest");
    store.mark_confirmed(&[attest_item[0].id], B256::repeat_byte(2), 10, now()).await.unwrap();
    let revoke = claimable(store).await;
    assert_eq!(revoke.len(), 1, "the revoke, and not yet the new attest: {revoke:?}");
    assert_eq!(revoke_of(&revoke[0]), Some((first.attestation_id, RevocationReason::Holder)));
    store.mark_confirmed(&[revoke[0].id], B256::repeat_byte(2), 11, now()).await.unwrap();
    let next = claimable(store).await;
    assert_eq!(next.len(), 1);
    assert!(matches!(
        next[0].action,
        OutboxAction::Attest { attestation, .. } if attestation == second.attestation_id
    ));
}
