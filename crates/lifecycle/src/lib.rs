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

/// Resolves once `stop` says `true` (or its sender is gone). Holds no borrow of the value
/// across an await, so the loops stay `Send`.
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
