//! Challenges: what the person signs, with the card and with the wallet.
//!
//! A [`Challenge`] is issued by [`ChallengeSettings::issue`], stored, and later consumed exactly
//! once by [`crate::ChallengeStore::consume_challenge`]. Its [`Challenge::message`] is the text both keys
//! sign; the format is documented in the [crate docs](crate#the-challenge-message).

use std::{fmt, str::FromStr};

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::{Error, Result, ScopeName, id::random_id, time::rfc3339};

random_id!(
    /// A challenge's id: 128 random bits, written `ch_` + 32 lowercase hex digits.
    ChallengeId,
    "ch_",
    "challenge"
);

/// What a challenge authorises. The purpose is part of the signed message, so a signature for
/// one purpose can never be replayed for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Attest the wallet: card and wallet prove a verified, unique person controls it.
    Attest,
    /// Revoke the wallet's attestation, signed by the wallet (issue 5).
    Revoke,
    /// Revoke the person's attestations and erase their pseudonym and certificate hashes,
    /// proved with the card (issue 5).
    Erase,
}

impl Purpose {
    /// The purpose's name as it appears in messages, the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Attest => "attest",
            Self::Revoke => "revoke",
            Self::Erase => "erase",
        }
    }

    /// The statement that follows "`{domain} asks you to`" in the message.
    pub const fn statement(self) -> &'static str {
        match self {
            Self::Attest => {
                "prove that you hold a My Number card and control this wallet, so that it can be attested as a verified, unique person."
            }
            Self::Revoke => "confirm that you want to revoke the attestation of this wallet.",
            Self::Erase => {
                "confirm that you want honnin to revoke your attestations and erase everything it keeps about your card."
            }
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "attest" => Ok(Self::Attest),
            "revoke" => Ok(Self::Revoke),
            "erase" => Ok(Self::Erase),
            _ => Err(Error::InvalidPurpose),
        }
    }
}

/// Who the attestation is for (a dApp's name or origin), as the client states it.
///
/// 1 to [`Audience::MAX_LEN`] characters from `A-Z a-z 0-9 . _ : / @ -`: enough for a host name,
/// an origin (`https://app.example:8443`) or a slug, and nothing that could start a new line in
/// the message or hide text from the person reading it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Audience(String);

impl Audience {
    /// The longest audience accepted.
    pub const MAX_LEN: usize = 128;

    /// Validates an audience.
    pub fn new(s: impl Into<String>) -> Result<Self> {
        let s = s.into();
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:/@-".contains(&b));
        if ok { Ok(Self(s)) } else { Err(Error::InvalidAudience { max: Self::MAX_LEN }) }
    }

    /// The audience text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Audience {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<Audience> for String {
    fn from(a: Audience) -> Self {
        a.0
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The service's domain as shown at the top of the message: a DNS host name (letters, digits,
/// hyphens, dots; at most 253 characters) with an optional `:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceDomain(String);

impl ServiceDomain {
    /// Validates a service domain.
    pub fn new(s: impl Into<String>) -> Result<Self> {
        let s = s.into();
        let (host, port) = match s.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (s.as_str(), None),
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p != 0));
        if host_ok && port_ok { Ok(Self(s)) } else { Err(Error::InvalidDomain) }
    }

    /// The domain text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ServiceDomain {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<ServiceDomain> for String {
    fn from(d: ServiceDomain) -> Self {
        d.0
    }
}

impl fmt::Display for ServiceDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 256 random bits that make every challenge message unique. Written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce([u8; 32]);

impl Nonce {
    /// A fresh nonce from the operating system's random source.
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        Self(bytes)
    }

    /// The nonce from its raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({self})")
    }
}

impl FromStr for Nonce {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| Error::InvalidNonce)?;
        Ok(Self(bytes))
    }
}

/// How the service issues challenges: the fields every message shares, and the lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeSettings {
    /// The service's domain, the first word of the message.
    pub domain: ServiceDomain,
    /// The chain the registry lives on.
    pub chain_id: u64,
    /// The registry contract the attestation will be written to.
    pub registry: Address,
    /// How long a challenge stays usable after it is issued.
    lifetime: Duration,
}

impl ChallengeSettings {
    /// The default lifetime: ten minutes, time enough to find the card and type a PIN.
    pub const DEFAULT_LIFETIME: Duration = Duration::minutes(10);
    /// The shortest lifetime accepted.
    pub const MIN_LIFETIME: Duration = Duration::seconds(30);
    /// The longest lifetime accepted.
    pub const MAX_LIFETIME: Duration = Duration::hours(24);

    /// Settings with the [default lifetime](Self::DEFAULT_LIFETIME).
    pub const fn new(domain: ServiceDomain, chain_id: u64, registry: Address) -> Self {
        Self { domain, chain_id, registry, lifetime: Self::DEFAULT_LIFETIME }
    }

    /// Sets the lifetime; it must lie within [`MIN_LIFETIME`](Self::MIN_LIFETIME) and
    /// [`MAX_LIFETIME`](Self::MAX_LIFETIME).
    pub fn with_lifetime(mut self, lifetime: Duration) -> Result<Self> {
        if lifetime < Self::MIN_LIFETIME || lifetime > Self::MAX_LIFETIME {
            return Err(Error::InvalidLifetime {
                min_secs: Self::MIN_LIFETIME.whole_seconds(),
                max_secs: Self::MAX_LIFETIME.whole_seconds(),
            });
        }
        self.lifetime = lifetime;
        Ok(self)
    }

    /// The configured lifetime.
    pub const fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Issues a fresh challenge (random id and nonce) at `now`, truncated to a whole second.
    pub fn issue(
        &self,
        purpose: Purpose,
        wallet: Address,
        audience: Option<Audience>,
        now: OffsetDateTime,
    ) -> Challenge {
        self.issue_in(purpose, wallet, audience, None, now)
    }

    /// [`Self::issue`] for a record in `scope` (`None`: the global record). The scope is part
    /// of the signed message.
    pub fn issue_in(
        &self,
        purpose: Purpose,
        wallet: Address,
        audience: Option<Audience>,
        scope: Option<ScopeName>,
        now: OffsetDateTime,
    ) -> Challenge {
        let issued_at = crate::time::truncate(now);
        Challenge {
            id: ChallengeId::random(),
            purpose,
            wallet,
            audience,
            scope,
            nonce: Nonce::random(),
            issued_at,
            expires_at: issued_at + self.lifetime,
            chain_id: self.chain_id,
            registry: self.registry,
            domain: self.domain.clone(),
        }
    }
}

/// A challenge: everything the signed message says, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The challenge's id.
    pub id: ChallengeId,
    /// What signing it authorises.
    pub purpose: Purpose,
    /// The wallet that must sign it.
    pub wallet: Address,
    /// Who the attestation is for, when the client said.
    pub audience: Option<Audience>,
    /// The scope (dApp) whose record the challenge is for; `None` for the global record.
    pub scope: Option<ScopeName>,
    /// 256 random bits.
    pub nonce: Nonce,
    /// When it was issued (UTC, whole seconds).
    pub issued_at: OffsetDateTime,
    /// When it stops being usable (UTC, whole seconds).
    pub expires_at: OffsetDateTime,
    /// The chain the registry lives on.
    pub chain_id: u64,
    /// The registry contract.
    pub registry: Address,
    /// The service's domain.
    pub domain: ServiceDomain,
}

impl Challenge {
    /// Whether the challenge can still be used at `now` (`now < expires_at`).
    pub fn is_live_at(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }

    /// The message both keys sign, rendered deterministically from the fields (format in the
    /// [crate docs](crate#the-challenge-message)).
    pub fn message(&self) -> String {
        use std::fmt::Write as _;
        let mut m = String::with_capacity(640);
        // Writing to a String cannot fail.
        let _ = write!(
            m,
            "{domain} asks you to {statement}\n\n\
             Sign this message with your My Number card and with your wallet. \
             Your individual number is never asked for.\n\n\
             Purpose: {purpose}\n\
             Wallet: {wallet}\n",
            domain = self.domain,
            statement = self.purpose.statement(),
            purpose = self.purpose,
            wallet = self.wallet.to_checksum(None),
        );
        if let Some(audience) = &self.audience {
            let _ = writeln!(m, "Audience: {audience}");
        }
        if let Some(scope) = &self.scope {
            let _ = writeln!(m, "Scope: {scope} ({id})", id = scope.id());
        }
        let _ = write!(
            m,
            "Chain ID: {chain_id}\n\
             Registry: {registry}\n\
             Nonce: {nonce}\n\
             Issued At: {issued_at}\n\
             Expiration Time: {expires_at}\n\
             Challenge ID: {id}",
            chain_id = self.chain_id,
            registry = self.registry.to_checksum(None),
            nonce = self.nonce,
            issued_at = rfc3339(self.issued_at),
            expires_at = rfc3339(self.expires_at),
            id = self.id,
        );
        m
    }
}
