//! OCSP response decoding and checking never panic, whatever the bytes.
#![no_main]

use honnin_jpki::OcspChecker;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let _ = honnin_jpki::revocation::ocsp::decode_response(data);
    let checker = OcspChecker { require_nonce: false, ..OcspChecker::default() };
    let _ = checker.check(data, &common::cert_ref(), None, common::anchors(), common::at());
});
