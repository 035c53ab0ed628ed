//! honnin-card: the APDU layer and the flow over an in-memory transport (no pcscd), and the
//! PC/SC transport through real pcscd + vpcd against the virtual card.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apdu;
mod flow;
mod pcsc;

use honnin_card::test_utils::{SharedCard, VirtualCard};
use honnin_jpki::test_utils::{CardSpec, SimRoot};

/// The test PIN of every virtual card.
pub(crate) const PIN: &str = "4821";

/// The test signing password of every virtual card with a signing key.
pub(crate) const PASSWORD: &str = "HONNIN2026";

/// A user-authentication root, a signature root, and a virtual plastic card with both keys:
/// PIN [`PIN`], signing password [`PASSWORD`], birth date 1990-01-02.
pub(crate) fn card_with_signing() -> (SimRoot, SimRoot, SharedCard) {
    let root = SimRoot::new(0);
    let sign_root = SimRoot::signing(5);
    let auth = root.issue(&CardSpec::default());
    let signing = sign_root.issue(&CardSpec::signing(time::macros::date!(1990 - 01 - 02)));
    (root, sign_root, VirtualCard::new(auth, PIN).with_signing(signing, PASSWORD).shared())
}

/// A root, and a virtual plastic card with a certificate from it and PIN [`PIN`].
pub(crate) fn card() -> (SimRoot, SharedCard) {
    let root = SimRoot::new(0);
    let sim = root.issue(&CardSpec::default());
    (root, VirtualCard::new(sim, PIN).shared())
}
