//! A client of vsmartcard's vpcd: puts a [`super::VirtualCard`] on pcscd's virtual reader.
//!
//! vpcd (Debian `vsmartcard-vpcd`) is a pcscd reader driver that listens on TCP (slot 0 on
//! 127.0.0.1:35963, `/etc/reader.conf.d/vpcd`); a virtual card connects to it. Each frame is a
//! 2-byte big-endian length and a payload. A 1-byte payload is a control: 0 power off, 1 power
//! on, 2 reset, 4 "send the ATR" (answered with the ATR); anything longer is a command APDU,
//! answered with the response APDU. Connecting is putting the card on the reader; closing the
//! connection is pulling it out.

use std::{
    io::{self, Read as _, Write as _},
    net::{Shutdown, TcpStream},
    sync::mpsc,
    thread::JoinHandle,
    time::Duration,
};

use super::{Answer, SharedCard, card::ATR};

/// The vpcd port of Debian's configuration (reader `Virtual PCD 00 00`).
pub const DEFAULT_PORT: u16 = 35963;

const CTRL_OFF: u8 = 0;
const CTRL_ON: u8 = 1;
const CTRL_RESET: u8 = 2;
const CTRL_ATR: u8 = 4;

/// The virtual card on the reader: a thread answering vpcd until removed.
#[derive(Debug)]
pub struct VpcdCard {
    stream: TcpStream,
    thread: Option<JoinHandle<io::Result<()>>>,
    /// Disconnected when the thread ends (its sender is dropped with it).
    ended: mpsc::Receiver<()>,
}

impl VpcdCard {
    /// Connects `card` to vpcd on 127.0.0.1:`port` (the card is put on the reader).
    pub fn insert(card: &SharedCard, port: u16) -> io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let reader = stream.try_clone()?;
        let card = card.clone();
        let (ending, ended) = mpsc::channel();
        let thread = std::thread::Builder::new().name("vpcd-card".into()).spawn(move || {
            let _ending = ending;
            serve(reader, &card)
        })?;
        Ok(Self { stream, thread: Some(thread), ended })
    }

    /// Pulls the card out (closes the connection) and waits for the thread.
    pub fn remove(mut self) -> io::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<()> {
        // Already closed when the card pulled itself (NotConnected): fine.
        let _ = self.stream.shutdown(Shutdown::Both);
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| io::Error::other("vpcd thread panicked"))?,
            None => Ok(()),
        }
    }

    /// The card's thread has ended (vpcd closed, or the card pulled itself out), or ends within
    /// `within`: the card closes its connection a moment before its thread returns.
    pub fn is_gone(&self, within: Duration) -> bool {
        self.thread.is_none()
            || matches!(self.ended.recv_timeout(within), Err(mpsc::RecvTimeoutError::Disconnected))
    }
}

impl Drop for VpcdCard {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Answers vpcd until the connection ends. An end from either side — EOF, a reset, a broken
/// pipe — is the card leaving the reader, not an error.
fn serve(stream: TcpStream, card: &SharedCard) -> io::Result<()> {
    match answer(stream, card) {
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::NotConnected
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn answer(mut stream: TcpStream, card: &SharedCard) -> io::Result<()> {
    loop {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len)?;
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut payload)?;
        match payload[..] {
            [CTRL_OFF | CTRL_ON | CTRL_RESET] => card.lock().reset(),
            [CTRL_ATR] => send(&mut stream, ATR)?,
            [_] => {}
            _ => match card.lock().process(&payload) {
                Answer::Reply(response) => send(&mut stream, &response)?,
                Answer::Pull => {
                    stream.shutdown(Shutdown::Both)?;
                    return Ok(());
                }
            },
        }
    }
}

fn send(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len()).map_err(io::Error::other)?;
    let mut frame = Vec::with_capacity(2 + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}
