//! Refused evidence: one broken property per test, each asserting its refusal code.

use der::{Decode, asn1::ObjectIdentifier};
use honnin_jpki::{
    Policy, Verifier, oids,
    test_utils::{Aki, CardKeyKind, CardSpec, ChainHash, SimRoot},
};
use spki::SubjectPublicKeyInfoOwned;
use time::Duration;
use x509_cert::ext::pkix::KeyUsages;

use crate::support::*;

fn refused(spec: CardSpec, code: &str) {
    let card = card(spec);
    assert_refused(verify(&card, &card.sign(MESSAGE)), code);
}

/// Refused before the card signature is checked (the key has no private half).
fn refused_unsigned(spec: CardSpec, code: &str) {
    let card = card(spec);
    assert_refused(verify(&card, &[0u8; 256]), code);
}

#[test]
fn tampered_tbs_is_bad_signature() {
    let card = card(CardSpec::default());
    let mut der = card.der().to_vec();
    // The whole subject id: a short pattern also matches validity times such as
    // `261201230000Z`, and changing one of those makes the DER malformed instead.
    let id = CardSpec::default().subject_id.into_bytes();
    let at = der.windows(id.len()).position(|w| w == id).expect("subject id in der");
    der[at] = b'9';
    let result = verifier(root()).verify_card(&der, MESSAGE, &card.sign(MESSAGE), now());
    assert_refused(result, "bad_signature");
}

#[test]
fn tampered_certificate_signature_is_bad_signature() {
    let card = card(CardSpec::default());
    let mut der = card.der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    assert_refused(
        verifier(root()).verify_card(&der, MESSAGE, &card.sign(MESSAGE), now()),
        "bad_signature",
    );
}

#[test]
fn certificate_from_another_root_is_untrusted() {
    let other = SimRoot::new(OTHER_ROOT_SLOT);
    let card = other.issue(&CardSpec::default());
    assert_refused(verify(&card, &card.sign(MESSAGE)), "untrusted_issuer");
}

#[test]
fn certificate_claiming_the_trusted_root_but_signed_by_another_is_bad_signature() {
    let other = SimRoot::new(OTHER_ROOT_SLOT);
    let card = other.issue(&CardSpec { aki: Aki::Claim(root().anchor()), ..CardSpec::default() });
    assert_refused(verify(&card, &card.sign(MESSAGE)), "bad_signature");
}

#[test]
fn missing_authority_key_id_is_untrusted() {
    refused(CardSpec { aki: Aki::Missing, ..CardSpec::default() }, "untrusted_issuer");
}

#[test]
fn unknown_authority_key_id_is_untrusted() {
    refused(
        CardSpec { aki: Aki::KeyId(vec![0xab; 20]), ..CardSpec::default() },
        "untrusted_issuer",
    );
}

#[test]
fn issuer_name_other_than_the_root_subject_is_untrusted() {
    refused(
        CardSpec { issuer_name: Some("CN=Someone Else,C=JP".into()), ..CardSpec::default() },
        "untrusted_issuer",
    );
}

#[test]
fn expired_certificate_is_refused() {
    let n = now();
    refused(
        CardSpec {
            not_before: n - Duration::days(400),
            not_after: n - Duration::seconds(1),
            ..CardSpec::default()
        },
        "expired",
    );
}

#[test]
fn not_yet_valid_certificate_is_refused() {
    let n = now();
    refused(
        CardSpec {
            not_before: n + Duration::hours(1),
            not_after: n + Duration::days(400),
            ..CardSpec::default()
        },
        "not_yet_valid",
    );
}

#[test]
fn expired_root_is_untrusted() {
    let n = now();
    let old =
        SimRoot::with_validity(OTHER_ROOT_SLOT, n - Duration::days(3650), n - Duration::days(1));
    let card = old.issue(&CardSpec::default());
    let result = Verifier::new(old.anchors(), Policy::default()).verify_card(
        card.der(),
        MESSAGE,
        &card.sign(MESSAGE),
        n,
    );
    assert_refused(result, "untrusted_issuer");
}

#[test]
fn sha1_card_signature_is_weak_hash() {
    let card = card(CardSpec::default());
    assert_refused(verify(&card, &card.sign_sha1(MESSAGE)), "weak_hash");
}

#[test]
fn sha512_digest_info_is_weak_hash() {
    use sha2::Digest;
    let card = card(CardSpec::default());
    let mut digest_info = hex::decode("3051300d060960864801650304020305000440").unwrap();
    digest_info.extend_from_slice(&sha2::Sha512::digest(MESSAGE));
    assert_refused(verify(&card, &card.sign_digest_info(&digest_info)), "weak_hash");
}

#[test]
fn sha1_digest_info_of_another_message_is_bad_signature() {
    let card = card(CardSpec::default());
    assert_refused(verify(&card, &card.sign_sha1(b"something else")), "bad_signature");
}

#[test]
fn sha1_certificate_signature_is_weak_hash() {
    refused(CardSpec { chain_hash: ChainHash::Sha1, ..CardSpec::default() }, "weak_hash");
}

#[test]
fn signature_policy_is_wrong_policy() {
    refused(
        CardSpec { policies: vec![oids::JPKI_SIGNATURE_POLICY], ..CardSpec::default() },
        "wrong_policy",
    );
}

#[test]
fn missing_policy_is_wrong_policy() {
    refused(CardSpec { policies: vec![], ..CardSpec::default() }, "wrong_policy");
}

#[test]
fn accepted_policies_are_configurable() {
    let card =
        card(CardSpec { policies: vec![oids::JPKI_SIGNATURE_POLICY], ..CardSpec::default() });
    let policy =
        Policy { accepted_policies: vec![oids::JPKI_SIGNATURE_POLICY], ..Policy::default() };
    Verifier::new(root().anchors(), policy)
        .verify_card(card.der(), MESSAGE, &card.sign(MESSAGE), now())
        .expect("accepted under the configured policy");
}

#[test]
fn server_auth_only_is_wrong_extended_key_usage() {
    let server_auth = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
    refused(
        CardSpec { extended_key_usage: Some(vec![server_auth]), ..CardSpec::default() },
        "wrong_extended_key_usage",
    );
}

#[test]
fn missing_extended_key_usage_is_refused() {
    refused(
        CardSpec { extended_key_usage: None, ..CardSpec::default() },
        "wrong_extended_key_usage",
    );
}

#[test]
fn key_encipherment_only_is_wrong_key_usage() {
    refused(
        CardSpec { key_usage: Some(KeyUsages::KeyEncipherment.into()), ..CardSpec::default() },
        "wrong_key_usage",
    );
}

#[test]
fn missing_key_usage_is_wrong_key_usage() {
    refused(CardSpec { key_usage: None, ..CardSpec::default() }, "wrong_key_usage");
}

#[test]
fn ca_certificate_is_wrong_key_usage() {
    refused(CardSpec { ca: true, ..CardSpec::default() }, "wrong_key_usage");
}

#[test]
fn unknown_critical_extension_is_refused() {
    refused(
        CardSpec { unknown_critical_extension: true, ..CardSpec::default() },
        "unsupported_critical_extension",
    );
}

#[test]
fn rsa_1024_is_unsupported_key() {
    refused_unsigned(
        CardSpec {
            key: CardKeyKind::FakeRsa { bits: 1024, exponent: 65537 },
            ..CardSpec::default()
        },
        "unsupported_key",
    );
}

#[test]
fn oversized_rsa_keys_are_unsupported() {
    for bits in [4097, 8192, 16384] {
        refused_unsigned(
            CardSpec { key: CardKeyKind::FakeRsa { bits, exponent: 65537 }, ..CardSpec::default() },
            "unsupported_key",
        );
    }
}

#[test]
fn rsa_4096_passes_the_key_check() {
    // A 4096-bit key is within limits: the refusal comes later, from the 256-byte signature.
    refused_unsigned(
        CardSpec {
            key: CardKeyKind::FakeRsa { bits: 4096, exponent: 65537 },
            ..CardSpec::default()
        },
        "malformed_signature",
    );
}

#[test]
fn exponent_other_than_65537_is_unsupported_key() {
    for e in [3, 17, 0x0101_0001] {
        refused_unsigned(
            CardSpec { key: CardKeyKind::RsaExponent(CARD_SLOT, e), ..CardSpec::default() },
            "unsupported_key",
        );
    }
}

#[test]
fn ed25519_and_p521_keys_are_unsupported() {
    let ed25519 = hex::decode(
        "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    )
    .unwrap();
    // id-ecPublicKey on secp521r1 with a (bogus) uncompressed point.
    let mut p521 = hex::decode("30819b301006072a8648ce3d020106052b81040023038186000401").unwrap();
    p521.extend_from_slice(&[0x11; 131]);
    for der in [ed25519, p521] {
        let spki = SubjectPublicKeyInfoOwned::from_der(&der).expect("spki");
        refused_unsigned(
            CardSpec { key: CardKeyKind::Spki(spki), ..CardSpec::default() },
            "unsupported_key",
        );
    }
}

#[test]
fn truncated_der_is_malformed_at_every_length() {
    let card = card(CardSpec::default());
    let der = card.der();
    let v = verifier(root());
    for len in (0..der.len()).step_by(7).chain([der.len() - 1]) {
        assert_refused(
            v.verify_card(&der[..len], MESSAGE, &card.sign(MESSAGE), now()),
            "malformed_certificate",
        );
    }
}

#[test]
fn trailing_bytes_and_garbage_are_malformed() {
    let card = card(CardSpec::default());
    let mut der = card.der().to_vec();
    der.push(0);
    let v = verifier(root());
    assert_refused(
        v.verify_card(&der, MESSAGE, &card.sign(MESSAGE), now()),
        "malformed_certificate",
    );
    assert_refused(v.verify_card(b"", MESSAGE, &[], now()), "malformed_certificate");
    assert_refused(
        v.verify_card(card.pem().as_bytes(), MESSAGE, &[], now()),
        "malformed_certificate",
    );
}

#[test]
fn signature_over_another_message_is_bad_signature() {
    let card = card(CardSpec::default());
    assert_refused(verify(&card, &card.sign(b"another challenge")), "bad_signature");
}

#[test]
fn wrong_length_rsa_signature_is_malformed() {
    let card = card(CardSpec::default());
    let sig = card.sign(MESSAGE);
    assert_refused(verify(&card, &sig[..255]), "malformed_signature");
    assert_refused(verify(&card, &[]), "malformed_signature");
}

#[test]
fn rsa_signature_out_of_range_is_bad_signature() {
    let card = card(CardSpec::default());
    assert_refused(verify(&card, &[0xff; 256]), "bad_signature");
    assert_refused(verify(&card, &[0; 256]), "bad_signature");
}

#[test]
fn ecdsa_signature_by_another_key_is_bad_signature() {
    for key in [CardKeyKind::P256, CardKeyKind::P384] {
        let card_a = card(CardSpec { key: key.clone(), ..CardSpec::default() });
        let card_b = card(CardSpec { key, ..CardSpec::default() });
        assert_refused(verify(&card_a, &card_b.sign(MESSAGE)), "bad_signature");
        assert_refused(verify(&card_a, b"not der"), "bad_signature");
    }
}

#[test]
fn p384_signature_over_sha256_is_weak_hash() {
    use p384::ecdsa::signature::hazmat::PrehashSigner;
    use sha2::Digest;
    let card = card(CardSpec { key: CardKeyKind::P384, ..CardSpec::default() });
    let honnin_jpki::test_utils::CardKey::P384(key) = card.key() else { unreachable!() };
    let sig: p384::ecdsa::Signature = key.sign_prehash(&sha2::Sha256::digest(MESSAGE)).unwrap();
    assert_refused(verify(&card, sig.to_der().as_bytes()), "weak_hash");
}

#[test]
fn random_mutations_never_panic_and_never_pass() {
    let card = card(CardSpec::default());
    let sig = card.sign(MESSAGE);
    let v = verifier(root());
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let der = card.der();
    for _ in 0..3000 {
        let mut mutated = der.to_vec();
        for _ in 0..=(next() % 3) {
            let i = (next() as usize) % mutated.len();
            mutated[i] ^= 1 << (next() % 8);
        }
        if mutated == der {
            continue;
        }
        // Either refused, or (when the flip hit a field the signature does not cover, like the
        // outer length's non-minimal forms) still the same certificate.
        if let Ok(verified) = v.verify_card(&mutated, MESSAGE, &sig, now()) {
            panic!("mutated certificate accepted: {verified:?}");
        }
    }
}

/// One verifier remembers extension values it accepted; a card whose values differ in any way
/// is still decoded and refused, before and after good cards, in any order.
#[test]
fn a_verifier_that_accepted_good_cards_still_refuses_each_profile_break() {
    let server_auth = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
    let good = card(CardSpec::default());
    let verifier = verifier(root());
    let accept =
        || verifier.verify_card(good.der(), MESSAGE, &good.sign(MESSAGE), now()).expect("accepted");
    accept();
    let broken = [
        (
            CardSpec { policies: vec![oids::JPKI_SIGNATURE_POLICY], ..CardSpec::default() },
            "wrong_policy",
        ),
        (CardSpec { policies: vec![], ..CardSpec::default() }, "wrong_policy"),
        (
            CardSpec { extended_key_usage: Some(vec![server_auth]), ..CardSpec::default() },
            "wrong_extended_key_usage",
        ),
        (
            CardSpec { key_usage: Some(KeyUsages::KeyEncipherment.into()), ..CardSpec::default() },
            "wrong_key_usage",
        ),
        (CardSpec { ca: true, ..CardSpec::default() }, "wrong_key_usage"),
    ];
    for (spec, code) in broken {
        let bad = card(spec);
        for _ in 0..2 {
            assert_refused(
                verifier.verify_card(bad.der(), MESSAGE, &bad.sign(MESSAGE), now()),
                code,
            );
            accept();
        }
    }
}
