//! One signature request at the bridge's terminal: the card opened, the asking origin and the
//! exact message shown, `y` to go on, the tries left shown, the last try confirmed, the PIN
//! read as one line, one signature — the same PIN safety as `honnin card sign`: a locked card
//! is refused before any VERIFY, the PIN is 4 digits before it costs a try, and a wrong PIN is
//! never retried.

use zeroize::Zeroizing;

use super::{Cards, Terminal, problem::Refusal};
use crate::{Error, Key, LastTry, Pin, PinState};

/// What the card gave: the user-authentication certificate (DER) and the signature.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The certificate, DER.
    pub certificate: Vec<u8>,
    /// RSASSA-PKCS1-v1_5 over SHA-256 of the message.
    pub signature: Vec<u8>,
}

/// Runs one request: `origin` is the page that asks (`None`: a program without an `Origin`).
pub fn sign(
    cards: &dyn Cards,
    terminal: &mut dyn Terminal,
    origin: Option<&str>,
    message: &str,
) -> Result<Signed, Refusal> {
    let who = origin.unwrap_or("a local program (no Origin)");
    terminal.show(&format!("\nbridge: {who} asks for a card signature / 署名の依頼: {who}"));
    let mut card = match cards.open() {
        Ok(card) => card,
        Err(error) => return Err(card_failed(terminal, error)),
    };
    let certificate =
        card.certificate(Key::Authentication).map_err(|e| card_failed(terminal, e))?;
    terminal.show("The exact message to sign / 署名するメッセージ (そのまま):");
    for line in message.split('\n') {
        terminal.show(&format!("    | {line}"));
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
    let tries = match card.pin_state(Key::Authentication) {
        Ok(PinState::TriesLeft(n)) => n,
        Ok(PinState::Verified) => Key::Authentication.max_tries(),
        Err(error) => return Err(card_failed(terminal, error)),
    };
    terminal.show(&format!("PIN: {tries} tries left / 暗証番号: 残り {tries} 回"));
    let last_try = if tries > 1 {
        LastTry::Refuse
    } else {
        terminal.show(
            "Only ONE PIN try is left: a wrong PIN locks the card until your city office unlocks it.\n\
             残り 1 回です。間違えるとカードがロックされ、市区町村の窓口でしか解除できません。\n\
             Type yes to continue / 続けるには yes と入力:",
        );
        let answer = terminal.read_line().map_err(|_| Refusal::Declined)?;
        if answer.trim() != "yes" {
            return Err(card_failed(terminal, Error::LastTryNotConfirmed));
        }
        LastTry::Confirmed
    };
    terminal.show("User-authentication PIN (4 digits) / 利用者証明用暗証番号 (4桁):");
    let line: Zeroizing<String> = terminal.read_line().map_err(|_| Refusal::Declined)?;
    let pin = Pin::from_line(&line).map_err(|e| card_failed(terminal, e))?;
    drop(line);
    terminal.show("Signing with the card… / カードで署名しています…");
    let signature = card
        .sign(Key::Authentication, &pin, message.as_bytes(), last_try)
        .map_err(|e| card_failed(terminal, e))?;
    drop(pin);
    // Ends the session (PC/SC: disconnect with a reset).
    drop(card);
    terminal.show(&format!("signed for {who} / 署名しました"));
    Ok(Signed { certificate, signature })
}

/// Tells the person at the terminal too, and answers the card's code.
fn card_failed(terminal: &mut dyn Terminal, error: Error) -> Refusal {
    terminal.show(&format!("error: {error}\nエラー: {}", error.message_ja()));
    Refusal::Card(error)
}
