//! Puts a virtual My Number card on pcscd's vpcd reader until Enter is pressed, to try
//! `honnin card` without a card (development only: the simulated card's key is not secret).
//!
//! `cargo run -p honnin-card --features test-utils --example virtual_card -- [PIN] [TRIES]`
//! (defaults 1234 and 3). Its certificate chains to a simulated root written to
//! `virtual-card-root.pem` in the current folder.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use honnin_card::test_utils::{VirtualCard, vpcd};
use honnin_jpki::test_utils::{CardSpec, SimRoot};

fn main() {
    let mut args = std::env::args().skip(1);
    let pin = args.next().unwrap_or_else(|| "1234".into());
    let tries = args.next().map_or(3, |t| t.parse().expect("tries: 0..=3"));
    let root = SimRoot::new(0);
    std::fs::write("virtual-card-root.pem", root.pem()).expect("write the root");
    let card =
        VirtualCard::new(root.issue(&CardSpec::default()), &pin).with_tries_left(tries).shared();
    let inserted = vpcd::VpcdCard::insert(&card, vpcd::DEFAULT_PORT).expect("connect to vpcd");
    println!("virtual card on the vpcd reader (PIN {pin}, {tries} tries); Enter removes it");
    let _ = std::io::stdin().read_line(&mut String::new());
    inserted.remove().expect("remove");
    println!("removed; tries left {}", card.lock().tries_left());
}
