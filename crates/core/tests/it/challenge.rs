use honnin_core::{
    Address, Audience, Challenge, ChallengeId, ChallengeSettings, Nonce, Purpose, ScopeName,
    ServiceDomain,
};
use time::{Duration, macros::datetime};

fn sample() -> Challenge {
    Challenge {
        id: ChallengeId::from_bytes([0x11; 16]),
        purpose: Purpose::Attest,
        wallet: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed".parse().unwrap(),
        audience: Some(Audience::new("https://app.example").unwrap()),
        scope: None,
        nonce: Nonce::from_bytes([0xab; 32]),
        issued_at: datetime!(2026-11-23 11:20:00 UTC),
        expires_at: datetime!(2026-11-23 11:30:00 UTC),
        chain_id: 31337,
        registry: Address::repeat_byte(0x42),
        domain: ServiceDomain::new("honnin.example").unwrap(),
    }
}

#[test]
fn message_matches_the_documented_format() {
    let expected = "honnin.example asks you to prove that you hold a My Number card and control this wallet, so that it can be attested as a verified, unique person.\n\
\n\
Sign this message with your My Number card and with your wallet. Your individual number is never asked for.\n\
\n\
Purpose: attest\n\
Wallet: 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n\
Audience: https://app.example\n\
Chain ID: 31337\n\
Registry: 0x4242424242424242424242424242424242424242\n\
Nonce: abababababababababababababababababababababababababababababababab\n\
Issued At: 2026-11-23T11:20:00Z\n\
Expiration Time: 2026-11-23T11:30:00Z\n\
Challenge ID: ch_11111111111111111111111111111111";
    assert_eq!(sample().message(), expected);
}

#[test]
fn a_scoped_message_names_the_scope_and_its_id_after_the_audience() {
    let mut c = sample();
    c.scope = Some(ScopeName::new("kyc-drop").unwrap());
    let m = c.message();
    let id = ScopeName::new("kyc-drop").unwrap().id();
    assert!(
        m.contains(&format!(
            "\nAudience: https://app.example\nScope: kyc-drop ({id})\nChain ID: 31337\n"
        )),
        "{m}"
    );
    assert_eq!(id.to_string().len(), 66);
    // The unscoped message has no such line (the format above is unchanged).
    assert!(!sample().message().contains("Scope:"));
}

#[test]
fn message_without_audience_omits_the_line_and_names_the_purpose() {
    let mut c = sample();
    c.audience = None;
    c.purpose = Purpose::Revoke;
    let m = c.message();
    assert!(!m.contains("Audience:"));
    assert!(m.contains("\nPurpose: revoke\n"));
    assert!(m.starts_with("honnin.example asks you to confirm that you want to revoke"));
    assert_eq!(m, c.clone().message(), "rendering is deterministic");
}

#[test]
fn every_field_changes_the_message() {
    let base = sample().message();
    let mut variants = Vec::new();
    let mut c = sample();
    c.nonce = Nonce::from_bytes([0xac; 32]);
    variants.push(c);
    let mut c = sample();
    c.chain_id = 1;
    variants.push(c);
    let mut c = sample();
    c.purpose = Purpose::Erase;
    variants.push(c);
    let mut c = sample();
    c.expires_at += Duration::seconds(1);
    variants.push(c);
    let mut c = sample();
    c.id = ChallengeId::from_bytes([0x12; 16]);
    variants.push(c);
    let mut c = sample();
    c.scope = Some(ScopeName::new("kyc-drop").unwrap());
    variants.push(c);
    let mut c = sample();
    c.scope = Some(ScopeName::new("kyc-drop2").unwrap());
    variants.push(c);
    for v in variants {
        assert_ne!(v.message(), base);
    }
}

#[test]
fn issue_uses_fresh_randomness_and_the_lifetime() {
    let settings =
        ChallengeSettings::new(ServiceDomain::new("localhost:8080").unwrap(), 31337, Address::ZERO)
            .with_lifetime(Duration::minutes(5))
            .unwrap();
    let now = datetime!(2026-11-23 11:20:00.75 UTC);
    let a = settings.issue(Purpose::Attest, Address::ZERO, None, now);
    let b = settings.issue(Purpose::Attest, Address::ZERO, None, now);
    assert_ne!(a.id, b.id);
    assert_ne!(a.nonce, b.nonce);
    assert_eq!(a.issued_at, datetime!(2026-11-23 11:20:00 UTC), "truncated to whole seconds");
    assert_eq!(a.expires_at - a.issued_at, Duration::minutes(5));
    assert!(a.is_live_at(a.expires_at - Duration::seconds(1)));
    assert!(!a.is_live_at(a.expires_at));
}

#[test]
fn lifetime_is_bounded() {
    let s = ChallengeSettings::new(ServiceDomain::new("a.example").unwrap(), 1, Address::ZERO);
    assert!(s.clone().with_lifetime(Duration::seconds(5)).is_err());
    assert!(s.clone().with_lifetime(Duration::days(2)).is_err());
    assert_eq!(s.lifetime(), ChallengeSettings::DEFAULT_LIFETIME);
}

#[test]
fn audience_is_validated() {
    for ok in ["app", "https://app.example:8443/path", "a_b-c.d@e", &"x".repeat(128)] {
        assert!(Audience::new(ok).is_ok(), "{ok}");
    }
    for bad in ["", "two words", "line\nbreak", "tab\t", "ünïcode", "<script>", &"x".repeat(129)]
    {
        assert!(Audience::new(bad).is_err(), "{bad:?}");
    }
    // Deserialisation validates too.
    assert!(serde_json::from_str::<Audience>("\"a b\"").is_err());
}

#[test]
fn domain_is_validated() {
    for ok in ["honnin.example", "localhost:3000", "a-b.c"] {
        assert!(ServiceDomain::new(ok).is_ok(), "{ok}");
    }
    for bad in ["", "-a.example", "a..b", "a.example:0", "a.example:99999", "a b", "a\nb", "a/b"] {
        assert!(ServiceDomain::new(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn ids_round_trip_and_reject_garbage() {
    let id = ChallengeId::random();
    let s = id.to_string();
    assert!(s.starts_with("ch_") && s.len() == 35);
    assert_eq!(s.parse::<ChallengeId>().unwrap(), id);
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(serde_json::from_str::<ChallengeId>(&json).unwrap(), id);
    for bad in [
        "",
        "ch_",
        "at_11111111111111111111111111111111",
        "ch_1111111111111111111111111111111G",
        "ch_11111111111111111111111111111111A",
        "CH_11111111111111111111111111111111",
        "ch_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert!(bad.parse::<ChallengeId>().is_err(), "{bad}");
    }
    assert_eq!("attest".parse::<Purpose>().unwrap(), Purpose::Attest);
    assert!("Attest".parse::<Purpose>().is_err());
}
