//! The APDU layer: command bytes as JPKI.md gives them, every status word decoded and mapped.

use honnin_card::{
    Error, Pin,
    apdu::{Command, CommandName, Response, Status},
};

#[test]
fn commands_are_the_bytes_jpki_md_gives() {
    assert_eq!(
        Command::select_ap().bytes(),
        [0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]
    );
    assert_eq!(Command::select_file(0x000A).bytes(), [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]);
    assert_eq!(Command::read_binary(0x0123, 0).unwrap().bytes(), [0x00, 0xB0, 0x01, 0x23, 0x00]);
    assert!(Command::read_binary(0x8000, 1).is_err(), "P1's top bit means a short file id");
    assert_eq!(Command::pin_status().bytes(), [0x00, 0x20, 0x00, 0x80]);
    let pin = Pin::parse("4821").unwrap();
    assert_eq!(
        Command::verify(&pin).bytes(),
        [0x00, 0x20, 0x00, 0x80, 0x04, b'4', b'8', b'2', b'1']
    );
    let digest_info = [0x5A; 51];
    let sign = Command::sign(&digest_info);
    assert_eq!(sign.bytes()[..5], [0x80, 0x2A, 0x00, 0x80, 0x33], "CLA 80");
    assert_eq!(sign.bytes()[5..56], digest_info);
    assert_eq!(sign.bytes()[56..], [0x00], "Le: the whole signature");
    // A command's Debug never shows its bytes (a VERIFY holds the PIN).
    assert!(!format!("{:?}", Command::verify(&pin)).contains("52"));
    assert!(!format!("{:?}", Command::verify(&pin)).contains("4821"));
}

#[test]
fn every_status_word_decodes() {
    let cases = [
        (0x9000, Status::Ok),
        (0x63C3, Status::TriesLeft(3)),
        (0x63C2, Status::TriesLeft(2)),
        (0x63C1, Status::TriesLeft(1)),
        (0x63C0, Status::Locked),
        (0x6983, Status::Locked),
        (0x6984, Status::Locked),
        (0x6982, Status::NotVerified),
        (0x6A82, Status::FileNotFound),
        (0x6D00, Status::Other(0x6D00)),
        (0x6700, Status::Other(0x6700)),
    ];
    for (sw, status) in cases {
        assert_eq!(Status::from_sw(sw), status, "{sw:04X}");
    }
}

fn answer(command: CommandName, file: Option<u16>, raw: &[u8]) -> Result<Vec<u8>, Error> {
    Response::parse(command, raw.to_vec()).and_then(|r| r.into_data(command, file))
}

#[test]
fn every_status_word_maps_to_its_error() {
    use CommandName::*;
    assert_eq!(answer(ReadBinary, None, &[1, 2, 0x90, 0x00]).unwrap(), [1, 2]);
    assert!(matches!(answer(Verify, None, &[0x63, 0xC2]), Err(Error::WrongPin { tries_left: 2 })));
    assert!(matches!(answer(Verify, None, &[0x63, 0xC1]), Err(Error::WrongPin { tries_left: 1 })));
    for locked in [[0x63, 0xC0], [0x69, 0x83], [0x69, 0x84]] {
        assert!(matches!(answer(Verify, None, &locked), Err(Error::PinLocked)), "{locked:02X?}");
    }
    assert!(matches!(answer(Sign, None, &[0x69, 0x82]), Err(Error::NotVerified)));
    assert!(matches!(answer(SelectAp, None, &[0x6A, 0x82]), Err(Error::NotJpki)));
    assert!(matches!(
        answer(SelectFile, Some(0x000A), &[0x6A, 0x82]),
        Err(Error::FileNotFound { file: 0x000A })
    ));
    assert!(matches!(
        answer(Sign, None, &[0x6D, 0x00]),
        Err(Error::UnexpectedStatus { command: Sign, sw: 0x6D00 })
    ));
    // 63 Cn only means "wrong PIN" to a VERIFY.
    assert!(matches!(
        answer(ReadBinary, None, &[0x63, 0xC2]),
        Err(Error::UnexpectedStatus { sw: 0x63C2, .. })
    ));
    assert!(matches!(answer(ReadBinary, None, &[0x90]), Err(Error::MalformedResponse { .. })));
}

#[test]
fn a_pin_is_exactly_four_digits_and_never_prints() {
    for bad in ["", "123", "12345", "12a4", " 1234", "1234 ", "١٢٣٤", "12\n4"] {
        assert!(matches!(Pin::parse(bad), Err(Error::PinFormat)), "{bad:?}");
    }
    let pin = Pin::parse("4821").unwrap();
    assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    assert!(Pin::from_line("4821\n").is_ok());
    assert!(Pin::from_line("4821\r\n").is_ok());
    assert!(Pin::from_line("4821\n\n").is_err());
}

#[test]
fn a_signing_password_is_6_to_16_uppercase_letters_and_digits() {
    for bad in ["", "ABC12", "ABCDEFGHIJ1234567", "abc123", "ABC 123", "ABC-123", "ＡＢＣ１２３"]
    {
        assert!(matches!(Pin::signing_password(bad), Err(Error::PasswordFormat)), "{bad:?}");
    }
    for good in ["ABC123", "123456", "ABCDEFGHIJ123456"] {
        let password = Pin::signing_password(good).unwrap();
        assert_eq!(password.key(), honnin_card::Key::Signing);
        assert_eq!(format!("{password:?}"), "Pin(<redacted>)");
    }
    assert!(Pin::from_line_for(honnin_card::Key::Signing, "ABC123\r\n").is_ok());
    assert!(Pin::from_line_for(honnin_card::Key::Signing, "4821\n").is_err());
}

#[test]
fn every_error_speaks_english_and_japanese_with_a_distinct_code() {
    use std::time::Duration;
    let errors = [
        Error::NoService,
        Error::NoReader,
        Error::ReaderNotFound { name: "x".into() },
        Error::NoCard { waited: Duration::from_secs(30) },
        Error::NotJpki,
        Error::CardRemoved,
        Error::CardBusy,
        Error::WrongPin { tries_left: 2 },
        Error::PinLocked,
        Error::WrongPassword { tries_left: 4 },
        Error::PasswordLocked,
        Error::NoSigningCertificate,
        Error::LastTryNotConfirmed,
        Error::PinFormat,
        Error::PasswordFormat,
        Error::NotVerified,
        Error::FileNotFound { file: 0x000A },
        Error::UnexpectedStatus { command: CommandName::Sign, sw: 0x6D00 },
        Error::MalformedResponse { command: CommandName::ReadBinary, reason: "short" },
        Error::Certificate(honnin_jpki::Refusal::MalformedCertificate),
        Error::Reader { reason: "comm error".into() },
    ];
    let mut codes = std::collections::HashSet::new();
    for error in &errors {
        assert!(!error.to_string().is_empty());
        assert!(error.message_ja().chars().any(|c| c as u32 > 0x3000), "{error}: Japanese");
        assert!(codes.insert(error.code()), "{}: distinct", error.code());
    }
    assert_eq!(
        Error::WrongPin { tries_left: 2 }.to_string(),
        "wrong PIN: 2 tries left before the card locks"
    );
    assert!(Error::WrongPin { tries_left: 1 }.message_ja().contains("1 回"));
    assert_eq!(
        Error::WrongPassword { tries_left: 1 }.to_string(),
        "wrong signing password: 1 try left before it locks"
    );
}
