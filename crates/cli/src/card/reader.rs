//! The card through its reader: open, status, certificate, the PIN-guarded signature, `sign`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::*;

/// Waits for a card and opens its JPKI AP.
pub(super) fn open(args: &ReaderArgs, ui: &Ui) -> Outcome<JpkiCard<PcscTransport>> {
    let readers = Readers::establish()?;
    let wait = Duration::from_secs(args.wait);
    if args.wait > 0 && !readers.list()?.iter().any(|r| r.card_present) {
        ui.say(format!(
            "Put your My Number card on the reader (waiting {} s) / マイナンバーカードをリーダーに置いてください",
            args.wait
        ));
    }
    let reader = readers.wait_for_card(args.reader.as_deref(), wait)?;
    tracing::debug!(target: "honnin::card", reader, "card present");
    Ok(JpkiCard::open(readers.connect(&reader)?)?)
}

/// Closes the card with a reset (also on drop; this reports a failure to reset).
pub(super) fn close(card: JpkiCard<PcscTransport>) -> Outcome<()> {
    Ok(card.into_transport().close()?)
}

pub(super) fn status(args: &StatusArgs, ui: &Ui) -> Outcome {
    let readers = Readers::establish()?;
    let list = readers.list()?;
    let list_json: Vec<Value> =
        list.iter().map(|r| json!({ "name": r.name, "card_present": r.card_present })).collect();
    for reader in &list {
        ui.result(format!(
            "reader   {} ({})",
            reader.name,
            if reader.card_present {
                "card present / カードあり"
            } else {
                "no card / カードなし"
            }
        ));
    }
    // No waiting: status tells what is there now.
    let reader = match readers.wait_for_card(args.reader.reader.as_deref(), Duration::ZERO) {
        Ok(reader) => reader,
        Err(error @ CardError::NoCard { .. }) => {
            ui.result("card     none / カードなし");
            let mut value = error_json(&error);
            value["readers"] = json!(list_json);
            value["card_present"] = json!(false);
            return Err(Failure::Printed(value, card_exit(&error)));
        }
        Err(other) => return Err(other.into()),
    };
    let mut card = JpkiCard::open(readers.connect(&reader)?)?;
    let kind = card.kind();
    let state = card.pin_state(Key::Authentication);
    // The signing password's counter too (age claims); a card without the key says so.
    let signing = card.pin_state(Key::Signing);
    close(card)?;
    let (signing_tries, signing_locked) = match signing {
        Ok(PinState::TriesLeft(n)) => (Some(n), Some(false)),
        Ok(PinState::Verified) => (None, Some(false)),
        Err(CardError::PasswordLocked) => (Some(0), Some(true)),
        Err(_) => (None, None),
    };
    let (tries, locked) = match state {
        Ok(PinState::TriesLeft(n)) => (Some(n), false),
        Ok(PinState::Verified) => (None, false),
        Err(CardError::PinLocked) => (Some(0), true),
        Err(other) => return Err(other.into()),
    };
    ui.result(format!("card     My Number card ({}) / マイナンバーカード", kind.as_str()));
    ui.result(match (tries, locked) {
        (_, true) => {
            "PIN      locked: only your city office can unlock it / ロック中 (市区町村の窓口で解除)"
                .to_owned()
        }
        (Some(n), false) => {
            format!("PIN      {n} of {} tries left / 残り {n} 回", Key::Authentication.max_tries())
        }
        (None, false) => {
            "PIN      verified by another program / 他のプログラムで照合済み".to_owned()
        }
    });
    match (signing_tries, signing_locked) {
        (_, Some(true)) => ui.result(
            "signing  password locked: only your city office can unlock it / 署名用パスワードはロック中",
        ),
        (Some(n), _) => ui.result(format!(
            "signing  password {n} of {} tries left / 署名用パスワード 残り {n} 回",
            Key::Signing.max_tries()
        )),
        (None, Some(false)) => {
            ui.result("signing  password verified by another program / 他のプログラムで照合済み")
        }
        (None, None) => ui.result("signing  no signing key / 署名用電子証明書なし"),
    }
    Ok(json!({
        "ok": true,
        "readers": list_json,
        "reader": reader,
        "card_present": true,
        "jpki": true,
        "kind": kind.as_str(),
        "pin_tries_left": tries,
        "pin_locked": locked,
        "signing_password_tries_left": signing_tries,
        "signing_password_locked": signing_locked,
    }))
}

pub(super) fn certificate(args: &CertificateArgs, ui: &Ui) -> Outcome {
    let mut card = open(&args.reader, ui)?;
    let der = card.certificate(Key::Authentication)?;
    close(card)?;
    if let Some(out) = &args.out {
        std::fs::write(out, &der)
            .with_context(|| format!("cannot write {}", out.display()))
            .map_err(usage)?;
        ui.say(format!("certificate written to {}", out.display()));
    }
    let summary = honnin_jpki::inspect(&der).map_err(CardError::Certificate)?;
    let mut value = crate::jpki::summary_json(&summary, args.show_subject);
    if !ui.json {
        ui.result(serde_json::to_string_pretty(&value).unwrap_or_default());
    }
    if let Some(out) = &args.out {
        value["out"] = json!(out.display().to_string());
    }
    Ok(value)
}

/// Said before the signing password is asked: what the signing certificate holds and what
/// honnin does with it.
pub(super) const SIGNING_CERTIFICATE_NOTICE: &str = "\
The signing certificate (署名用電子証明書) holds your name, address, date of birth and sex. \
Sent to honnin for age claims, only two yes/no answers (over 18, over 20) are computed from it \
and the rest is dropped at once.\n\
署名用電子証明書には氏名・住所・生年月日・性別が記載されています。honnin に送ると、\
「18歳以上」「20歳以上」の2つだけが計算され、残りはすぐに破棄されます。";

/// Asks the tries left of `key`'s secret (shown), confirms the last one, reads the secret (the
/// PIN, or the signing password) and signs `message` with `key`. Never retried.
pub(super) fn card_signature(
    card: &mut JpkiCard<PcscTransport>,
    key: Key,
    pin: &PinArgs,
    message: &[u8],
    ui: &mut Ui,
) -> Outcome<Vec<u8>> {
    let (name, name_ja) = key.secret_name();
    let tries = match card.pin_state(key)? {
        PinState::TriesLeft(n) => n,
        PinState::Verified => key.max_tries(),
    };
    ui.say(format!("{name}: {tries} tries left / {name_ja}: 残り {tries} 回"));
    let last_try = if tries > 1 {
        LastTry::Refuse
    } else if pin.pin_stdin {
        if pin.confirm_last_try {
            LastTry::Confirmed
        } else {
            return Err(CardError::LastTryNotConfirmed.into());
        }
    } else {
        confirm_on_terminal(key)?
    };
    let secret = if pin.pin_stdin {
        Pin::from_line_for(key, &ui.input.line()?)?
    } else {
        let prompt = match key {
            Key::Signing => {
                "Signing password (6-16 characters, A-Z and 0-9) / 署名用パスワード (英大文字と数字 6〜16 文字): "
            }
            _ => "User-authentication PIN (4 digits) / 利用者証明用暗証番号 (4桁): ",
        };
        let line = rpassword::prompt_password(prompt).map(Zeroizing::new).map_err(|e| {
            usage(anyhow!("cannot read the {name} from the terminal ({e}): use --pin-stdin"))
        })?;
        Pin::from_line_for(key, &line)?
    };
    ui.say("Signing with the card… / カードで署名しています…");
    let signature = card.sign(key, &secret, message, last_try)?;
    drop(secret);
    Ok(signature)
}

/// At one try left: the person types `yes` on the terminal, or nothing is sent.
pub(super) fn confirm_on_terminal(key: Key) -> Outcome<LastTry> {
    let (name, name_ja) = key.secret_name();
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|e| usage(anyhow!("no terminal to confirm the last {name} try ({e})")))?;
    write!(
        tty,
        "Only ONE {name} try is left: a wrong one locks it until your city office unlocks it.\n\
         {name_ja}の残りは 1 回です。間違えるとロックされ、市区町村の窓口でしか解除できません。\n\
         Type yes to continue / 続けるには yes と入力: "
    )
    .map_err(usage)?;
    let mut answer = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(tty), &mut answer).map_err(usage)?;
    if answer.trim() == "yes" {
        Ok(LastTry::Confirmed)
    } else {
        Err(CardError::LastTryNotConfirmed.into())
    }
}

pub(super) fn read_file(path: &Path, what: &str) -> Outcome<Vec<u8>> {
    std::fs::read(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))
        .map_err(usage)
}

pub(super) fn sign(args: &SignArgs, ui: &mut Ui) -> Outcome {
    let message = read_file(&args.message, "message")?;
    let key = args.key.key();
    let mut card = open(&args.reader, ui)?;
    let certificate = card.certificate(key)?;
    if key == Key::Signing {
        ui.say(SIGNING_CERTIFICATE_NOTICE);
    }
    let signature = card_signature(&mut card, key, &args.pin, &message, ui)?;
    close(card)?;
    std::fs::write(&args.out, &signature)
        .with_context(|| format!("cannot write {}", args.out.display()))
        .map_err(usage)?;
    ui.result(format!(
        "signed {} bytes; signature ({} bytes) written to {}",
        message.len(),
        signature.len(),
        args.out.display()
    ));
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(json!({
        "ok": true,
        "certificate": b64.encode(&certificate),
        "signature": b64.encode(&signature),
        "key": args.key.as_str(),
        "out": args.out.display().to_string(),
    }))
}
