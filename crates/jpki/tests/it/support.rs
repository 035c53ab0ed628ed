//! Shared fixtures.

use std::sync::OnceLock;

use honnin_jpki::{
    Policy, Refusal, VerifiedCard, Verifier,
    test_utils::{CardSpec, SimCard, SimRoot},
};
use time::OffsetDateTime;

/// Key pool slots, so tests that need different keys get them.
pub(crate) const ROOT_SLOT: usize = 0;
pub(crate) const CARD_SLOT: usize = 1;
pub(crate) const OTHER_ROOT_SLOT: usize = 2;
pub(crate) const RESPONDER_SLOT: usize = 3;
pub(crate) const STRANGER_SLOT: usize = 4;

pub(crate) const MESSAGE: &[u8] =
    b"honnin.example wants you to prove you hold your card.\nNonce: 9f1c\n";

/// The shared simulated root (slot 0).
pub(crate) fn root() -> &'static SimRoot {
    static ROOT: OnceLock<SimRoot> = OnceLock::new();
    ROOT.get_or_init(|| SimRoot::new(ROOT_SLOT))
}

pub(crate) fn verifier(root: &SimRoot) -> Verifier {
    Verifier::new(root.anchors(), Policy::default())
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Issues a card from the shared root per `spec`.
pub(crate) fn card(spec: CardSpec) -> SimCard {
    root().issue(&spec)
}

/// Verifies `card`'s signature over [`MESSAGE`] now, with the shared root.
pub(crate) fn verify(card: &SimCard, signature: &[u8]) -> Result<VerifiedCard, Refusal> {
    verifier(root()).verify_card(card.der(), MESSAGE, signature, now())
}

#[track_caller]
pub(crate) fn assert_refused<T: std::fmt::Debug>(result: Result<T, Refusal>, code: &str) {
    match result {
        Ok(v) => panic!("expected refusal {code}, got acceptance: {v:?}"),
        Err(refusal) => assert_eq!(refusal.code(), code, "refusal was: {refusal}"),
    }
}
