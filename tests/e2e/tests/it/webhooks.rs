//! Webhooks end to end, against a real HTTP receiver on 127.0.0.1, on Postgres and on SQLite:
//! every event delivered and its signature verified; a receiver that is down gets the delivery
//! once it is back; a restart in the middle of a delivery loses nothing; private addresses
//! refused at registration and at delivery; nothing personal in any body or header.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use honnin_api::{ChallengeResponse, RevocationRequest};
use honnin_core::webhook::{
    AddressPolicy, DeliveryQuery, DeliveryState, EndpointSource, EventSet, NewWebhookEndpoint,
    WebhookDelivery, WebhookEndpointId, WebhookPayload, WebhookSecret,
    signing::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER},
    verify,
};
use honnin_e2e::{
    Client, Deployment, JobIntervals, Options, Person, personal_sign, privacy,
    receiver::{Answer, Received, Receiver},
    root,
};
use honnin_jpki::RevocationReason as CardReason;
use honnin_service::{ConfiguredWebhook, Secret, WebhookConfig};

use crate::support::CONFIRM;

const TOKEN: &str = "webhook-e2e-operator";
/// How long a test waits for a delivery.
const DELIVER: Duration = Duration::from_secs(30);

/// Runs each test body on Postgres and on SQLite.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() -> anyhow::Result<()> {
                    super::$name(false).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() -> anyhow::Result<()> {
                    super::$name(true).await
                }
            }
        )*
    };
}

both_backends!(
    every_event_is_delivered_signed_and_carries_nothing_personal,
    a_receiver_that_is_down_gets_the_delivery_once_it_is_back,
    a_restart_in_the_middle_of_a_delivery_loses_nothing,
    private_addresses_are_refused_at_registration_and_at_delivery,
    delivered_deliveries_are_purged_after_their_retention_and_dead_ones_stay,
);

/// Quick retries, private addresses allowed (the receiver is on 127.0.0.1), dev mode (http).
fn options(sqlite: bool, webhooks: WebhookConfig) -> Options {
    Options {
        sqlite,
        dev: true,
        admin_token: Some(TOKEN.into()),
        webhooks: WebhookConfig {
            allow_private_addresses: true,
            retry_base: Duration::from_millis(300),
            retry_max: Duration::from_secs(2),
            poll: Duration::from_millis(100),
            lease_retry: Duration::from_millis(500),
            timeout: Duration::from_secs(5),
            ..webhooks
        },
        ..Options::default()
    }
}

fn admin(d: &Deployment) -> (reqwest::Client, String) {
    (reqwest::Client::new(), d.instance().url.clone())
}

/// Registers an endpoint through the admin API; (status, body).
async fn register(d: &Deployment, url: &str) -> Result<(u16, serde_json::Value)> {
    let (http, base) = admin(d);
    let reply = http
        .post(format!("{base}/v1/admin/webhooks"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "url": url }))
        .send()
        .await?;
    Ok((reply.status().as_u16(), reply.json().await?))
}

/// Registers an endpoint; its id and secret.
async fn registered(d: &Deployment, url: &str) -> Result<(String, WebhookSecret)> {
    let (status, body) = register(d, url).await?;
    ensure!(status == 201, "register: {status} {body}");
    let secret = WebhookSecret::parse(body["secret"].as_str().context("secret")?)?;
    Ok((body["endpoint"]["id"].as_str().context("id")?.to_owned(), secret))
}

/// The deliveries the admin API lists (all states).
async fn deliveries(d: &Deployment, query: &str) -> Result<Vec<serde_json::Value>> {
    let (http, base) = admin(d);
    let reply = http
        .get(format!("{base}/v1/admin/webhook-deliveries?{query}"))
        .bearer_auth(TOKEN)
        .send()
        .await?;
    ensure!(reply.status() == 200, "deliveries: {}", reply.status());
    let body: serde_json::Value = reply.json().await?;
    Ok(body["deliveries"].as_array().context("deliveries")?.clone())
}

/// Polls the store until `check` holds for the deliveries, at most `timeout`.
async fn until_deliveries(
    d: &Deployment,
    timeout: Duration,
    what: &str,
    check: impl Fn(&[WebhookDelivery]) -> bool,
) -> Result<Vec<WebhookDelivery>> {
    let deadline = Instant::now() + timeout;
    loop {
        let query = DeliveryQuery { limit: 1000, ..DeliveryQuery::default() };
        let found = d.instance().store.webhook_deliveries(&query).await?;
        if check(&found) {
            return Ok(found);
        }
        if Instant::now() > deadline {
            bail!("deliveries never {what}: {found:#?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn challenge_for(
    client: &Client,
    person: &Person,
    purpose: &str,
) -> Result<ChallengeResponse> {
    let body = serde_json::json!({ "wallet": person.address().to_string(), "purpose": purpose });
    let reply = client.post("/v1/challenges", &body).await?;
    ensure!(reply.status == 201, "challenge: {} {}", reply.status, reply.body);
    Ok(serde_json::from_value(reply.body)?)
}

/// Checks a received request: the Standard Webhooks headers, the signature under `secret`,
/// a fresh timestamp; returns its payload.
fn verified(received: &Received, secret: &WebhookSecret) -> Result<WebhookPayload> {
    let id = received.header(ID_HEADER).context("webhook-id")?;
    let timestamp: i64 = received.header(TIMESTAMP_HEADER).context("webhook-timestamp")?.parse()?;
    let signature = received.header(SIGNATURE_HEADER).context("webhook-signature")?;
    ensure!(id.starts_with("msg_") && id.len() == 36, "webhook-id {id}");
    ensure!(signature.starts_with("v1,"), "webhook-signature {signature}");
    ensure!(verify(secret, signature, id, timestamp, &received.body), "the signature verifies");
    let age = time::OffsetDateTime::now_utc().unix_timestamp() - timestamp;
    ensure!((-5..120).contains(&age), "timestamp {age} s old");
    ensure!(received.header("content-type") == Some("application/json"));
    Ok(serde_json::from_slice(&received.body)?)
}

async fn every_event_is_delivered_signed_and_carries_nothing_personal(sqlite: bool) -> Result<()> {
    let receiver = Receiver::start(Answer::Status(204)).await?;
    let jobs = JobIntervals { sweep: Some(Duration::from_secs(1)), ..JobIntervals::default() };
    let d =
        Deployment::start(Options { jobs, ..options(sqlite, WebhookConfig::default()) }).await?;
    let client = d.client();
    let (_, secret) = registered(&d, &receiver.url()).await?;

    // active, then renewed (the certificate superseded by a linked successor), then revoked by
    // the holder; a second person's attestation expires with its certificate.
    let old = Person::new("webhook-renew-old", 1);
    let new = Person::new("webhook-renew-new", 2);
    let accepted = client.flow(&old).await?;
    client.wait_for(old.address(), "active", CONFIRM).await?;
    d.publish_links(&[(old.card.serial(), new.card.serial())])?;
    d.publish_crl(&[(old.card.serial().to_vec(), CardReason::Superseded)])?;
    let report = d.revocation_sync()?.cycle(false, &mut |_| {}).await?;
    ensure!(report.attestations_moved() == 1, "{report:?}");
    let challenge = challenge_for(&client, &old, "revoke").await?;
    let revoke = RevocationRequest {
        challenge_id: challenge.id.clone(),
        wallet_signature: personal_sign(&old.wallet, &challenge.message),
    };
    let reply = client.post("/v1/revocations", &revoke).await?;
    ensure!(reply.status == 202, "revoke: {} {}", reply.status, reply.body);
    let not_after =
        time::OffsetDateTime::now_utc().replace_nanosecond(0)? + time::Duration::seconds(8);
    let short = Person::with_spec("webhook-expiry", 3, |spec| spec.not_after = not_after);
    let expiring = client.flow(&short).await?;
    client.wait_for(short.address(), "expired", CONFIRM).await?;

    // Planted: a request carrying an individual number (refused; it must not travel on).
    let number = privacy::individual_number(12_345_678_901);
    let challenge = client.challenge(short.address()).await?;
    let mut body = serde_json::to_value(short.request(&challenge))?;
    body["holder_number"] = number.clone().into();
    client
        .post("/v1/attestations", &body)
        .await?
        .assert_problem(400, "individual_number_forbidden");

    let received = receiver.wait_for(5, DELIVER).await?;
    let mut events = Vec::new();
    for request in &received {
        let payload = verified(request, &secret)?;
        events.push((payload.r#type.clone(), payload.data.attestation_id.clone()));
        ensure!(payload.data.wallet.starts_with("0x"));
        match payload.r#type.as_str() {
            "attestation.revoked" => ensure!(payload.data.reason.as_deref() == Some("holder")),
            _ => ensure!(payload.data.reason.is_none()),
        }
    }
    events.sort();
    let (a, e) = (accepted.attestation_id, expiring.attestation_id);
    let mut expected = vec![
        ("attestation.active".to_owned(), a.clone()),
        ("attestation.renewed".to_owned(), a.clone()),
        ("attestation.revoked".to_owned(), a),
        ("attestation.active".to_owned(), e.clone()),
        ("attestation.expired".to_owned(), e),
    ];
    expected.sort();
    assert_eq!(events, expected);
    let settled = until_deliveries(&d, DELIVER, "all delivered", |all| {
        all.len() == 5 && all.iter().all(|d| d.state == DeliveryState::Delivered)
    })
    .await?;
    assert!(settled.iter().all(|d| d.attempts == 1 && d.last_status == Some(204)));
    let text = reqwest::get(format!("{}/metrics", d.instance().url)).await?.text().await?;
    ensure!(
        text.lines().any(|line| line == r#"honnin_webhook_attempts_total{outcome="delivered"} 5"#),
        "metrics: {text}"
    );
    ensure!(text.lines().any(|line| line == "honnin_webhook_leader 1"), "metrics: {text}");

    // Nothing personal in any body or header: certificates, serials, subject ids, public keys,
    // pseudonyms, the individual number.
    let mut needles = privacy::Needles::new();
    for (label, person) in [("old", &old), ("new", &new), ("short", &short)] {
        needles.person(label, person);
        let pseudonym = d.pepper.pseudonym(root().key_id(), person.card.serial());
        needles.push(format!("pseudonym of {label}"), pseudonym.as_bytes().to_vec());
        let cert = d.pepper.cert_hash(root().key_id(), person.card.serial());
        needles.push(format!("certificate hash of {label}"), cert.as_bytes().to_vec());
    }
    needles.push("individual number", number.as_bytes());
    let mut everything = String::new();
    for request in &received {
        for (name, value) in &request.headers {
            everything.push_str(&format!("{name}: {value}\n"));
        }
        everything.push_str(&String::from_utf8_lossy(&request.body));
        everything.push('\n');
    }
    assert_eq!(needles.find_in_text(&everything), Vec::<String>::new(), "found in deliveries");
    // The scan finds what it looks for, planted where a leak would be.
    let planted = format!(
        "{everything}{{\"serial\":\"{}\",\"holder\":\"{number}\"}}",
        hex::encode(old.card.serial())
    );
    let found = needles.find_in_text(&planted);
    ensure!(found.contains(&"serial of old".to_owned()), "{found:?}");
    ensure!(found.contains(&"individual number".to_owned()), "{found:?}");
    Ok(())
}

async fn a_receiver_that_is_down_gets_the_delivery_once_it_is_back(sqlite: bool) -> Result<()> {
    // Declared in the configuration this time; nothing listens at its address yet.
    let addr = Receiver::unused_addr().await?;
    let secret = WebhookSecret::generate();
    let configured = ConfiguredWebhook {
        name: "dapp".into(),
        url: format!("http://{addr}/hooks"),
        events: EventSet::ALL,
        secret: Secret::new(secret.expose()),
    };
    let webhooks = WebhookConfig { endpoints: vec![configured], ..WebhookConfig::default() };
    let options = options(sqlite, webhooks);
    let options = Options {
        webhooks: WebhookConfig {
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(8),
            ..options.webhooks.clone()
        },
        ..options
    };
    let d = Deployment::start(options).await?;
    let person = Person::new("webhook-down", 1);
    d.client().flow(&person).await?;
    d.client().wait_for(person.address(), "active", CONFIRM).await?;

    // Retried with growing delays while the receiver is down.
    let failing = until_deliveries(&d, DELIVER, "retried three times", |all| {
        all.len() == 1 && all[0].attempts >= 3
    })
    .await?;
    let delivery = &failing[0];
    assert_eq!(delivery.state, DeliveryState::Pending);
    assert_eq!(delivery.last_error.as_deref(), Some("could not connect"));
    assert!(delivery.next_attempt_at >= delivery.created_at);
    let listed = deliveries(&d, "state=pending").await?;
    assert_eq!(listed[0]["last_error"], "could not connect");
    // Backing off: without it, three more seconds would be three more attempts (retries are
    // due at whole seconds); with it the next delay is 2 to 4 s, the one after 4 to 8 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = until_deliveries(&d, DELIVER, "read", |all| all.len() == 1).await?;
    ensure!(
        later[0].attempts <= delivery.attempts + 1,
        "{} then {}",
        delivery.attempts,
        later[0].attempts
    );
    ensure!(later[0].next_attempt_at >= delivery.next_attempt_at);

    // Back up: delivered once, with the message id it was queued with.
    let receiver = Receiver::start_on(addr, Answer::Status(200)).await?;
    let received = receiver.wait_for(1, DELIVER).await?;
    let payload = verified(&received[0], &secret)?;
    assert_eq!(payload.r#type, "attestation.active");
    assert_eq!(received[0].header(ID_HEADER), Some(delivery.message_id.to_string().as_str()));
    let done =
        until_deliveries(&d, DELIVER, "delivered", |all| all[0].state == DeliveryState::Delivered)
            .await?;
    assert!(done[0].attempts >= 4, "{:?}", done[0]);
    // Exactly once: nothing more arrives.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.received().len(), 1);
    Ok(())
}

async fn delivered_deliveries_are_purged_after_their_retention_and_dead_ones_stay(
    sqlite: bool,
) -> Result<()> {
    // One endpoint that answers, one where nothing listens (one attempt: dead at once).
    let receiver = Receiver::start(Answer::Status(204)).await?;
    let down = Receiver::unused_addr().await?;
    let endpoint = |name: &str, url: String| ConfiguredWebhook {
        name: name.into(),
        url,
        events: EventSet::ALL,
        secret: Secret::new(WebhookSecret::generate().expose()),
    };
    let webhooks = WebhookConfig {
        endpoints: vec![
            endpoint("up", receiver.url()),
            endpoint("down", format!("http://{down}/hooks")),
        ],
        retry_limit: 1,
        retention: Duration::from_secs(2),
        purge_interval: Duration::from_millis(200),
        ..WebhookConfig::default()
    };
    let d = Deployment::start(options(sqlite, webhooks)).await?;
    let person = Person::new("webhook-retention", 1);
    d.client().flow(&person).await?;
    d.client().wait_for(person.address(), "active", CONFIRM).await?;
    let settled = until_deliveries(&d, DELIVER, "settled", |all| {
        all.len() == 2 && all.iter().all(|x| x.state != DeliveryState::Pending)
    })
    .await?;
    ensure!(receiver.received().len() == 1, "one delivery arrived");
    let dead = settled.iter().find(|x| x.state == DeliveryState::Dead).context("a dead one")?;
    // After the retention the lease holder deletes the delivered one; the dead one stays for
    // the operator (listed, redeliverable).
    let left =
        until_deliveries(&d, Duration::from_secs(10), "purged", |all| all.len() == 1).await?;
    assert_eq!(left[0].id, dead.id);
    assert_eq!(left[0].state, DeliveryState::Dead);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = until_deliveries(&d, DELIVER, "read", |_| true).await?;
    assert_eq!(still.iter().map(|x| x.id).collect::<Vec<_>>(), [dead.id], "dead ones stay");
    Ok(())
}

async fn a_restart_in_the_middle_of_a_delivery_loses_nothing(sqlite: bool) -> Result<()> {
    // The receiver takes the request and does not answer: the delivery is in flight.
    let receiver = Receiver::start(Answer::Hang).await?;
    let options = options(
        sqlite,
        WebhookConfig { timeout: Duration::from_secs(60), ..WebhookConfig::default() },
    );
    let options = Options {
        webhooks: WebhookConfig { timeout: Duration::from_secs(60), ..options.webhooks.clone() },
        ..options
    };
    let mut d = Deployment::start(options.clone()).await?;
    let (_, secret) = registered(&d, &receiver.url()).await?;
    let person = Person::new("webhook-restart", 1);
    d.client().flow(&person).await?;
    let first = receiver.wait_for(1, CONFIRM).await?;
    let message_id = first[0].header(ID_HEADER).context("id")?.to_owned();

    // Stopped mid-delivery: still queued.
    d.stop().await?;
    receiver.answer(Answer::Status(200));
    d.start_again(&options).await?;
    let query = DeliveryQuery { limit: 10, ..DeliveryQuery::default() };
    let pending = d.instance().store.webhook_deliveries(&query).await?;
    ensure!(pending.len() == 1, "{pending:?}");

    // The new instance sends it again, the same message; now it is delivered.
    let again = receiver.wait_for(2, DELIVER).await?;
    assert_eq!(again[1].header(ID_HEADER), Some(message_id.as_str()));
    assert_eq!(again[1].body, first[0].body, "the same body on every attempt");
    assert_eq!(verified(&again[1], &secret)?.r#type, "attestation.active");
    until_deliveries(&d, DELIVER, "delivered", |all| all[0].state == DeliveryState::Delivered)
        .await?;
    Ok(())
}

async fn private_addresses_are_refused_at_registration_and_at_delivery(sqlite: bool) -> Result<()> {
    let receiver = Receiver::start(Answer::Status(200)).await?;
    let options = options(sqlite, WebhookConfig::default());
    let options = Options {
        webhooks: WebhookConfig {
            allow_private_addresses: false,
            retry_limit: 2,
            ..options.webhooks.clone()
        },
        ..options
    };
    // Declared in the configuration: the service does not start.
    let declared = ConfiguredWebhook {
        name: "inside".into(),
        url: receiver.url(),
        events: EventSet::ALL,
        secret: Secret::new(WebhookSecret::generate().expose()),
    };
    let refused = Deployment::start(Options {
        webhooks: WebhookConfig { endpoints: vec![declared], ..options.webhooks.clone() },
        ..options.clone()
    })
    .await
    .err()
    .context("a private endpoint in the configuration must stop start-up")?;
    ensure!(format!("{refused:#}").contains("webhooks.endpoints"), "{refused:#}");

    let d = Deployment::start(options).await?;
    // A literal loopback address: refused at once.
    let (status, body) = register(&d, &receiver.url()).await?;
    assert_eq!((status, body["code"].as_str()), (422, Some("webhook_url_refused")));
    // One registered while private addresses were allowed (as under `honnin dev`) is refused
    // at delivery once they are not.
    let earlier = NewWebhookEndpoint {
        id: WebhookEndpointId::random(),
        url: AddressPolicy { allow_http: true, allow_private: true }.check_url(&receiver.url())?,
        events: EventSet::ALL,
        secret: WebhookSecret::generate(),
        source: EndpointSource::Api,
    };
    d.instance().store.create_webhook_endpoint(&earlier, honnin_core::time::now()).await?;
    // A name is checked when it is resolved: `localhost` resolves to loopback, so every
    // delivery is refused and the receiver hears nothing.
    let by_name = format!("http://localhost:{}/hooks", receiver.addr().port());
    let (endpoint, _) = registered(&d, &by_name).await?;
    let person = Person::new("webhook-private", 1);
    d.client().flow(&person).await?;
    d.client().wait_for(person.address(), "active", CONFIRM).await?;
    let dead = until_deliveries(&d, DELIVER, "dead", |all| {
        all.len() == 2 && all.iter().all(|d| d.state == DeliveryState::Dead)
    })
    .await?;
    for delivery in &dead {
        assert_eq!(delivery.attempts, 2);
        let error = delivery.last_error.clone().unwrap_or_default();
        let expected =
            if delivery.endpoint_id == earlier.id { "not a public one" } else { "not allowed" };
        assert!(error.contains(expected), "{error}");
    }
    assert!(receiver.received().is_empty(), "nothing reached the receiver");

    // Dead letters are visible to the operator, and can be redelivered (refused again).
    let listed = deliveries(&d, &format!("state=dead&endpoint={endpoint}")).await?;
    assert_eq!(listed.len(), 1);
    let (http, base) = admin(&d);
    let id = listed[0]["id"].as_i64().context("id")?;
    let reply = http
        .post(format!("{base}/v1/admin/webhook-deliveries/{id}/redeliver"))
        .bearer_auth(TOKEN)
        .send()
        .await?;
    assert_eq!(reply.status(), 202);
    until_deliveries(&d, DELIVER, "dead again", |all| {
        all.iter().all(|d| d.state == DeliveryState::Dead && d.attempts == 2)
    })
    .await?;
    assert!(receiver.received().is_empty());
    Ok(())
}

/// Two instances on one Postgres database: one holds the lease and delivers; each delivery
/// arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_delivers_at_a_time() -> Result<()> {
    let receiver = Receiver::start(Answer::Status(200)).await?;
    let d = Deployment::start(Options { instances: 2, ..options(false, WebhookConfig::default()) })
        .await?;
    registered(&d, &receiver.url()).await?;
    let people: Vec<Person> = (1..=3).map(|n| Person::new("webhook-lease", n)).collect();
    for (n, person) in people.iter().enumerate() {
        // Through both instances.
        d.instances[n % 2].client().flow(person).await?;
    }
    let received = receiver.wait_for(3, DELIVER).await?;
    until_deliveries(&d, DELIVER, "delivered", |all| {
        all.len() == 3 && all.iter().all(|d| d.state == DeliveryState::Delivered)
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut ids: Vec<_> =
        receiver.received().iter().filter_map(|r| r.header(ID_HEADER).map(str::to_owned)).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((received.len(), receiver.received().len(), ids.len()), (3, 3, 3));
    let mut leaders = 0;
    for instance in &d.instances {
        let text = reqwest::get(format!("{}/metrics", instance.url)).await?.text().await?;
        if text.lines().any(|line| line == "honnin_webhook_leader 1") {
            leaders += 1;
        }
    }
    assert_eq!(leaders, 1, "exactly one instance holds the webhooks lease");
    Ok(())
}
