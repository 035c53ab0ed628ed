//! One signature request at the bridge's terminal: the card opened, the asking origin and the
//! exact message shown, `y` to go on, the tries left shown, the last try confirmed, the PIN
//! read as one line, one signature — the same PIN safety as `honnin card sign`: a locked card
//! is refused before any VERIFY, the PIN is 4 digits before it costs a try, and a wrong PIN is
//! never retried.
//!
//! With age evidence asked for (`"age": true`), as `honnin card attest --age`: the signing
//! certificate is read too, the terminal says plainly what it holds (name, address, birth date,
//! sex) and that honnin keeps only the two age bits, and after `y` both counters are asked
//! before any secret is typed (a locked signing password is refused before the PIN is asked),
//! each last try is confirmed, then the PIN and the signing password are read and checked for
//! their shape, and only then does the card sign: with the PIN first, then with the password,
//! each sent once.

use std::fmt;

use zeroize::Zeroizing;

use super::{CardTransport, Cards, Terminal, problem::Refusal};
use crate::{Error, JpkiCard, Key, LastTry, Pin, PinState};

/// What the card gave: the user-authentication certificate (DER) and the signature, and with
/// age evidence the signing certificate and the signing key's signature of the same message.
///
/// Its `Debug` shows sizes only: the signing certificate holds the person's name, address,
/// birth date and sex.
pub struct Signed {
    /// The user-authentication certificate, DER.
    pub certificate: Vec<u8>,
    /// RSASSA-PKCS1-v1_5 over SHA-256 of the message, by the user-authentication key.
    pub signature: Vec<u8>,
    /// With age evidence: the signing certificate (DER; wiped on drop) and the signing key's
    /// signature of the same message.
    pub signing: Option<SigningEvidence>,
}

/// The signing key's side of a [`Signed`]: for age claims only.
pub struct SigningEvidence {
    /// The signing certificate (署名用電子証明書), DER. Personal data: wiped on drop.
    pub certificate: Zeroizing<Vec<u8>>,
    /// RSASSA-PKCS1-v1_5 over SHA-256 of the message, by the signing key.
    pub signature: Vec<u8>,
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("certificate_len", &self.certificate.len())
            .field("signature_len", &self.signature.len())
            .field("signing", &self.signing)
            .finish()
    }
}

impl fmt::Debug for SigningEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningEvidence")
            .field("certificate_len", &self.certificate.len())
            .field("signature_len", &self.signature.len())
            .finish()
    }
}

/// What the signing certificate holds and what honnin does with it, shown before `y`.
const SIGNING_NOTICE: &str = "\
With age evidence: your card's SIGNING certificate (署名用電子証明書) will be sent too. It holds \
your name, address, date of birth and sex. The honnin service computes only two yes/no answers \
from it (over 18, over 20) and drops the rest at once: nothing else is stored, logged or put \
on chain. It is signed with your signing password (6-16 characters), asked here after the PIN.\n\
年齢の確認: カードの署名用電子証明書も送られます。この証明書には氏名・住所・生年月日・性別が記載\
されています。honnin はそこから「18歳以上」「20歳以上」の2つだけを計算し、残りはすぐに破棄します \
(保存・記録・ブロックチェーンへの書き込みはしません)。署名には署名用パスワード (6〜16文字) を使い、\
暗証番号の後にここで入力します。";

/// Runs one request: `origin` is the page that asks (`None`: a program without an `Origin`);
/// `age`: also the signing certificate and the signing key's signature (age claims).
pub fn sign(
    cards: &dyn Cards,
    terminal: &mut dyn Terminal,
    origin: Option<&str>,
    message: &str,
    age: bool,
) -> Result<Signed, Refusal> {
    let who = origin.unwrap_or("a local program (no Origin)");
    let what = if age { "a card signature with age evidence" } else { "a card signature" };
    let what_ja = if age { "年齢の確認を含む署名の依頼" } else { "署名の依頼" };
    terminal.show(&format!("\nbridge: {who} asks for {what} / {what_ja}: {who}"));
    let mut card = match cards.open() {
        Ok(card) => card,
        Err(error) => return Err(card_failed(terminal, error)),
    };
    let certificate =
        card.certificate(Key::Authentication).map_err(|e| card_failed(terminal, e))?;
    let signing_certificate = if age {
        let der = card.certificate(Key::Signing).map_err(|e| card_failed(terminal, e))?;
        Some(Zeroizing::new(der))
    } else {
        None
    };
    terminal.show("The exact message to sign / 署名するメッセージ (そのまま):");
    for line in message.split('\n') {
        terminal.show(&format!("    | {line}"));
    }
    if age {
        terminal.show(SIGNING_NOTICE);
    }
    terminal.show(&format!(
        "Sign it for {who} with your card? Type y to continue / このサイトのためにカードで署名しますか? 続けるには y:"
    ));
    let answer = terminal.read_line().map_err(|_| Refusal::Declined)?;
    if answer.trim() != "y" {
        terminal.show(
            "declined: nothing was sent to the card / 中止しました (カードには何も送っていません)",
        );
        return Err(Refusal::Declined);
    }
    // Both counters before any secret: a locked signing password is refused before the PIN.
    let pin_tries = tries(&mut card, Key::Authentication).map_err(|e| card_failed(terminal, e))?;
    let password_tries = if age {
        Some(tries(&mut card, Key::Signing).map_err(|e| card_failed(terminal, e))?)
    } else {
        None
    };
    let pin_last = secret_tries(terminal, Key::Authentication, pin_tries)?;
    terminal.show("User-authentication PIN (4 digits) / 利用者証明用暗証番号 (4桁):");
    let line: Zeroizing<String> = terminal.read_secret().map_err(|_| Refusal::Declined)?;
    let pin = Pin::from_line(&line).map_err(|e| card_failed(terminal, e))?;
    drop(line);
    let password = match password_tries {
        Some(n) => {
            let last = secret_tries(terminal, Key::Signing, n)?;
            terminal.show(
                "Signing password (6-16 characters, A-Z and 0-9) / 署名用パスワード (英大文字と数字 6〜16 文字):",
            );
            let line: Zeroizing<String> = terminal.read_secret().map_err(|_| Refusal::Declined)?;
            let password =
                Pin::from_line_for(Key::Signing, &line).map_err(|e| card_failed(terminal, e))?;
            Some((password, last))
        }
        None => None,
    };
    terminal.show("Signing with the card… / カードで署名しています…");
    let signature = card
        .sign(Key::Authentication, &pin, message.as_bytes(), pin_last)
        .map_err(|e| card_failed(terminal, e))?;
    drop(pin);
    let signing = match (signing_certificate, password) {
        (Some(certificate), Some((password, last))) => {
            terminal.show("Signing with the signing key… / 署名用電子証明書の鍵で署名しています…");
            let signature = card
                .sign(Key::Signing, &password, message.as_bytes(), last)
                .map_err(|e| card_failed(terminal, e))?;
            Some(SigningEvidence { certificate, signature })
        }
        _ => None,
    };
    // Ends the session (PC/SC: disconnect with a reset).
    drop(card);
    terminal.show(&format!("signed for {who} / 署名しました"));
    Ok(Signed { certificate, signature, signing })
}

/// `key`'s tries left, without spending one (a locked secret is the card's error).
fn tries(card: &mut JpkiCard<CardTransport>, key: Key) -> Result<u8, Error> {
    Ok(match card.pin_state(key)? {
        PinState::TriesLeft(n) => n,
        PinState::Verified => key.max_tries(),
    })
}

/// Shows `key`'s tries left and, at one, asks the person to confirm spending it.
fn secret_tries(terminal: &mut dyn Terminal, key: Key, tries: u8) -> Result<LastTry, Refusal> {
    let (name, name_ja) = key.secret_name();
    terminal.show(&format!("{name}: {tries} tries left / {name_ja}: 残り {tries} 回"));
    if tries > 1 {
        return Ok(LastTry::Refuse);
    }
    let (locks, locks_ja) = match key {
        Key::Signing => (
            "a wrong one locks the signing password until your city office resets it",
            "間違えると署名用パスワードがロックされ、市区町村の窓口でしか初期化できません",
        ),
        _ => (
            "a wrong PIN locks the card until your city office unlocks it",
            "間違えるとカードがロックされ、市区町村の窓口でしか解除できません",
        ),
    };
    let upper = if key == Key::Signing { "SIGNING PASSWORD" } else { "PIN" };
    terminal.show(&format!(
        "Only ONE {upper} try is left: {locks}.\n\
         {name_ja}の残りは 1 回です。{locks_ja}。\n\
         Type yes to continue / 続けるには yes と入力:"
    ));
    let answer = terminal.read_line().map_err(|_| Refusal::Declined)?;
    if answer.trim() != "yes" {
        return Err(card_failed(terminal, Error::LastTryNotConfirmed));
    }
    Ok(LastTry::Confirmed)
}

/// Tells the person at the terminal too, and answers the card's code.
fn card_failed(terminal: &mut dyn Terminal, error: Error) -> Refusal {
    terminal.show(&format!("error: {error}\nエラー: {}", error.message_ja()));
    Refusal::Card(error)
}
