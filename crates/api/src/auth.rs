//! Operator and dApp credentials: admin bearer tokens and API keys.
//!
//! honnin never holds a token itself, only its SHA-256 digest ([`TokenDigest`], configured as
//! 64 hex digits): a leaked configuration file or memory dump gives no working token. A
//! presented token is hashed and compared with every configured digest in constant time
//! (`subtle`), without stopping at the first match, so timing reveals neither which digest
//! matched nor how much of it.
//!
//! Make a token and its digest, for example:
//!
//! ```text
//! token=$(openssl rand -hex 32)
//! printf %s "$token" | sha256sum      # configure this digest; give the token to the client
//! ```

use std::{fmt, str::FromStr};

use sha2::{Digest as _, Sha256};
use subtle::{ConditionallySelectable as _, ConstantTimeEq as _};

use crate::rate::Rate;

/// The SHA-256 digest of a secret token: what the configuration holds instead of the token.
///
/// Parsed from 64 hex digits (any case). Deliberately not `PartialEq`: compare with
/// [`TokenDigest::matches`], which is constant time.
#[derive(Clone, Copy)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// The digest of `token` (its UTF-8 bytes, as sent).
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Whether `token` hashes to this digest, compared in constant time.
    pub fn matches(&self, token: &str) -> bool {
        bool::from(Self::of(token).0.ct_eq(&self.0))
    }

    /// The digest's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for TokenDigest {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl FromStr for TokenDigest {
    type Err = InvalidTokenDigest;

    fn from_str(hex_digits: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_digits.trim(), &mut bytes).map_err(|_| InvalidTokenDigest)?;
        Ok(Self(bytes))
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest is not a secret, but it need not be in logs either.
        f.write_str("TokenDigest(..)")
    }
}

/// A token digest that is not 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a token digest must be 64 hex digits: the SHA-256 of the token, never the token")]
pub struct InvalidTokenDigest;

/// An operator's bearer token for the `/v1/admin/*` endpoints.
#[derive(Debug, Clone)]
pub struct AdminToken {
    /// A name for the token, recorded in the audit log as the actor (`api_key_id`): 1 to 64
    /// characters of `A-Z a-z 0-9 . _ -` (see [`Auth::validate`]).
    pub id: String,
    /// The SHA-256 digest of the token.
    pub sha256: TokenDigest,
}

/// A dApp's API key, sent in the `x-api-key` header. It identifies the client for rate
/// limiting (its own bucket and, usually, a higher rate) and in the audit log.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// The key's id, recorded in the audit log and used as its rate-limit bucket: 1 to 64
    /// characters of `A-Z a-z 0-9 . _ -` (see [`Auth::validate`]).
    pub id: String,
    /// The SHA-256 digest of the key.
    pub sha256: TokenDigest,
    /// This key's rate; `None` uses [`RateLimits::api_key`](crate::rate::RateLimits::api_key).
    pub rate: Option<Rate>,
}

/// Who may call what: admin tokens and dApp API keys. The default has neither, so every admin
/// endpoint answers 401 and every client is anonymous.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    /// Bearer tokens accepted on `/v1/admin/*` (`Authorization: Bearer <token>`).
    pub admin_tokens: Vec<AdminToken>,
    /// API keys accepted in `x-api-key` on the public endpoints.
    pub api_keys: Vec<ApiKey>,
}

/// A configuration mistake in [`Auth`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthConfigError {
    /// An id that is empty, longer than 64 characters or has characters outside
    /// `A-Z a-z 0-9 . _ -` (ids go to the audit log and the logs).
    #[error("credential ids must be 1 to 64 characters of A-Z a-z 0-9 . _ -")]
    InvalidId,
    /// Two admin tokens, or two API keys, share an id.
    #[error("duplicate credential id `{id}`")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// A rate with zero per minute or zero burst.
    #[error("rate of API key `{id}` must have per_minute and burst of at least 1")]
    InvalidRate {
        /// The key's id.
        id: String,
    },
}

impl Auth {
    /// Checks ids (well-formed, unique per kind) and per-key rates; call it at start-up.
    pub fn validate(&self) -> Result<(), AuthConfigError> {
        fn check<'a>(ids: impl Iterator<Item = &'a str>) -> Result<(), AuthConfigError> {
            let mut seen = std::collections::HashSet::new();
            for id in ids {
                if !valid_id(id) {
                    return Err(AuthConfigError::InvalidId);
                }
                if !seen.insert(id) {
                    return Err(AuthConfigError::DuplicateId { id: id.to_owned() });
                }
            }
            Ok(())
        }
        check(self.admin_tokens.iter().map(|t| t.id.as_str()))?;
        check(self.api_keys.iter().map(|k| k.id.as_str()))?;
        for key in &self.api_keys {
            if key.rate.is_some_and(|rate| !rate.is_valid()) {
                return Err(AuthConfigError::InvalidRate { id: key.id.clone() });
            }
        }
        Ok(())
    }

    /// The admin token `token` is, if any. Every configured digest is compared (constant
    /// time each, no early exit).
    pub(crate) fn admin(&self, token: &str) -> Option<&AdminToken> {
        let presented = TokenDigest::of(token);
        find(&self.admin_tokens, |t| &t.sha256, &presented)
    }

    /// The API key `key` is, if any (as [`Auth::admin`]).
    pub(crate) fn api_key(&self, key: &str) -> Option<&ApiKey> {
        let presented = TokenDigest::of(key);
        find(&self.api_keys, |k| &k.sha256, &presented)
    }
}

/// The entry whose digest equals `presented`, scanning all of them in constant time per entry.
fn find<'a, T>(
    entries: &'a [T],
    digest: impl Fn(&T) -> &TokenDigest,
    presented: &TokenDigest,
) -> Option<&'a T> {
    let mut found = subtle::Choice::from(0);
    let mut index = 0u64;
    for (i, entry) in entries.iter().enumerate() {
        let equal = digest(entry).0.ct_eq(&presented.0);
        index = u64::conditional_select(&index, &(i as u64), equal);
        found |= equal;
    }
    bool::from(found).then(|| &entries[index as usize])
}

/// Whether `id` is 1 to 64 characters of `A-Z a-z 0-9 . _ -`.
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_match_and_find() {
        let digest: TokenDigest =
            "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08".parse().unwrap();
        assert!(digest.matches("test"));
        assert!(!digest.matches("test "));
        assert_eq!("abc".parse::<TokenDigest>().err(), Some(InvalidTokenDigest));
        let auth = Auth {
            admin_tokens: vec![
                AdminToken { id: "ops".into(), sha256: TokenDigest::of("a") },
                AdminToken { id: "oncall".into(), sha256: digest },
            ],
            api_keys: vec![],
        };
        assert_eq!(auth.admin("test").map(|t| t.id.as_str()), Some("oncall"));
        assert_eq!(auth.admin("a").map(|t| t.id.as_str()), Some("ops"));
        assert!(auth.admin("b").is_none());
        assert!(auth.api_key("test").is_none());
        assert_eq!(auth.validate(), Ok(()));
    }

    #[test]
    fn validate_refuses_bad_and_duplicate_ids() {
        let key = |id: &str| ApiKey { id: id.into(), sha256: TokenDigest::of(id), rate: None };
        let auth = Auth { admin_tokens: vec![], api_keys: vec![key("a"), key("a")] };
        assert_eq!(auth.validate(), Err(AuthConfigError::DuplicateId { id: "a".into() }));
        let auth = Auth { admin_tokens: vec![], api_keys: vec![key("a b")] };
        assert_eq!(auth.validate(), Err(AuthConfigError::InvalidId));
        let mut zero = key("z");
        zero.rate = Some(Rate { per_minute: 0, burst: 1 });
        let auth = Auth { admin_tokens: vec![], api_keys: vec![zero] };
        assert_eq!(auth.validate(), Err(AuthConfigError::InvalidRate { id: "z".into() }));
    }
}
