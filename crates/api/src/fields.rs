//! Parsing the fields the resources share: wallets, challenge ids, wallet signatures, base64.
//! Every error names the field and what was expected, never the value.

use base64::{
    Engine as _,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use honnin_core::{Address, ChallengeId, WalletSignature};

use crate::error::{Error, Result};

/// Standard base64, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A wallet: `0x` (or `0X`) and 40 hex digits; the checksum is not required.
pub(crate) fn parse_wallet(text: &str) -> Result<Address> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    match digits {
        Some(d) if d.len() == 40 && d.bytes().all(|b| b.is_ascii_hexdigit()) => {
            text[2..].parse().map_err(|_| Error::malformed("`wallet` must be 0x and 40 hex digits"))
        }
        _ => Err(Error::malformed("`wallet` must be 0x and 40 hex digits")),
    }
}

/// A challenge id field.
pub(crate) fn parse_challenge_id(text: &str) -> Result<ChallengeId> {
    text.parse().map_err(|_| {
        Error::malformed("`challenge_id` must be `ch_` followed by 32 lowercase hex digits")
    })
}

/// A wallet signature field: `0x` and hex (the prefix is required, as documented).
pub(crate) fn parse_wallet_signature(text: &str) -> Result<WalletSignature> {
    let invalid = || {
        Error::malformed(format!(
            "`wallet_signature` must be 0x-prefixed hex of 1 to {} bytes",
            WalletSignature::MAX_LEN
        ))
    };
    if !text.starts_with("0x") {
        return Err(invalid());
    }
    text.parse().map_err(|_| invalid())
}

/// A standard-base64 field (padding optional, non-empty).
pub(crate) fn decode_base64(text: &str, field: &'static str) -> Result<Vec<u8>> {
    match BASE64.decode(text.trim()) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(Error::malformed(format!("`{field}` must be non-empty standard base64"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wallet_signature_pattern_states_the_limit() {
        // The OpenAPI pattern of `wallet_signature` says `{1,4096}`.
        assert_eq!(WalletSignature::MAX_LEN, 4096);
        assert!(parse_wallet_signature("deadbeef").is_err(), "0x is required");
        assert!(parse_wallet_signature("0xdeadbeef").is_ok());
    }
}
