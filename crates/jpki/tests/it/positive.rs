//! Accepted evidence: RSA-2048, P-256 and P-384 cards.

use honnin_jpki::{
    KeyAlgorithm,
    test_utils::{CardKeyKind, CardSpec},
};

use crate::support::*;

#[test]
fn rsa_2048_card_is_accepted() {
    let spec = CardSpec::default();
    let card = card(spec.clone());
    let verified = verify(&card, &card.sign(MESSAGE)).expect("accepted");
    assert_eq!(verified.key_algorithm(), KeyAlgorithm::Rsa { bits: 2048 });
    assert_eq!(verified.root_key_id(), root().key_id());
    assert_eq!(verified.serial(), card.serial());
    assert_eq!(verified.subject_id(), "0123A4B5C6D7E8F9G0H1I2J");
    assert_eq!(verified.not_after().unix_timestamp(), spec.not_after.unix_timestamp());
    assert!(verified.issuer().contains("JPKI for user authentication"), "{}", verified.issuer());
}

#[test]
fn p256_card_is_accepted() {
    let card = card(CardSpec { key: CardKeyKind::P256, ..CardSpec::default() });
    let verified = verify(&card, &card.sign(MESSAGE)).expect("accepted");
    assert_eq!(verified.key_algorithm(), KeyAlgorithm::EcdsaP256);
}

#[test]
fn p384_card_is_accepted() {
    let card = card(CardSpec { key: CardKeyKind::P384, ..CardSpec::default() });
    let verified = verify(&card, &card.sign(MESSAGE)).expect("accepted");
    assert_eq!(verified.key_algorithm(), KeyAlgorithm::EcdsaP384);
}

#[test]
fn debug_output_redacts_personal_data() {
    let card = card(CardSpec::default());
    let verified = verify(&card, &card.sign(MESSAGE)).expect("accepted");
    let debug = format!("{verified:?} {:?}", verified.cert_ref());
    assert!(!debug.contains("0123A4B5C6D7E8F9G0H1I2J"), "{debug}");
    assert!(!debug.contains(&hex::encode(card.serial())), "{debug}");
    assert!(debug.contains("<redacted>"));
}

#[test]
fn refusal_messages_carry_no_personal_data_and_codes_are_stable() {
    let card = card(CardSpec::default());
    let refusal = verify(&card, &card.sign(b"another message")).expect_err("refused");
    let text = refusal.to_string();
    assert!(
        !text.contains("0123A4B5C6D7E8F9G0H1I2J") && !text.contains(&hex::encode(card.serial()))
    );
    assert_eq!(refusal.code(), "bad_signature");
    for code in honnin_jpki::Refusal::ALL_CODES {
        assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{code}");
    }
}
