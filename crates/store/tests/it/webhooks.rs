//! Webhook endpoints and deliveries: every status change queues one delivery per subscribed
//! endpoint in its own transaction; attempts retry, die and are redelivered; delivered ones are
//! purged after their retention.

use honnin_core::{
    AtLimit, AttestationStatus, B256, CertHash, RenewalLink, RevocationReason, RevokedCertificate,
    Store,
    webhook::{
        AttemptOutcome, DeliveryQuery, DeliveryState, EndpointSource, EventSet, NewWebhookEndpoint,
        WebhookDelivery, WebhookEndpointId, WebhookEvent, WebhookSecret, address::AddressPolicy,
    },
};
use time::Duration;

use crate::harness::{Person, TestDb, attest, both_backends, now, pepper, policy, random_wallet};

both_backends!(
    every_status_change_queues_a_delivery_per_subscriber,
    attempts_retry_die_and_are_redelivered,
    endpoints_are_registered_rotated_deleted_and_synced_from_config,
);

fn endpoint(events: EventSet, source: EndpointSource) -> NewWebhookEndpoint {
    let dev = AddressPolicy { allow_http: true, allow_private: true };
    NewWebhookEndpoint {
        id: WebhookEndpointId::random(),
        url: dev.check_url("http://127.0.0.1:9/hook").unwrap(),
        events,
        secret: WebhookSecret::generate(),
        source,
    }
}

fn cert_of(person: &Person) -> CertHash {
    pepper().cert_hash(&person.root_key_id, &person.serial)
}

async fn deliveries(store: &dyn Store, endpoint: WebhookEndpointId) -> Vec<WebhookDelivery> {
    let query = DeliveryQuery { endpoint_id: Some(endpoint), limit: 1000, ..Default::default() };
    store.webhook_deliveries(&query).await.unwrap()
}

async fn confirm_all(store: &dyn Store) {
    let items = store.claim_outbox(1000, Duration::minutes(5), now()).await.unwrap();
    let ids: Vec<_> = items.iter().map(|i| i.id).collect();
    if !ids.is_empty() {
        store.mark_confirmed(&ids, B256::repeat_byte(3), 7, now()).await.unwrap();
    }
}

async fn every_status_change_queues_a_delivery_per_subscriber(db: &TestDb) {
    let store = &*db.store;
    let everything = endpoint(EventSet::ALL, EndpointSource::Api);
    let revocations = endpoint(EventSet::of([WebhookEvent::Revoked]), EndpointSource::Api);
    store.create_webhook_endpoint(&everything, now()).await.unwrap();
    store.create_webhook_endpoint(&revocations, now()).await.unwrap();

    // Recording a pending attestation is no event; its confirmation is.
    let old = Person::random();
    let wallet = random_wallet();
    let first = attest(store, &old, wallet, &policy(1, AtLimit::Refuse)).await.unwrap().receipt;
    assert!(deliveries(store, everything.id).await.is_empty());
    confirm_all(store).await;
    // A renewal moves the attestation to the new certificate: renewed, still active.
    let new = Person { serial: Person::random().serial, ..old.clone() };
    store
        .link_renewals(&[RenewalLink { old: cert_of(&old), new: cert_of(&new) }], now())
        .await
        .unwrap();
    let superseded = RevokedCertificate {
        cert: cert_of(&old),
        reason: RevocationReason::Superseded,
        revoked_at: now(),
    };
    assert_eq!(store.revoke_certificates(&[superseded], now()).await.unwrap().moved.len(), 1);
    // Rotation (inside the attestation transaction) revokes it.
    let second = attest(store, &new, random_wallet(), &policy(1, AtLimit::Rotate)).await.unwrap();
    assert_eq!(second.rotated.len(), 1);
    // The holder revokes the second; a third expires; a fourth is erased.
    store
        .revoke_wallet(second.receipt.wallet, None, RevocationReason::Holder, now())
        .await
        .unwrap();
    let third = attest(store, &Person::random(), random_wallet(), &policy(1, AtLimit::Refuse))
        .await
        .unwrap()
        .receipt;
    store.expire_attestations(now() + Duration::days(400), 10).await.unwrap();
    let erased = Person::random();
    let fourth =
        attest(store, &erased, random_wallet(), &policy(1, AtLimit::Refuse)).await.unwrap().receipt;
    let p = pepper();
    store
        .erase_person(
            &[(cert_of(&erased), p.pseudonym(&erased.root_key_id, &erased.serial))],
            now(),
        )
        .await
        .unwrap();

    let seen: Vec<_> = deliveries(store, everything.id)
        .await
        .into_iter()
        .map(|d| {
            assert_eq!(d.state, DeliveryState::Pending);
            assert_eq!(d.attempts, 0);
            assert_eq!(d.endpoint_id, everything.id);
            (d.change.event, d.change.attestation_id, d.change.status, d.change.reason)
        })
        .collect();
    use AttestationStatus as S;
    use RevocationReason as R;
    use WebhookEvent as E;
    assert_eq!(
        seen,
        [
            (E::Active, first.attestation_id, S::Active, None),
            (E::Renewed, first.attestation_id, S::Active, None),
            (E::Revoked, first.attestation_id, S::Revoked, Some(R::Rotated)),
            (E::Revoked, second.receipt.attestation_id, S::Revoked, Some(R::Holder)),
            (E::Expired, third.attestation_id, S::Expired, None),
            (E::Revoked, fourth.attestation_id, S::Revoked, Some(R::Erasure)),
        ]
    );
    let all = deliveries(store, everything.id).await;
    assert_eq!(all[0].change.wallet, wallet);
    assert_eq!(all[0].change.expires_at, first.expires_at);
    // Message ids are distinct and stay with their delivery.
    let mut ids: Vec<_> = all.iter().map(|d| d.message_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), all.len());
    // The revocations-only endpoint got just the three revocations.
    let theirs = deliveries(store, revocations.id).await;
    assert_eq!(theirs.len(), 3);
    assert!(theirs.iter().all(|d| d.change.event == WebhookEvent::Revoked));
    // Each is due from its change's time (the sweep ran "400 days later"), with its
    // endpoint's URL and secret.
    assert_eq!(store.due_webhook_deliveries(100, now()).await.unwrap().len(), 8);
    let due = store.due_webhook_deliveries(100, now() + Duration::days(400)).await.unwrap();
    assert_eq!(due.len(), 9);
    assert!(due.iter().any(|d| d.secret == revocations.secret));
}

async fn attempts_retry_die_and_are_redelivered(db: &TestDb) {
    let store = &*db.store;
    let hook = endpoint(EventSet::ALL, EndpointSource::Api);
    store.create_webhook_endpoint(&hook, now()).await.unwrap();
    for _ in 0..3 {
        let person = Person::random();
        attest(store, &person, random_wallet(), &policy(1, AtLimit::Refuse)).await.unwrap();
    }
    confirm_all(store).await;
    let due = store.due_webhook_deliveries(10, now()).await.unwrap();
    assert_eq!(due.len(), 3);
    let (a, b, c) = (due[0].delivery.id, due[1].delivery.id, due[2].delivery.id);

    let later = now() + Duration::minutes(5);
    let retry =
        AttemptOutcome::Retry { retry_at: later, error: "status 503".into(), status: Some(503) };
    assert!(store.record_webhook_attempt(a, &retry, now()).await.unwrap());
    assert!(
        store
            .record_webhook_attempt(b, &AttemptOutcome::Delivered { status: 204 }, now())
            .await
            .unwrap()
    );
    let dead = AttemptOutcome::Dead { error: "connection refused".into(), status: None };
    assert!(store.record_webhook_attempt(c, &dead, now()).await.unwrap());
    // A settled delivery takes no more attempts.
    assert!(!store.record_webhook_attempt(b, &retry, now()).await.unwrap());

    // Only the retried one comes back, and only when it is due.
    assert!(store.due_webhook_deliveries(10, now()).await.unwrap().is_empty());
    let again = store.due_webhook_deliveries(10, later).await.unwrap();
    assert_eq!(again.iter().map(|d| d.delivery.id).collect::<Vec<_>>(), [a]);
    assert_eq!(again[0].delivery.attempts, 1);
    assert_eq!(again[0].delivery.last_status, Some(503));
    assert_eq!(again[0].delivery.last_error.as_deref(), Some("status 503"));

    let by_state = |state| DeliveryQuery { state: Some(state), limit: 10, ..Default::default() };
    let listed = store.webhook_deliveries(&by_state(DeliveryState::Dead)).await.unwrap();
    assert_eq!(listed.iter().map(|d| d.id).collect::<Vec<_>>(), [c]);
    assert_eq!(listed[0].last_error.as_deref(), Some("connection refused"));
    let delivered = store.webhook_deliveries(&by_state(DeliveryState::Delivered)).await.unwrap();
    assert_eq!(delivered[0].last_status, Some(204));
    assert!(delivered[0].delivered_at.is_some());
    // Cursor paging.
    let page = DeliveryQuery { after: Some(a), limit: 1, ..Default::default() };
    assert_eq!(store.webhook_deliveries(&page).await.unwrap()[0].id, b);

    // A dead delivery is redelivered with the same message id; others are not dead.
    assert_eq!(store.redeliver_webhook(c, now()).await.unwrap(), Some(true));
    assert_eq!(store.redeliver_webhook(b, now()).await.unwrap(), Some(false));
    assert_eq!(store.redeliver_webhook(a, now()).await.unwrap(), Some(false));
    assert_eq!(store.redeliver_webhook(c + 1000, now()).await.unwrap(), None);
    let back = store.due_webhook_deliveries(10, now()).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].delivery.id, c);
    assert_eq!(back[0].delivery.attempts, 0);
    assert_eq!(back[0].delivery.message_id, due[2].delivery.message_id);

    // Retention: only deliveries delivered before the cut-off go; the pending one (a) and the
    // redelivered one (c) stay, whatever their age.
    assert_eq!(store.purge_delivered_webhooks(now() - Duration::minutes(1)).await.unwrap(), 0);
    assert_eq!(store.purge_delivered_webhooks(now() + Duration::minutes(10)).await.unwrap(), 1);
    let left: Vec<_> = deliveries(store, hook.id).await.iter().map(|d| d.id).collect();
    assert_eq!(left, [a, c]);
    assert_eq!(store.purge_delivered_webhooks(now() + Duration::minutes(10)).await.unwrap(), 0);
}

async fn endpoints_are_registered_rotated_deleted_and_synced_from_config(db: &TestDb) {
    let store = &*db.store;
    let api = endpoint(EventSet::ALL, EndpointSource::Api);
    store.create_webhook_endpoint(&api, now()).await.unwrap();
    let configured = |name: &str, events| NewWebhookEndpoint {
        id: WebhookEndpointId::configured(name),
        source: EndpointSource::Config,
        ..endpoint(events, EndpointSource::Config)
    };
    let (shop, drop) = (configured("shop", EventSet::ALL), configured("drop", EventSet::ALL));
    store.sync_configured_webhooks(&[shop.clone(), drop.clone()], now()).await.unwrap();
    let listed = store.webhook_endpoints().await.unwrap();
    assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), [api.id, shop.id, drop.id]);
    assert_eq!(listed[1].source, EndpointSource::Config);
    assert_eq!(listed[0].url, "http://127.0.0.1:9/hook");

    // Deliveries to a configured endpoint survive a restart that declares it again.
    attest(store, &Person::random(), random_wallet(), &policy(1, AtLimit::Refuse)).await.unwrap();
    confirm_all(store).await;
    assert_eq!(deliveries(store, drop.id).await.len(), 1);
    let revoked_only = configured("drop", EventSet::of([WebhookEvent::Revoked]));
    store.sync_configured_webhooks(std::slice::from_ref(&revoked_only), now()).await.unwrap();
    let listed = store.webhook_endpoints().await.unwrap();
    assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), [api.id, drop.id]);
    assert_eq!(listed[1].events, revoked_only.events);
    assert_eq!(listed[1].secret, revoked_only.secret);
    assert_eq!(deliveries(store, drop.id).await.len(), 1);

    // Rotation replaces the secret; deletion takes the deliveries with it.
    let secret = WebhookSecret::generate();
    assert!(store.rotate_webhook_secret(&api.id, &secret, now()).await.unwrap());
    assert_eq!(store.webhook_endpoints().await.unwrap()[0].secret, secret);
    assert!(
        !store.rotate_webhook_secret(&WebhookEndpointId::random(), &secret, now()).await.unwrap()
    );
    assert_eq!(deliveries(store, api.id).await.len(), 1);
    assert!(store.delete_webhook_endpoint(&api.id).await.unwrap());
    assert!(!store.delete_webhook_endpoint(&api.id).await.unwrap());
    assert!(deliveries(store, api.id).await.is_empty());
    // An empty configuration removes the configured ones.
    store.sync_configured_webhooks(&[], now()).await.unwrap();
    assert!(store.webhook_endpoints().await.unwrap().is_empty());
}
