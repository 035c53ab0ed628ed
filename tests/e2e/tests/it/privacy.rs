//! Privacy after a full run: a `pg_dump` of the database, every captured log line (TRACE, all
//! crates) and the chain (calldata, event logs, every storage write) hold no certificate bytes,
//! serial, subject id, public key or individual number. Each scan is shown to work by planting
//! a value it must find.

use alloy::providers::Provider as _;
use anyhow::{Context as _, Result};
use honnin_e2e::{Deployment, Options, Person, logs, privacy};

use crate::support::CONFIRM;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_in_database_logs_or_chain() -> Result<()> {
    logs::capture();
    let revoked = Person::new("privacy-revoked", 9);
    let mut d = Deployment::start(Options {
        revoked_serials: vec![revoked.card.serial().to_vec()],
        ..Options::default()
    })
    .await?;
    let client = d.client();
    let mut needles = privacy::Needles::new();

    // A full run: three people attested and confirmed on chain, one replayed, one refused
    // (revoked card), one request carrying an individual number.
    // Each also sends a signing certificate (age claims) with planted basic attributes.
    let people: Vec<Person> = (1..=3).map(|n| Person::new("privacy", n)).collect();
    let mut birth_dates = Vec::new();
    for (n, person) in people.iter().enumerate() {
        needles.person(&format!("person {n}"), person);
        let (signing, attributes, birth) = planted_signing_card(n);
        needles.signing(&format!("person {n}"), &signing, &attributes, birth);
        birth_dates.push(birth);
        let challenge = client.challenge(person.address()).await?;
        let mut request = person.request(&challenge);
        request.signing_certificate = Some(honnin_e2e::b64(signing.der()));
        request.signing_signature =
            Some(honnin_e2e::b64(&signing.sign(challenge.message.as_bytes())));
        let accepted = client.attest(&request).await?;
        assert_eq!(accepted.claims, 0b111, "adults: {accepted:?}");
        client.attest(&request).await?;
    }
    needles.person("the revoked person", &revoked);
    let challenge = client.challenge(revoked.address()).await?;
    client.submit(&revoked.request(&challenge)).await?.assert_problem(422, "revoked");
    let number = privacy::individual_number(98_765_432_109);
    needles.push("individual number", number.as_bytes());
    let challenge = client.challenge(people[0].address()).await?;
    let mut body = serde_json::to_value(people[0].request(&challenge))?;
    body["certificate_holder"] = serde_json::Value::String(number.clone());
    client
        .post("/v1/attestations", &body)
        .await?
        .assert_problem(400, "individual_number_forbidden");
    for person in &people {
        client.wait_for(person.address(), "active", CONFIRM).await?;
        assert!(d.chain.is_verified(person.address()).await?);
    }
    d.stop().await?;

    // The database.
    let dump = d.pg_dump().await?;
    assert!(dump.contains("INSERT INTO public.attestations"), "the dump has the rows");
    assert_eq!(privacy_hits(&needles.find_in_text(&dump)), "", "found in the pg_dump");

    // The logs.
    let captured = logs::captured();
    assert!(captured.contains("honnin"), "the capture saw the service's logs");
    assert_eq!(privacy_hits(&needles.find_in_text(&captured)), "", "found in the logs");

    // The chain.
    let chain = privacy::chain_bytes(&d.chain.provider).await?;
    assert!(chain.transactions >= 4, "deploy, grants and attest were scanned");
    assert!(chain.storage_slots >= 3, "the registry's storage writes were scanned");
    assert_eq!(privacy_hits(&needles.find_in_bytes(&chain.bytes)), "", "found on chain");

    // Each scan finds a planted value.
    let pool = d.pool().await?;
    sqlx::query("CREATE TABLE planted (v BYTEA)").execute(&pool).await?;
    sqlx::query("INSERT INTO planted VALUES ($1)")
        .bind(people[1].card.serial().to_vec())
        .execute(&pool)
        .await?;
    let dump = d.pg_dump().await?;
    assert_eq!(privacy_hits(&needles.find_in_text(&dump)), "serial of person 1");

    tracing::info!(target: "honnin_e2e::planted", subject = %people[2].subject_id, "planted");
    let captured = logs::captured();
    assert_eq!(privacy_hits(&needles.find_in_text(&captured)), "subject id of person 2");
    let (_, attributes, _) = planted_signing_card(0);
    tracing::info!(target: "honnin_e2e::planted", address = %attributes.address, "planted");
    let captured = logs::captured();
    assert_eq!(
        privacy_hits(&needles.find_in_text(&captured)),
        "address of person 0, subject id of person 2"
    );

    let planted = alloy::rpc::types::TransactionRequest::default()
        .from(d.chain.anvil.addresses()[5])
        .to(d.chain.anvil.addresses()[6])
        .input(people[0].card.der().to_vec().into());
    let receipt = d.chain.provider.send_transaction_sync(planted).await?;
    assert!(receipt.status());
    let planted = alloy::rpc::types::TransactionRequest::default()
        .from(d.chain.anvil.addresses()[5])
        .to(d.chain.anvil.addresses()[6])
        .input(honnin_jpki::test_utils::birth_date_text(birth_dates[1]).into_bytes().into());
    assert!(d.chain.provider.send_transaction_sync(planted).await?.status());
    let chain = privacy::chain_bytes(&d.chain.provider).await?;
    let hits = needles.find_in_bytes(&chain.bytes);
    assert!(hits.contains(&"birth date of person 1".to_owned()), "{hits:?}");
    assert!(hits.contains(&"certificate of person 0".to_owned()), "{hits:?}");
    assert!(hits.contains(&"public key of person 0".to_owned()), "{hits:?}");
    assert!(hits.contains(&"serial of person 0".to_owned()), "{hits:?}");
    let _ = d.chain.provider.get_block_number().await.context("node still up")?;
    Ok(())
}

/// Person `n`'s signing certificate from the simulated signature root: an adult (born in the
/// 1970s, a different day each), with a name and an address marked `n` so a hit is certain.
fn planted_signing_card(
    n: usize,
) -> (honnin_jpki::test_utils::SimCard, honnin_jpki::test_utils::BasicAttributes, time::Date) {
    use honnin_jpki::test_utils::CardSpec;
    let birth = time::macros::date!(1971 - 03 - 14) + time::Duration::days(400 * n as i64 + 17);
    let mut spec = CardSpec { serial: vec![0x5b, 0x77, n as u8 + 1], ..CardSpec::signing(birth) };
    let attributes = spec.attributes.as_mut().expect("signing attributes");
    attributes.name = format!("試験 プライバシー{n}号 花子");
    attributes.address = format!("架空県見本市プライバシー町{n}丁目");
    let attributes = attributes.clone();
    (honnin_e2e::sign_root().issue(&spec), attributes, birth)
}

fn privacy_hits(hits: &[String]) -> String {
    hits.join(", ")
}
