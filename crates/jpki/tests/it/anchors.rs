//! Loading trust anchors from a folder or a PEM bundle.

use honnin_jpki::{Error, TrustAnchors, test_utils::SimRoot};

use crate::support::*;

#[test]
fn folder_and_bundle_load_the_same_roots() {
    let other = SimRoot::new(OTHER_ROOT_SLOT);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.pem"), root().pem()).unwrap();
    std::fs::write(dir.path().join("b.der"), other.der()).unwrap();
    std::fs::write(dir.path().join("README.txt"), "not a root").unwrap();
    let from_dir = TrustAnchors::from_path(dir.path()).unwrap();
    assert_eq!(from_dir.len(), 2);
    assert!(from_dir.get(root().key_id()).is_some() && from_dir.get(other.key_id()).is_some());

    let bundle = dir.path().join("bundle.txt");
    std::fs::write(&bundle, format!("{}{}{}", root().pem(), other.pem(), root().pem())).unwrap();
    let from_bundle = TrustAnchors::from_path(&bundle).unwrap();
    assert_eq!(from_bundle.len(), 2, "duplicates are ignored");
}

#[test]
fn bad_inputs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(TrustAnchors::from_path(dir.path()), Err(Error::NoAnchors { .. })));
    assert!(matches!(
        TrustAnchors::from_path(dir.path().join("missing.pem")),
        Err(Error::Io { .. })
    ));
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        .unwrap();
    assert!(matches!(TrustAnchors::from_path(&junk), Err(Error::InvalidAnchor { .. })));
    // A card certificate (not a CA... it has no basicConstraints, but its key is fine): the
    // loader accepts only what it can use; a leaf marked cA=false is refused.
}

#[test]
fn roots_sharing_a_name_are_told_apart_by_key_id() {
    let other = SimRoot::new(OTHER_ROOT_SLOT);
    assert_eq!(root().anchor().subject(), other.anchor().subject());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bundle.pem"), format!("{}{}", root().pem(), other.pem()))
        .unwrap();
    let anchors = TrustAnchors::from_path(dir.path()).unwrap();
    assert_eq!(anchors.len(), 2);
    assert_ne!(root().key_id(), other.key_id());
}
