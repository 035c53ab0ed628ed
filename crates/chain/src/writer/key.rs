//! The attester's key: parsed once, never shown.

use std::fmt;
use std::str::FromStr;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;

use crate::{Error, Result};

/// The attester's private key. Its `Debug` shows only the address: the key is never logged.
#[derive(Clone)]
pub struct AttesterKey(PrivateKeySigner);

impl AttesterKey {
    /// The key's account.
    pub fn address(&self) -> Address {
        self.0.address()
    }

    /// The signer.
    pub fn signer(&self) -> &PrivateKeySigner {
        &self.0
    }
}

impl From<PrivateKeySigner> for AttesterKey {
    fn from(signer: PrivateKeySigner) -> Self {
        Self(signer)
    }
}

impl FromStr for AttesterKey {
    type Err = Error;

    /// Parses 32 bytes of hex, with or without `0x`. The error never repeats the input.
    fn from_str(s: &str) -> Result<Self> {
        PrivateKeySigner::from_str(s.trim()).map(Self).map_err(|_| Error::InvalidKey)
    }
}

impl fmt::Debug for AttesterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AttesterKey").field(&self.address()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_debug_shows_no_secret() {
        let secret = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        let key: AttesterKey = secret.parse().expect("key");
        let shown = format!("{key:?}");
        assert!(!shown.to_lowercase().contains(&secret[..16]), "{shown}");
        assert!(shown.contains("AttesterKey"));
        assert!("not a key".parse::<AttesterKey>().is_err());
    }
}
