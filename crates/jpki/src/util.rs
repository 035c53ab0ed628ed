//! Small DER and time helpers.

use der::{Decode, Header, Reader, SliceReader, Tag};
use time::OffsetDateTime;

/// Splits a signed X.509 structure (`SEQUENCE { tbs, algorithm, signature }`) and returns the
/// exact bytes of the to-be-signed part, as they came: signatures are checked over these, never
/// over a re-encoding.
pub(crate) fn tbs_bytes(der: &[u8]) -> der::Result<&[u8]> {
    let mut reader = SliceReader::new(der)?;
    let header = Header::decode(&mut reader)?;
    header.tag.assert_eq(Tag::Sequence)?;
    reader.tlv_bytes()
}

/// Converts an X.509 time to `OffsetDateTime` (X.509 times are at most year 9999: always fits).
pub(crate) fn to_offset(t: x509_cert::time::Time) -> OffsetDateTime {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Converts a GeneralizedTime to `OffsetDateTime`.
pub(crate) fn gen_to_offset(t: der::asn1::GeneralizedTime) -> OffsetDateTime {
    to_offset(x509_cert::time::Time::GeneralTime(t))
}

pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0; 20];
    out.copy_from_slice(d.as_ref());
    out
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0; 32];
    out.copy_from_slice(d.as_ref());
    out
}
