//! The user-authentication PIN: one small type that checks its shape before it can cost a try,
//! zeroizes its memory and never prints.

use std::fmt;

use zeroize::Zeroizing;

use crate::{Error, Result};

/// A 4-digit JPKI user-authentication PIN.
///
/// It can only be made from exactly four ASCII digits ([`Pin::parse`]), so a typo like `123`
/// or `12345` is refused locally and never spends one of the card's three tries. Its bytes are
/// wiped on drop; it has no `Display`, no `Clone`, and its `Debug` says `Pin(<redacted>)`.
pub struct Pin(Zeroizing<[u8; 4]>);

impl Pin {
    /// Exactly four ASCII digits, nothing else (no spaces: strip a line ending before).
    pub fn parse(text: &str) -> Result<Self> {
        let bytes = text.as_bytes();
        match <[u8; 4]>::try_from(bytes) {
            Ok(digits) if digits.iter().all(u8::is_ascii_digit) => Ok(Self(Zeroizing::new(digits))),
            Ok(mut wrong) => {
                zeroize::Zeroize::zeroize(&mut wrong);
                Err(Error::PinFormat)
            }
            Err(_) => Err(Error::PinFormat),
        }
    }

    /// A line as read from a terminal or standard input, without its line ending.
    pub fn from_line(line: &str) -> Result<Self> {
        Self::parse(line.strip_suffix('\n').map_or(line, |l| l.strip_suffix('\r').unwrap_or(l)))
    }

    /// The four ASCII digits, for the VERIFY command only.
    pub(crate) fn digits(&self) -> &[u8; 4] {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}
