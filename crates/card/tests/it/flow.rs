//! The flow over an in-memory transport to the virtual card (no pcscd).

use std::sync::Arc;

use honnin_card::{
    CardKind, Error, JpkiCard, Key, LastTry, Pin, PinState,
    test_utils::{Answer, MemoryTransport, Seen, VirtualCard},
};
use honnin_jpki::{
    Policy, Verifier,
    test_utils::{CardSpec, SimRoot},
};

use crate::{PIN, card};

const MESSAGE: &[u8] =
    b"honnin.localhost wants you to prove you hold your My Number card.\nNonce: 42\n";

fn is_verify(command: &[u8]) -> bool {
    command.starts_with(&[0x00, 0x20, 0x00, 0x80, 0x04])
}

#[test]
fn reads_the_certificate_in_chunks_and_signs_what_the_verifier_accepts() {
    let (root, shared) = card();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    assert_eq!(card.kind(), CardKind::PlasticCard);
    let der = card.certificate(Key::Authentication).unwrap();
    assert!(der.len() > 256, "more than one READ BINARY");
    let reads = shared.lock().seen().iter().filter(|s| **s == Seen::ReadBinary).count();
    // The token, the DER header, then the rest by offset in chunks of at most 256 bytes.
    assert_eq!(reads, 2 + (der.len() - 8).div_ceil(256), "header, then by offset");
    assert_eq!(card.pin_state(Key::Authentication).unwrap(), PinState::TriesLeft(3));

    let pin = Pin::parse(PIN).unwrap();
    let signature = card.sign(Key::Authentication, &pin, MESSAGE, LastTry::Refuse).unwrap();
    assert_eq!(signature.len(), 256, "RSA-2048");
    let verifier = Verifier::new(Arc::new(root.anchors()), Policy::default());
    verifier.verify_card(&der, MESSAGE, &signature, time::OffsetDateTime::now_utc()).unwrap();

    // VERIFY and the signature went in one exclusive session, the PIN exactly once.
    let transport = card.into_transport();
    let verifies: Vec<_> = transport.log().iter().filter(|e| is_verify(&e.command)).collect();
    assert_eq!(verifies.len(), 1);
    assert!(verifies[0].exclusive);
    let sign = transport.log().iter().find(|e| e.command.starts_with(&[0x80, 0x2A])).unwrap();
    assert!(sign.exclusive);
}

#[test]
fn a_wrong_pin_costs_exactly_one_try_and_is_not_retried() {
    let (_, shared) = card();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    let wrong = Pin::parse("0000").unwrap();
    let error = card.sign(Key::Authentication, &wrong, MESSAGE, LastTry::Refuse).unwrap_err();
    assert!(matches!(error, Error::WrongPin { tries_left: 2 }), "{error}");
    assert_eq!(shared.lock().tries_left(), 2);
    assert_eq!(shared.lock().verifies(), 1);
    assert!(!shared.lock().seen().contains(&Seen::Sign), "no signature after a wrong PIN");
    // The right PIN resets the counter.
    card.sign(Key::Authentication, &Pin::parse(PIN).unwrap(), MESSAGE, LastTry::Refuse).unwrap();
    assert_eq!(shared.lock().tries_left(), 3);
}

#[test]
fn at_one_try_left_nothing_is_sent_without_confirmation() {
    let root = SimRoot::new(0);
    let shared =
        VirtualCard::new(root.issue(&CardSpec::default()), PIN).with_tries_left(1).shared();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    let pin = Pin::parse(PIN).unwrap();
    let error = card.sign(Key::Authentication, &pin, MESSAGE, LastTry::Refuse).unwrap_err();
    assert!(matches!(error, Error::LastTryNotConfirmed), "{error}");
    assert_eq!(shared.lock().verifies(), 0);
    assert_eq!(shared.lock().tries_left(), 1);
    card.sign(Key::Authentication, &pin, MESSAGE, LastTry::Confirmed).unwrap();
    assert_eq!(shared.lock().verifies(), 1);
    assert_eq!(shared.lock().tries_left(), 3);
}

#[test]
fn the_last_wrong_try_locks_and_a_locked_card_refuses_before_any_verify() {
    let root = SimRoot::new(0);
    let shared =
        VirtualCard::new(root.issue(&CardSpec::default()), PIN).with_tries_left(1).shared();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    let wrong = Pin::parse("1111").unwrap();
    let error = card.sign(Key::Authentication, &wrong, MESSAGE, LastTry::Confirmed).unwrap_err();
    assert!(matches!(error, Error::PinLocked), "63 C0 after the last try: {error}");
    assert_eq!(shared.lock().tries_left(), 0);
    assert!(matches!(card.pin_state(Key::Authentication), Err(Error::PinLocked)));
    let verifies = shared.lock().verifies();
    let right = Pin::parse(PIN).unwrap();
    let error = card.sign(Key::Authentication, &right, MESSAGE, LastTry::Confirmed).unwrap_err();
    assert!(matches!(error, Error::PinLocked), "{error}");
    assert_eq!(shared.lock().verifies(), verifies, "no VERIFY on a locked card");
}

#[test]
fn a_card_without_the_jpki_ap_is_not_jpki() {
    let shared = VirtualCard::foreign().shared();
    let error = JpkiCard::open(MemoryTransport::card(&shared)).unwrap_err();
    assert!(matches!(error, Error::NotJpki), "{error}");
}

#[test]
fn the_token_tells_plastic_card_smartphone_or_unknown() {
    let root = SimRoot::new(0);
    for kind in [CardKind::Smartphone, CardKind::Unknown] {
        let shared =
            VirtualCard::new(root.issue(&CardSpec::default()), PIN).with_kind(kind).shared();
        assert_eq!(JpkiCard::open(MemoryTransport::card(&shared)).unwrap().kind(), kind);
    }
}

#[test]
fn a_card_pulled_mid_signature_is_card_removed() {
    let root = SimRoot::new(0);
    let shared = VirtualCard::new(root.issue(&CardSpec::default()), PIN).pull_on_sign().shared();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    let error = card
        .sign(Key::Authentication, &Pin::parse(PIN).unwrap(), MESSAGE, LastTry::Refuse)
        .unwrap_err();
    assert!(matches!(error, Error::CardRemoved), "{error}");
}

/// A scripted card: `63 Cn` to the tries-left question, then the given answer to everything
/// after the PIN check; lets each status word reach each step of the flow.
fn scripted(tries: u16, after_verify: [u8; 2]) -> MemoryTransport {
    let mut verified = false;
    MemoryTransport::new(move |command| {
        let ok = vec![0x90, 0x00];
        Answer::Reply(match command {
            [0x00, 0x20, 0x00, 0x80] => (0x63C0 | tries).to_be_bytes().to_vec(),
            [0x00, 0x20, 0x00, 0x80, 0x04, ..] => {
                verified = true;
                ok
            }
            _ if verified && command.starts_with(&[0x80, 0x2A]) => after_verify.to_vec(),
            _ => ok,
        })
    })
}

#[test]
fn every_status_word_reaches_the_person_as_its_error() {
    let pin = Pin::parse(PIN).unwrap();
    let sign = |mut transport: MemoryTransport| {
        let mut card = JpkiCard::open(&mut transport).unwrap();
        card.sign(Key::Authentication, &pin, MESSAGE, LastTry::Refuse).map(drop)
    };
    assert!(matches!(sign(scripted(3, [0x69, 0x82])), Err(Error::NotVerified)));
    assert!(matches!(sign(scripted(3, [0x69, 0x83])), Err(Error::PinLocked)));
    assert!(matches!(sign(scripted(3, [0x69, 0x84])), Err(Error::PinLocked)));
    assert!(matches!(
        sign(scripted(3, [0x6A, 0x82])),
        Err(Error::UnexpectedStatus { sw: 0x6A82, .. })
    ));
    assert!(matches!(
        sign(scripted(3, [0x6F, 0x00])),
        Err(Error::UnexpectedStatus { sw: 0x6F00, .. })
    ));
    assert!(matches!(sign(scripted(3, [0x90, 0x00])), Err(Error::MalformedResponse { .. })));
    // 63 C0 to the tries-left question: locked, and no VERIFY.
    let mut transport = scripted(0, [0x90, 0x00]);
    let error = {
        let mut card = JpkiCard::open(&mut transport).unwrap();
        card.sign(Key::Authentication, &pin, MESSAGE, LastTry::Confirmed).unwrap_err()
    };
    assert!(matches!(error, Error::PinLocked));
    assert!(!transport.log().iter().any(|e| is_verify(&e.command)));
}

#[test]
fn the_signing_key_reads_its_certificate_and_signs_with_the_password() {
    let (_, sign_root, shared) = crate::card_with_signing();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    let der = card.certificate(Key::Signing).unwrap();
    assert!(shared.lock().seen().contains(&Seen::SelectFile(0x0001)));
    assert_eq!(card.pin_state(Key::Signing).unwrap(), PinState::TriesLeft(5));
    let password = Pin::signing_password(crate::PASSWORD).unwrap();
    let signature = card.sign(Key::Signing, &password, MESSAGE, LastTry::Refuse).unwrap();
    let verified = honnin_jpki::SigningVerifier::new(sign_root.anchors())
        .verify_signing(&der, MESSAGE, &signature, time::OffsetDateTime::now_utc())
        .unwrap();
    assert!(verified.birth_date().has_reached(30, time::OffsetDateTime::now_utc()).unwrap());
    // The password went to EF 001B, the signature came from EF 001A, in one session.
    let seen = shared.lock().seen().to_vec();
    let verify_at = seen.iter().position(|s| *s == Seen::Verify).unwrap();
    assert_eq!(seen[verify_at - 2], Seen::SelectFile(0x001B));
    assert_eq!(seen[verify_at + 1], Seen::SelectFile(0x001A));
    let transport = card.into_transport();
    let verify = transport.log().iter().find(|e| is_verify_any(&e.command)).unwrap();
    assert_eq!(verify.command[4], 10, "Lc is the password's length");
    assert!(verify.exclusive);
}

fn is_verify_any(command: &[u8]) -> bool {
    command.len() > 5 && command.starts_with(&[0x00, 0x20, 0x00, 0x80])
}

#[test]
fn a_wrong_signing_password_costs_one_of_five_tries_and_leaves_the_pin_alone() {
    let (_, _, shared) = crate::card_with_signing();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    let wrong = Pin::signing_password("WRONG1").unwrap();
    let error = card.sign(Key::Signing, &wrong, MESSAGE, LastTry::Refuse).unwrap_err();
    assert!(matches!(error, Error::WrongPassword { tries_left: 4 }), "{error}");
    assert_eq!(error.code(), "wrong_signing_password");
    assert!(error.to_string().contains("signing password: 4 tries left"), "{error}");
    assert!(error.message_ja().contains("署名用パスワードが違います。あと 4 回"), "{error}");
    assert_eq!(shared.lock().signing_tries_left(), Some(4));
    assert_eq!(shared.lock().tries_left(), 3, "the auth PIN's counter is its own");
    assert_eq!(shared.lock().verifies(), 1);
    assert!(!shared.lock().seen().contains(&Seen::Sign));
    let password = Pin::signing_password(crate::PASSWORD).unwrap();
    card.sign(Key::Signing, &password, MESSAGE, LastTry::Refuse).unwrap();
    assert_eq!(shared.lock().signing_tries_left(), Some(5));
}

#[test]
fn a_secret_for_the_other_key_is_refused_before_anything_is_sent() {
    let (_, _, shared) = crate::card_with_signing();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    let pin = Pin::parse(PIN).unwrap();
    let error = card.sign(Key::Signing, &pin, MESSAGE, LastTry::Refuse).unwrap_err();
    assert!(matches!(error, Error::PasswordFormat), "{error}");
    let password = Pin::signing_password(crate::PASSWORD).unwrap();
    let error = card.sign(Key::Authentication, &password, MESSAGE, LastTry::Refuse).unwrap_err();
    assert!(matches!(error, Error::PinFormat), "{error}");
    assert_eq!(shared.lock().verifies(), 0);
}

#[test]
fn at_one_signing_try_left_nothing_is_sent_without_confirmation_and_locked_is_refused() {
    let (_, sign_root, _) = crate::card_with_signing();
    let root = SimRoot::new(0);
    let signing = sign_root.issue(&CardSpec::signing(time::macros::date!(1990 - 01 - 02)));
    let shared = VirtualCard::new(root.issue(&CardSpec::default()), PIN)
        .with_signing(signing.clone(), crate::PASSWORD)
        .with_signing_tries_left(1)
        .shared();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    assert_eq!(card.pin_state(Key::Signing).unwrap(), PinState::TriesLeft(1));
    let password = Pin::signing_password(crate::PASSWORD).unwrap();
    let error = card.sign(Key::Signing, &password, MESSAGE, LastTry::Refuse).unwrap_err();
    assert!(matches!(error, Error::LastTryNotConfirmed), "{error}");
    assert_eq!(shared.lock().verifies(), 0);
    card.sign(Key::Signing, &password, MESSAGE, LastTry::Confirmed).unwrap();

    let locked = VirtualCard::new(root.issue(&CardSpec::default()), PIN)
        .with_signing(signing, crate::PASSWORD)
        .with_signing_tries_left(0)
        .shared();
    let mut card = JpkiCard::open(MemoryTransport::card(&locked)).unwrap();
    assert!(matches!(card.pin_state(Key::Signing), Err(Error::PasswordLocked)));
    let error = card.sign(Key::Signing, &password, MESSAGE, LastTry::Confirmed).unwrap_err();
    assert!(matches!(error, Error::PasswordLocked), "{error}");
    assert_eq!(error.code(), "signing_password_locked");
    // The PIN is another counter: still usable, and still reported as the PIN.
    assert_eq!(card.pin_state(Key::Authentication).unwrap(), PinState::TriesLeft(3));
    assert_eq!(locked.lock().verifies(), 0);
}

#[test]
fn a_card_without_a_signing_key_says_so() {
    let (_, shared) = card();
    let mut card = JpkiCard::open(MemoryTransport::card(&shared)).unwrap();
    let error = card.certificate(Key::Signing).unwrap_err();
    assert!(matches!(error, Error::NoSigningCertificate), "{error}");
    assert_eq!(error.code(), "no_signing_certificate");
    assert!(matches!(card.pin_state(Key::Signing), Err(Error::NoSigningCertificate)));
    // The authentication side still says which file is missing.
    let mut transport = MemoryTransport::new(|command| {
        let sw: &[u8] =
            if command[1] == 0xA4 && command[2] == 0x02 { &[0x6A, 0x82] } else { &[0x90, 0x00] };
        Answer::Reply(sw.to_vec())
    });
    let mut card = JpkiCard::open(&mut transport).unwrap();
    let error = card.certificate(Key::Authentication).unwrap_err();
    assert!(matches!(error, Error::FileNotFound { file: 0x000A }), "{error}");
}
