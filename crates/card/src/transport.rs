//! How commands reach a card: send an APDU, get the answer.

use crate::Result;

/// A link to one card: PC/SC ([`crate::pcsc::PcscTransport`]), or in tests an in-memory
/// virtual card.
pub trait Transport {
    /// Sends one command APDU and returns the whole response APDU (data ‖ SW1 SW2).
    ///
    /// `command` may hold the PIN: implementations must not log or keep it.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>>;

    /// Opens an exclusive session: no other program reaches the card until the returned
    /// transport is dropped. The flow holds one from VERIFY to the signature, so no one can
    /// use the verified state in between.
    fn exclusive(&mut self) -> Result<Box<dyn Transport + '_>>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        (**self).transmit(command)
    }

    fn exclusive(&mut self) -> Result<Box<dyn Transport + '_>> {
        (**self).exclusive()
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        (**self).transmit(command)
    }

    fn exclusive(&mut self) -> Result<Box<dyn Transport + '_>> {
        (**self).exclusive()
    }
}
