//! The bridge's two sides for tests (features `bridge` + `test-utils`): a card slot holding a
//! virtual card or nothing ([`MemoryCards`]), and a terminal whose answers a test sends when it
//! wants and whose shown lines it reads ([`ScriptedTerminal`]).

use std::{
    io,
    sync::{Arc, Mutex, mpsc},
};

use zeroize::Zeroizing;

use super::{MemoryTransport, SharedCard};
use crate::{
    Error, JpkiCard, Result,
    bridge::{CardTransport, Cards, Presence, Terminal},
};

/// The virtual reader's name in [`MemoryCards`].
pub const MEMORY_READER: &str = "Memory Reader 00";

/// One reader with a virtual card on it, or an empty one.
#[derive(Debug, Clone, Default)]
pub struct MemoryCards {
    slot: Arc<Mutex<Option<SharedCard>>>,
}

impl MemoryCards {
    /// A reader with `card` on it.
    pub fn with(card: &SharedCard) -> Self {
        Self { slot: Arc::new(Mutex::new(Some(card.clone()))) }
    }

    /// Takes the card off the reader.
    pub fn remove(&self) {
        *self.slot.lock().expect("slot") = None;
    }
}

impl Cards for MemoryCards {
    fn presence(&self) -> Presence {
        Presence {
            reader: Some(MEMORY_READER.to_owned()),
            card: self.slot.lock().expect("slot").is_some(),
        }
    }

    fn open(&self) -> Result<JpkiCard<CardTransport>> {
        let card = self.slot.lock().expect("slot").clone();
        let card = card.ok_or(Error::NoCard { waited: std::time::Duration::ZERO })?;
        card.lock().reset();
        let transport: CardTransport = Box::new(MemoryTransport::card(&card));
        JpkiCard::open(transport)
    }
}

/// A terminal driven by a test: [`ScriptedTerminal::answers`] sends lines, `shown` collects
/// what the person would read.
#[derive(Debug)]
pub struct ScriptedTerminal {
    answers: mpsc::Receiver<String>,
    shown: Arc<Mutex<Vec<String>>>,
}

/// The test's end of a [`ScriptedTerminal`].
#[derive(Debug, Clone)]
pub struct TerminalHandle {
    answers: mpsc::Sender<String>,
    shown: Arc<Mutex<Vec<String>>>,
}

impl ScriptedTerminal {
    /// A terminal and the test's handle to it.
    pub fn new() -> (Self, TerminalHandle) {
        let (tx, rx) = mpsc::channel();
        let shown = Arc::new(Mutex::new(Vec::new()));
        (Self { answers: rx, shown: Arc::clone(&shown) }, TerminalHandle { answers: tx, shown })
    }
}

impl TerminalHandle {
    /// The person types `line` (read when the bridge asks).
    pub fn answer(&self, line: &str) {
        let _ = self.answers.send(line.to_owned());
    }

    /// Everything shown so far, one string.
    pub fn shown(&self) -> String {
        self.shown.lock().expect("shown").join("\n")
    }
}

impl Terminal for ScriptedTerminal {
    fn show(&mut self, text: &str) {
        self.shown.lock().expect("shown").push(text.to_owned());
    }

    fn read_line(&mut self) -> io::Result<Zeroizing<String>> {
        self.answers
            .recv()
            .map(Zeroizing::new)
            .map_err(|_| io::Error::new(io::ErrorKind::UnexpectedEof, "no more answers"))
    }
}
