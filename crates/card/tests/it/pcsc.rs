//! The PC/SC transport through the real stack: `pcsc` → libpcsclite → pcscd → vpcd → the
//! virtual card. Needs pcscd with vsmartcard-vpcd (scripts/test starts it and sets
//! HONNIN_PCSC=1; without it these tests say SKIPPED, except under CI where they fail).

use std::{sync::Arc, time::Duration};

use honnin_card::{
    CardKind, Error, JpkiCard, Key, LastTry, Pin, PinState,
    pcsc::Readers,
    test_utils::{VirtualCard, pcsc_stack},
};
use honnin_jpki::{
    Policy, Verifier,
    test_utils::{CardSpec, SimRoot},
};

use crate::{PIN, card};

const MESSAGE: &[u8] = b"honnin over pcscd\n";

#[test]
fn reads_and_signs_through_pcscd_and_resets_the_card_on_close() {
    let Some(stack) = pcsc_stack("reads_and_signs_through_pcscd") else { return };
    let (root, shared) = card();
    let _inserted = stack.insert(&shared);
    let readers = Readers::establish().unwrap();
    let list = readers.list().unwrap();
    assert!(list.iter().any(|r| r.name == stack.reader() && r.card_present), "{list:?}");
    let reader = readers.wait_for_card(Some(stack.reader()), Duration::from_secs(5)).unwrap();
    let mut card = JpkiCard::open(readers.connect(&reader).unwrap()).unwrap();
    assert_eq!(card.kind(), CardKind::PlasticCard);
    assert_eq!(card.pin_state(Key::Authentication).unwrap(), PinState::TriesLeft(3));
    let der = card.certificate(Key::Authentication).unwrap();
    let signature = card
        .sign(Key::Authentication, &Pin::parse(PIN).unwrap(), MESSAGE, LastTry::Refuse)
        .unwrap();
    Verifier::new(Arc::new(root.anchors()), Policy::default())
        .verify_card(&der, MESSAGE, &signature, time::OffsetDateTime::now_utc())
        .unwrap();
    assert!(shared.lock().is_verified());
    card.into_transport().close().unwrap();
    assert!(!shared.lock().is_verified(), "the disconnect reset the card");
}

#[test]
fn wrong_pin_locked_card_no_card_foreign_card_and_removal_through_pcscd() {
    let Some(stack) = pcsc_stack("errors_through_pcscd") else { return };
    let readers = Readers::establish().unwrap();
    let open = || {
        let reader = readers.wait_for_card(Some(stack.reader()), Duration::from_secs(5)).unwrap();
        JpkiCard::open(readers.connect(&reader).unwrap())
    };
    let root = SimRoot::new(0);
    let sim = || root.issue(&CardSpec::default());

    // No card: a clear timeout.
    let error =
        readers.wait_for_card(Some(stack.reader()), Duration::from_millis(300)).unwrap_err();
    assert!(matches!(error, Error::NoCard { .. }), "{error}");

    // Wrong PIN: one try spent, the count reported.
    let shared = VirtualCard::new(sim(), PIN).shared();
    let inserted = stack.insert(&shared);
    let mut card = open().unwrap();
    let error = card
        .sign(Key::Authentication, &Pin::parse("9999").unwrap(), MESSAGE, LastTry::Refuse)
        .unwrap_err();
    assert!(matches!(error, Error::WrongPin { tries_left: 2 }), "{error}");
    assert_eq!(shared.lock().tries_left(), 2);
    drop(card);
    inserted.remove();

    // Locked: refused before any VERIFY.
    let shared = VirtualCard::new(sim(), PIN).with_tries_left(0).shared();
    let inserted = stack.insert(&shared);
    let mut card = open().unwrap();
    assert!(matches!(card.pin_state(Key::Authentication), Err(Error::PinLocked)));
    let error = card
        .sign(Key::Authentication, &Pin::parse(PIN).unwrap(), MESSAGE, LastTry::Confirmed)
        .unwrap_err();
    assert!(matches!(error, Error::PinLocked), "{error}");
    assert_eq!(shared.lock().verifies(), 0);
    drop(card);
    inserted.remove();

    // A card without the JPKI AP.
    let shared = VirtualCard::foreign().shared();
    let inserted = stack.insert(&shared);
    assert!(matches!(open(), Err(Error::NotJpki)));
    inserted.remove();

    // Pulled out mid-signature.
    let shared = VirtualCard::new(sim(), PIN).pull_on_sign().shared();
    let inserted = stack.insert(&shared);
    let mut card = open().unwrap();
    let error = card
        .sign(Key::Authentication, &Pin::parse(PIN).unwrap(), MESSAGE, LastTry::Refuse)
        .unwrap_err();
    assert!(matches!(error, Error::CardRemoved), "{error}");
    assert!(inserted.is_gone());
    drop(card);
    inserted.remove();
}
