//! The signing certificate (署名用): the same chain, profile and signature checks as the
//! user-authentication certificate, under the signature roots, and the birth date.

use std::sync::OnceLock;

use honnin_jpki::{
    RevocationReason, RevocationStatus, SigningVerifier, TrustAnchors,
    test_utils::{
        Aki, BasicAttributes, CardSpec, ChainHash, FakeAnswer, FakeRevocation, SimCard, SimRoot,
        StringKind, years_before,
    },
};
use time::{Date, Duration, macros::date};

use crate::support::*;

/// The shared simulated signature root (its own key slot).
fn sign_root() -> &'static SimRoot {
    static ROOT: OnceLock<SimRoot> = OnceLock::new();
    ROOT.get_or_init(|| SimRoot::signing(5))
}

fn signing_verifier() -> SigningVerifier {
    SigningVerifier::new(sign_root().anchors())
}

fn signing_card(spec: CardSpec) -> SimCard {
    sign_root().issue(&spec)
}

fn born(date: Date) -> CardSpec {
    CardSpec::signing(date)
}

fn with_birth(text: &str, kind: StringKind) -> CardSpec {
    let mut spec = born(date!(1990 - 01 - 02));
    let attributes = spec.attributes.as_mut().unwrap();
    attributes.birth_date = Some(text.into());
    attributes.birth_date_kind = kind;
    spec
}

fn check(
    card: &SimCard,
    signature: &[u8],
) -> Result<honnin_jpki::VerifiedSigning, honnin_jpki::Refusal> {
    signing_verifier().verify_signing(card.der(), MESSAGE, signature, now())
}

#[test]
fn a_signing_certificate_verifies_and_gives_the_age() {
    let today = now().to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap()).date();
    for (age, over_18, over_20) in
        [(17, false, false), (18, true, false), (19, true, false), (20, true, true)]
    {
        let card = signing_card(born(years_before(today, age)));
        let verified = check(&card, &card.sign(MESSAGE)).unwrap();
        let birth = verified.birth_date();
        assert_eq!(birth.has_reached(18, now()).unwrap(), over_18, "age {age}");
        assert_eq!(birth.has_reached(20, now()).unwrap(), over_20, "age {age}");
        assert_eq!(
            format!("{verified:?} {birth:?}"),
            "VerifiedSigning(<redacted>) BirthDate(<redacted>)"
        );
    }
}

#[test]
fn the_birth_date_may_be_a_printable_string() {
    let card = signing_card(with_birth("319800217", StringKind::Printable));
    let verified = check(&card, &card.sign(MESSAGE)).unwrap();
    assert!(verified.birth_date().has_reached(40, now()).unwrap());
}

#[test]
fn a_certificate_from_another_root_is_untrusted() {
    // The user-authentication root (same key id scheme, another name and key).
    let card = root().issue(&born(date!(1990 - 01 - 02)));
    assert_refused(check(&card, &card.sign(MESSAGE)), "untrusted_issuer");
    // A key id naming no signature root.
    let card =
        signing_card(CardSpec { aki: Aki::KeyId(vec![7; 20]), ..born(date!(1990 - 01 - 02)) });
    assert_refused(check(&card, &card.sign(MESSAGE)), "untrusted_issuer");
}

#[test]
fn a_user_authentication_certificate_is_not_a_signing_certificate() {
    let card = signing_card(CardSpec {
        attributes: Some(BasicAttributes::new(date!(1990 - 01 - 02))),
        ..CardSpec::default()
    });
    assert_refused(check(&card, &card.sign(MESSAGE)), "wrong_policy");
}

#[test]
fn expired_and_not_yet_valid_signing_certificates_are_refused() {
    let spec = born(date!(1990 - 01 - 02));
    let expired = signing_card(CardSpec {
        not_before: now() - Duration::days(400),
        not_after: now() - Duration::days(1),
        ..spec.clone()
    });
    assert_refused(check(&expired, &expired.sign(MESSAGE)), "expired");
    let early = signing_card(CardSpec { not_before: now() + Duration::days(1), ..spec });
    assert_refused(check(&early, &early.sign(MESSAGE)), "not_yet_valid");
}

#[test]
fn a_signature_over_another_message_or_sha1_is_refused() {
    let card = signing_card(born(date!(1990 - 01 - 02)));
    assert_refused(check(&card, &card.sign(b"another challenge")), "bad_signature");
    assert_refused(check(&card, &card.sign_sha1(MESSAGE)), "weak_hash");
    let sha1_chain =
        signing_card(CardSpec { chain_hash: ChainHash::Sha1, ..born(date!(1990 - 01 - 02)) });
    assert_refused(check(&sha1_chain, &sha1_chain.sign(MESSAGE)), "weak_hash");
}

#[test]
fn malformed_birth_dates_are_refused() {
    let mut specs = vec![
        with_birth("419900102 ", StringKind::Utf8),
        with_birth("19900102", StringKind::Utf8),
        with_birth("619900102", StringKind::Utf8),
        with_birth("319900102", StringKind::Utf8), // 1990 is 平成, not 昭和
        with_birth("419900230", StringKind::Utf8),
        with_birth("419900102", StringKind::Ia5),
        with_birth("4１9900102", StringKind::Utf8),
    ];
    let mut twice = born(date!(1990 - 01 - 02));
    twice.attributes.as_mut().unwrap().birth_date_twice = true;
    specs.push(twice);
    let mut missing = born(date!(1990 - 01 - 02));
    missing.attributes.as_mut().unwrap().birth_date = None;
    specs.push(missing);
    specs.push(CardSpec { attributes: None, ..born(date!(1990 - 01 - 02)) });
    for spec in specs {
        let card = signing_card(spec.clone());
        assert_refused(check(&card, &card.sign(MESSAGE)), "malformed_birth_date");
    }
}

#[tokio::test]
async fn revocation_goes_through_the_same_sources() {
    let card = signing_card(born(date!(1990 - 01 - 02)));
    let verified = check(&card, &card.sign(MESSAGE)).unwrap();
    let source = FakeRevocation::new(FakeAnswer::Status(RevocationStatus::Good));
    assert_eq!(
        verified.check_revocation(&source, now(), false).await.unwrap(),
        RevocationStatus::Good
    );
    source.set(
        card.serial(),
        FakeAnswer::Status(RevocationStatus::Revoked {
            reason: RevocationReason::AffiliationChanged,
            time: now() - Duration::hours(1),
        }),
    );
    assert_refused(verified.check_revocation(&source, now(), false).await, "revoked");
    source.set(card.serial(), FakeAnswer::Status(RevocationStatus::Unknown));
    assert_refused(verified.check_revocation(&source, now(), false).await, "revocation_unknown");
}

#[tokio::test]
async fn a_signing_crl_from_the_signature_root_revokes() {
    use honnin_jpki::{
        CrlOrigin, CrlSource,
        test_utils::{CrlEntry, CrlSpec},
    };
    let card = signing_card(born(date!(1990 - 01 - 02)));
    let verified = check(&card, &card.sign(MESSAGE)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sign.crl");
    let crl = sign_root().crl(&CrlSpec {
        entries: vec![CrlEntry {
            serial: card.serial().to_vec(),
            reason: Some(RevocationReason::KeyCompromise),
            time: now() - Duration::hours(2),
        }],
        ..CrlSpec::default()
    });
    std::fs::write(&path, crl).unwrap();
    let source = CrlSource::new(
        std::sync::Arc::new(sign_root().anchors()),
        vec![CrlOrigin::parse(path.to_str().unwrap())],
    );
    assert_refused(verified.check_revocation(&source, now(), false).await, "revoked");
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).to_vec()
}

#[test]
fn the_real_signature_roots_pick_by_key_id() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/jpki/roots");
    if !dir.is_dir() {
        println!("SKIPPED: {} is absent", dir.display());
        return;
    }
    let mut anchors = TrustAnchors::default();
    for file in ["sign_ca_2015.pem", "sign_ca_2023.pem"] {
        for anchor in TrustAnchors::from_path(dir.join(file)).unwrap().iter() {
            anchors.add(anchor.clone(), &dir).unwrap();
        }
    }
    // The files are the J-LIS signature roots: SHA-256 of their DER, and key ids (JPKI.md).
    for (file, fingerprint, key_id) in [
        (
            "sign_ca_2015.pem",
            "19645405a1fe14377434bd55957628ac4038557c542403a2243f21c706fc9355",
            "0d034cbb",
        ),
        (
            "sign_ca_2023.pem",
            "d227f6cde11d35c5252178f106f843d24651944975413b539fa2fb68dbfa365f",
            "d21ea558",
        ),
    ] {
        let one = TrustAnchors::from_path(dir.join(file)).unwrap();
        let anchor = one.iter().next().unwrap();
        let digest = sha256(anchor.der());
        assert_eq!(hex::encode(digest), fingerprint, "{file}");
        assert_eq!(hex::encode(&anchor.key_id()[..4]), key_id, "{file}");
    }
    let sign_2023 = TrustAnchors::from_path(dir.join("sign_ca_2023.pem")).unwrap();
    let sign_2023 = sign_2023.iter().next().unwrap().clone();
    // The simulated signature root carries the real name.
    assert_eq!(sign_2023.subject(), sign_root().anchor().subject());
    let verifier = SigningVerifier::new(anchors);
    // Names the real 2023 signature root, signed by a simulated key: matched, then refused.
    let card =
        sign_root().issue(&CardSpec { aki: Aki::Claim(sign_2023), ..born(date!(1990 - 01 - 02)) });
    assert_refused(
        verifier.verify_signing(card.der(), MESSAGE, &card.sign(MESSAGE), now()),
        "bad_signature",
    );
    // A certificate naming a user-authentication root is not under a signature root.
    let auth = TrustAnchors::from_path(dir.join("auth_ca_2023.pem")).unwrap();
    let auth = auth.iter().next().unwrap().clone();
    let card =
        sign_root().issue(&CardSpec { aki: Aki::Claim(auth), ..born(date!(1990 - 01 - 02)) });
    assert_refused(
        verifier.verify_signing(card.der(), MESSAGE, &card.sign(MESSAGE), now()),
        "untrusted_issuer",
    );
}
