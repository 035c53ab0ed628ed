//! Age claims end to end: simulated cards with signing certificates for people aged 17, 18, 19
//! and 20 on the day of verification, through the API and the chain writer to anvil: the right
//! bits in the API and in `hasClaims`; a signing certificate from the wrong root, revoked (the
//! signature root's CRL), expired, or signing another challenge refuses the claims, not the
//! attestation.

use anyhow::Result;
use honnin_e2e::{Client, Deployment, Options, Person, b64, root, sign_root};
use honnin_jpki::test_utils::{CardSpec, SimCard, years_before};
use serde_json::Value;

use crate::support::CONFIRM;

const UNIQUE: u32 = 1;
const OVER_18: u32 = 2;
const OVER_20: u32 = 4;

fn today_in_japan() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).expect("UTC+9"))
        .date()
}

fn signing(serial: u8, spec: CardSpec) -> CardSpec {
    CardSpec { serial: vec![0x5a, 0x10, serial], ..spec }
}

/// Attests `person` with `signing` over `message_of`'s message (default: the person's own
/// challenge); returns the 202 body once the attestation is active on chain.
async fn attest(
    client: &Client,
    person: &Person,
    signing: &SimCard,
    other_message: Option<&str>,
) -> Result<Value> {
    let challenge = client.challenge(person.address()).await?;
    let mut request = person.request(&challenge);
    let message = other_message.unwrap_or(&challenge.message);
    request.signing_certificate = Some(b64(signing.der()));
    request.signing_signature = Some(b64(&signing.sign(message.as_bytes())));
    let reply = client.submit(&request).await?;
    assert_eq!(reply.status, 202, "{}", reply.body);
    client.wait_for(person.address(), "active", CONFIRM).await?;
    Ok(reply.body)
}

fn refused(body: &Value) -> Vec<(String, String)> {
    body["claims_refused"]
        .as_array()
        .expect("claims_refused is a list")
        .iter()
        .map(|r| {
            (r["claim"].as_str().unwrap_or("?").into(), r["code"].as_str().unwrap_or("?").into())
        })
        .collect()
}

fn both(code: &str) -> Vec<(String, String)> {
    vec![("age_over_18".into(), code.into()), ("age_over_20".into(), code.into())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ages_17_18_19_20_reach_the_chain_as_claim_bits() -> Result<()> {
    let d = Deployment::start(Options::default()).await?;
    let client = d.client();
    let today = today_in_japan();
    for (n, (age, bits)) in [
        (17, UNIQUE),
        (18, UNIQUE | OVER_18),
        (19, UNIQUE | OVER_18),
        (20, UNIQUE | OVER_18 | OVER_20),
    ]
    .into_iter()
    .enumerate()
    {
        let person = Person::new("age-claims", n as u32);
        let card =
            sign_root().issue(&signing(n as u8, CardSpec::signing(years_before(today, age))));
        let accepted = attest(&client, &person, &card, None).await?;
        assert_eq!(accepted["claims"], bits, "age {age}: {accepted}");
        assert_eq!(refused(&accepted), vec![], "age {age}");
        assert_eq!(client.view(person.address()).await?.claims, bits, "age {age}");
        let wallet = person.address();
        assert_eq!(d.chain.attestation_of(wallet).await?.claims, bits, "age {age}");
        assert!(d.chain.has_claims(wallet, UNIQUE).await?);
        assert_eq!(d.chain.has_claims(wallet, OVER_18).await?, age >= 18, "age {age}");
        assert_eq!(d.chain.has_claims(wallet, OVER_20).await?, age >= 20, "age {age}");
        assert_eq!(d.chain.has_claims(wallet, OVER_18 | OVER_20).await?, age >= 20, "age {age}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_certificate_that_fails_refuses_the_claims_with_codes() -> Result<()> {
    let adult = years_before(today_in_japan(), 30);
    let revoked = sign_root().issue(&signing(20, CardSpec::signing(adult)));
    let d = Deployment::start(Options {
        revoked_signing_serials: vec![revoked.serial().to_vec()],
        ..Options::default()
    })
    .await?;
    let client = d.client();
    let now = time::OffsetDateTime::now_utc();
    let wrong_root = root().issue(&signing(21, CardSpec::signing(adult)));
    let expired = sign_root().issue(&signing(
        22,
        CardSpec {
            not_before: now - time::Duration::days(400),
            not_after: now - time::Duration::days(1),
            ..CardSpec::signing(adult)
        },
    ));
    let good = sign_root().issue(&signing(23, CardSpec::signing(adult)));
    let other = client.challenge(Person::new("claims-refused-other", 9).address()).await?;
    let cases: [(&SimCard, Option<&str>, &str); 4] = [
        (&wrong_root, None, "untrusted_issuer"),
        (&revoked, None, "revoked"),
        (&expired, None, "expired"),
        (&good, Some(&other.message), "bad_signature"),
    ];
    for (n, (card, message, code)) in cases.into_iter().enumerate() {
        let person = Person::new("claims-refused", n as u32);
        let accepted = attest(&client, &person, card, message).await?;
        assert_eq!(accepted["claims"], UNIQUE, "{code}: {accepted}");
        assert_eq!(refused(&accepted), both(code));
        assert!(d.chain.is_verified(person.address()).await?, "{code}: the attestation stands");
        assert!(!d.chain.has_claims(person.address(), OVER_18).await?, "{code}");
    }
    Ok(())
}
