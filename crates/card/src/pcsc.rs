//! The PC/SC transport (feature `pcsc`, on by default): libpcsclite → pcscd → a reader driver.
//!
//! [`Readers`] lists readers and waits for a card with a timeout; [`PcscTransport`] is one
//! shared connection to a card. Its [`Transport::exclusive`] session is a PC/SC transaction
//! (other programs block until it ends), and it disconnects with a card reset
//! ([`PcscTransport::close`], or on drop) so the verified state does not outlive the command.

use std::{
    ffi::{CStr, CString},
    time::{Duration, Instant},
};

use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

use crate::{Error, Result, Transport};

const TARGET: &str = "honnin::card::pcsc";

/// A reader PC/SC knows and whether a card is on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderInfo {
    /// The reader's name (e.g. `Virtual PCD 00 00`, `SONY FeliCa Port/PaSoRi 3.0`).
    pub name: String,
    /// A powered card sits on the reader.
    pub card_present: bool,
}

/// The PC/SC context: reader lists, card waits, connections.
pub struct Readers {
    context: Context,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").finish_non_exhaustive()
    }
}

/// Maps a PC/SC error that is not about one connected card.
fn context_error(error: pcsc::Error) -> Error {
    match error {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => Error::NoService,
        pcsc::Error::NoReadersAvailable => Error::NoReader,
        pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::NoSmartcard => {
            Error::CardRemoved
        }
        pcsc::Error::SharingViolation => Error::CardBusy,
        // The other fifty-odd PC/SC codes are reader or driver trouble the person cannot act
        // on differently; the library's wording names which.
        other => Error::Reader { reason: other.to_string() },
    }
}

impl Readers {
    /// Connects to the PC/SC service ([`Error::NoService`] when pcscd does not answer).
    pub fn establish() -> Result<Self> {
        let context = Context::establish(Scope::User).map_err(context_error)?;
        Ok(Self { context })
    }

    fn names(&self) -> Result<Vec<CString>> {
        match self.context.list_readers_owned() {
            Ok(names) if names.is_empty() => Err(Error::NoReader),
            Ok(names) => Ok(names),
            Err(error) => Err(context_error(error)),
        }
    }

    fn states(&self, names: Vec<CString>) -> Result<Vec<ReaderState>> {
        let mut states: Vec<ReaderState> =
            names.into_iter().map(|name| ReaderState::new(name, State::UNAWARE)).collect();
        self.context.get_status_change(Some(Duration::ZERO), &mut states).map_err(context_error)?;
        Ok(states)
    }

    /// The readers and whether each has a card ([`Error::NoReader`] when there are none).
    pub fn list(&self) -> Result<Vec<ReaderInfo>> {
        let states = self.states(self.names()?)?;
        Ok(states
            .iter()
            .map(|state| ReaderInfo {
                name: state.name().to_string_lossy().into_owned(),
                card_present: present(state),
            })
            .collect())
    }

    /// Waits up to `timeout` for a card on `reader` (any reader when `None`) and returns the
    /// reader's name. [`Error::NoCard`] when none came.
    pub fn wait_for_card(&self, reader: Option<&str>, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut names = self.names()?;
            if let Some(wanted) = reader {
                names.retain(|name| name.to_bytes() == wanted.as_bytes());
                if names.is_empty() {
                    return Err(Error::ReaderNotFound { name: wanted.to_owned() });
                }
            }
            let mut states = self.states(names)?;
            if let Some(state) = states.iter().find(|state| present(state)) {
                return Ok(state.name().to_string_lossy().into_owned());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::NoCard { waited: timeout });
            }
            for state in &mut states {
                state.sync_current_state();
            }
            // New readers show up as a change of the PnP pseudo-reader.
            states.push(ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE));
            match self.context.get_status_change(Some(left), &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => return Err(Error::NoCard { waited: timeout }),
                Err(error) => return Err(context_error(error)),
            }
        }
    }

    /// Waits up to `timeout` for any change on `reader` (a card put on or taken off).
    pub fn wait_for_change(&self, reader: &str, timeout: Duration) {
        let Ok(name) = CString::new(reader) else { return };
        let mut state = [ReaderState::new(name, State::UNAWARE)];
        if self.context.get_status_change(Some(Duration::ZERO), &mut state).is_ok() {
            state[0].sync_current_state();
            let _ = self.context.get_status_change(Some(timeout), &mut state);
        }
    }

    /// Connects to the card on `reader` (shared: the exclusive part is the transaction).
    pub fn connect(&self, reader: &str) -> Result<PcscTransport> {
        let name =
            CString::new(reader).map_err(|_| Error::ReaderNotFound { name: reader.to_owned() })?;
        let card =
            self.context.connect(&name, ShareMode::Shared, Protocols::ANY).map_err(|error| {
                match error {
                    pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => {
                        Error::NoCard { waited: Duration::ZERO }
                    }
                    pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable => {
                        Error::ReaderNotFound { name: reader.to_owned() }
                    }
                    other => context_error(other),
                }
            })?;
        tracing::debug!(target: TARGET, reader, "connected");
        Ok(PcscTransport { context: self.context.clone(), reader: name, card: Some(card) })
    }
}

fn present(state: &ReaderState) -> bool {
    let event = state.event_state();
    event.contains(State::PRESENT) && !event.contains(State::MUTE)
}

/// One connection to a card through PC/SC.
pub struct PcscTransport {
    context: Context,
    reader: CString,
    card: Option<pcsc::Card>,
}

impl std::fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransport").field("reader", &self.reader).finish_non_exhaustive()
    }
}

impl PcscTransport {
    /// The reader's name.
    pub fn reader(&self) -> &CStr {
        &self.reader
    }

    /// Disconnects and resets the card, so no verified state outlives the command.
    pub fn close(mut self) -> Result<()> {
        self.disconnect()
    }

    fn disconnect(&mut self) -> Result<()> {
        match self.card.take() {
            Some(card) => match card.disconnect(Disposition::ResetCard) {
                Ok(()) => Ok(()),
                // Already gone: nothing is left to reset.
                Err((_, pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard)) => Ok(()),
                Err((_, error)) => Err(context_error(error)),
            },
            None => Ok(()),
        }
    }
}

impl Drop for PcscTransport {
    fn drop(&mut self) {
        if let Err(error) = self.disconnect() {
            tracing::warn!(target: TARGET, %error, "could not reset the card on disconnect");
        }
    }
}

/// Sends one APDU on `card`, following `61 xx` (GET RESPONSE) as T=0 readers need.
fn transmit(card: &pcsc::Card, command: &[u8]) -> Result<Vec<u8>, pcsc::Error> {
    let mut buffer = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let mut answer = card.transmit(command, &mut buffer)?.to_vec();
    let mut data = Vec::new();
    while let [.., 0x61, more] = answer[..] {
        answer.truncate(answer.len() - 2);
        data.append(&mut answer);
        answer = card.transmit(&[0x00, 0xC0, 0x00, 0x00, more], &mut buffer)?.to_vec();
    }
    data.append(&mut answer);
    Ok(data)
}

/// Whether the card left `reader`: now, or within `grace` (a driver may notice a removal only
/// at its next presence poll).
fn card_gone(context: &Context, reader: &CStr, grace: Duration) -> bool {
    let mut state = [ReaderState::new(reader.to_owned(), State::UNAWARE)];
    if context.get_status_change(Some(Duration::ZERO), &mut state).is_err() {
        return true;
    }
    if !state[0].event_state().contains(State::PRESENT) {
        return true;
    }
    state[0].sync_current_state();
    match context.get_status_change(Some(grace), &mut state) {
        Ok(()) => !state[0].event_state().contains(State::PRESENT),
        Err(pcsc::Error::Timeout) => false,
        Err(_) => true,
    }
}

/// Sends `command` and maps what goes wrong: a card that left the reader is
/// [`Error::CardRemoved`], whatever the driver reported (an error code, or — vpcd — an empty
/// answer).
fn transmit_checked(
    card: &pcsc::Card,
    context: &Context,
    reader: &CStr,
    command: &[u8],
) -> Result<Vec<u8>> {
    match transmit(card, command) {
        Ok(answer) if answer.len() >= 2 => Ok(answer),
        Ok(answer) => {
            if card_gone(context, reader, Duration::from_secs(1)) {
                Err(Error::CardRemoved)
            } else {
                Ok(answer)
            }
        }
        Err(pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::NoSmartcard) => {
            Err(Error::CardRemoved)
        }
        Err(other) => {
            if card_gone(context, reader, Duration::from_secs(1)) {
                tracing::debug!(target: TARGET, error = %other, "card gone");
                Err(Error::CardRemoved)
            } else {
                Err(context_error(other))
            }
        }
    }
}

impl Transport for PcscTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        let card = self.card.as_ref().ok_or(Error::CardRemoved)?;
        transmit_checked(card, &self.context, &self.reader, command)
    }

    fn exclusive(&mut self) -> Result<Box<dyn Transport + '_>> {
        let Self { context, reader, card } = self;
        let card = card.as_mut().ok_or(Error::CardRemoved)?;
        let transaction = card.transaction().map_err(context_error)?;
        Ok(Box::new(PcscTransaction { context, reader, transaction }))
    }
}

/// A PC/SC transaction: exclusive access until dropped.
struct PcscTransaction<'a> {
    context: &'a Context,
    reader: &'a CString,
    transaction: pcsc::Transaction<'a>,
}

impl Transport for PcscTransaction<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        transmit_checked(&self.transaction, self.context, self.reader, command)
    }

    fn exclusive(&mut self) -> Result<Box<dyn Transport + '_>> {
        Ok(Box::new(self))
    }
}
