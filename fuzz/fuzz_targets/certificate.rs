//! Certificate parsing and verification never panic, whatever the bytes.
#![no_main]

use honnin_jpki::{Policy, Verifier, inspect};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let _ = inspect(data);
    let _ = honnin_jpki::certificate_der(data);
    let verifier = Verifier::new(common::anchors().clone(), Policy::default());
    let signature = [0x5a; 256];
    let _ = verifier.verify_card(data, b"fuzz message", &signature, common::at());
});
