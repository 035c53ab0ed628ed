//! The card's secrets: the user-authentication PIN and the signing password, in one small type
//! that checks its shape before it can cost a try, zeroizes its memory and never prints.

use std::fmt;

use zeroize::Zeroizing;

use crate::{Error, Key, Result};

/// A JPKI secret for one key: the user-authentication PIN (exactly 4 ASCII digits, 3 tries) or
/// the signing password (6–16 characters, uppercase ASCII letters A–Z and digits, 5 tries).
///
/// It can only be made in a shape its card accepts ([`Pin::parse`],
/// [`Pin::signing_password`]), so a typo like `123` or `12345` is refused locally and never
/// spends a try. Its bytes are wiped on drop; it has no `Display`, no `Clone`, and its `Debug`
/// says `Pin(<redacted>)`. It knows its key: [`crate::JpkiCard::sign`] refuses it for the other
/// key before anything is sent.
pub struct Pin {
    bytes: Zeroizing<Vec<u8>>,
    key: Key,
}

impl Pin {
    /// The user-authentication PIN: exactly four ASCII digits, nothing else (no spaces: strip a
    /// line ending before).
    pub fn parse(text: &str) -> Result<Self> {
        let bytes = text.as_bytes();
        if bytes.len() == 4 && bytes.iter().all(u8::is_ascii_digit) {
            Ok(Self { bytes: Zeroizing::new(bytes.to_vec()), key: Key::Authentication })
        } else {
            Err(Error::PinFormat)
        }
    }

    /// The signing password: 6–16 characters, each an uppercase ASCII letter or a digit (as
    /// J-LIS sets it). Lowercase letters are refused, not converted: nothing is guessed.
    pub fn signing_password(text: &str) -> Result<Self> {
        let bytes = text.as_bytes();
        if (6..=16).contains(&bytes.len())
            && bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            Ok(Self { bytes: Zeroizing::new(bytes.to_vec()), key: Key::Signing })
        } else {
            Err(Error::PasswordFormat)
        }
    }

    /// A line as read from a terminal or standard input, without its line ending: the secret
    /// for `key` ([`Self::parse`] or [`Self::signing_password`]).
    pub fn from_line_for(key: Key, line: &str) -> Result<Self> {
        let line = line.strip_suffix('\n').map_or(line, |l| l.strip_suffix('\r').unwrap_or(l));
        match key {
            Key::Authentication => Self::parse(line),
            Key::Signing => Self::signing_password(line),
        }
    }

    /// The user-authentication PIN from a line ([`Self::from_line_for`]).
    pub fn from_line(line: &str) -> Result<Self> {
        Self::from_line_for(Key::Authentication, line)
    }

    /// The key this secret is for.
    pub const fn key(&self) -> Key {
        self.key
    }

    /// The ASCII characters, for the VERIFY command only.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}
