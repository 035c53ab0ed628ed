// Shared by the fuzz targets (each uses part of it): the seed root, which also signed the seed
// inputs, so that mutated inputs reach root selection and signature checks, not only the DER
// decoder.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use honnin_jpki::{CertRef, TrustAnchors};
use time::OffsetDateTime;

pub fn anchors() -> &'static Arc<TrustAnchors> {
    static ANCHORS: OnceLock<Arc<TrustAnchors>> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        let pem = include_bytes!("../seeds/root.pem");
        Arc::new(
            TrustAnchors::from_bytes(pem, std::path::Path::new("seeds/root.pem"))
                .expect("seed root"),
        )
    })
}

pub fn cert_ref() -> CertRef {
    let root = anchors().iter().next().expect("one root");
    CertRef::new(root, &[0x01, 0x23, 0x45, 0x67, 0x89])
}

/// A fixed instant inside the seeds' validity, so runs are reproducible.
pub fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(include!("../seeds/at.txt")).expect("instant")
}
