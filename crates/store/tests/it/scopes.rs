//! Scoped (per-dApp) attestations: one person, several scopes, wallets live only in their own
//! scope, the policy per scope, nothing stored that joins two scopes, and the life cycle
//! (certificate revocation, renewal, erasure, expiry, self-revocation) reaching every scope.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
};

use honnin_core::{
    AtLimit, Attestation, AttestationId, AttestationStatus, AttestationWallet, B256, OutboxAction,
    OutboxItem, Purpose, RenewalLink, RevocationReason, RevokedCertificate, Scope, ScopeName,
    Store, StoreError,
    webhook::{
        DeliveryQuery, EndpointSource, EventSet, NewWebhookEndpoint, WebhookEndpointId,
        WebhookEvent, WebhookPayload, WebhookSecret, address::AddressPolicy,
    },
};
use honnin_store::Backend;
use time::Duration;

use crate::harness::{
    Person, TestDb, attest_at, attest_in, both_backends, consumed_challenge_in, count,
    new_attestation_in, now, pepper, policy, random_wallet, register, settings, tables,
};

both_backends!(
    one_person_two_wallets_each_live_only_in_its_scope,
    a_wallet_holds_the_global_record_and_one_per_scope_at_once,
    the_policy_holds_per_scope,
    no_stored_value_joins_two_scopes,
    certificate_revocation_reaches_every_scope,
    renewal_links_carry_the_person_over_in_every_scope,
    erasure_under_every_identity_leaves_nothing,
    a_scoped_revocation_touches_only_its_scope,
    a_scoped_revoke_waits_for_its_attest,
    scopes_are_registered_once_and_listed_in_name_order,
    lapsed_scoped_records_expire_and_free_their_scope,
);

fn id(scope: &ScopeName) -> Scope {
    scope.id()
}

fn hook() -> NewWebhookEndpoint {
    let dev = AddressPolicy { allow_http: true, allow_private: true };
    NewWebhookEndpoint {
        id: WebhookEndpointId::random(),
        url: dev.check_url("http://127.0.0.1:9/hook").unwrap(),
        events: EventSet::ALL,
        secret: WebhookSecret::generate(),
        source: EndpointSource::Api,
    }
}

async fn claimable(store: &dyn Store) -> Vec<OutboxItem> {
    store.claim_outbox(1000, Duration::minutes(5), now()).await.unwrap()
}

/// Claims and confirms on chain until nothing is left to claim (a wallet's items go out one
/// at a time, in order, also across its scopes); returns what it confirmed.
async fn confirm_all(store: &dyn Store) -> Vec<OutboxItem> {
    let mut confirmed = Vec::new();
    loop {
        let items = claimable(store).await;
        if items.is_empty() {
            return confirmed;
        }
        let ids: Vec<_> = items.iter().map(|i| i.id).collect();
        store.mark_confirmed(&ids, B256::repeat_byte(3), 7, now()).await.unwrap();
        confirmed.extend(items);
    }
}

/// An outbox item as (kind, attestation, wallet, scope, revocation reason).
type Action = (&'static str, AttestationId, String, Option<Scope>, Option<RevocationReason>);

/// The outbox items as [`Action`]s.
fn actions(items: &[OutboxItem]) -> HashSet<Action> {
    items
        .iter()
        .map(|i| match i.action {
            OutboxAction::Attest { attestation, wallet, scope, .. } => {
                ("attest", attestation, wallet.to_string(), scope, None)
            }
            OutboxAction::Revoke { attestation, wallet, reason, scope } => {
                ("revoke", attestation, wallet.to_string(), scope, Some(reason))
            }
        })
        .collect()
}

async fn status(
    store: &dyn Store,
    id: AttestationId,
) -> (AttestationStatus, Option<RevocationReason>) {
    let a = store.attestation(&id).await.unwrap().unwrap();
    (a.status, a.revocation_reason)
}

async fn record(
    store: &dyn Store,
    wallet: honnin_core::Address,
    scope: Option<&ScopeName>,
) -> Option<Attestation> {
    store.attestation_by_wallet(wallet, scope.map(ScopeName::id).as_ref()).await.unwrap()
}

/// SQL matching a blob column to `bytes` on the test database's backend.
fn blob_is(db: &TestDb, column: &str, bytes: &[u8]) -> String {
    let hex = hex::encode(bytes);
    match db.backend {
        Backend::Postgres => format!("encode({column}, 'hex') = '{hex}'"),
        Backend::Sqlite => format!("lower(hex({column})) = '{hex}'"),
    }
}

async fn one_person_two_wallets_each_live_only_in_its_scope(db: &TestDb) {
    let store = &*db.store;
    let endpoint = hook();
    store.create_webhook_endpoint(&endpoint, now()).await.unwrap();
    let (a, b) = (register(store, "dapp-a").await, register(store, "dapp-b").await);
    let person = Person::random();
    let refuse = policy(1, AtLimit::Refuse);
    let (wa, wb) = (random_wallet(), random_wallet());

    // One person, a wallet in each scope: both recorded, at a limit of one wallet per person.
    let in_a = attest_in(store, &person, wa, Some(&a), &refuse).await.unwrap();
    let in_b = attest_in(store, &person, wb, Some(&b), &refuse).await.unwrap();
    assert!(in_a.rotated.is_empty() && in_b.rotated.is_empty());
    assert_eq!(in_a.receipt.scope, Some(id(&a)));
    assert_eq!(in_b.receipt.scope, Some(id(&b)));

    // Each wallet is live in its own scope only: not in the other, not in the global record.
    for (wallet, receipt, mine, other) in [(wa, &in_a, &a, &b), (wb, &in_b, &b, &a)] {
        let live = record(store, wallet, Some(mine)).await.unwrap();
        assert_eq!(live.id, receipt.receipt.attestation_id);
        assert_eq!((live.scope, live.status), (Some(id(mine)), AttestationStatus::Pending));
        assert_eq!(store.attestation(&live.id).await.unwrap(), Some(live));
        assert_eq!(record(store, wallet, Some(other)).await, None);
        assert_eq!(record(store, wallet, None).await, None);
    }

    // Stored under each scope's own hashes, never the global ones: two persons, two
    // certificates, as far as the database can tell.
    for scope in [Some(&a), Some(&b)] {
        let pseudonym = blob_is(db, "pseudonym", person.pseudonym_in(scope).as_bytes());
        assert_eq!(count(db, &format!("SELECT count(*) FROM persons WHERE {pseudonym}")).await, 1);
        let cert = blob_is(db, "cert_hash", person.cert_in(scope).as_bytes());
        assert_eq!(count(db, &format!("SELECT count(*) FROM certificates WHERE {cert}")).await, 1);
    }
    assert_ne!(person.pseudonym_in(Some(&a)), person.pseudonym_in(Some(&b)));
    let global = blob_is(db, "pseudonym", person.pseudonym_in(None).as_bytes());
    assert_eq!(count(db, &format!("SELECT count(*) FROM persons WHERE {global}")).await, 0);
    assert_eq!(count(db, "SELECT count(*) FROM persons").await, 2);

    // The outbox items carry the scope (attestScoped for the chain writer).
    let items = confirm_all(store).await;
    assert_eq!(
        actions(&items),
        HashSet::from([
            ("attest", in_a.receipt.attestation_id, wa.to_string(), Some(id(&a)), None),
            ("attest", in_b.receipt.attestation_id, wb.to_string(), Some(id(&b)), None),
        ])
    );
    // A global record of the same person, for comparison: its item has no scope.
    let wg = random_wallet();
    let global = attest_in(store, &person, wg, None, &refuse).await.unwrap().receipt;
    assert_eq!(global.scope, None);
    let items = confirm_all(store).await;
    assert_eq!(items.iter().map(|i| i.action.scope()).collect::<Vec<_>>(), [None]);

    // The webhook deliveries (and the payloads rendered from them) name the scope.
    let query = DeliveryQuery { limit: 10, ..Default::default() };
    let deliveries = store.webhook_deliveries(&query).await.unwrap();
    let seen: Vec<_> = deliveries
        .iter()
        .map(|d| (d.change.event, d.change.attestation_id, d.change.wallet, d.change.scope))
        .collect();
    assert_eq!(
        seen.into_iter().collect::<HashSet<_>>(),
        HashSet::from([
            (WebhookEvent::Active, in_a.receipt.attestation_id, wa, Some(id(&a))),
            (WebhookEvent::Active, in_b.receipt.attestation_id, wb, Some(id(&b))),
            (WebhookEvent::Active, global.attestation_id, wg, None),
        ])
    );
    for d in &deliveries {
        let payload = WebhookPayload::new(&d.change);
        let body = String::from_utf8(payload.to_body()).unwrap();
        match d.change.scope {
            Some(scope) => {
                assert_eq!(payload.data.scope, Some(scope.to_string()));
                assert!(body.contains(&format!(r#""scope":"{scope}""#)), "{body}");
            }
            None => assert!(body.contains(r#""scope":null"#), "{body}"),
        }
    }
}

async fn a_wallet_holds_the_global_record_and_one_per_scope_at_once(db: &TestDb) {
    let store = &*db.store;
    let (a, b) = (register(store, "dapp-a").await, register(store, "dapp-b").await);
    let person = Person::random();
    let refuse = policy(1, AtLimit::Refuse);
    let wallet = random_wallet();

    let global = attest_in(store, &person, wallet, None, &refuse).await.unwrap().receipt;
    let in_a = attest_in(store, &person, wallet, Some(&a), &refuse).await.unwrap().receipt;
    let in_b = attest_in(store, &person, wallet, Some(&b), &refuse).await.unwrap().receipt;
    let ids = BTreeSet::from([global.attestation_id, in_a.attestation_id, in_b.attestation_id]);
    assert_eq!(ids.len(), 3);
    for (scope, receipt) in [(None, &global), (Some(&a), &in_a), (Some(&b), &in_b)] {
        let live = record(store, wallet, scope).await.unwrap();
        assert_eq!((live.id, live.status), (receipt.attestation_id, AttestationStatus::Pending));
    }

    // Within one scope the wallet is taken: by another person, or by the same one again.
    for scope in [None, Some(&a)] {
        assert!(matches!(
            attest_in(store, &Person::random(), wallet, scope, &refuse).await,
            Err(StoreError::WalletAlreadyAttested)
        ));
        assert!(matches!(
            attest_in(store, &person, wallet, scope, &policy(2, AtLimit::Refuse)).await,
            Err(StoreError::WalletAlreadyAttested)
        ));
    }

    // A re-sent scoped request answers with the original receipt, scope included.
    let (other, w2) = (Person::random(), random_wallet());
    let challenge = consumed_challenge_in(store, w2, Some(&a), now()).await;
    let first = new_attestation_in(&other, w2, Some(&a), challenge, b"sig", now());
    let original = store.record_attestation(&first, &refuse, now()).await.unwrap();
    let again = new_attestation_in(&other, w2, Some(&a), challenge, b"sig", now());
    let replayed = store.record_attestation(&again, &refuse, now()).await.unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.receipt, original.receipt);
    assert_eq!(replayed.receipt.scope, Some(id(&a)));
    assert_eq!(
        store.replay(&challenge, &first.request_digest, now()).await.unwrap(),
        Some(original.receipt)
    );

    // Persons racing for one fresh wallet in one scope: one wins (the scoped unique index,
    // across two service instances).
    let wallet = random_wallet();
    let stores = [Arc::clone(&db.store), db.another_instance().await];
    let mut prepared = Vec::new();
    for i in 0..12 {
        let challenge = consumed_challenge_in(store, wallet, Some(&b), now()).await;
        let new = new_attestation_in(&Person::random(), wallet, Some(&b), challenge, b"s", now());
        prepared.push((Arc::clone(&stores[i % 2]), new));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(prepared.len()));
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|(store, new)| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.record_attestation(&new, &policy(1, AtLimit::Refuse), now()).await
            })
        })
        .collect();
    let (mut won, mut taken) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::WalletAlreadyAttested) => taken += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!((won, taken), (1, 11));
    // The race in scope B left the wallet free everywhere else.
    assert_eq!(record(store, wallet, Some(&a)).await, None);
    assert_eq!(record(store, wallet, None).await, None);
}

async fn the_policy_holds_per_scope(db: &TestDb) {
    let store = &*db.store;
    let (a, b) = (register(store, "dapp-a").await, register(store, "dapp-b").await);
    let person = Person::random();
    let refuse = policy(1, AtLimit::Refuse);
    let (wa1, wa2, wb, wg) = (random_wallet(), random_wallet(), random_wallet(), random_wallet());

    let first_a = attest_in(store, &person, wa1, Some(&a), &refuse).await.unwrap().receipt;
    // A second wallet in scope A hits the limit; one in B and the global one do not.
    assert!(matches!(
        attest_in(store, &person, wa2, Some(&a), &refuse).await,
        Err(StoreError::WalletLimitReached { limit: 1 })
    ));
    let in_b = attest_in(store, &person, wb, Some(&b), &refuse).await.unwrap().receipt;
    let global = attest_in(store, &person, wg, None, &refuse).await.unwrap().receipt;
    confirm_all(store).await;

    // With rotation, the new wallet in A replaces the old one in A only.
    let rotated =
        attest_in(store, &person, wa2, Some(&a), &policy(1, AtLimit::Rotate)).await.unwrap();
    assert_eq!(
        rotated.rotated,
        [AttestationWallet { attestation_id: first_a.attestation_id, wallet: wa1 }]
    );
    assert_eq!(
        status(store, first_a.attestation_id).await,
        (AttestationStatus::Revoked, Some(RevocationReason::Rotated))
    );
    for other in [in_b.attestation_id, global.attestation_id] {
        assert_eq!(status(store, other).await, (AttestationStatus::Active, None));
    }
    // The rotated-out record was on chain: its revoke is queued in its scope.
    assert_eq!(
        actions(&claimable(store).await),
        HashSet::from([
            ("attest", rotated.receipt.attestation_id, wa2.to_string(), Some(id(&a)), None),
            (
                "revoke",
                first_a.attestation_id,
                wa1.to_string(),
                Some(id(&a)),
                Some(RevocationReason::Rotated)
            ),
        ])
    );
}

/// The (table, column) a value of `table.column` is compared under: a foreign key and the key
/// it references are one domain (the same person is the same id in both).
fn domain(table: &str, column: &str) -> String {
    let same = match (table, column) {
        ("persons", "id") | (_, "person_id") => "person",
        ("certificates", "id") | (_, "certificate_id") | ("certificates", "renewed_from") => {
            "certificate"
        }
        ("attestations", "id") | (_, "attestation_id") => "attestation",
        ("challenges", "id") | ("attestations", "challenge_id") => "challenge",
        (_, "wallet") => "wallet",
        _ => return format!("{table}.{column}"),
    };
    same.to_owned()
}

async fn no_stored_value_joins_two_scopes(db: &TestDb) {
    let store = &*db.store;
    let endpoint = hook();
    store.create_webhook_endpoint(&endpoint, now()).await.unwrap();
    let (a, b) = (register(store, "dapp-a").await, register(store, "dapp-b").await);
    let person = Person::random();
    let refuse = policy(1, AtLimit::Refuse);
    let (wa, wb) = (random_wallet(), random_wallet());
    // The two records an hour apart, each sent and confirmed in its own transaction (the chain
    // writer batches by scope), as they would be in use.
    let (ta, tb) = (now() - Duration::hours(2), now() - Duration::hours(1));
    attest_at(store, &person, wa, Some(&a), &refuse, ta).await.unwrap();
    attest_at(store, &person, wb, Some(&b), &refuse, tb).await.unwrap();
    for (at, tx, block) in [(ta, 0xa1, 100), (tb, 0xb1, 200)] {
        let items = store.claim_outbox(10, Duration::minutes(5), at + Duration::seconds(10));
        let items = items.await.unwrap();
        assert_eq!(items.len(), 1);
        let ids = [items[0].id];
        store.mark_sent(&ids, B256::repeat_byte(tx), at + Duration::seconds(20)).await.unwrap();
        let confirmed = at + Duration::seconds(30);
        store.mark_confirmed(&ids, B256::repeat_byte(tx), block, confirmed).await.unwrap();
    }

    // Every row of every table, attributed to a scope by the values only its rows hold: its
    // wallet, or the person's and the certificate's hashes in it.
    let marks = |wallet: honnin_core::Address, scope: &ScopeName| {
        [
            hex::encode(wallet.as_slice()),
            hex::encode(person.pseudonym_in(Some(scope)).as_bytes()),
            hex::encode(person.cert_in(Some(scope)).as_bytes()),
        ]
    };
    let (marks_a, marks_b) = (marks(wa, &a), marks(wb, &b));
    let mut values: [HashMap<String, HashSet<String>>; 2] = Default::default();
    let mut rows: [HashMap<String, usize>; 2] = Default::default();
    for table in tables(db).await {
        for row in &table.rows {
            let has = |marks: &[String]| row.iter().flatten().any(|v| marks.contains(v));
            let side = match (has(&marks_a), has(&marks_b)) {
                (true, false) => 0,
                (false, true) => 1,
                (false, false) => continue,
                (true, true) => {
                    panic!("a row of {} holds both scopes' values: {row:?}", table.name)
                }
            };
            *rows[side].entry(table.name.clone()).or_default() += 1;
            for (column, value) in table.columns.iter().zip(row) {
                // NULL joins nothing.
                if let Some(value) = value {
                    let key = domain(&table.name, column);
                    values[side].entry(key).or_default().insert(value.clone());
                }
            }
        }
    }
    // The scan found each scope's rows: challenge, person, certificate, attestation, outbox
    // item, webhook delivery.
    let expected_rows: HashMap<String, usize> =
        ["challenges", "persons", "certificates", "attestations", "outbox", "webhook_deliveries"]
            .into_iter()
            .map(|t| (t.to_owned(), 1))
            .collect();
    assert_eq!(rows[0], expected_rows);
    assert_eq!(rows[1], expected_rows);

    // The values the two scopes' rows share, column by column (foreign keys with their keys).
    let shared: BTreeSet<&str> = values[0]
        .iter()
        .filter(|(key, a)| values[1].get(*key).is_some_and(|b| !a.is_disjoint(b)))
        .map(|(key, _)| key.as_str())
        .collect();
    assert_eq!(
        shared,
        BTreeSet::from([
            // Constants of every record: status, proof kind, level and claim bits (the record
            // on chain shows these too), the outbox's and the delivery's state machine.
            "attestations.claims",
            "attestations.level",
            "attestations.status",
            "attestations.wallet_proof",
            "outbox.attempts",
            "outbox.claims",
            "outbox.kind",
            "outbox.level",
            "outbox.state",
            "webhook_deliveries.attempts",
            "webhook_deliveries.event",
            "webhook_deliveries.state",
            "webhook_deliveries.status",
            // The operator's: the challenge's purpose, chain, registry and domain, and its
            // webhook endpoint.
            "challenges.chain_id",
            "challenges.domain",
            "challenges.purpose",
            "challenges.registry",
            "webhook_deliveries.endpoint_id",
            // The one value of the person's that both scopes' rows hold: the card's notAfter
            // (the same certificate is presented in both). Not an identifier alone, but a
            // quasi-identifier (JPKI: 14:59:59Z on the holder's fifth birthday after issue).
            "certificates.not_after",
        ]),
        "values shared by the two scopes' rows"
    );
    // In particular no hash, id or wallet: the persons, certificates, attestations,
    // challenges and wallets of the two scopes are all different values.
    for key in ["person", "certificate", "attestation", "challenge", "wallet"] {
        assert!(!shared.contains(key), "{key} shared");
    }
    // And no long value (a hash, an id, a sealed serial) of one scope's rows appears in any
    // column of the other's but the operator's registry and endpoint.
    let long = |side: &HashMap<String, HashSet<String>>| -> HashSet<String> {
        side.values().flatten().filter(|v| v.len() >= 32).cloned().collect()
    };
    let common: HashSet<String> =
        long(&values[0]).intersection(&long(&values[1])).cloned().collect();
    let operator: HashSet<String> = HashSet::from([
        hex::encode(settings().registry.as_slice()),
        hex::encode(endpoint.id.as_bytes()),
    ]);
    assert_eq!(common, operator);
}

async fn certificate_revocation_reaches_every_scope(db: &TestDb) {
    let store = &*db.store;
    let (a, b) = (register(store, "dapp-a").await, register(store, "dapp-b").await);
    let (person, bystander) = (Person::random(), Person::random());
    let refuse = policy(1, AtLimit::Refuse);
    let (wg, wa, wb) = (random_wallet(), random_wallet(), random_wallet());
    let global = attest_in(store, &person, wg, None, &refuse).await.unwrap().receipt;
    let in_a = attest_in(store, &person, wa, Some(&a), &refuse).await.unwrap().receipt;
    let in_b = attest_in(store, &person, wb, Some(&b), &refuse).await.unwrap().receipt;
    let other = attest_in(store, &bystander, random_wallet(), Some(&a), &refuse).await.unwrap();
    confirm_all(store).await;

    // The life cycle's hashes of the card: the global one, then one per registered scope.
    let hashes = pepper().cert_hashes([&id(&a), &id(&b)], &person.root_key_id, &person.serial);
    assert_eq!(hashes, [person.cert_in(None), person.cert_in(Some(&a)), person.cert_in(Some(&b))]);
    let report = |cert| RevokedCertificate {
        cert,
        reason: RevocationReason::CertificateRevoked,
        revoked_at: now() - Duration::hours(1),
    };

    // The global hash alone reaches the global record only: the scoped ones are other rows.
    let outcome = store.revoke_certificates(&[report(hashes[0])], now()).await.unwrap();
    assert_eq!(outcome.revoked.len(), 1);
    assert_eq!(outcome.revoked[0].attestation_id, global.attestation_id);
    assert_eq!(status(store, in_a.attestation_id).await.0, AttestationStatus::Active);

    // All of them reach every record of the card.
    let all: Vec<_> = hashes.iter().copied().map(report).collect();
    let outcome = store.revoke_certificates(&all, now()).await.unwrap();
    assert_eq!((outcome.known, outcome.unknown, outcome.newly_revoked), (3, 0, 2));
    let revoked: BTreeSet<_> =
        outcome.revoked.iter().map(|r| (r.attestation_id, r.wallet)).collect();
    assert_eq!(revoked, BTreeSet::from([(in_a.attestation_id, wa), (in_b.attestation_id, wb)]));
    for id in [global.attestation_id, in_a.attestation_id, in_b.attestation_id] {
        assert_eq!(
            status(store, id).await,
            (AttestationStatus::Revoked, Some(RevocationReason::CertificateRevoked))
        );
    }
    assert_eq!(status(store, other.receipt.attestation_id).await.0, AttestationStatus::Active);
    // Each record's revoke goes out in its own scope.
    let reason = Some(RevocationReason::CertificateRevoked);
    assert_eq!(
        actions(&claimable(store).await),
        HashSet::from([
            ("revoke", global.attestation_id, wg.to_string(), None, reason),
            ("revoke", in_a.attestation_id, wa.to_string(), Some(id(&a)), reason),
            ("revoke", in_b.attestation_id, wb.to_string(), Some(id(&b)), reason),
        ])
    );
    // The card attests nowhere any more.
    for scope in [None, Some(&a), Some(&b)] {
        assert!(matches!(
            attest_in(store, &person, random_wallet(), scope, &refuse).await,
            Err(StoreError::CertificateRevoked)
        ));
    }
}

async fn renewal_links_carry_the_person_over_in_every_scope(db: &TestDb) {
    let store = &*db.store;
    let (a, b) = (register(store, "dapp-a").await, register(store, "dapp-b").await);
    let old = Person::random();
    let new = Person { serial: Person::random().serial, ..old.clone() };
    let refuse = policy(1, AtLimit::Refuse);
    let scopes = [None, Some(&a), Some(&b)];
    let mut records = Vec::new();
    for scope in scopes {
        records
            .push(attest_in(store, &old, random_wallet(), scope, &refuse).await.unwrap().receipt);
    }
    confirm_all(store).await;

    // The revocation source's old -> new link, applied under every scope's hashes.
    let links: Vec<_> =
        scopes.iter().map(|s| RenewalLink { old: old.cert_in(*s), new: new.cert_in(*s) }).collect();
    let outcome = store.link_renewals(&links, now()).await.unwrap();
    assert_eq!((outcome.linked, outcome.unknown_old, outcome.conflicts), (3, 0, 0));
    // The renewed card is the same person in each scope: a second wallet there is refused.
    for scope in scopes {
        assert!(matches!(
            attest_in(store, &new, random_wallet(), scope, &refuse).await,
            Err(StoreError::WalletLimitReached { limit: 1 })
        ));
    }

    // The old card superseded: every record moves to the new card and lives on.
    let superseded: Vec<_> = scopes
        .iter()
        .map(|s| RevokedCertificate {
            cert: old.cert_in(*s),
            reason: RevocationReason::Superseded,
            revoked_at: now(),
        })
        .collect();
    let outcome = store.revoke_certificates(&superseded, now()).await.unwrap();
    let moved: BTreeSet<_> = outcome.moved.iter().copied().collect();
    assert_eq!(moved, records.iter().map(|r| r.attestation_id).collect::<BTreeSet<_>>());
    assert!(outcome.revoked.is_empty());
    for r in &records {
        assert_eq!(status(store, r.attestation_id).await, (AttestationStatus::Active, None));
    }
    assert!(claimable(store).await.is_empty());
    let live: HashSet<_> =
        store.live_certificates(None, 10).await.unwrap().iter().map(|c| c.cert).collect();
    assert_eq!(live, scopes.iter().map(|s| new.cert_in(*s)).collect::<HashSet<_>>());

    // With rotation, the new card's wallet in A replaces the old card's wallet in A only.
    let rotated = attest_in(store, &new, random_wallet(), Some(&a), &policy(1, AtLimit::Rotate))
        .await
        .unwrap();
    assert_eq!(rotated.rotated.len(), 1);
    assert_eq!(rotated.rotated[0].attestation_id, records[1].attestation_id);
    for r in [&records[0], &records[2]] {
        assert_eq!(status(store, r.attestation_id).await.0, AttestationStatus::Active);
    }
}

async fn erasure_under_every_identity_leaves_nothing(db: &TestDb) {
    let store = &*db.store;
    let a = register(store, "dapp-a").await;
    let b = register(store, "dapp-b").await;
    // A scope where the person has nothing: its identity matches nobody.
    let c = register(store, "dapp-c").await;
    let (person, bystander) = (Person::random(), Person::random());
    let refuse = policy(1, AtLimit::Refuse);
    let (wg, wa, wb) = (random_wallet(), random_wallet(), random_wallet());
    let global = attest_in(store, &person, wg, None, &refuse).await.unwrap().receipt;
    let in_a = attest_in(store, &person, wa, Some(&a), &refuse).await.unwrap().receipt;
    attest_in(store, &bystander, random_wallet(), Some(&a), &refuse).await.unwrap();
    confirm_all(store).await;
    // The record in B was never sent.
    let in_b = attest_in(store, &person, wb, Some(&b), &refuse).await.unwrap().receipt;

    let identity = |p: &Person, s: Option<&ScopeName>| (p.cert_in(s), p.pseudonym_in(s));
    // Nobody under the identities of a scope the person never used.
    assert!(matches!(
        store.erase_person(&[identity(&person, Some(&c))], now()).await,
        Err(StoreError::PersonNotFound)
    ));

    let identities: Vec<_> =
        [None, Some(&a), Some(&b), Some(&c)].into_iter().map(|s| identity(&person, s)).collect();
    let revoked = store.erase_person(&identities, now()).await.unwrap();
    let ids: BTreeSet<_> = revoked.iter().map(|r| r.attestation_id).collect();
    assert_eq!(
        ids,
        BTreeSet::from([global.attestation_id, in_a.attestation_id, in_b.attestation_id])
    );
    for id in &ids {
        assert_eq!(
            status(store, *id).await,
            (AttestationStatus::Revoked, Some(RevocationReason::Erasure))
        );
    }
    // The records that were on chain are revoked there, each in its scope; B's never goes out.
    let reason = Some(RevocationReason::Erasure);
    assert_eq!(
        actions(&claimable(store).await),
        HashSet::from([
            ("revoke", global.attestation_id, wg.to_string(), None, reason),
            ("revoke", in_a.attestation_id, wa.to_string(), Some(id(&a)), reason),
        ])
    );

    // Nothing of the person is left in any table, in any scope's hashes; the bystander's
    // scoped hashes are there (the scan sees them). This is the logical dump (every row, and
    // pg_dump): the SQLite files keep freed pages until they are reused, as Postgres keeps
    // dead rows until vacuum.
    let (text, _) = crate::privacy::dump(db).await;
    let text = text.to_lowercase();
    for scope in [None, Some(&a), Some(&b), Some(&c)] {
        for hash in [*person.pseudonym_in(scope).as_bytes(), *person.cert_in(scope).as_bytes()] {
            assert!(!text.contains(&hex::encode(hash)), "a hash of the person is left");
        }
    }
    assert!(text.contains(&hex::encode(bystander.pseudonym_in(Some(&a)).as_bytes())));
    assert!(text.contains(&hex::encode(bystander.cert_in(Some(&a)).as_bytes())));
    assert_eq!(count(db, "SELECT count(*) FROM persons").await, 1);
    assert_eq!(count(db, "SELECT count(*) FROM certificates").await, 1);
    // The records keep their scope (the chain's record has it) but no link to anybody.
    let in_scope_a = blob_is(db, "scope", id(&a).as_bytes());
    assert_eq!(
        count(db, &format!("SELECT count(*) FROM attestations WHERE {in_scope_a}")).await,
        2
    );
    assert_eq!(
        count(db, "SELECT count(*) FROM attestations WHERE person_id IS NOT NULL").await,
        1,
        "only the bystander's"
    );

    // Nobody left under any of the identities.
    assert!(matches!(
        store.erase_person(&identities, now()).await,
        Err(StoreError::PersonNotFound)
    ));
    assert!(matches!(store.erase_person(&[], now()).await, Err(StoreError::PersonNotFound)));
}

async fn a_scoped_revocation_touches_only_its_scope(db: &TestDb) {
    let store = &*db.store;
    let (a, b) = (register(store, "dapp-a").await, register(store, "dapp-b").await);
    let unused = register(store, "dapp-c").await;
    let person = Person::random();
    let refuse = policy(1, AtLimit::Refuse);
    let wallet = random_wallet();
    let global = attest_in(store, &person, wallet, None, &refuse).await.unwrap().receipt;
    let in_a = attest_in(store, &person, wallet, Some(&a), &refuse).await.unwrap().receipt;
    let in_b = attest_in(store, &person, wallet, Some(&b), &refuse).await.unwrap().receipt;
    confirm_all(store).await;

    let holder = RevocationReason::Holder;
    assert_eq!(
        store.revoke_wallet(wallet, Some(&id(&a)), holder, now()).await.unwrap(),
        Some(in_a.attestation_id)
    );
    assert_eq!(
        status(store, in_a.attestation_id).await,
        (AttestationStatus::Revoked, Some(holder))
    );
    for other in [global.attestation_id, in_b.attestation_id] {
        assert_eq!(status(store, other).await, (AttestationStatus::Active, None));
    }
    assert_eq!(store.revoke_wallet(wallet, Some(&id(&a)), holder, now()).await.unwrap(), None);
    assert_eq!(store.revoke_wallet(wallet, Some(&id(&unused)), holder, now()).await.unwrap(), None);
    assert_eq!(
        actions(&claimable(store).await),
        HashSet::from([(
            "revoke",
            in_a.attestation_id,
            wallet.to_string(),
            Some(id(&a)),
            Some(holder)
        )])
    );
    // The wallet is free in A again, and only there.
    let again = attest_in(store, &person, wallet, Some(&a), &refuse).await.unwrap().receipt;
    assert_eq!(record(store, wallet, Some(&a)).await.unwrap().id, again.attestation_id);
    // The global revocation leaves the scoped records alone.
    let operator = RevocationReason::Operator;
    assert_eq!(
        store.revoke_wallet(wallet, None, operator, now()).await.unwrap(),
        Some(global.attestation_id)
    );
    assert_eq!(status(store, in_b.attestation_id).await, (AttestationStatus::Active, None));
}

async fn a_scoped_revoke_waits_for_its_attest(db: &TestDb) {
    let store = &*db.store;
    let (a, b) = (register(store, "dapp-a").await, register(store, "dapp-b").await);
    let refuse = policy(1, AtLimit::Refuse);
    let wallet = random_wallet();
    let in_a = attest_in(store, &Person::random(), wallet, Some(&a), &refuse).await.unwrap();
    // A writer claims the scoped attest and has not confirmed it yet.
    let claimed = claimable(store).await;
    assert_eq!(claimed.len(), 1);
    store.revoke_wallet(wallet, Some(&id(&a)), RevocationReason::Holder, now()).await.unwrap();
    // The same wallet in another scope: independent on chain, but queued behind the wallet's
    // open items all the same (the outbox keeps each wallet's order across its scopes).
    let in_b = attest_in(store, &Person::random(), wallet, Some(&b), &refuse).await.unwrap();
    assert!(claimable(&*db.another_instance().await).await.is_empty());

    store.mark_confirmed(&[claimed[0].id], B256::repeat_byte(1), 9, now()).await.unwrap();
    let next = claimable(store).await;
    assert_eq!(
        actions(&next),
        HashSet::from([(
            "revoke",
            in_a.receipt.attestation_id,
            wallet.to_string(),
            Some(id(&a)),
            Some(RevocationReason::Holder)
        )])
    );
    store.mark_confirmed(&[next[0].id], B256::repeat_byte(1), 10, now()).await.unwrap();
    let last = claimable(store).await;
    assert_eq!(
        actions(&last),
        HashSet::from([(
            "attest",
            in_b.receipt.attestation_id,
            wallet.to_string(),
            Some(id(&b)),
            None
        )])
    );
}

async fn scopes_are_registered_once_and_listed_in_name_order(db: &TestDb) {
    let store = &*db.store;
    assert!(store.scopes().await.unwrap().is_empty());
    for name in ["kyc-drop", "app.example.com", "a.b", "a-b", "0day"] {
        let name = ScopeName::new(name).unwrap();
        assert!(store.register_scope(&name, now()).await.unwrap(), "{name} is new");
    }
    let kyc = ScopeName::new("kyc-drop").unwrap();
    assert!(!store.register_scope(&kyc, now()).await.unwrap(), "registered already");
    let names: Vec<String> =
        store.scopes().await.unwrap().iter().map(|s| s.as_str().to_owned()).collect();
    // Byte order on both backends ('-' before '.').
    assert_eq!(names, ["0day", "a-b", "a.b", "app.example.com", "kyc-drop"]);
    // Stored under its id.
    let stored = blob_is(db, "id", id(&kyc).as_bytes());
    assert_eq!(
        count(db, &format!("SELECT count(*) FROM scopes WHERE {stored} AND name = 'kyc-drop'"))
            .await,
        1
    );

    // A challenge keeps its scope: the message both keys sign names it.
    let challenge =
        settings().issue_in(Purpose::Attest, random_wallet(), None, Some(kyc.clone()), now());
    store.insert_challenge(&challenge).await.unwrap();
    let consumed = store.consume_challenge(&challenge.id, Purpose::Attest, now()).await.unwrap();
    assert_eq!(consumed, challenge);
    assert!(consumed.message().contains(&format!("Scope: kyc-drop ({})\n", id(&kyc))));

    // A record in a scope nobody registered is refused (the life cycle would never reach it),
    // and leaves nothing behind.
    let unknown = ScopeName::new("never-registered").unwrap();
    let refused = attest_in(
        store,
        &Person::random(),
        random_wallet(),
        Some(&unknown),
        &policy(1, AtLimit::Refuse),
    )
    .await;
    assert!(matches!(refused, Err(StoreError::Database(_))), "{refused:?}");
    assert_eq!(count(db, "SELECT count(*) FROM attestations").await, 0);
    assert_eq!(count(db, "SELECT count(*) FROM persons").await, 0);
    assert!(claimable(store).await.is_empty());
}

async fn lapsed_scoped_records_expire_and_free_their_scope(db: &TestDb) {
    let store = &*db.store;
    let a = register(store, "dapp-a").await;
    let person = Person::random();
    let refuse = policy(1, AtLimit::Refuse);
    let wallet = random_wallet();
    // Issued 400 days ago with a 365-day maximum age: lapsed today, in A and globally.
    let issued = now() - Duration::days(400);
    let old_a = attest_at(store, &person, wallet, Some(&a), &refuse, issued).await.unwrap();
    let old_global = attest_at(store, &person, wallet, None, &refuse, issued).await.unwrap();

    // The wallet and the person may attest again in A: the lapsed record there expires...
    let again = attest_in(store, &person, wallet, Some(&a), &refuse).await.unwrap().receipt;
    assert_eq!(record(store, wallet, Some(&a)).await.unwrap().id, again.attestation_id);
    assert_eq!(status(store, old_a.receipt.attestation_id).await.0, AttestationStatus::Expired);
    // ...and the lapsed global one is another scope's business: the sweep expires it.
    let global = store.attestation(&old_global.receipt.attestation_id).await.unwrap().unwrap();
    assert_eq!(global.status, AttestationStatus::Pending);
    let swept = store.expire_attestations(now(), 10).await.unwrap();
    assert_eq!(
        swept,
        [AttestationWallet { attestation_id: old_global.receipt.attestation_id, wallet }]
    );
    // Only the new record goes to the chain.
    assert_eq!(
        actions(&claimable(store).await),
        HashSet::from([("attest", again.attestation_id, wallet.to_string(), Some(id(&a)), None)])
    );
}
