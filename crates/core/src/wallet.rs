//! Wallet proofs: EIP-191 `personal_sign` for externally owned accounts, with ERC-1271 as the
//! fallback for contract wallets.
//!
//! The service checks a wallet signature in two steps:
//!
//! 1. [`WalletSignature::check_eoa`] — pure and local. If the signature is a 65-byte ECDSA
//!    signature that recovers to the challenge's wallet, the proof is [`WalletProof::Eoa`].
//! 2. Otherwise ([`EoaCheck::NotEoa`]) the wallet may be a contract: the chain crate calls
//!    `isValidSignature(eip191_hash(message), signature)` on it (ERC-1271) and, if it answers
//!    the magic value `0x1626ba7e`, the proof is [`WalletProof::Erc1271`]. Only when that fails
//!    too is the signature refused (`wallet_mismatch`).
//!
//! ERC-1271 signatures have no fixed length (multisigs concatenate several), so
//! [`WalletSignature`] accepts up to [`WalletSignature::MAX_LEN`] bytes.

use std::{fmt, str::FromStr, sync::LazyLock};

use alloy_primitives::{Address, B256, Signature, eip191_hash_message};
use secp256k1::{
    Message, Secp256k1, VerifyOnly,
    ecdsa::{RecoverableSignature, RecoveryId},
};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The EIP-191 `personal_sign` hash of a message: the digest an EOA signs and an ERC-1271
/// wallet is asked about.
pub fn eip191_hash(message: &str) -> B256 {
    eip191_hash_message(message.as_bytes())
}

/// A wallet's signature over a challenge message, as sent by the client (hex).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WalletSignature(Vec<u8>);

impl WalletSignature {
    /// The longest signature accepted (enough for a multisig of a few dozen owners).
    pub const MAX_LEN: usize = 4096;

    /// A signature from raw bytes (1 to [`MAX_LEN`](Self::MAX_LEN)).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return Err(Error::InvalidWalletSignature { max: Self::MAX_LEN });
        }
        Ok(Self(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Step 1 of the wallet proof: does this signature recover, under EIP-191, to `wallet`?
    ///
    /// The signature is parsed as alloy parses it (`r ‖ s ‖ v`, `v` in 0/1/27/28 or EIP-155
    /// form) and the signer recovered with libsecp256k1, which accepts what the `ecrecover`
    /// precompile accepts (high `s` included). libsecp256k1 recovers about five times as fast as
    /// the pure-Rust `k256` (`cargo bench -p honnin-core --bench wallet` measures both).
    pub fn check_eoa(&self, message: &str, wallet: Address) -> EoaCheck {
        let Ok(signature) = Signature::from_raw(&self.0) else {
            return EoaCheck::NotEoa;
        };
        match recover_prehash(&signature, &eip191_hash(message)) {
            Some(recovered) if recovered == wallet => EoaCheck::Verified,
            Some(recovered) => EoaCheck::Mismatch { recovered },
            None => EoaCheck::NotEoa,
        }
    }
}

/// The verification context, built once (libsecp256k1's tables are static; this is cheap).
static SECP: LazyLock<Secp256k1<VerifyOnly>> = LazyLock::new(Secp256k1::verification_only);

/// The address whose key made `signature` over `hash`, through libsecp256k1; `None` when no
/// key recovers (an `r` or `s` out of range, or no curve point for `r`).
pub fn recover_prehash(signature: &Signature, hash: &B256) -> Option<Address> {
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&signature.s().to_be_bytes::<32>());
    let id = RecoveryId::try_from(i32::from(signature.v())).ok()?;
    let signature = RecoverableSignature::from_compact(&compact, id).ok()?;
    let key = SECP.recover_ecdsa(Message::from_digest(hash.0), &signature).ok()?;
    Some(Address::from_raw_public_key(&key.serialize_uncompressed()[1..]))
}

impl FromStr for WalletSignature {
    type Err = Error;

    /// Parses `0x`-prefixed or bare hex.
    fn from_str(s: &str) -> Result<Self> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        let bytes = hex::decode(digits)
            .map_err(|_| Error::InvalidWalletSignature { max: Self::MAX_LEN })?;
        Self::from_bytes(bytes)
    }
}

impl fmt::Display for WalletSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(&self.0))
    }
}

impl fmt::Debug for WalletSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WalletSignature({} bytes)", self.0.len())
    }
}

impl Serialize for WalletSignature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WalletSignature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The outcome of [`WalletSignature::check_eoa`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EoaCheck {
    /// The signature recovers to the wallet: an EOA proof.
    Verified,
    /// A valid ECDSA signature by another key. The wallet may still be a contract wallet whose
    /// owner signed (some ERC-1271 wallets accept their owner's plain signature): try ERC-1271.
    Mismatch {
        /// The address the signature recovers to.
        recovered: Address,
    },
    /// Not a recoverable 65-byte ECDSA signature: only ERC-1271 can accept it.
    NotEoa,
}

/// How a wallet proved control of itself; recorded with the attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalletProof {
    /// EIP-191 `personal_sign` recovered to the wallet.
    Eoa,
    /// The wallet contract accepted the signature through ERC-1271 `isValidSignature`.
    Erc1271,
}

impl WalletProof {
    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Eoa => "eoa",
            Self::Erc1271 => "erc1271",
        }
    }
}

impl FromStr for WalletProof {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "eoa" => Ok(Self::Eoa),
            "erc1271" => Ok(Self::Erc1271),
            _ => Err(Error::InvalidWalletProof),
        }
    }
}
