//! The signing certificate's basic attributes (name, birth date, sex, address) are dropped once
//! the claims are computed: planted values are in no TRACE log, no database (SQLite file and
//! WAL, Postgres `pg_dump`) and no API answer after accepted, re-sent and refused claims. Other
//! planted values (an audience, a request id) must be found, so a blind scan cannot pass.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use honnin_jpki::test_utils::{CardSpec, SimCard, birth_date_text};

use crate::support::{
    Db, Harness, Options, Reply, address, attestation_request, b64, capture_logs, fresh_card, root,
    sign_root, today_in_japan, wallet_key_n, with_signing,
};

fn random_hex(n: usize) -> String {
    hex::encode_upper(honnin_core::ChallengeId::random().as_bytes())[..n].to_owned()
}

/// A signing certificate with planted attributes: a birth date from the random `day`, a name and
/// an address with a random marker; `birth_date_text` overrides the written birth date.
struct Planted {
    name: String,
    address: String,
    birth: time::Date,
}

impl Planted {
    fn new() -> Self {
        let marker = random_hex(10);
        let offset = u16::from_be_bytes(
            honnin_core::ChallengeId::random().as_bytes()[..2].try_into().unwrap(),
        );
        let birth =
            time::macros::date!(1950 - 01 - 01) + time::Duration::days(i64::from(offset % 18000));
        Self {
            name: format!("試験{marker}花子"),
            address: format!("架空県{marker}市一丁目"),
            birth,
        }
    }

    fn spec(&self, spec: CardSpec) -> CardSpec {
        let mut spec = spec;
        let attributes = spec.attributes.as_mut().unwrap();
        attributes.name = self.name.clone();
        attributes.address = self.address.clone();
        attributes.sex = "9".into();
        spec
    }

    fn needles(&self, certificates: &[&SimCard]) -> Vec<String> {
        let text = birth_date_text(self.birth);
        let mut needles = vec![
            self.name.clone(),
            self.address.clone(),
            text.clone(),
            text[1..].to_owned(),
            self.birth.to_string(),
            format!("{:?}", self.birth),
            hex::encode(self.name.as_bytes()),
            hex::encode(text.as_bytes()),
        ];
        for certificate in certificates {
            let der_b64 = b64(certificate.der());
            for start in (0..der_b64.len().saturating_sub(24)).step_by(48) {
                needles.push(der_b64[start..start + 24].to_owned());
            }
        }
        needles
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

async fn run(db: Db) {
    let h = Harness::with(Options { db, ..Options::default() }).await;
    let capture = capture_logs();
    let planted = Planted::new();
    let planted_audience = format!("planted.{}", random_hex(12).to_lowercase());
    let planted_id = format!("planted-{}", random_hex(12));
    let mut answers: Vec<Reply> = Vec::new();

    let good = sign_root().issue(
        &planted
            .spec(CardSpec { serial: vec![0x41, 0x07, 0x33], ..CardSpec::signing(planted.birth) }),
    );
    let wrong_root = root().issue(&planted.spec(CardSpec::signing(planted.birth)));
    let mut malformed_spec = planted
        .spec(CardSpec { serial: vec![0x41, 0x07, 0x34], ..CardSpec::signing(planted.birth) });
    let malformed_text = format!("3{}", &birth_date_text(planted.birth)[1..]);
    // The era digit of another era: refused, and the text must not leak either.
    let malformed_text = if malformed_text == birth_date_text(planted.birth) {
        format!("5{}", &malformed_text[1..])
    } else {
        malformed_text
    };
    malformed_spec.attributes.as_mut().unwrap().birth_date = Some(malformed_text.clone());
    let malformed = sign_root().issue(&malformed_spec);

    for (n, signing) in [&good, &wrong_root, &malformed].into_iter().enumerate() {
        let key = wallet_key_n(900 + n as u32);
        let body = serde_json::json!({ "wallet": address(&key).to_string(), "audience": planted_audience }).to_string();
        let reply = h
            .send(
                Request::post("/v1/challenges")
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("x-request-id", &planted_id)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let challenge: honnin_api::ChallengeResponse =
            serde_json::from_value(reply.body.clone()).unwrap();
        answers.push(reply);
        let request = with_signing(
            attestation_request(&challenge, &fresh_card(), &key),
            signing,
            &challenge.message,
        );
        let reply = h.post("/v1/attestations", &request).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        let expected = if n == 0 {
            let today = today_in_japan();
            let age = planted.birth;
            // Born at least 26 years ago (before 2000): both age claims.
            assert!(today.year() - age.year() > 20);
            0b111
        } else {
            1
        };
        assert_eq!(reply.body["claims"], expected, "{}", reply.body);
        answers.push(reply);
        answers.push(h.post("/v1/attestations", &request).await);
        answers.push(h.get(&format!("/v1/attestations/{}", address(&key))).await);
    }

    let logs = capture.logs();
    drop(capture);
    let dump = h.dump().await;
    // Not blind: the planted request id is logged and audited, the audience stored.
    assert!(logs.contains(&planted_id), "the log capture is blind");
    assert!(logs.contains("age claims refused"), "the claims path is not in the capture");
    assert!(contains(&dump, planted_audience.as_bytes()), "the database dump is blind");
    assert!(contains(&dump, planted_id.as_bytes()), "the audit log is not in the dump");
    let mut needles = planted.needles(&[&good, &wrong_root, &malformed]);
    needles.push(malformed_text.clone());
    needles.push(malformed_text[1..].to_owned());
    for needle in &needles {
        assert!(
            !logs.contains(needle.as_str()),
            "the logs carry a basic attribute ({} chars)",
            needle.len()
        );
        assert!(
            !contains(&dump, needle.as_bytes()),
            "the database carries a basic attribute ({} chars)",
            needle.len()
        );
        for answer in &answers {
            assert!(
                !contains(&answer.raw, needle.as_bytes()),
                "an answer carries a basic attribute"
            );
            for value in answer.headers.values() {
                assert!(!contains(value.as_bytes(), needle.as_bytes()));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_attributes_reach_no_log_database_or_answer_sqlite() {
    run(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_attributes_reach_no_log_database_or_answer_postgres() {
    run(Db::Postgres).await;
}
