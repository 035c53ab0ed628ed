#![doc = include_str!("../README.md")]

pub mod apdu;
#[cfg(feature = "bridge")]
pub mod bridge;
mod error;
mod jpki;
#[cfg(feature = "pcsc")]
pub mod pcsc;
mod pin;
mod transport;

#[cfg(feature = "test-utils")]
pub mod test_utils;

pub use error::{Error, Result};
pub use jpki::{CardKind, JpkiCard, Key, LastTry, PinState};
pub use pin::Pin;
pub use transport::Transport;
