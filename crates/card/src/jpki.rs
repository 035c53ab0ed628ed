//! The flow over the APDU layer: select the JPKI AP, read the token and a certificate, ask the
//! tries left, verify the PIN and sign — the order and the safety rules, not the bytes (those
//! are in [`crate::apdu`]).

use der::{Decode as _, Encode as _, Header, SliceReader};
use sha2::{Digest as _, Sha256};

use crate::{
    Error, Pin, Result, Transport,
    apdu::{self, Command, CommandName, DIGEST_INFO_LEN, Response, SHA256_DIGEST_INFO_PREFIX, ef},
};

const TARGET: &str = "honnin::card";

/// What the token file says the card is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    /// `JPKIAPICCTOKEN2`: a plastic My Number card.
    PlasticCard,
    /// `JPKIAPGPSETOKEN`: an Android smartphone's JPKI applet (its PIN comes before the
    /// certificate).
    Smartphone,
    /// No token file, or a token honnin does not know.
    Unknown,
}

impl CardKind {
    /// A stable name for JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PlasticCard => "plastic_card",
            Self::Smartphone => "smartphone",
            Self::Unknown => "unknown",
        }
    }
}

/// A key on the card and the files that go with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Key {
    /// 利用者証明用: the user-authentication key, its certificate and 4-digit PIN (3 tries).
    Authentication,
    /// 署名用: the digital-signature key, its certificate (the basic attributes: honnin reads
    /// only the birth date, for age claims) and password of 6–16 characters (5 tries).
    Signing,
}

impl Key {
    /// The certificate's elementary file.
    pub const fn certificate_file(self) -> u16 {
        match self {
            Self::Authentication => ef::AUTH_CERTIFICATE,
            Self::Signing => ef::SIGN_CERTIFICATE,
        }
    }

    /// The PIN's elementary file.
    pub const fn pin_file(self) -> u16 {
        match self {
            Self::Authentication => ef::AUTH_PIN,
            Self::Signing => ef::SIGN_PASSWORD,
        }
    }

    /// The private key's elementary file.
    pub const fn key_file(self) -> u16 {
        match self {
            Self::Authentication => ef::AUTH_KEY,
            Self::Signing => ef::SIGN_KEY,
        }
    }

    /// The card's try counter when full.
    pub const fn max_tries(self) -> u8 {
        match self {
            Self::Authentication => 3,
            Self::Signing => 5,
        }
    }

    /// What the person calls its secret, English and Japanese.
    pub const fn secret_name(self) -> (&'static str, &'static str) {
        match self {
            Self::Authentication => ("PIN", "暗証番号"),
            Self::Signing => ("signing password", "署名用パスワード"),
        }
    }
}

/// Whether the last PIN try may be spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastTry {
    /// At one try left, refuse with [`Error::LastTryNotConfirmed`] before sending the PIN.
    Refuse,
    /// The person confirmed spending the last try.
    Confirmed,
}

/// The JPKI application of one card, over any [`Transport`].
#[derive(Debug)]
pub struct JpkiCard<T> {
    transport: T,
    kind: CardKind,
}

fn exchange(transport: &mut dyn Transport, command: Command, file: Option<u16>) -> Result<Vec<u8>> {
    let name = command.name();
    let raw = transport.transmit(command.bytes());
    // The command (the PIN, for VERIFY) is wiped here, right after sending.
    drop(command);
    let response = Response::parse(name, raw?)?;
    tracing::trace!(target: TARGET, command = %name, sw = format_args!("{:04X}", response.sw), len = response.data.len(), "apdu");
    response.into_data(name, file)
}

fn select_ap(transport: &mut dyn Transport) -> Result<()> {
    exchange(transport, Command::select_ap(), None).map(drop)
}

fn select_file(transport: &mut dyn Transport, file: u16) -> Result<()> {
    exchange(transport, Command::select_file(file), Some(file)).map(drop)
}

/// Asks the tries left of the selected PIN file without spending one.
fn tries_left(transport: &mut dyn Transport) -> Result<PinState> {
    let command = Command::pin_status();
    let name = command.name();
    let raw = transport.transmit(command.bytes())?;
    let response = Response::parse(name, raw)?;
    tracing::trace!(target: TARGET, command = %name, sw = format_args!("{:04X}", response.sw), "apdu");
    match response.status() {
        apdu::Status::TriesLeft(n) => Ok(PinState::TriesLeft(n)),
        apdu::Status::Ok => Ok(PinState::Verified),
        apdu::Status::Locked => Err(Error::PinLocked),
        apdu::Status::NotVerified | apdu::Status::FileNotFound | apdu::Status::Other(_) => {
            response.into_data(name, None).map(|_| PinState::Verified)
        }
    }
}

/// What the card says about a PIN before any try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinState {
    /// This many tries left (1 ..= the key's maximum).
    TriesLeft(u8),
    /// Already verified in this session (`90 00`; honnin resets the card after each command,
    /// so this means another program verified it).
    Verified,
}

impl<T: Transport> JpkiCard<T> {
    /// Selects the JPKI AP ([`Error::NotJpki`] when the card has none) and reads the token.
    pub fn open(mut transport: T) -> Result<Self> {
        select_ap(&mut transport)?;
        let kind = match select_file(&mut transport, ef::TOKEN) {
            Ok(()) => {
                let token =
                    exchange(&mut transport, Command::read_binary(0, apdu::TOKEN_LEN)?, None)?;
                let token = token.split(|&b| b == 0 || b == b' ').next().unwrap_or_default();
                match token {
                    t if t == apdu::TOKEN_PLASTIC => CardKind::PlasticCard,
                    t if t == apdu::TOKEN_SMARTPHONE => CardKind::Smartphone,
                    _ => CardKind::Unknown,
                }
            }
            Err(Error::FileNotFound { .. }) => CardKind::Unknown,
            Err(other) => return Err(other),
        };
        tracing::debug!(target: TARGET, kind = kind.as_str(), "JPKI AP selected");
        Ok(Self { transport, kind })
    }

    /// What the token says the card is.
    pub const fn kind(&self) -> CardKind {
        self.kind
    }

    /// The transport back (e.g. to close a PC/SC connection with a reset).
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Reads `key`'s certificate (DER) and checks with honnin-jpki that it is one honnin can
    /// read (its profile is judged by the verifier, not here).
    ///
    /// READ BINARY the DER header first, then the rest by offset in short APDUs. A card without
    /// a signing key answers [`Error::NoSigningCertificate`] for [`Key::Signing`].
    pub fn certificate(&mut self, key: Key) -> Result<Vec<u8>> {
        self.read_certificate(key).map_err(|e| e.for_key(key))
    }

    fn read_certificate(&mut self, key: Key) -> Result<Vec<u8>> {
        let transport: &mut dyn Transport = &mut self.transport;
        select_file(transport, key.certificate_file())?;
        let head = exchange(transport, Command::read_binary(0, 8)?, None)?;
        let header = Header::decode(&mut SliceReader::new(&head).map_err(|_| malformed())?)
            .map_err(|_| malformed())?;
        let total = (header.encoded_len().map_err(|_| malformed())? + header.length)
            .map_err(|_| malformed())?;
        let total = usize::try_from(u32::from(total)).map_err(|_| malformed())?;
        let mut der = Vec::with_capacity(total);
        der.extend_from_slice(&head[..head.len().min(total)]);
        while der.len() < total {
            let offset = u16::try_from(der.len()).map_err(|_| malformed())?;
            let want = (total - der.len()).min(256);
            // Le 00 asks 256 bytes.
            let le = u8::try_from(want % 256).unwrap_or(0);
            let chunk = exchange(transport, Command::read_binary(offset, le)?, None)?;
            if chunk.is_empty() {
                return Err(malformed());
            }
            der.extend_from_slice(&chunk[..chunk.len().min(total - der.len())]);
        }
        honnin_jpki::inspect(&der).map_err(Error::Certificate)?;
        Ok(der)
    }

    /// The PIN tries left for `key`, spending none ([`Error::PinLocked`] when none; for the
    /// signing key [`Error::PasswordLocked`], or [`Error::NoSigningCertificate`] without one).
    pub fn pin_state(&mut self, key: Key) -> Result<PinState> {
        let transport: &mut dyn Transport = &mut self.transport;
        select_file(transport, key.pin_file())
            .and_then(|()| tries_left(transport))
            .map_err(|e| e.for_key(key))
    }

    /// Signs `message` with `key`: RSASSA-PKCS1-v1_5 over SHA-256 (the host builds the
    /// DigestInfo, the card pads and signs).
    ///
    /// `pin` must be the secret of `key` ([`Error::PinFormat`] / [`Error::PasswordFormat`]
    /// otherwise, before anything is sent). In one exclusive session: the tries left are asked
    /// first; a locked PIN is refused
    /// before any VERIFY; at one try left nothing is sent unless `last_try` is
    /// [`LastTry::Confirmed`]; the PIN is sent once (never retried) and its command buffer
    /// wiped; then the signature. The caller resets the card afterwards (PC/SC: on disconnect).
    /// For the signing key a wrong or locked password is [`Error::WrongPassword`] /
    /// [`Error::PasswordLocked`] (the card's status words are the same for both keys).
    pub fn sign(
        &mut self,
        key: Key,
        pin: &Pin,
        message: &[u8],
        last_try: LastTry,
    ) -> Result<Vec<u8>> {
        self.sign_with(key, pin, message, last_try).map_err(|e| e.for_key(key))
    }

    fn sign_with(
        &mut self,
        key: Key,
        pin: &Pin,
        message: &[u8],
        last_try: LastTry,
    ) -> Result<Vec<u8>> {
        if pin.key() != key {
            return Err(match key {
                Key::Authentication => Error::PinFormat,
                Key::Signing => Error::PasswordFormat,
            });
        }
        let mut digest_info = [0u8; DIGEST_INFO_LEN];
        digest_info[..SHA256_DIGEST_INFO_PREFIX.len()].copy_from_slice(&SHA256_DIGEST_INFO_PREFIX);
        digest_info[SHA256_DIGEST_INFO_PREFIX.len()..].copy_from_slice(&Sha256::digest(message));

        let mut session = self.transport.exclusive()?;
        let session: &mut dyn Transport = &mut *session;
        select_ap(session)?;
        select_file(session, key.pin_file())?;
        match tries_left(session)? {
            PinState::TriesLeft(1) if last_try == LastTry::Refuse => {
                return Err(Error::LastTryNotConfirmed);
            }
            PinState::TriesLeft(_) | PinState::Verified => {}
        }
        exchange(session, Command::verify(pin), None)?;
        tracing::debug!(target: TARGET, "PIN verified");
        select_file(session, key.key_file())?;
        let signature = exchange(session, Command::sign(&digest_info), None)?;
        if signature.is_empty() {
            return Err(Error::MalformedResponse {
                command: CommandName::Sign,
                reason: "no signature",
            });
        }
        tracing::debug!(target: TARGET, len = signature.len(), "signed");
        Ok(signature)
    }
}

const fn malformed() -> Error {
    Error::MalformedResponse { command: CommandName::ReadBinary, reason: "not a DER certificate" }
}
