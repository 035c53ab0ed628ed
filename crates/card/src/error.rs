//! The crate's one error type: every way talking to the card can fail, each with a sentence a
//! person understands in English (`Display`) and Japanese ([`Error::message_ja`]).
//!
//! No variant carries personal data: no PIN, no certificate bytes, no subject id. Reader names
//! and status words are not personal.

use std::time::Duration;

use honnin_jpki::Refusal;

use crate::{Key, apdu::CommandName};

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong between honnin and the card.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The PC/SC service (pcscd) is not running or not reachable.
    #[error(
        "the smart card service (pcscd) is not running: start it (Debian: `apt-get install pcscd`)"
    )]
    NoService,
    /// PC/SC knows no card reader.
    #[error("no card reader is connected: plug in a USB or NFC card reader")]
    NoReader,
    /// The reader asked for by name is not connected.
    #[error("the card reader {name:?} is not connected")]
    ReaderNotFound {
        /// The name asked for.
        name: String,
    },
    /// No card was put on a reader in time.
    #[error("no card on the reader{}: put your My Number card on the reader", after(*.waited))]
    NoCard {
        /// How long honnin waited.
        waited: Duration,
    },
    /// The card has no JPKI application: not a My Number card.
    #[error("this card is not a My Number card (it has no JPKI application)")]
    NotJpki,
    /// The card left the reader (or was reset by another program) during the command.
    #[error("the card was removed from the reader during the command: put it back and start again")]
    CardRemoved,
    /// Another program holds the card exclusively.
    #[error("another program is using the card: close it and try again")]
    CardBusy,
    /// The card refused the PIN; `tries_left` tries remain before it locks.
    #[error("wrong PIN: {tries_left} {} left before the card locks", tries(*.tries_left))]
    WrongPin {
        /// Tries left (the card's counter).
        tries_left: u8,
    },
    /// The PIN is locked (no try left). Only the municipality can unlock it.
    #[error("the PIN is locked: only your city office can unlock it (bring the card)")]
    PinLocked,
    /// The card refused the signing password (署名用パスワード); `tries_left` tries remain
    /// before it locks. The user-authentication PIN is not affected.
    #[error(
        "wrong signing password: {tries_left} {} left before it locks",
        tries(*.tries_left)
    )]
    WrongPassword {
        /// Tries left (the signing password's own counter, 5 when full).
        tries_left: u8,
    },
    /// The signing password is locked (no try left). Only the municipality can reset it; the
    /// user-authentication PIN still works.
    #[error("the signing password is locked: only your city office can reset it (bring the card)")]
    PasswordLocked,
    /// The card has no signing key or certificate (署名用電子証明書): not issued (it is not
    /// issued to children under 15, and a holder may decline it) or expired and removed.
    #[error(
        "this card has no signing certificate (署名用電子証明書): age claims need one; your city office issues it"
    )]
    NoSigningCertificate,
    /// One try is left and the person did not confirm spending it. Nothing was sent.
    #[error("only one PIN try is left and it was not confirmed: nothing was sent to the card")]
    LastTryNotConfirmed,
    /// The PIN is not exactly four digits. Checked locally: it cost no try.
    #[error("the PIN must be exactly 4 digits (nothing was sent to the card)")]
    PinFormat,
    /// The signing password is not 6–16 uppercase letters and digits. Checked locally: it cost
    /// no try.
    #[error(
        "the signing password must be 6 to 16 characters, uppercase letters A-Z and digits (nothing was sent to the card)"
    )]
    PasswordFormat,
    /// The card asked for the PIN first (status 69 82).
    #[error("the card needs the PIN to be verified first")]
    NotVerified,
    /// The card has no such file (status 6A 82).
    #[error("the card has no file {file:04X}")]
    FileNotFound {
        /// The elementary file id.
        file: u16,
    },
    /// The card answered a status word honnin does not expect for this command.
    #[error("the card answered {command} with status {sw:04X}")]
    UnexpectedStatus {
        /// The command.
        command: CommandName,
        /// SW1 SW2.
        sw: u16,
    },
    /// The card's answer has the wrong shape.
    #[error("the card's answer to {command} is malformed: {reason}")]
    MalformedResponse {
        /// The command.
        command: CommandName,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The certificate read from the card is not one honnin can use.
    #[error("the certificate on the card is not usable: {0}")]
    Certificate(Refusal),
    /// Any other reader or PC/SC failure.
    #[error("card reader failure: {reason}")]
    Reader {
        /// The PC/SC error, as the library words it.
        reason: String,
    },
}

fn after(waited: Duration) -> String {
    if waited.is_zero() { String::new() } else { format!(" after {} s", waited.as_secs()) }
}

const fn tries(n: u8) -> &'static str {
    if n == 1 { "try" } else { "tries" }
}

impl Error {
    /// The error as it concerns `key`: the card answers a wrong or locked secret, and a missing
    /// file, with the same status words for both keys; for the signing key they become
    /// [`Self::WrongPassword`], [`Self::PasswordLocked`] and [`Self::NoSigningCertificate`].
    pub(crate) fn for_key(self, key: Key) -> Self {
        match (key, self) {
            (Key::Signing, Self::WrongPin { tries_left }) => Self::WrongPassword { tries_left },
            (Key::Signing, Self::PinLocked) => Self::PasswordLocked,
            (Key::Signing, Self::FileNotFound { file })
                if [key.certificate_file(), key.pin_file(), key.key_file()].contains(&file) =>
            {
                Self::NoSigningCertificate
            }
            (_, other) => other,
        }
    }

    /// A stable snake_case code for scripts (`--json` output, exit code mapping).
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NoService => "no_service",
            Self::NoReader => "no_reader",
            Self::ReaderNotFound { .. } => "reader_not_found",
            Self::NoCard { .. } => "no_card",
            Self::NotJpki => "not_jpki",
            Self::CardRemoved => "card_removed",
            Self::CardBusy => "card_busy",
            Self::WrongPin { .. } => "wrong_pin",
            Self::PinLocked => "pin_locked",
            Self::WrongPassword { .. } => "wrong_signing_password",
            Self::PasswordLocked => "signing_password_locked",
            Self::NoSigningCertificate => "no_signing_certificate",
            Self::LastTryNotConfirmed => "last_try_not_confirmed",
            Self::PinFormat => "pin_format",
            Self::PasswordFormat => "password_format",
            Self::NotVerified => "not_verified",
            Self::FileNotFound { .. } => "file_not_found",
            Self::UnexpectedStatus { .. } => "unexpected_status",
            Self::MalformedResponse { .. } => "malformed_response",
            Self::Certificate(_) => "certificate_unusable",
            Self::Reader { .. } => "reader_failure",
        }
    }

    /// The same sentence in Japanese, for the person holding the card.
    pub fn message_ja(&self) -> String {
        match self {
            Self::NoService => {
                "スマートカードサービス (pcscd) が動いていません。pcscd を起動してください。".into()
            }
            Self::NoReader => {
                "カードリーダーが接続されていません。USB または NFC のカードリーダーを接続してください。"
                    .into()
            }
            Self::ReaderNotFound { name } => format!("カードリーダー「{name}」が見つかりません。"),
            Self::NoCard { waited } if waited.is_zero() => {
                "カードが置かれていません。マイナンバーカードをリーダーに置いてください。".into()
            }
            Self::NoCard { waited } => format!(
                "{} 秒待ちましたが、カードが置かれませんでした。マイナンバーカードをリーダーに置いてください。",
                waited.as_secs()
            ),
            Self::NotJpki => {
                "このカードはマイナンバーカードではありません (公的個人認証 AP がありません)。".into()
            }
            Self::CardRemoved => {
                "処理中にカードがリーダーから外れました。カードを置き直して、最初からやり直してください。"
                    .into()
            }
            Self::CardBusy => {
                "別のプログラムがカードを使用中です。そのプログラムを閉じてからやり直してください。"
                    .into()
            }
            Self::WrongPin { tries_left } => format!(
                "暗証番号が違います。あと {tries_left} 回間違えるとロックされます。"
            ),
            Self::PinLocked => {
                "暗証番号がロックされています。解除はお住まいの市区町村の窓口でのみできます (カードをお持ちください)。"
                    .into()
            }
            Self::WrongPassword { tries_left } => format!(
                "署名用パスワードが違います。あと {tries_left} 回間違えるとロックされます。"
            ),
            Self::PasswordLocked => {
                "署名用パスワードがロックされています。初期化はお住まいの市区町村の窓口でのみできます (カードをお持ちください)。利用者証明用の暗証番号はそのまま使えます。"
                    .into()
            }
            Self::NoSigningCertificate => {
                "このカードには署名用電子証明書がありません。年齢の確認には署名用電子証明書が必要です (市区町村の窓口で発行を受けられます。15歳未満の方には原則発行されません)。"
                    .into()
            }
            Self::LastTryNotConfirmed => {
                "残り 1 回の確認がなかったため、カードには何も送っていません。".into()
            }
            Self::PinFormat => {
                "暗証番号は 4 桁の数字です (カードには何も送っていません)。".into()
            }
            Self::PasswordFormat => {
                "署名用パスワードは英大文字と数字の 6〜16 文字です (カードには何も送っていません)。"
                    .into()
            }
            Self::NotVerified => "先に暗証番号の照合が必要です。".into(),
            Self::FileNotFound { file } => format!("カードにファイル {file:04X} がありません。"),
            Self::UnexpectedStatus { command, sw } => {
                format!("カードが {command} に想定外の応答 {sw:04X} を返しました。")
            }
            Self::MalformedResponse { command, reason } => {
                format!("カードの {command} への応答が不正です ({reason})。")
            }
            Self::Certificate(refusal) => {
                format!("カードの証明書を利用できません ({})。", refusal.code())
            }
            Self::Reader { reason } => format!("カードリーダーのエラー: {reason}"),
        }
    }
}
