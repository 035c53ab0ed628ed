//! The real J-LIS roots from ../shared/jpki/roots (skipped, with the reason, where absent).

use std::path::PathBuf;

use honnin_jpki::{
    KeyAlgorithm, Policy, TrustAnchors, Verifier,
    test_utils::{Aki, CardSpec},
};

use crate::support::*;

fn roots_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/jpki/roots");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "SKIPPED: {} is absent (the shared folder is not beside the checkout)",
            dir.display()
        );
        None
    }
}

fn key_id_prefix(anchors: &TrustAnchors, file: &str) -> String {
    let dir = roots_dir().unwrap();
    let one = TrustAnchors::from_path(dir.join(file)).unwrap();
    let anchor = one.iter().next().unwrap();
    assert!(anchors.get(anchor.key_id()).is_some());
    hex::encode_upper(&anchor.key_id()[..4])
}

#[test]
fn all_five_roots_parse_and_are_told_apart() {
    let Some(dir) = roots_dir() else { return };
    let anchors = TrustAnchors::from_path(&dir).unwrap();
    assert_eq!(anchors.len(), 5);
    for anchor in anchors.iter() {
        assert_eq!(anchor.key_algorithm(), KeyAlgorithm::Rsa { bits: 2048 });
        assert!(anchor.subject().contains("O=JPKI"), "{}", anchor.subject());
    }
    // JPKI.md's table.
    assert_eq!(key_id_prefix(&anchors, "auth_ca_2015.pem"), "9567951B");
    assert_eq!(key_id_prefix(&anchors, "auth_ca_2019.pem"), "8CD5586A");
    assert_eq!(key_id_prefix(&anchors, "auth_ca_2023.pem"), "1AC100F5");
    assert_eq!(key_id_prefix(&anchors, "sign_ca_2015.pem"), "0D034CBB");
    assert_eq!(key_id_prefix(&anchors, "sign_ca_2023.pem"), "D21EA558");
    // The three user-auth generations share one subject name.
    let auth: Vec<_> = ["auth_ca_2015.pem", "auth_ca_2019.pem", "auth_ca_2023.pem"]
        .iter()
        .map(|f| TrustAnchors::from_path(dir.join(f)).unwrap().iter().next().unwrap().subject())
        .collect();
    assert!(auth.windows(2).all(|w| w[0] == w[1]), "{auth:?}");
    let a2023 = TrustAnchors::from_path(dir.join("auth_ca_2023.pem")).unwrap();
    let a2023 = a2023.iter().next().unwrap();
    assert_eq!(a2023.not_after().year(), 2033);
}

#[test]
fn simulated_certificate_naming_the_2023_root_is_matched_and_refused_as_bad_signature() {
    let Some(dir) = roots_dir() else { return };
    let real = TrustAnchors::from_path(dir.join("auth_ca_2023.pem")).unwrap();
    let anchor = real.iter().next().unwrap().clone();
    let card = root().issue(&CardSpec { aki: Aki::Claim(anchor.clone()), ..CardSpec::default() });
    let summary = honnin_jpki::inspect(card.der()).unwrap();
    assert_eq!(summary.authority_key_id.as_deref(), Some(anchor.key_id()));
    assert_eq!(summary.issuer, anchor.subject());
    let all = TrustAnchors::from_path(&dir).unwrap();
    let result = Verifier::new(all, Policy::default()).verify_card(
        card.der(),
        MESSAGE,
        &card.sign(MESSAGE),
        now(),
    );
    // Matched to the 2023 root (valid now, name agrees), then its signature does not verify.
    assert_eq!(
        result.unwrap_err(),
        honnin_jpki::Refusal::BadSignature(honnin_jpki::Signed::Certificate)
    );
}
