//! An in-memory transport: no PC/SC, for the APDU layer's and the flow's unit tests.

use crate::{Error, Result, Transport};

use super::{Answer, SharedCard};

/// One command and whether it went inside an exclusive session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The command bytes (tests only: a VERIFY's bytes hold the test PIN).
    pub command: Vec<u8>,
    /// Sent inside [`Transport::exclusive`].
    pub exclusive: bool,
}

type Responder = Box<dyn FnMut(&[u8]) -> Answer + Send>;

/// A transport that hands each command to a responder: a [`super::VirtualCard`], or a closure
/// that answers any status word a test wants. It records every exchange.
pub struct MemoryTransport {
    responder: Responder,
    exclusive: bool,
    log: Vec<Exchange>,
}

impl std::fmt::Debug for MemoryTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTransport")
            .field("exchanges", &self.log.len())
            .finish_non_exhaustive()
    }
}

impl MemoryTransport {
    /// Talks to `card`.
    pub fn card(card: &SharedCard) -> Self {
        let card = card.clone();
        Self::new(move |command| card.lock().process(command))
    }

    /// Answers with `responder`.
    pub fn new(responder: impl FnMut(&[u8]) -> Answer + Send + 'static) -> Self {
        Self { responder: Box::new(responder), exclusive: false, log: Vec::new() }
    }

    /// Every exchange so far.
    pub fn log(&self) -> &[Exchange] {
        &self.log
    }
}

impl Transport for MemoryTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        self.log.push(Exchange { command: command.to_vec(), exclusive: self.exclusive });
        match (self.responder)(command) {
            Answer::Reply(response) => Ok(response),
            Answer::Pull => Err(Error::CardRemoved),
        }
    }

    fn exclusive(&mut self) -> Result<Box<dyn Transport + '_>> {
        self.exclusive = true;
        Ok(Box::new(Session(self)))
    }
}

/// The exclusive session: marks the exchanges sent through it, ends on drop.
struct Session<'a>(&'a mut MemoryTransport);

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.0.exclusive = false;
    }
}

impl Transport for Session<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        self.0.transmit(command)
    }

    fn exclusive(&mut self) -> Result<Box<dyn Transport + '_>> {
        Ok(Box::new(&mut *self.0))
    }
}
