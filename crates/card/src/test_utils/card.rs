//! The virtual JPKI card: the AP, its files, a real PIN counter.

use std::sync::{Arc, Mutex, MutexGuard};

use honnin_jpki::test_utils::{CardKey, SimCard};

use crate::{
    CardKind,
    apdu::{self, JPKI_AP, ef},
};

/// What the virtual card does with a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Sends this response APDU.
    Reply(Vec<u8>),
    /// Leaves the reader without answering (the card is pulled out).
    Pull,
}

/// A command the card received, by kind (the PIN itself is not kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// SELECT the JPKI AP (or another AID).
    SelectAp,
    /// SELECT an EF.
    SelectFile(u16),
    /// READ BINARY.
    ReadBinary,
    /// VERIFY without data (tries left).
    PinStatus,
    /// VERIFY with a PIN.
    Verify,
    /// COMPUTE SIGNATURE.
    Sign,
    /// Anything else.
    Other,
}

/// A virtual My Number card.
///
/// It answers the JPKI AP like a plastic card: `6A 82` to unknown files, `63 Cn` to wrong PINs
/// (counting down from 3; a right PIN resets the counter), `69 83` once locked, `69 82` to a
/// signature before VERIFY, and it forgets the verified state on reset. Knobs:
/// [`VirtualCard::foreign`] (no JPKI AP), [`VirtualCard::with_tries_left`],
/// [`VirtualCard::with_kind`], [`VirtualCard::pull_on_sign`], [`VirtualCard::with_signing`]
/// (the signing key, certificate and password: 5 tries, its own counter and verified state).
pub struct VirtualCard {
    certificate: Option<SimCard>,
    pin: [u8; 4],
    tries_left: u8,
    kind: CardKind,
    verified: bool,
    signing: Option<Signing>,
    selected_ap: bool,
    selected: Option<u16>,
    pull_on_sign: bool,
    seen: Vec<Seen>,
}

/// The signing key's side of the card.
struct Signing {
    certificate: SimCard,
    password: Vec<u8>,
    tries_left: u8,
    verified: bool,
}

impl std::fmt::Debug for VirtualCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualCard")
            .field("jpki", &self.certificate.is_some())
            .field("tries_left", &self.tries_left)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

/// The ATR the virtual card answers: the real My Number card's `3B E0 00 FF 81 31 FE 45 14`
/// (T=1, IFSC 254, check byte 14), the one OpenSC's `card-jpki.c` matches (`jpki_atrs`) and
/// pcscd negotiates T=1 with.
pub const ATR: &[u8] = &[0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

const SW_OK: [u8; 2] = [0x90, 0x00];

fn sw(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}

impl VirtualCard {
    /// A plastic card holding `card` (RSA: the card signs DigestInfos) with PIN `pin` (4
    /// digits) and a full counter.
    pub fn new(card: SimCard, pin: &str) -> Self {
        assert!(matches!(card.key(), CardKey::Rsa(_)), "the virtual card signs with RSA");
        let pin: [u8; 4] = pin.as_bytes().try_into().expect("a 4-digit PIN");
        Self {
            certificate: Some(card),
            pin,
            tries_left: 3,
            kind: CardKind::PlasticCard,
            verified: false,
            signing: None,
            selected_ap: false,
            selected: None,
            pull_on_sign: false,
            seen: Vec::new(),
        }
    }

    /// A smart card without the JPKI AP (a bank or transit card).
    pub fn foreign() -> Self {
        Self {
            certificate: None,
            pin: *b"0000",
            tries_left: 3,
            kind: CardKind::Unknown,
            verified: false,
            signing: None,
            selected_ap: false,
            selected: None,
            pull_on_sign: false,
            seen: Vec::new(),
        }
    }

    /// Adds the signing key: `card`'s certificate (e.g. from `CardSpec::signing`, RSA) in EF
    /// `0001`, its key in `001A`, and `password` (6–16 characters) in `001B` with 5 tries.
    #[must_use]
    pub fn with_signing(mut self, card: SimCard, password: &str) -> Self {
        assert!(matches!(card.key(), CardKey::Rsa(_)), "the virtual card signs with RSA");
        assert!((6..=16).contains(&password.len()), "a 6–16 character password");
        self.signing = Some(Signing {
            certificate: card,
            password: password.as_bytes().to_vec(),
            tries_left: 5,
            verified: false,
        });
        self
    }

    /// Starts the signing password with `n` tries left (0: locked). Needs [`Self::with_signing`].
    #[must_use]
    pub fn with_signing_tries_left(mut self, n: u8) -> Self {
        self.signing.as_mut().expect("a signing key").tries_left = n;
        self
    }

    /// Tries left on the signing password's counter (`None` without a signing key).
    pub fn signing_tries_left(&self) -> Option<u8> {
        self.signing.as_ref().map(|s| s.tries_left)
    }

    /// Starts with `n` tries left (0: locked).
    #[must_use]
    pub fn with_tries_left(mut self, n: u8) -> Self {
        self.tries_left = n;
        self
    }

    /// What the token file says (`Unknown`: no token file).
    #[must_use]
    pub fn with_kind(mut self, kind: CardKind) -> Self {
        self.kind = kind;
        self
    }

    /// Leaves the reader when asked to sign (the card pulled out mid-signature).
    #[must_use]
    pub fn pull_on_sign(mut self) -> Self {
        self.pull_on_sign = true;
        self
    }

    /// Shares it between a transport and the test.
    pub fn shared(self) -> SharedCard {
        SharedCard(Arc::new(Mutex::new(self)))
    }

    /// Tries left on the counter.
    pub const fn tries_left(&self) -> u8 {
        self.tries_left
    }

    /// The PIN is verified (the card was not reset since).
    pub const fn is_verified(&self) -> bool {
        self.verified
    }

    /// The commands received so far.
    pub fn seen(&self) -> &[Seen] {
        &self.seen
    }

    /// How many VERIFY commands with a PIN it received.
    pub fn verifies(&self) -> usize {
        self.seen.iter().filter(|s| **s == Seen::Verify).count()
    }

    /// Power off, on or reset: the verified state and the selection are gone.
    pub fn reset(&mut self) {
        self.verified = false;
        if let Some(signing) = &mut self.signing {
            signing.verified = false;
        }
        self.selected_ap = false;
        self.selected = None;
    }

    fn file(&self, id: u16) -> Option<Vec<u8>> {
        let card = self.certificate.as_ref()?;
        match id {
            ef::TOKEN => match self.kind {
                CardKind::PlasticCard => Some(apdu::TOKEN_PLASTIC.to_vec()),
                CardKind::Smartphone => Some(apdu::TOKEN_SMARTPHONE.to_vec()),
                CardKind::Unknown => None,
            }
            .map(|mut token| {
                token.resize(usize::from(apdu::TOKEN_LEN), b' ');
                token
            }),
            ef::AUTH_CERTIFICATE => Some(card.der().to_vec()),
            ef::AUTH_PIN | ef::AUTH_KEY => Some(Vec::new()),
            ef::SIGN_CERTIFICATE => self.signing.as_ref().map(|s| s.certificate.der().to_vec()),
            ef::SIGN_PASSWORD | ef::SIGN_KEY => self.signing.as_ref().map(|_| Vec::new()),
            _ => None,
        }
    }

    /// Answers one command APDU.
    pub fn process(&mut self, command: &[u8]) -> Answer {
        let (seen, answer) = self.answer(command);
        self.seen.push(seen);
        answer
    }

    fn answer(&mut self, command: &[u8]) -> (Seen, Answer) {
        let reply = Answer::Reply;
        let Some(&[cla, ins, p1, p2]) = command.first_chunk::<4>() else {
            return (Seen::Other, reply(sw(0x6700)));
        };
        let body = &command[4..];
        match (cla, ins, p1, p2) {
            (0x00, 0xA4, 0x04, 0x0C) => {
                let found =
                    self.certificate.is_some() && body.first() == Some(&10) && body[1..] == JPKI_AP;
                self.selected_ap = found;
                self.selected = None;
                (Seen::SelectAp, reply(if found { SW_OK.to_vec() } else { sw(0x6A82) }))
            }
            (0x00, 0xA4, 0x02, 0x0C) => {
                let [2, hi, lo] = body else { return (Seen::Other, reply(sw(0x6700))) };
                let id = u16::from_be_bytes([*hi, *lo]);
                let found = self.selected_ap && self.file(id).is_some();
                self.selected = found.then_some(id);
                (Seen::SelectFile(id), reply(if found { SW_OK.to_vec() } else { sw(0x6A82) }))
            }
            (0x00, 0xB0, _, _) => {
                let readable = matches!(
                    self.selected,
                    Some(ef::TOKEN | ef::AUTH_CERTIFICATE | ef::SIGN_CERTIFICATE)
                );
                let (Some(file), true, [le]) =
                    (self.selected.and_then(|id| self.file(id)), readable, body)
                else {
                    return (Seen::ReadBinary, reply(sw(0x6986)));
                };
                let offset = usize::from(u16::from_be_bytes([p1, p2]));
                if offset > file.len() {
                    return (Seen::ReadBinary, reply(sw(0x6B00)));
                }
                let len = if *le == 0 { 256 } else { usize::from(*le) };
                let mut data = file[offset..(offset + len).min(file.len())].to_vec();
                data.extend_from_slice(&SW_OK);
                (Seen::ReadBinary, reply(data))
            }
            (0x00, 0x20, 0x00, 0x80) => {
                let seen = if body.is_empty() { Seen::PinStatus } else { Seen::Verify };
                let (secret, max, tries_left, verified) = match (self.selected, &mut self.signing) {
                    (Some(ef::AUTH_PIN), _) => {
                        (self.pin.to_vec(), 3, &mut self.tries_left, &mut self.verified)
                    }
                    (Some(ef::SIGN_PASSWORD), Some(signing)) => (
                        signing.password.clone(),
                        5,
                        &mut signing.tries_left,
                        &mut signing.verified,
                    ),
                    _ => return (seen, reply(sw(0x6986))),
                };
                if *tries_left == 0 {
                    return (seen, reply(sw(0x6983)));
                }
                match body {
                    [] if *verified => (seen, reply(SW_OK.to_vec())),
                    [] => (seen, reply(sw(0x63C0 | u16::from(*tries_left)))),
                    [lc, given @ ..] if usize::from(*lc) == given.len() && !given.is_empty() => {
                        if given == secret.as_slice() {
                            *tries_left = max;
                            *verified = true;
                            (seen, reply(SW_OK.to_vec()))
                        } else {
                            *tries_left -= 1;
                            *verified = false;
                            (seen, reply(sw(0x63C0 | u16::from(*tries_left))))
                        }
                    }
                    _ => (seen, reply(sw(0x6700))),
                }
            }
            (0x80, 0x2A, 0x00, 0x80) => {
                let (signer, verified) = match (self.selected, &self.signing) {
                    (Some(ef::AUTH_KEY), _) => {
                        (self.certificate.as_ref().expect("a JPKI card"), self.verified)
                    }
                    (Some(ef::SIGN_KEY), Some(signing)) => (&signing.certificate, signing.verified),
                    _ => return (Seen::Sign, reply(sw(0x6986))),
                };
                if self.pull_on_sign {
                    return (Seen::Sign, Answer::Pull);
                }
                if !verified {
                    return (Seen::Sign, reply(sw(0x6982)));
                }
                let [0x33, rest @ ..] = body else { return (Seen::Sign, reply(sw(0x6700))) };
                let [digest_info @ .., 0x00] = rest else { return (Seen::Sign, reply(sw(0x6700))) };
                if digest_info.len() != 0x33 {
                    return (Seen::Sign, reply(sw(0x6700)));
                }
                let mut signature = signer.sign_digest_info(digest_info);
                signature.extend_from_slice(&SW_OK);
                (Seen::Sign, reply(signature))
            }
            (0x00 | 0x80, _, _, _) => (Seen::Other, reply(sw(0x6D00))),
            _ => (Seen::Other, reply(sw(0x6E00))),
        }
    }
}

/// A virtual card shared between a transport (or the vpcd thread) and the test.
#[derive(Debug, Clone)]
pub struct SharedCard(Arc<Mutex<VirtualCard>>);

impl SharedCard {
    /// The card, locked.
    pub fn lock(&self) -> MutexGuard<'_, VirtualCard> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
