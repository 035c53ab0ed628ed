//! The real PC/SC stack for tests: pcscd with vpcd, started by `scripts/test`.
//!
//! `scripts/test` installs pcscd and vsmartcard-vpcd, starts `pcscd -f` for the run and
//! exports `HONNIN_PCSC=1`. Then (and whenever `CI` is set) a test that needs the stack fails
//! when it is missing; elsewhere it says SKIPPED loudly and returns early. pcscd has one vpcd
//! reader on a fixed port, so tests that use it take a machine-wide file lock, one at a time.

use std::{
    fs::File,
    time::{Duration, Instant},
};

use super::{SharedCard, vpcd::VpcdCard};
use crate::pcsc::Readers;

/// Set by `scripts/test`: pcscd with vpcd is running and tests must use it.
pub const ENV: &str = "HONNIN_PCSC";

/// The virtual reader's name (vpcd slot 0). Override with `HONNIN_VPCD_READER`.
pub const DEFAULT_READER: &str = "Virtual PCD 00 00";

/// The PC/SC stack, held by one test at a time.
#[derive(Debug)]
pub struct PcscStack {
    _lock: File,
    port: u16,
    reader: String,
}

/// The stack, or `None` (after a loud SKIPPED line) where it is legitimately absent: not
/// under `scripts/test` (no `HONNIN_PCSC`) nor CI. Panics when it is expected but unusable.
#[track_caller]
pub fn pcsc_stack(test: &str) -> Option<PcscStack> {
    let expected =
        std::env::var_os(ENV).is_some_and(|v| v == "1") || std::env::var_os("CI").is_some();
    let port = std::env::var("HONNIN_VPCD_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(super::vpcd::DEFAULT_PORT);
    let reader = std::env::var("HONNIN_VPCD_READER").unwrap_or_else(|_| DEFAULT_READER.into());
    let usable = Readers::establish()
        .and_then(|readers| readers.list())
        .map(|list| list.iter().any(|r| r.name == reader));
    match &usable {
        Ok(true) => {}
        Ok(false) | Err(_) if expected => panic!(
            "{test}: {ENV}=1 (or CI) but pcscd with vpcd is not usable ({usable:?}): \
             scripts/test installs and starts it"
        ),
        Ok(false) | Err(_) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "SKIPPED {test}: no pcscd with the vpcd reader {reader:?} ({usable:?}); \
                     run it through scripts/test, or start `pcscd -f` with vsmartcard-vpcd and set {ENV}=1"
                );
            }
            return None;
        }
    }
    let path = std::env::temp_dir().join(format!("honnin-vpcd-{port}.lock"));
    let lock = File::create(&path).expect("vpcd lock file");
    lock.lock().expect("vpcd lock");
    let stack = PcscStack { _lock: lock, port, reader };
    // A card a crashed test left behind is gone by now; start from an empty reader.
    stack.wait(false);
    Some(stack)
}

impl PcscStack {
    /// The virtual reader's name.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// Puts `card` on the virtual reader and waits until pcscd sees it.
    pub fn insert(&self, card: &SharedCard) -> Inserted<'_> {
        let vpcd = VpcdCard::insert(card, self.port).expect("connect to vpcd");
        self.wait(true);
        Inserted { stack: self, vpcd: Some(vpcd) }
    }

    /// Waits (on PC/SC events, at most 20 s) until the reader has a card or has none.
    #[track_caller]
    pub fn wait(&self, present: bool) {
        let readers = Readers::establish().expect("pcscd");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let now = readers
                .list()
                .expect("readers")
                .iter()
                .any(|r| r.name == self.reader && r.card_present);
            if now == present {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "the virtual reader did not become present = {present}");
            if present {
                // Returns as soon as a card is there (or the time is up: checked above).
                let _ = readers.wait_for_card(Some(&self.reader), left.min(Duration::from_secs(1)));
            } else {
                readers.wait_for_change(&self.reader, left.min(Duration::from_secs(1)));
            }
        }
    }
}

/// A card on the virtual reader; removed (and waited out) on drop.
#[derive(Debug)]
pub struct Inserted<'a> {
    stack: &'a PcscStack,
    vpcd: Option<VpcdCard>,
}

impl Inserted<'_> {
    /// The card's vpcd thread has ended, or ends within 5 s (it pulled itself out, or vpcd
    /// closed).
    pub fn is_gone(&self) -> bool {
        self.vpcd.as_ref().is_none_or(|vpcd| vpcd.is_gone(Duration::from_secs(5)))
    }

    /// Pulls the card out and waits until pcscd sees the reader empty.
    pub fn remove(mut self) {
        self.take();
    }

    fn take(&mut self) {
        if let Some(vpcd) = self.vpcd.take() {
            vpcd.remove().expect("vpcd thread");
            self.stack.wait(false);
        }
    }
}

impl Drop for Inserted<'_> {
    fn drop(&mut self) {
        if let Some(vpcd) = self.vpcd.take() {
            let _ = vpcd.remove();
            if !std::thread::panicking() {
                self.stack.wait(false);
            }
        }
    }
}
