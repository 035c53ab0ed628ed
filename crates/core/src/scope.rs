//! Scopes: per-dApp attestations that no two dApps can link.
//!
//! A scope is a dApp the operator registers by name ([`ScopeName`]). Its id ([`Scope`]) is
//! public and derived from the name, so a dApp's contract can compute it:
//!
//! ```text
//! scope id = keccak256("honnin/v1/scope" || 0x00 || name)
//! Solidity: keccak256(abi.encodePacked("honnin/v1/scope", bytes1(0), name))
//! ```
//!
//! A person may attest a different wallet in each scope. Within a scope the uniqueness policy
//! holds through the person's *scoped* pseudonym and certificate hash
//! ([`Pepper::pseudonym_in`](crate::Pepper::pseudonym_in),
//! [`Pepper::cert_hash_in`](crate::Pepper::cert_hash_in)): keyed hashes that take the scope id
//! as a field, so the rows one scope stores cannot be joined with another scope's (or the
//! global ones) without the pepper. The store has no column naming a person's other scopes;
//! the life cycle reaches a person's scoped records by computing their hashes for every
//! registered scope.
//!
//! The unscoped ("global") record is `Option<Scope>::None` everywhere; the zero id is never a
//! scope.

use std::{fmt, str::FromStr};

use alloy_primitives::{B256, keccak256};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A registered scope's name: 1 to [`ScopeName::MAX_LEN`] ASCII characters, the first a
/// lowercase letter or digit, the rest lowercase letters, digits, `.` and `-` (`kyc-drop`,
/// `app.example.com`). Nothing that could break the signed message's line or hide text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeName(String);

impl ScopeName {
    /// The longest name accepted.
    pub const MAX_LEN: usize = 64;

    /// Validates a scope name.
    pub fn new(s: impl Into<String>) -> Result<Self> {
        let s = s.into();
        let mut bytes = s.bytes();
        let ok = s.len() <= Self::MAX_LEN
            && bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && bytes
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if ok { Ok(Self(s)) } else { Err(Error::InvalidScopeName { max: Self::MAX_LEN }) }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scope's id: `keccak256("honnin/v1/scope" || 0x00 || name)`.
    pub fn id(&self) -> Scope {
        let mut input = Vec::with_capacity(Scope::LABEL.len() + 1 + self.0.len());
        input.extend_from_slice(Scope::LABEL);
        input.push(0);
        input.extend_from_slice(self.0.as_bytes());
        Scope(keccak256(input))
    }
}

impl fmt::Display for ScopeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ScopeName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for ScopeName {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<ScopeName> for String {
    fn from(name: ScopeName) -> Self {
        name.0
    }
}

/// A scope's id: 32 bytes, never zero, written `0x` + 64 lowercase hex digits. Public (it is
/// on chain); derived from its [`ScopeName`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "B256", into = "B256")]
pub struct Scope(B256);

impl Scope {
    /// The domain-separation label of the id derivation.
    pub const LABEL: &'static [u8] = b"honnin/v1/scope";

    /// A scope id from its 32 bytes (as stored or read from the chain); `None` for zero,
    /// which is never a scope.
    pub fn from_bytes(bytes: [u8; 32]) -> Option<Self> {
        let id = B256::from(bytes);
        (!id.is_zero()).then_some(Self(id))
    }

    /// A scope id from a stored byte slice; `None` unless exactly 32 bytes, not all zero.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().and_then(Self::from_bytes)
    }

    /// The id as the contract's `bytes32`.
    pub const fn as_b256(&self) -> &B256 {
        &self.0
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({self})")
    }
}

impl FromStr for Scope {
    type Err = Error;

    /// `0x` + 64 hex digits, not all zero.
    fn from_str(s: &str) -> Result<Self> {
        let hex = s.strip_prefix("0x").ok_or(Error::InvalidScopeId)?;
        if hex.len() != 64 {
            return Err(Error::InvalidScopeId);
        }
        let bytes: [u8; 32] = hex::FromHex::from_hex(hex).map_err(|_| Error::InvalidScopeId)?;
        Self::from_bytes(bytes).ok_or(Error::InvalidScopeId)
    }
}

impl TryFrom<B256> for Scope {
    type Error = Error;

    fn try_from(id: B256) -> Result<Self> {
        Self::from_bytes(id.0).ok_or(Error::InvalidScopeId)
    }
}

impl From<Scope> for B256 {
    fn from(scope: Scope) -> Self {
        scope.0
    }
}

/// A scope given by name or by id (`0x` + 64 hex digits), as an API query names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeRef {
    /// By its registered name.
    Name(ScopeName),
    /// By its id.
    Id(Scope),
}

impl ScopeRef {
    /// The scope's id.
    pub fn id(&self) -> Scope {
        match self {
            Self::Name(name) => name.id(),
            Self::Id(id) => *id,
        }
    }
}

impl FromStr for ScopeRef {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.starts_with("0x") { s.parse().map(Self::Id) } else { s.parse().map(Self::Name) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["kyc-drop", "a", "app.example.com", "0day", &"x".repeat(64)] {
            assert!(ScopeName::new(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", ".a", "Kyc", "kyc drop", "kyc\nScope: x", "kyc_drop", &"x".repeat(65)]
        {
            assert!(ScopeName::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_id_is_the_documented_keccak() {
        let name = ScopeName::new("kyc-drop").unwrap();
        // keccak256(abi.encodePacked("honnin/v1/scope", bytes1(0), "kyc-drop")), recomputed
        // from the bytes so the derivation cannot drift from the documentation.
        let expected = keccak256([b"honnin/v1/scope".as_slice(), &[0], b"kyc-drop"].concat());
        assert_eq!(*name.id().as_b256(), expected);
        assert_ne!(name.id(), ScopeName::new("kyc-drop2").unwrap().id());
        // Written as 0x-hex, and read back by id or by name.
        let written = name.id().to_string();
        assert_eq!(written.len(), 66);
        assert_eq!(written.parse::<Scope>().unwrap(), name.id());
        assert_eq!(written.parse::<ScopeRef>().unwrap().id(), name.id());
        assert_eq!("kyc-drop".parse::<ScopeRef>().unwrap().id(), name.id());
    }

    #[test]
    fn zero_is_never_a_scope() {
        assert_eq!(Scope::from_bytes([0; 32]), None);
        assert!(format!("0x{}", "0".repeat(64)).parse::<Scope>().is_err());
        assert!("0x12".parse::<Scope>().is_err());
        assert!(Scope::from_slice(&[1; 31]).is_none());
    }
}
