//! Test doubles (feature `test-utils`): a virtual JPKI card ([`VirtualCard`]) with the
//! simulated card's certificate and key, an in-memory transport to it ([`MemoryTransport`]),
//! and a vpcd client ([`vpcd::VpcdCard`]) that puts it on pcscd's virtual reader.
//! For tests only: the virtual card's key and PIN are not secret.

#![allow(clippy::missing_panics_doc, clippy::expect_used)]

#[cfg(feature = "bridge")]
mod bridge;
mod card;
mod memory;
#[cfg(feature = "pcsc")]
mod stack;
pub mod vpcd;

#[cfg(feature = "bridge")]
pub use bridge::{MEMORY_READER, MemoryCards, ScriptedTerminal, TerminalHandle};
pub use card::{ATR, Answer, Seen, SharedCard, VirtualCard};
pub use memory::{Exchange, MemoryTransport};
#[cfg(feature = "pcsc")]
pub use stack::{DEFAULT_READER, ENV, Inserted, PcscStack, pcsc_stack};
