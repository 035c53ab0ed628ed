//! The APDU layer: the JPKI AP's commands as bytes and its status words as a typed [`Status`].
//!
//! Everything about the card's wire format is here and nowhere else (as OpenSC keeps
//! `card-jpki.c` apart from `pkcs15-jpki.c`); [`crate::JpkiCard`] builds the flow on top. The
//! facts are from JPKI.md ("Talking to the card"), cross-checked in OpenSC `card-jpki.c`,
//! my-number/myna, jpki/myna and siketyan/jpki-rs.

use std::fmt;

use zeroize::Zeroizing;

use crate::{Error, Pin, Result};

/// The JPKI AP's application id (SELECT by DF name).
pub const JPKI_AP: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];

/// The DER DigestInfo prefix for SHA-256 (`3031300d060960864801650304020105000420`): the host
/// builds DigestInfo = prefix ‖ SHA-256(message); the card pads (PKCS#1 v1.5) and signs it.
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The length of a SHA-256 DigestInfo (the signature command's Lc, `33`).
pub const DIGEST_INFO_LEN: usize = 51;

/// Elementary files of the JPKI AP.
pub mod ef {
    /// The token: `JPKIAPICCTOKEN2` (plastic card) or `JPKIAPGPSETOKEN` (Android phone).
    pub const TOKEN: u16 = 0x0006;
    /// The user-authentication certificate.
    pub const AUTH_CERTIFICATE: u16 = 0x000A;
    /// The user-authentication CA certificate.
    pub const AUTH_CA: u16 = 0x000B;
    /// The user-authentication PIN (4 digits, 3 tries).
    pub const AUTH_PIN: u16 = 0x0018;
    /// The user-authentication private key.
    pub const AUTH_KEY: u16 = 0x0017;
    /// The digital-signature certificate (署名用: the four basic attributes).
    pub const SIGN_CERTIFICATE: u16 = 0x0001;
    /// The digital-signature CA certificate.
    pub const SIGN_CA: u16 = 0x0002;
    /// The digital-signature password (6–16 characters, 5 tries).
    pub const SIGN_PASSWORD: u16 = 0x001B;
    /// The digital-signature private key.
    pub const SIGN_KEY: u16 = 0x001A;
}

/// The length of the token (READ BINARY 32).
pub const TOKEN_LEN: u8 = 32;

/// The token of a plastic card.
pub const TOKEN_PLASTIC: &[u8] = b"JPKIAPICCTOKEN2";
/// The token of an Android smartphone's JPKI applet.
pub const TOKEN_SMARTPHONE: &[u8] = b"JPKIAPGPSETOKEN";

/// Which command an answer belongs to (for errors and logs; never the command's data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandName {
    /// SELECT the JPKI AP.
    SelectAp,
    /// SELECT an elementary file.
    SelectFile,
    /// READ BINARY.
    ReadBinary,
    /// VERIFY without data: asks the tries left.
    PinStatus,
    /// VERIFY with the PIN.
    Verify,
    /// COMPUTE DIGITAL SIGNATURE (CLA 80, INS 2A).
    Sign,
}

impl fmt::Display for CommandName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SelectAp => "SELECT JPKI AP",
            Self::SelectFile => "SELECT FILE",
            Self::ReadBinary => "READ BINARY",
            Self::PinStatus => "VERIFY (tries left)",
            Self::Verify => "VERIFY",
            Self::Sign => "COMPUTE SIGNATURE",
        })
    }
}

/// One command APDU. Its bytes live in a zeroizing buffer: the VERIFY command holds the PIN,
/// and is wiped when the command is dropped (right after it was sent).
pub struct Command {
    name: CommandName,
    bytes: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Command {
    /// The command's name only: its bytes may hold the PIN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Command {
    fn new(name: CommandName, bytes: Vec<u8>) -> Self {
        Self { name, bytes: Zeroizing::new(bytes) }
    }

    /// Which command this is.
    pub const fn name(&self) -> CommandName {
        self.name
    }

    /// The bytes to send.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SELECT the JPKI AP by name, no answer data: `00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01`.
    pub fn select_ap() -> Self {
        let mut bytes = vec![0x00, 0xA4, 0x04, 0x0C, 0x0A];
        bytes.extend_from_slice(&JPKI_AP);
        Self::new(CommandName::SelectAp, bytes)
    }

    /// SELECT an elementary file of the current DF by id, no answer data: `00 A4 02 0C 02 id`.
    pub fn select_file(file: u16) -> Self {
        let [hi, lo] = file.to_be_bytes();
        Self::new(CommandName::SelectFile, vec![0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo])
    }

    /// READ BINARY `len` bytes (0 means 256) at `offset` (below 0x8000: P1's top bit would
    /// mean a short file id) of the selected file: `00 B0 P1 P2 Le`.
    pub fn read_binary(offset: u16, len: u8) -> Result<Self> {
        if offset >= 0x8000 {
            return Err(Error::MalformedResponse {
                command: CommandName::ReadBinary,
                reason: "file longer than READ BINARY's 15-bit offset",
            });
        }
        let [p1, p2] = offset.to_be_bytes();
        Ok(Self::new(CommandName::ReadBinary, vec![0x00, 0xB0, p1, p2, len]))
    }

    /// VERIFY with no data: the card answers `63 Cn` (n tries left) and spends none.
    pub fn pin_status() -> Self {
        Self::new(CommandName::PinStatus, vec![0x00, 0x20, 0x00, 0x80])
    }

    /// VERIFY the secret of the selected PIN file: `00 20 00 80 Lc` + its ASCII characters
    /// (`04` + four digits for the PIN, 6–16 characters for the signing password).
    pub fn verify(pin: &Pin) -> Self {
        let secret = pin.bytes();
        let mut bytes = Vec::with_capacity(5 + secret.len());
        // A Pin is at most 16 bytes long.
        let lc = u8::try_from(secret.len()).unwrap_or(u8::MAX);
        bytes.extend_from_slice(&[0x00, 0x20, 0x00, 0x80, lc]);
        bytes.extend_from_slice(secret);
        Self::new(CommandName::Verify, bytes)
    }

    /// COMPUTE DIGITAL SIGNATURE over a host-built DigestInfo with the selected key:
    /// `80 2A 00 80 33` + DigestInfo(SHA-256) + `00` (Le: the whole signature).
    pub fn sign(digest_info: &[u8; DIGEST_INFO_LEN]) -> Self {
        let mut bytes = Vec::with_capacity(6 + DIGEST_INFO_LEN);
        bytes.extend_from_slice(&[0x80, 0x2A, 0x00, 0x80, 0x33]);
        bytes.extend_from_slice(digest_info);
        bytes.push(0x00);
        Self::new(CommandName::Sign, bytes)
    }
}

/// A status word, decoded. Every status word JPKI.md names has its own variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `90 00`.
    Ok,
    /// `63 Cn` with n ≥ 1: wrong PIN (or, to a VERIFY without data, the tries left).
    TriesLeft(u8),
    /// `63 C0`, `69 83` or `69 84`: the PIN is locked.
    Locked,
    /// `69 82`: security status not satisfied (a signature before VERIFY).
    NotVerified,
    /// `6A 82`: file (or application) not found.
    FileNotFound,
    /// Anything else, kept whole.
    Other(u16),
}

impl Status {
    /// Decodes SW1 SW2.
    pub const fn from_sw(sw: u16) -> Self {
        match sw {
            0x9000 => Self::Ok,
            0x63C0 | 0x6983 | 0x6984 => Self::Locked,
            0x63C1..=0x63CF => Self::TriesLeft((sw & 0x0F) as u8),
            0x6982 => Self::NotVerified,
            0x6A82 => Self::FileNotFound,
            other => Self::Other(other),
        }
    }
}

/// A response APDU split into its data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The answer's data (without the status word).
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: u16,
}

impl Response {
    /// Splits a raw response; fewer than two bytes is malformed.
    pub fn parse(command: CommandName, mut raw: Vec<u8>) -> Result<Self> {
        if raw.len() < 2 {
            return Err(Error::MalformedResponse { command, reason: "shorter than a status word" });
        }
        let sw2 = raw.pop().unwrap_or_default();
        let sw1 = raw.pop().unwrap_or_default();
        Ok(Self { data: raw, sw: u16::from_be_bytes([sw1, sw2]) })
    }

    /// The decoded status word.
    pub const fn status(&self) -> Status {
        Status::from_sw(self.sw)
    }

    /// The data when the status is `90 00`, else the error the status word means for
    /// `command` (on `file` when it is a SELECT FILE). The one place status words become errors.
    pub fn into_data(self, command: CommandName, file: Option<u16>) -> Result<Vec<u8>> {
        match self.status() {
            Status::Ok => Ok(self.data),
            Status::TriesLeft(tries_left) => match command {
                CommandName::Verify => Err(Error::WrongPin { tries_left }),
                CommandName::SelectAp
                | CommandName::SelectFile
                | CommandName::ReadBinary
                | CommandName::PinStatus
                | CommandName::Sign => Err(Error::UnexpectedStatus { command, sw: self.sw }),
            },
            Status::Locked => Err(Error::PinLocked),
            Status::NotVerified => Err(Error::NotVerified),
            Status::FileNotFound => match (command, file) {
                (CommandName::SelectAp, _) => Err(Error::NotJpki),
                (_, Some(file)) => Err(Error::FileNotFound { file }),
                (_, None) => Err(Error::UnexpectedStatus { command, sw: self.sw }),
            },
            Status::Other(sw) => Err(Error::UnexpectedStatus { command, sw }),
        }
    }
}
