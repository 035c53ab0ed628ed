//! CRL decoding and verification never panic, whatever the bytes.
#![no_main]

use honnin_jpki::Crl;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let _ = honnin_jpki::revocation::crl::decode(data);
    if let Ok(crl) = Crl::from_der(data, common::anchors()) {
        let _ = crl.is_fresh(common::at(), time::Duration::ZERO);
        let _ = crl.lookup(common::cert_ref().serial());
    }
});
