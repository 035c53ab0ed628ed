#![doc = include_str!("../README.md")]

mod error;
pub mod expiry;
pub mod links;
pub mod metrics;
pub mod sync;

pub use error::{Error, Result};
pub use expiry::ExpirySweep;
pub use links::{LinkFeed, LinkOrigin, parse_links};
pub use metrics::LifecycleMetrics;
pub use sync::{CrlReport, CycleReport, LinkReport, Progress, RecheckReport, RevocationSync};
