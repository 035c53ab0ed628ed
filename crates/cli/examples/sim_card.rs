//! A simulated My Number card for tests outside Rust (the TypeScript SDK's and the example
//! dApp's node tests): the card evidence for a challenge, over standard input and output.
//!
//! `sim_card <TRUST_DIR>` mints a simulated J-LIS root (honnin-jpki's `test-utils`, the same
//! simulated root `honnin dev` and `honnin jpki mint` use) and writes its certificate to
//! `<TRUST_DIR>/sim-card-root.pem`; a `honnin dev` started after that with the same data folder
//! (`<data>/trust`) and `--no-revocation` trusts it. It then prints `ready` and answers each line
//! `{"card":"NAME","message":"…"}` on stdin with one line
//! `{"certificate":"<base64 DER>","card_signature":"<base64>"}`: the card called NAME (issued on
//! first use with a random serial and subject, so each name is one person) signs the message.
//! It signs nothing a real verifier trusts.

#![allow(clippy::print_stdout)]

use std::{
    collections::HashMap,
    io::{BufRead as _, Read as _, Write as _},
    path::PathBuf,
};

use anyhow::Context as _;
use base64::Engine as _;
use honnin_jpki::test_utils::{CardSpec, SimCard, SimRoot};
use serde_json::{Value, json};

fn main() -> anyhow::Result<()> {
    let trust: PathBuf = std::env::args_os().nth(1).context("usage: sim_card <TRUST_DIR>")?.into();
    std::fs::create_dir_all(&trust)?;
    let root = SimRoot::new(0);
    std::fs::write(trust.join("sim-card-root.pem"), root.pem())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    let mut cards: HashMap<String, SimCard> = HashMap::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    for line in std::io::stdin().lock().lines() {
        let request: Value = serde_json::from_str(&line?).context("not a JSON line")?;
        let name = request["card"].as_str().context("card")?.to_owned();
        let message = request["message"].as_str().context("message")?;
        let card = match cards.get(&name) {
            Some(card) => card,
            None => {
                let card = root.issue(&person()?);
                cards.entry(name).or_insert(card)
            }
        };
        let answer = json!({
            "certificate": b64.encode(card.der()),
            "card_signature": b64.encode(card.sign(message.as_bytes())),
        });
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}

/// A fresh simulated person: a random serial and a random 23-character subject id.
fn person() -> anyhow::Result<CardSpec> {
    let mut random = [0u8; 28];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    let mut serial = random[..16].to_vec();
    serial[0] = 0x40;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let subject_id: String = random
        .iter()
        .cycle()
        .take(23)
        .enumerate()
        .map(|(i, byte)| char::from(ALPHABET[(usize::from(*byte) + i * 7) % ALPHABET.len()]))
        .collect();
    Ok(CardSpec { serial, subject_id, ..CardSpec::default() })
}
