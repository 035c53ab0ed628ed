//! honnin-card: the APDU layer and the flow over an in-memory transport (no pcscd), and the
//! PC/SC transport through real pcscd + vpcd against the virtual card.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apdu;
mod bridge;
mod flow;
mod pcsc;

use honnin_card::test_utils::{SharedCard, VirtualCard};
use honnin_jpki::test_utils::{CardSpec, SimRoot};

/// The test PIN of every virtual card.
pub(crate) const PIN: &str = "4821";

/// A root, and a virtual plastic card with a certificate from it and PIN [`PIN`].
pub(crate) fn card() -> (SimRoot, SharedCard) {
    let root = SimRoot::new(0);
    let sim = root.issue(&CardSpec::default());
    (root, VirtualCard::new(sim, PIN).shared())
}
