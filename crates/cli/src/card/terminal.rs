//! The terminal side: standard input read in lines we own (the PIN never sits in a buffer
//! we cannot wipe), and output for people or scripts.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::*;

/// Standard input read in lines we own: the PIN line never sits in a buffer we cannot wipe.
///
/// Reads go straight to the file descriptor: `Stdin`'s own 8 KiB buffer is bypassed because
/// it is empty and each read asks for more than its capacity.
#[derive(Default)]
pub(super) struct Input {
    pub(super) pending: Zeroizing<Vec<u8>>,
}

pub(super) const INPUT_CAPACITY: usize = 64 * 1024;

impl Input {
    pub(super) fn line(&mut self) -> Outcome<Zeroizing<String>> {
        if self.pending.capacity() < INPUT_CAPACITY {
            // Reserved once, so the buffer never moves (a move would leave a copy behind).
            self.pending.reserve_exact(INPUT_CAPACITY);
        }
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line = Zeroizing::new(self.pending[..end].to_vec());
                self.pending.drain(..=end);
                return utf8_line(line);
            }
            let mut chunk = Zeroizing::new(vec![0u8; 16 * 1024]);
            let n = std::io::stdin().lock().read(&mut chunk).map_err(usage)?;
            if n == 0 {
                if self.pending.is_empty() {
                    return Err(usage(anyhow!("standard input ended before the expected line")));
                }
                let line = Zeroizing::new(std::mem::take(&mut *self.pending));
                return utf8_line(line);
            }
            if self.pending.len() + n > INPUT_CAPACITY {
                return Err(usage(anyhow!("standard input line too long")));
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }
}

pub(super) fn utf8_line(mut bytes: Zeroizing<Vec<u8>>) -> Outcome<Zeroizing<String>> {
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(usage(anyhow!("standard input is not UTF-8"))),
    }
}

/// Output for people or scripts, and the one standard-input reader.
pub(super) struct Ui {
    pub(super) json: bool,
    pub(super) input: Input,
}

impl Ui {
    /// A narration line (stderr, so stdout stays the result).
    pub(super) fn say(&self, text: impl std::fmt::Display) {
        eprintln!("{text}");
    }

    /// A result line for people (stdout; nothing in `--json` mode).
    pub(super) fn result(&self, text: impl std::fmt::Display) {
        if !self.json {
            println!("{text}");
        }
    }

    pub(super) fn show_message(&self, message: &str) {
        self.say("The message to sign / 署名するメッセージ:");
        for line in message.lines() {
            self.say(format!("    | {line}"));
        }
    }

    pub(super) fn failed(&self, failure: &Failure) -> ExitCode {
        let (code, value) = match failure {
            Failure::Card(error) => (card_exit(error), error_json(error)),
            Failure::Printed(value, code) => (*code, value.clone()),
            Failure::Usage(error) => {
                (2, json!({ "ok": false, "error": "usage", "message": format!("{error:#}") }))
            }
            Failure::Service(error) => {
                (1, json!({ "ok": false, "error": "service", "message": format!("{error:#}") }))
            }
        };
        if self.json {
            println!("{value}");
        } else {
            eprintln!("error: {}", value["message"].as_str().unwrap_or_default());
            if let Some(ja) = value["message_ja"].as_str() {
                eprintln!("エラー: {ja}");
            }
        }
        ExitCode::from(code)
    }
}

/// A card error as JSON: stable code, English and Japanese sentences, tries left (`pin_tries_left`
/// or `signing_password_tries_left`).
pub(super) fn error_json(error: &CardError) -> Value {
    let mut value = json!({
        "ok": false,
        "error": error.code(),
        "message": error.to_string(),
        "message_ja": error.message_ja(),
    });
    match error {
        CardError::WrongPin { tries_left } => value["pin_tries_left"] = json!(tries_left),
        CardError::WrongPassword { tries_left } => {
            value["signing_password_tries_left"] = json!(tries_left);
        }
        _ => {}
    }
    value
}
