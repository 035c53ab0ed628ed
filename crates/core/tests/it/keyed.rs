use honnin_core::{ChallengeId, Pepper};

fn pepper(b: u8) -> Pepper {
    Pepper::from_bytes(vec![b; 32]).unwrap()
}

#[test]
fn pepper_never_prints_its_bytes() {
    let p = Pepper::from_hex(&"ab".repeat(32)).unwrap();
    let debug = format!("{p:?}");
    assert_eq!(debug, "Pepper(..)");
    assert!(!debug.contains("ab"));
}

#[test]
fn pepper_length_and_encoding_are_checked() {
    assert!(Pepper::from_bytes(vec![1; 31]).is_err());
    assert!(Pepper::from_hex("not hex").is_err());
    assert!(Pepper::from_hex(&format!("  {}\n", "01".repeat(32))).is_ok());
}

#[test]
fn hashes_are_keyed_and_domain_separated() {
    let (p, q) = (pepper(1), pepper(2));
    let (root, serial) = ([9u8; 20], [0x01, 0x02, 0x03]);
    // Same inputs, different pepper: unrelated.
    assert_ne!(p.pseudonym(&root, &serial), q.pseudonym(&root, &serial));
    // Same pepper and inputs, different label: unrelated.
    assert_ne!(p.pseudonym(&root, &serial).as_bytes(), p.cert_hash(&root, &serial).as_bytes());
    // Deterministic.
    assert_eq!(p.cert_hash(&root, &serial), p.cert_hash(&root, &serial));
    // Field boundaries matter (length prefixes): moving a byte between fields changes the hash.
    assert_ne!(p.cert_hash(&[1, 2], &[3]), p.cert_hash(&[1], &[2, 3]));
}

#[test]
fn serials_are_normalised() {
    let p = pepper(1);
    let root = [9u8; 20];
    // A DER integer with a sign-padding zero byte and the bare magnitude hash alike.
    assert_eq!(p.cert_hash(&root, &[0x00, 0x80, 0x01]), p.cert_hash(&root, &[0x80, 0x01]));
    assert_eq!(p.pseudonym(&root, &[0x00]), p.pseudonym(&root, &[0x00, 0x00]));
    assert_ne!(p.cert_hash(&root, &[0x80, 0x01]), p.cert_hash(&root, &[0x80, 0x01, 0x00]));
}

#[test]
fn debug_shows_only_a_prefix() {
    let h = pepper(1).pseudonym(&[1], &[2]);
    let debug = format!("{h:?}");
    let full = hex::encode(h.as_bytes());
    assert!(debug.starts_with("PersonPseudonym("));
    assert!(debug.contains(&full[..8]));
    assert!(!debug.contains(&full[..10]), "{debug}");
}

#[test]
fn request_digest_covers_every_part() {
    let p = pepper(1);
    let id = ChallengeId::from_bytes([3; 16]);
    let base = p.request_digest(&id, b"cert", b"card", b"wallet");
    assert_eq!(base, p.request_digest(&id, b"cert", b"card", b"wallet"));
    assert_ne!(
        base,
        p.request_digest(&ChallengeId::from_bytes([4; 16]), b"cert", b"card", b"wallet")
    );
    assert_ne!(base, p.request_digest(&id, b"cert2", b"card", b"wallet"));
    assert_ne!(base, p.request_digest(&id, b"cert", b"card2", b"wallet"));
    assert_ne!(base, p.request_digest(&id, b"cert", b"card", b"wallet2"));
}
