//! The simulated card (feature `test-utils`): mints JPKI-profile roots and user-authentication
//! certificates, signs messages exactly as the card does, issues CRLs and OCSP responses, and a
//! fake revocation source. For tests and `honnin dev` only: keys are generated in process and
//! nothing here is secret.
//!
//! Every property the verifier checks has a knob in [`CardSpec`] so negative tests can break
//! exactly one thing at a time.
//!
//! | file | concern |
//! |---|---|
//! | `test_utils/card.rs` | the simulated card: [`SimCard`], its key ([`CardKey`], [`CardKeyKind`]) and how it signs |
//! | `test_utils/root.rs` | [`SimRoot`], a simulated J-LIS root, as certificate and trust anchor |
//! | `test_utils/issue.rs` | minting card certificates: [`CardSpec`], [`Aki`], [`SimRoot::issue`] |
//! | `test_utils/attributes.rs` | the signing certificate's basic attributes: [`BasicAttributes`] |
//! | `test_utils/crl.rs` | simulated CRLs: [`CrlSpec`], [`CrlEntry`], [`SimRoot::crl`] |
//! | `test_utils/ocsp.rs` | simulated OCSP: [`OcspSpec`], [`OcspSigner`], [`NonceMode`], [`SimResponder`] |
//! | `test_utils/fake.rs` | [`FakeRevocation`], a revocation source that answers what the test says |
//! | `test_utils/keys.rs` | the RSA key pool ([`rsa_key`]) and public keys ([`fake_rsa_spki`]) |
//! | `test_utils/encoding.rs` | DER, PEM and time encoding, X.509 signing ([`ChainHash`]) |

#![allow(clippy::expect_used, clippy::missing_panics_doc)]

mod attributes;
mod card;
mod crl;
mod encoding;
mod fake;
mod issue;
mod keys;
mod ocsp;
mod root;

pub use attributes::{BasicAttributes, StringKind, birth_date_text, years_before};
pub use card::{CardKey, CardKeyKind, SimCard};
pub use crl::{CrlEntry, CrlSpec};
pub use encoding::{ChainHash, pem, x509_time};
pub use fake::{FakeAnswer, FakeRevocation};
pub use issue::{Aki, CardSpec};
pub use keys::{fake_rsa_spki, rsa_key};
pub use ocsp::{NonceMode, OcspSigner, OcspSpec, SimResponder};
pub use root::SimRoot;

/// The real issuer name of the J-LIS user-authentication roots (all generations share it).
pub const JPKI_AUTH_CA_NAME: &str = "OU=Japan Agency for Local Authority Information Systems,\
OU=JPKI for user authentication,O=JPKI,C=JP";

/// The real issuer name of the J-LIS digital-signature roots (both generations share it).
pub const JPKI_SIGN_CA_NAME: &str = "OU=Japan Agency for Local Authority Information Systems,\
OU=JPKI for digital signature,O=JPKI,C=JP";

/// The OCSP responder URL real user-authentication certificates carry.
pub const JPKI_OCSP_URL: &str = "http://ocspauthnorm.jpki.go.jp";

/// The DER DigestInfo prefix for SHA-256 (JPKI.md: the host builds it, the card pads and signs).
pub const SHA256_DIGEST_INFO_PREFIX: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The DER DigestInfo prefix for SHA-1 (which a real card signs just as happily).
pub const SHA1_DIGEST_INFO_PREFIX: &[u8] =
    &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14];
