//! Object identifiers honnin checks for.

use const_oid::ObjectIdentifier as Oid;

/// JPKI user-authentication certificate policy (利用者証明用).
pub const JPKI_USER_AUTH_POLICY: Oid = Oid::new_unwrap("1.2.392.200149.8.5.1.3.30");
/// JPKI digital-signature certificate policy (署名用). Not accepted by default.
pub const JPKI_SIGNATURE_POLICY: Oid = Oid::new_unwrap("1.2.392.200149.8.5.1.1.20");

/// The signing certificate's basic attributes, subjectAltName `otherName` types (reported):
/// name (氏名).
pub const JPKI_NAME: Oid = Oid::new_unwrap("1.2.392.200149.8.5.5.1");
/// Name substitution characters (氏名代替文字の使用位置).
pub const JPKI_NAME_SUBSTITUTION: Oid = Oid::new_unwrap("1.2.392.200149.8.5.5.2");
/// Sex (性別).
pub const JPKI_SEX: Oid = Oid::new_unwrap("1.2.392.200149.8.5.5.3");
/// Birth date (生年月日), `EYYYYMMDD`: era digit and Gregorian date.
pub const JPKI_BIRTH_DATE: Oid = Oid::new_unwrap("1.2.392.200149.8.5.5.4");
/// Address (住所).
pub const JPKI_ADDRESS: Oid = Oid::new_unwrap("1.2.392.200149.8.5.5.5");
/// Address substitution characters (住所代替文字の使用位置).
pub const JPKI_ADDRESS_SUBSTITUTION: Oid = Oid::new_unwrap("1.2.392.200149.8.5.5.6");

pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
pub(crate) const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub(crate) const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub(crate) const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub(crate) const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
pub(crate) const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
pub(crate) const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub(crate) const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub(crate) const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");

pub(crate) const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
pub(crate) const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
pub(crate) const CERT_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
pub(crate) const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
pub(crate) const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
pub(crate) const AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
pub(crate) const SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
pub(crate) const CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
pub(crate) const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");
pub(crate) const CRL_NUMBER: Oid = Oid::new_unwrap("2.5.29.20");
pub(crate) const CRL_REASON: Oid = Oid::new_unwrap("2.5.29.21");
pub(crate) const INVALIDITY_DATE: Oid = Oid::new_unwrap("2.5.29.24");

pub(crate) const KP_CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
pub(crate) const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");
pub(crate) const AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
pub(crate) const OCSP_BASIC: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.1");
pub(crate) const OCSP_NONCE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.2");
#[cfg(feature = "test-utils")]
pub(crate) const OCSP_NOCHECK: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.5");
